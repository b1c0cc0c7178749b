package gormstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

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

// openPostgresURL opens the PostgreSQL database at the URL d with a bounded
// pool. A connect_timeout of its own (5 s unless the URL says otherwise)
// keeps New from hanging on an unreachable host.
func openPostgresURL(d DSN) (*gorm.DB, error) {
	dsn := d.value
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
			pce.ConnString = d.shown
		}
		return nil, fmt.Errorf("ginkey: %s is not a valid PostgreSQL URL (postgres://user:password@host:port/dbname?sslmode=...): %w", d, err)
	}
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
	})
	if err != nil {
		return nil, fmt.Errorf("ginkey: open PostgreSQL %s: %w", d, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("ginkey: open PostgreSQL %s: %w", d, err)
	}
	conns := max(pgMinConns, pgMaxConnsPerCPU*runtime.GOMAXPROCS(0))
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	sqlDB.SetConnMaxIdleTime(pgConnMaxIdleTime)
	sqlDB.SetConnMaxLifetime(pgConnMaxLifetime)
	return db, nil
}

// errNotPgx: the *gorm.DB's connections are not pgx's, whose settings the
// listener copies.
var errNotPgx = errors.New("the database's driver is not pgx (gorm.io/driver/postgres's default)")

// pgxConfig returns a copy of the settings of db's connections, for the
// listener's own connection: host, credentials, TLS and runtime parameters
// as the caller configured them, whether db was opened from a URL, a
// key=value DSN or an existing *sql.DB on pgx's stdlib driver.
func pgxConfig(ctx context.Context, db *gorm.DB) (*pgx.ConnConfig, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	var cfg *pgx.ConnConfig
	err = conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(interface{ Conn() *pgx.Conn })
		if !ok {
			return errNotPgx
		}
		cfg = c.Conn().Config().Copy()
		return nil
	})
	return cfg, err
}
