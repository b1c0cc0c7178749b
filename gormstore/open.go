package gormstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DefaultDBPath is the SQLite file ginkey.New opens when Config names no
// database (no DB, Store or DBPath, and no GINKEY_DB), relative to the
// working directory; the ginkey CLI reads the same file by default.
const DefaultDBPath = "ginkey.db"

// DefaultTablePrefix names the tables of ginkey.New's store when Config
// gives no TablePrefix (and there is no GINKEY_TABLE_PREFIX): ginkey_keys,
// ginkey_usage... The ginkey CLI looks for the same tables by default.
const DefaultTablePrefix = "ginkey_"

// Open opens the database dsn names and returns the store on it, with its
// tables named with tablePrefix, created or brought up to date as New does.
// dsn, read by ParseDSN (which says what it refuses), is a PostgreSQL URL,
// opened by pg (pgstore.Driver{}; nil: the URL is an error wrapping
// ErrNoPostgres), or the path of a SQLite file, created readable by its
// owner alone (0600) and opened in WAL mode. Its password reaches no error
// and no log. On a SQLite file, the store also refuses writes once the
// file is deleted or replaced under it, and reads keys by hash around GORM,
// with a statement prepared once (log, slog.Default() if nil, hears why when
// that cannot be done). Close closes the database.
func Open(ctx context.Context, dsn, tablePrefix string, log *slog.Logger, pg Postgres) (*Store, error) {
	return open(ctx, dsn, tablePrefix, log, pg, false)
}

// OpenExisting is Open for a program that works on the keys of a database a
// server has set up, such as the ginkey command: it creates no SQLite file
// and creates or alters no table. A SQLite file that does not exist is an
// error wrapping ErrNoDatabase; a database without the tables tablePrefix
// names, a *MissingTablesError, which lists the prefixes of the ginkey
// tables the database holds instead.
func OpenExisting(ctx context.Context, dsn, tablePrefix string, log *slog.Logger, pg Postgres) (*Store, error) {
	return open(ctx, dsn, tablePrefix, log, pg, true)
}

// open is Open, or with existing OpenExisting.
func open(ctx context.Context, dsn, tablePrefix string, log *slog.Logger, pg Postgres, existing bool) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := checkPrefix(tablePrefix); err != nil {
		return nil, err
	}
	d, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if file := d.File(); existing && file != "" {
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s", ErrNoDatabase, file)
		}
	}
	var db *gorm.DB
	switch {
	case d.postgres && pg == nil:
		return nil, fmt.Errorf("%w (the database setting is the PostgreSQL URL %s)", ErrNoPostgres, d)
	case d.postgres:
		db, err = pg.OpenURL(d.value, d.shown)
	default:
		db, err = openSQLite(d.value)
	}
	if err != nil {
		return nil, err
	}
	closeDB := func() error {
		sqlDB, err := db.DB()
		if err != nil {
			return err
		}
		return sqlDB.Close()
	}
	s := newStore(db, tablePrefix, pg)
	if existing {
		err = s.requireTables(ctx, d)
	} else {
		err = s.migrate(ctx)
	}
	if err != nil {
		_ = closeDB()
		return nil, err
	}
	s.closeDB = closeDB
	if !s.sqlite {
		return s, nil
	}
	// The store's own SQLite file: nobody else's plugins to respect.
	if s.file, err = newFileIdentity(d.File()); err != nil {
		_ = closeDB()
		return nil, err
	}
	if s.byHash, err = newHashLookup(ctx, db, s.keys); err != nil {
		log.Warn("ginkey: cache-miss lookups go through GORM, more slowly", "error", err)
	}
	s.closeDB = func() error { return errors.Join(s.byHash.close(), closeDB()) }
	return s, nil
}

// openSQLite opens the SQLite database path names (a file, and options
// after "?") in WAL mode with a busy timeout and cached prepared statements;
// writes are further serialized by the store, so concurrent requests never
// see "database is locked". Its errors name the file, not the options.
func openSQLite(path string) (*gorm.DB, error) {
	if err := createPrivate(sqliteFile(path)); err != nil {
		return nil, err
	}
	shown, _, _ := strings.Cut(path, "?")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	dsn := path + sep + "_journal_mode=WAL&_busy_timeout=10000&_synchronous=NORMAL&_txlock=immediate"
	db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		// Admin reads and writes and usage flushes reuse their statements
		// (the cache-miss lookup has its own, see hashLookup). Bounded:
		// statements vary with batch sizes.
		PrepareStmt:        true,
		PrepareStmtMaxSize: 256,
		PrepareStmtTTL:     time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("ginkey: open SQLite %s: %w", shown, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("ginkey: open SQLite %s: %w", shown, err)
	}
	conns := max(4, 2*runtime.GOMAXPROCS(0))
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	if err := sqlDB.Ping(); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("ginkey: open SQLite %s: %w", shown, err)
	}
	return db, nil
}
