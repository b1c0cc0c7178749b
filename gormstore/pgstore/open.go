// Package pgstore is PostgreSQL's driver for ginkey's GORM store, through
// pgx: it opens postgres:// URLs with a bounded pool and hears, with LISTEN,
// the key changes other instances announce, so that a key revoked through
// one is refused by all at once. It is a package apart so that the programs
// that do not name PostgreSQL do not compile pgx; those that do set
//
//	ginkey.Config{Postgres: pgstore.Driver{}}
//
// (or pass pgstore.Driver{} to gormstore's Open, OpenExisting and New).
package pgstore

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// The pool of a PostgreSQL database the guard opens from a URL. A cache miss
// holds a connection for one query, a flush for one transaction, so a few
// connections a core serve a busy instance; several instances share the
// server's max_connections (100 by default). Idle connections are let go
// after a while, and every connection is replaced now and then, so that a
// failover or a DNS change is followed without a restart.
const (
	pgMaxConnsPerCPU    = 4
	pgMinConns          = 8
	pgConnMaxIdleTime   = 5 * time.Minute
	pgConnMaxLifetime   = 30 * time.Minute
	pgConnectTimeoutSec = "5"
)

// Driver is PostgreSQL's driver for the GORM store: pgx, through
// gorm.io/driver/postgres. Its zero value is ready to use.
type Driver struct{}

var _ gormstore.Postgres = Driver{}

// OpenURL opens the PostgreSQL database at url with a bounded pool: 4
// connections a CPU, at least 8, each closed after 5 minutes idle and
// replaced after 30. A connect_timeout of its own (5 s unless the URL says
// otherwise) keeps ginkey.New from hanging on an unreachable host. Its
// errors show the database as shown, never url's password.
func (Driver) OpenURL(url, shown string) (*gorm.DB, error) {
	dsn := url
	if !strings.Contains(dsn, "connect_timeout=") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "connect_timeout=" + pgConnectTimeoutSec
	}
	// pgx checks what url.Parse does not: each port of several hosts,
	// sslmode and the other parameters.
	if _, err := pgx.ParseConfig(dsn); err != nil {
		// pgx's error shows the URL with the user info's password
		// redacted, not the query's: it shows ours instead. So does the
		// error for whoever unwraps it.
		if pce := (*pgconn.ParseConfigError)(nil); errors.As(err, &pce) {
			pce.ConnString = shown
		}
		return nil, fmt.Errorf("ginkey: %s is not a valid PostgreSQL URL (postgres://user:password@host:port/dbname?sslmode=...): %w", shown, err)
	}
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
	})
	if err != nil {
		return nil, fmt.Errorf("ginkey: open PostgreSQL %s: %w", shown, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("ginkey: open PostgreSQL %s: %w", shown, err)
	}
	conns := max(pgMinConns, pgMaxConnsPerCPU*runtime.GOMAXPROCS(0))
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	sqlDB.SetConnMaxIdleTime(pgConnMaxIdleTime)
	sqlDB.SetConnMaxLifetime(pgConnMaxLifetime)
	return db, nil
}
