package console_test

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/console"
	"github.com/ginkey/ginkey/internal/testkit"
)

const testSecret = "console-test-secret-0123456789"

// env is a console mounted at /console on a real gin engine, over a guard
// with a real SQLite file, and a browser's cookie jar.
type env struct {
	t       *testing.T
	guard   *ginkey.Guard
	r       *gin.Engine
	cookies map[string]*http.Cookie
}

func newEnv(t *testing.T, cfg ginkey.Config, opts console.Options) *env {
	t.Helper()
	gin.SetMode(gin.TestMode)
	cfg.DBPath = filepath.Join(t.TempDir(), "keys.db")
	if cfg.AdminSecret == "" {
		cfg.AdminSecret = testSecret
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.LookupEnv = testkit.NoEnv
	g, err := ginkey.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	con, err := console.New(g, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	mount := r.Group("/console")
	if opts.Owner != nil {
		mount = r.Group("/account/console")
	}
	con.Register(mount)
	api := r.Group("/api", g.Handler())
	api.GET("/items", g.Require("items:read"), func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	api.GET("/write", g.Require("items:write"), func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	api.GET("/open", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	g.RegisterAdmin(r.Group("/admin"))
	return &env{t: t, guard: g, r: r, cookies: map[string]*http.Cookie{}}
}

// do sends a request with the jar's cookies and keeps the answer's.
func (e *env) do(method, path string, form url.Values, header map[string]string) *httptest.ResponseRecorder {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for _, c := range e.cookies {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	e.r.ServeHTTP(w, req)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(e.cookies, c.Name)
		} else {
			e.cookies[c.Name] = c
		}
	}
	return w
}

func (e *env) get(path string) *httptest.ResponseRecorder {
	return e.do(http.MethodGet, path, nil, nil)
}

// post sends a same-origin form, as the console's own pages do.
func (e *env) post(path string, form url.Values) *httptest.ResponseRecorder {
	return e.do(http.MethodPost, path, form, map[string]string{"Sec-Fetch-Site": "same-origin"})
}

// signIn signs in with the admin secret through the form.
func (e *env) signIn() {
	e.t.Helper()
	w := e.post("/console/signin", url.Values{"secret": {testSecret}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/keys" {
		e.t.Fatalf("sign-in: %d %q %s", w.Code, w.Header().Get("Location"), w.Body)
	}
}

var (
	csrfInput    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	onceInput    = regexp.MustCompile(`name="once" value="([^"]+)"`)
	versionInput = regexp.MustCompile(`name="version" value="([^"]+)"`)
)

// newOnce is a one-time form token, as a page's create or rotate form
// carries (the console takes any it has not seen).
func newOnce() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hidden is the value of the hidden input re finds on the page at path.
func (e *env) hidden(path string, re *regexp.Regexp) string {
	e.t.Helper()
	w := e.get(path)
	m := re.FindStringSubmatch(w.Body.String())
	if m == nil {
		e.t.Fatalf("GET %s: no %s in %d %s", path, re, w.Code, w.Body)
	}
	return m[1]
}

// token is the CSRF token of the page at path.
func (e *env) token(path string) string { e.t.Helper(); return e.hidden(path, csrfInput) }

// once is the one-time token of the create or rotate form at path.
func (e *env) once(path string) string { e.t.Helper(); return e.hidden(path, onceInput) }

// version is the version of the key the edit form at path was shown for.
func (e *env) version(path string) string { e.t.Helper(); return e.hidden(path, versionInput) }

// mustStatus fails unless w answered want.
func mustStatus(t *testing.T, w *httptest.ResponseRecorder, want int) {
	t.Helper()
	if w.Code != want {
		t.Fatalf("status %d, want %d; body: %s", w.Code, want, w.Body)
	}
}
