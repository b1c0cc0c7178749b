package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginkey/ginkey"
)

// postgresSchemaURL returns a URL of the test PostgreSQL server (from
// GINKEY_TEST_POSTGRES_URL, else GINKEY_TEST_POSTGRES's key=value DSN)
// whose search_path is a schema of the test's own, dropped at its end:
// ginkey's default table names cannot meet another test's there.
func postgresSchemaURL(t *testing.T) string {
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
		u.User = url.UserPassword(cfg.User, cfg.Password)
		if cfg.Password == "" {
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
	schema := "gkcli_" + strconv.FormatInt(time.Now().UnixNano(), 36)
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

func TestTheCLIOnPostgreSQLRevokesAKeyThatARunningServerRejectsAtOnce(t *testing.T) {
	dbURL := postgresSchemaURL(t)
	server, err := ginkey.New(ginkey.Config{
		DBPath:    dbURL,
		CacheTTL:  30 * time.Second, // only the notification can explain a prompt rejection
		Logger:    slog.New(slog.DiscardHandler),
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = server.Close() }()
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET("/secure", server.Handler(), func(c *gin.Context) { c.Status(http.StatusOK) })
	get := func(key string) int {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/secure", nil)
		req.Header.Set("X-API-Key", key)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w.Code
	}

	created := createJSON(t, dbURL, "--name", "cli on postgres")
	if code := get(created.Secret); code != http.StatusOK {
		t.Fatalf("a key the CLI created: %d", code)
	}
	mustRun(t, dbURL, "revoke", created.ID)
	start := time.Now()
	for get(created.Secret) != http.StatusUnauthorized {
		if time.Since(start) > 100*time.Millisecond {
			t.Fatal("the server still admits the key 100 ms after the CLI revoked it")
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("rejected %s after the CLI returned", time.Since(start).Round(10*time.Microsecond))
}
