package main

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/gormstore/pgstore"
)

// session is a guard on the server's database, and the store it works on.
type session struct {
	*ginkey.Guard
	store *gormstore.Store
}

// close closes both: the command's outcome is decided, and closing has
// nothing left to report.
func (s *session) close() {
	_ = s.Close() // the guard's; then the store it does not own
	_ = s.store.Close()
}

// open opens a guard on the server's database. It creates and alters no
// table (gormstore.OpenExisting): a database without the tables of the table
// prefix is refused, naming the prefix and how to change it. Only create,
// with setUp, makes the tables of a database that holds no ginkey tables at
// all (a SQLite file that does not exist yet, an empty PostgreSQL database),
// as the server would when it starts; a database that holds another
// prefix's is refused, never given a second set. PostgreSQL needs no
// setting: the command is built with pgstore, and its guard announces each
// change it makes to the running servers, which drop the key from their
// caches at once.
func (c *cli) open(ctx context.Context, setUp bool) (*session, error) {
	s, err := c.settings()
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := gormstore.OpenExisting(ctx, s.DBPath, s.TablePrefix, log, pgstore.Driver{})
	var missing *gormstore.MissingTablesError
	fresh := errors.Is(err, gormstore.ErrNoDatabase) ||
		errors.As(err, &missing) && len(missing.Others) == 0 && len(missing.Missing) > 0
	if setUp && fresh {
		store, err = gormstore.Open(ctx, s.DBPath, s.TablePrefix, log, pgstore.Driver{})
	}
	if err != nil {
		return nil, openError(err)
	}
	g, err := ginkey.New(ginkey.Config{
		Store:          store,
		TablePrefix:    s.TablePrefix,
		KeyPrefix:      s.KeyPrefix,
		TTL:            s.TTL,
		AuditRetention: s.AuditRetention,
		Logger:         log,
		// Read above; the admin secret and the rest of the environment
		// are the server's business, not the CLI's.
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		_ = store.Close()
		return nil, failf(codeBadSetting, "%v", err)
	}
	return &session{Guard: g, store: store}, nil
}

// openError says what to do about an error of gormstore's open.
func openError(err error) error {
	var missing *gormstore.MissingTablesError
	switch {
	case errors.Is(err, gormstore.ErrNoDatabase):
		return failf(codeNoDatabase, "%v (give --db or $GINKEY_DB the server's file)", err)
	case errors.As(err, &missing) && slices.Contains(missing.Missing, missing.Prefix+"keys"):
		return failf(codeNoTables, "%v; set --table-prefix or $GINKEY_TABLE_PREFIX to the server's TablePrefix, or --db or $GINKEY_DB to its database", err)
	case errors.As(err, &missing): // an older ginkey's tables: the server's start migrates them
		return failf(codeNoTables, "%v", err)
	case errors.Is(err, gormstore.ErrBadTablePrefix):
		return failf(codeBadSetting, "%v", err)
	}
	return err
}
