// Package testkit holds what the tests of several ginkey packages share: the
// harness of a guard under test (a gin engine, its requests and the
// assertions on their answers), a store that fails on demand, a settable
// clock, a log buffer, and databases of a test's own. It is for tests only;
// nothing outside this repository can import it.
//
// It names no type of package ginkey, whose own tests import it; the tests
// of every other package make their guard with package guardtest.
package testkit

import (
	"bytes"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Clock is a settable clock, starting at 2026-11-25 12:00 UTC.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at its start.
func NewClock() *Clock {
	return &Clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// PostgresSchemaURL returns a URL of the test PostgreSQL server (from
// GINKEY_TEST_POSTGRES_URL, else GINKEY_TEST_POSTGRES's key=value DSN)
// whose search_path is a schema of the test's own, dropped at its end:
// ginkey's default table names cannot meet another test's there. Without
// either variable the test is skipped, loudly, or fails when
// GINKEY_REQUIRE_SERVICES=1. A DSN without a password gets password, which
// a server that trusts local connections ignores (a test can then look for
// it in logs); "" leaves it out.
func PostgresSchemaURL(t *testing.T, schemaPrefix, password string) string {
	t.Helper()
	dsn := os.Getenv("GINKEY_TEST_POSTGRES")
	raw := os.Getenv("GINKEY_TEST_POSTGRES_URL")
	if dsn == "" && raw == "" {
		if os.Getenv("GINKEY_REQUIRE_SERVICES") == "1" {
			t.Fatal("GINKEY_TEST_POSTGRES is not set but GINKEY_REQUIRE_SERVICES=1")
		}
		t.Skip("SKIPPING PostgreSQL test: set GINKEY_TEST_POSTGRES (e.g. host=127.0.0.1 user=postgres dbname=test sslmode=disable)")
	}
	if raw == "" {
		cfg, err := pgconn.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), Path: "/" + cfg.Database}
		switch {
		case cfg.Password != "":
			u.User = url.UserPassword(cfg.User, cfg.Password)
		case password != "":
			u.User = url.UserPassword(cfg.User, password)
		default:
			u.User = url.User(cfg.User)
		}
		if cfg.TLSConfig == nil {
			u.RawQuery = "sslmode=disable"
		}
		raw = u.String()
	}
	db, err := gorm.Open(postgres.Open(raw), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	schema := schemaPrefix + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := db.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = db.Exec("DROP SCHEMA " + schema + " CASCADE").Error
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Buffer is a log sink that goroutines may write to while a test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Lines returns the lines written that hold every one of parts.
func (s *Buffer) Lines(parts ...string) []string {
	var out []string
	for _, l := range strings.Split(s.String(), "\n") {
		ok := l != ""
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}
