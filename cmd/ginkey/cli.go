package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"strconv"
	"strings"
	"unicode"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/internal/envconfig"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // the operation failed: unknown key, store error
	exitUsage   = 2 // the command line is wrong
)

// cli is one invocation: its streams, environment and global flags.
type cli struct {
	db       string
	json     bool
	stdin    io.Reader
	stdinTTY bool
	stdout   io.Writer
	stderr   io.Writer
	env      func(string) (string, bool)
}

func newCLI() *cli {
	tty := false
	if fi, err := os.Stdin.Stat(); err == nil {
		tty = fi.Mode()&os.ModeCharDevice != 0
	}
	return &cli{stdin: os.Stdin, stdinTTY: tty, stdout: os.Stdout, stderr: os.Stderr, env: os.LookupEnv}
}

// usageError is a wrong command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// settings are the server's settings the CLI needs (the database, and the
// TTL of keys created without --expires): --db, else what ginkey.New reads
// from the same environment, through the same function.
func (c *cli) settings() (envconfig.Settings, error) {
	return envconfig.Resolve(envconfig.Settings{
		DBPath: c.db,
		// Pruning is the server's: the CLI cannot know the server's
		// retention, and what it deleted would be gone.
		AuditRetention: envconfig.Never,
	}, c.env)
}

// open opens a guard on the database. Unless create is true, a SQLite file
// must exist already: a mistyped path would otherwise leave an empty
// database. The setting is read as the server reads it (gormstore.ParseDSN),
// so that what the server refuses, the CLI refuses too. On PostgreSQL, the
// guard announces each change it makes to the running servers, which drop
// the key from their caches at once.
func (c *cli) open(create bool) (*ginkey.Guard, error) {
	s, err := c.settings()
	if err != nil {
		return nil, err
	}
	dsn, err := gormstore.ParseDSN(s.DBPath)
	if err != nil {
		return nil, err
	}
	if file := dsn.File(); !create && file != "" {
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s (give --db or $GINKEY_DB the server's file)", file)
		}
	}
	return ginkey.New(ginkey.Config{
		DBPath:         s.DBPath,
		TTL:            s.TTL,
		AuditRetention: s.AuditRetention,
		Logger:         slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		// Read above; the admin secret and the rest of the environment
		// are the server's business, not the CLI's.
		LookupEnv: func(string) (string, bool) { return "", false },
	})
}

func closeGuard(g *ginkey.Guard) {
	_ = g.Close() // the command's outcome is decided; closing the database has nothing left to report
}

// actor is who the audit log records for this invocation: "cli:" and the
// OS user.
func (c *cli) actor() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name, _ = c.env("USER")
	}
	if name == "" {
		name = "unknown"
	}
	return "cli:" + name
}

// keyError names id when err says there is no such key.
func keyError(id string, err error) error {
	switch {
	case errors.Is(err, ginkey.ErrNotFound):
		return fmt.Errorf("no key with id %s", printable(id))
	case errors.Is(err, ginkey.ErrRevokedConflict):
		return fmt.Errorf("key %s is revoked; revocation is final", printable(id))
	case errors.Is(err, ginkey.ErrRotatedConflict):
		return fmt.Errorf("key %s has been rotated; change or rotate the key that replaced it (see: ginkey show %s)", printable(id), printable(id))
	case errors.Is(err, ginkey.ErrExpiredConflict):
		return fmt.Errorf("key %s has expired; renew it first", printable(id))
	}
	return err
}

// report prints err as one line on stderr and returns the exit status.
func (c *cli) report(cmd string, err error) int {
	if err == nil {
		return exitOK
	}
	code, msg := exitFailure, err.Error()
	var (
		ue *usageError
		ge *ginkey.Error
	)
	switch {
	case errors.As(err, &ue):
		code = exitUsage
	case errors.As(err, &ge) && ge.Code == ginkey.ErrBadRequest.Code:
		code, msg = exitUsage, flagFor(ge.Field)+ge.Message // a flag's value broke one of the API's rules
	case errors.As(err, &ge):
		msg = ge.Message
	}
	msg = strings.TrimPrefix(msg, "ginkey: ")
	if cmd != "" {
		msg = cmd + ": " + msg
	}
	_, _ = fmt.Fprintln(c.stderr, "ginkey: "+oneLine(msg)) // stderr is the last place to report to
	return code
}

// flagFor names the flag that gave the API field that broke a rule (an
// *ginkey.Error's Field), followed by ": "; "" for a field no flag gives.
func flagFor(field string) string {
	flags := map[string]string{
		"name": "--name", "owner": "--owner", "prefix": "--prefix", "grace": "--grace", "scopes": "--scope",
		"metadata": "--metadata", "expires_at": "--expires", "rate_limit": "--rate", "quota": "--quota",
		"allowed_ips": "--allow-ip", "status": "--status", "limit": "--limit", "offset": "--offset",
		"days": "--days", "key_id": "--key", "action": "--action",
	}
	if f, ok := flags[field]; ok {
		return f + ": "
	}
	return ""
}

// printable quotes s if it holds anything that would garble a line.
func printable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) }) >= 0 || s == "" {
		return strconv.Quote(s)
	}
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
