package gormstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Without a Postgres, gormstore compiles no PostgreSQL driver: a PostgreSQL
// URL is refused before anything is opened, naming what to import and not
// the password.
func TestOpenWithoutPostgresRefusesAPostgreSQLURL(t *testing.T) {
	t.Parallel()
	const password = "s3cretPW"
	const url = "postgres://app:" + password + "@127.0.0.1:1/app?sslmode=disable"
	for name, open := range map[string]func() (*Store, error){
		"Open":         func() (*Store, error) { return Open(context.Background(), url, defaultPrefix, nil, nil) },
		"OpenExisting": func() (*Store, error) { return OpenExisting(context.Background(), url, defaultPrefix, nil, nil) },
	} {
		s, err := open()
		if !errors.Is(err, ErrNoPostgres) {
			if s != nil {
				_ = s.Close()
			}
			t.Fatalf("%s: %v, want ErrNoPostgres", name, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "gormstore/pgstore") || !strings.Contains(msg, "127.0.0.1:1") || strings.Contains(msg, "s3cret") {
			t.Errorf("%s: the error should name pgstore and the database, not its password: %v", name, err)
		}
	}
}

// A store on a caller's PostgreSQL database without a Postgres cannot hear
// the other instances: its Notifier says so rather than returning none, as
// it does on the other dialects.
func TestNotifierWithoutPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if n, err := newTestStore(t).Notifier(ctx, time.Second); n != nil || err != nil {
		t.Errorf("SQLite: %v, %v; want no notifier and no error", n, err)
	}
	db, prefix := openPostgres(t)
	if n, err := onDB(t, db, prefix).Notifier(ctx, time.Second); n != nil || !errors.Is(err, ErrNoPostgres) {
		t.Errorf("PostgreSQL without a Postgres: %v, %v; want ErrNoPostgres", n, err)
	}
}
