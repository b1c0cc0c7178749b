package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey/internal/testkit"
)

// A panic is logged, but neither the key nor the admin secret of the request
// reaches the log (gin.Recovery would dump every header but Authorization),
// and neither does the query string (gin.Logger would print api_key).
// Not parallel: it swaps slog's default logger and gin's writer.
func TestLogsCarryNoKeysOrSecrets(t *testing.T) {
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(old)
	oldWriter := gin.DefaultWriter
	gin.DefaultWriter = &logs
	defer func() { gin.DefaultWriter = oldWriter }()

	h := newTestGuard(t, false)
	h.Engine.GET("/boom", func(*gin.Context) { panic("boom") })
	const key, query, secret = "gk_headerKeyMustNotBeLogged", "gk_queryKeyMustNotBeLogged", "admin-secret-must-not-be-logged"
	for _, path := range []string{"/boom?api_key=" + query, "/secure?api_key=" + query} {
		w := h.Do(testkit.Request{Method: http.MethodGet, Path: path, Header: map[string]string{"X-API-Key": key, "X-Admin-Secret": secret}})
		if path[:5] == "/boom" && (w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), `"internal_error"`)) {
			t.Fatalf("panic answered %d %s", w.Code, w.Body)
		}
	}
	out := logs.String() + h.Logs.String() // the guard logs to its harness
	if !strings.Contains(out, "boom") || !strings.Contains(out, "/secure") {
		t.Fatalf("the panic or the access line is missing from the log:\n%s", out)
	}
	for _, s := range []string{key, query, secret} {
		if strings.Contains(out, s) {
			t.Fatalf("%q reached the log:\n%s", s, out)
		}
	}
}
