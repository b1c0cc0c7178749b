package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey"
)

// postgresSchemaURL is testkit.PostgresSchemaURL with this package's
// schema prefix.
func postgresSchemaURL(t *testing.T) string {
	t.Helper()
	return testkit.PostgresSchemaURL(t, "gkcli_", "")
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
