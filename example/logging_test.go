package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"

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

// TestAccessLogLinesCannotBeForged sends paths that decode to line breaks
// and terminal escapes, as a client forging an access-log line would
// (GET /public%0a... POST /auth/keys): each request writes exactly one
// line, and the path in it is quoted, its control characters escaped.
// Not parallel: it swaps gin's writer.
func TestAccessLogLinesCannotBeForged(t *testing.T) {
	var logs bytes.Buffer
	oldWriter := gin.DefaultWriter
	gin.DefaultWriter = &logs
	defer func() { gin.DefaultWriter = oldWriter }()
	r := newTestGuard(t, false).Engine // the example's router, writing to logs

	const forged = "2026-01-01T00:00:00Z%20|%20201%20|%20%201ms%20|%2010.0.0.1%20|%20POST%20%20%20%20/auth/keys"
	for _, tc := range []struct{ name, target, want string }{
		{"line feed", "/public%0a" + forged, `"/public\n2026-01-01T00:00:00Z | 201 |`},
		{"carriage return", "/public%0d" + forged, `"/public\r2026-01-01T00:00:00Z | 201 |`},
		{"CRLF, then the query", "/public%0d%0a" + forged + "?api_key=x", `"/public\r\n2026-01-01T00:00:00Z | 201 |`},
		{"vertical tab and form feed", "/public%0b%0c" + forged, `"/public\v\f2026-01-01T00:00:00Z | 201 |`},
		{"NEL and line separator", "/public%c2%85%e2%80%a8" + forged, `"/public\u0085\u20282026-01-01T00:00:00Z | 201 |`},
		{"terminal escape", "/public%1b[2K%1b[1A" + forged, `"/public\x1b[2K\x1b[1A2026-01-01T00:00:00Z | 201 |`},
		{"a quote", "/public%22%20" + forged, `"/public\" 2026-01-01T00:00:00Z | 201 |`},
		{"a plain path", "/public", ` "/public"` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, tc.target, nil))
			line := logs.String()
			if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
				t.Fatalf("one request wrote %d lines:\n%s", strings.Count(line, "\n"), line)
			}
			if i := strings.IndexFunc(strings.TrimSuffix(line, "\n"), func(r rune) bool {
				return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
			}); i >= 0 {
				t.Fatalf("a control character at %d: %q", i, line)
			}
			if !strings.Contains(line, tc.want) {
				t.Fatalf("the line %q does not hold %s", line, tc.want)
			}
		})
	}
}
