package gormstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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

// IsPostgresURL reports whether dsn is a PostgreSQL URL (postgres:// or
// postgresql://) rather than a SQLite path.
func IsPostgresURL(dsn string) bool {
	lower := strings.ToLower(dsn)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// RedactURL is dsn with its password, if any, replaced, for errors and logs.
func RedactURL(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	// Not a URL to Go (several hosts, a stray character): the user info
	// ends at the last "@" before the path.
	scheme, rest, _ := strings.Cut(dsn, "://")
	authority, path, slash := strings.Cut(rest, "/")
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		user, _, hasPassword := strings.Cut(authority[:at], ":")
		if hasPassword {
			user += ":xxxxx"
		}
		authority = user + authority[at:]
	}
	if slash {
		authority += "/" + path
	}
	return scheme + "://" + authority
}

// openPostgresURL opens the PostgreSQL database at the URL dsn with a bounded
// pool. A connect_timeout of its own (5 s unless the URL says otherwise)
// keeps New from hanging on an unreachable host.
func openPostgresURL(dsn string) (*gorm.DB, error) {
	shown := RedactURL(dsn)
	if !strings.Contains(dsn, "connect_timeout=") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "connect_timeout=" + pgConnectTimeoutSec
	}
	// pgx parses what url.Parse cannot, such as several hosts for failover.
	if _, err := pgx.ParseConfig(dsn); err != nil {
		return nil, fmt.Errorf("ginkey: %s is not a valid PostgreSQL URL (postgres://user:password@host:port/dbname?sslmode=...): %w",
			shown, err) // pgx redacts the password itself
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
