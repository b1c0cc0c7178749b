package gormstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// sqliteFile is the path of a SQLite database as a DSN names it, or "" for
// an in-memory one.
func sqliteFile(dsn string) string {
	file, _, _ := strings.Cut(dsn, "?")
	file = strings.TrimPrefix(file, "file:")
	if file == ":memory:" || strings.Contains(dsn, "mode=memory") {
		return ""
	}
	return file
}

// createPrivate creates the SQLite file at path, if there is none, readable
// by its owner alone (0600), before SQLite would create it 0644. SQLite
// gives the -wal and -shm files it adds the main file's permissions. An
// existing file keeps its own, but must be writable: SQLite would otherwise
// open it read-only and fail at the first write.
func createPrivate(file string) error {
	if file == "" {
		return nil
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // the path is the operator's own configuration, as for SQLite itself
	if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(file, os.O_RDWR, 0) //nolint:gosec // as above
		if err != nil {
			return fmt.Errorf("ginkey: SQLite file %s cannot be opened for writing: %w", file, err)
		}
	} else if err != nil {
		return fmt.Errorf("ginkey: SQLite file %s cannot be created (is its directory writable?): %w", file, err)
	}
	return f.Close()
}

// fileIdentity remembers which file a path named when the guard opened it,
// so that a database deleted or replaced under a running guard is noticed
// before a write goes to a file nobody will ever read again.
type fileIdentity struct {
	path string
	info fs.FileInfo
}

// errFileReplaced is internal: clients get 503, the log gets the detail.
var errFileReplaced = errors.New("deleted or replaced while in use; writes refused until ginkey is restarted on the new file")

func newFileIdentity(path string) (*fileIdentity, error) {
	if path == "" {
		return nil, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("ginkey: SQLite file %s: %w", path, err)
	}
	return &fileIdentity{path: path, info: info}, nil
}

// check reports whether the path still names the file that was opened.
func (f *fileIdentity) check() error {
	if f == nil {
		return nil
	}
	now, err := os.Stat(f.path)
	if err != nil || !os.SameFile(now, f.info) {
		return fmt.Errorf("ginkey: SQLite file %s %w", f.path, errFileReplaced)
	}
	return nil
}
