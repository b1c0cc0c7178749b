package ginkey

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"

	"github.com/gin-gonic/gin"
)

const testSecret = "test-admin-secret-0123456789" //nolint:gosec // a test fixture, not a credential

func init() { gin.SetMode(gin.TestMode) }

// fakeClock is a settable clock for expiry tests.
type fakeClock = testkit.Clock

func newFakeClock() *fakeClock { return testkit.NewClock() }

// syncBuffer is a log sink safe for the guard's goroutines.
type syncBuffer = testkit.Buffer

// harness is a guard on a real SQLite file behind a real gin engine.
type harness struct {
	t      testing.TB
	guard  *Guard
	engine *gin.Engine
	dbPath string
	logs   *syncBuffer
}

// noEnv keeps the developer's environment out of tests.
func noEnv(string) (string, bool) { return "", false }

func newHarness(t testing.TB, mod func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, dbPath: filepath.Join(t.TempDir(), "keys.db"), logs: &syncBuffer{}}
	cfg := Config{
		DBPath:      h.dbPath,
		AdminSecret: testSecret,
		Logger:      slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		LookupEnv:   noEnv,
	}
	if mod != nil {
		mod(&cfg)
	}
	h.start(cfg)
	return h
}

func (h *harness) start(cfg Config) {
	h.t.Helper()
	g, err := New(cfg)
	if err != nil {
		h.t.Fatalf("New: %v", err)
	}
	h.t.Cleanup(func() { _ = g.Close() })
	h.guard = g
	r := gin.New()
	g.RegisterAdmin(r.Group("/auth"))
	r.GET("/secure", g.Handler(), func(c *gin.Context) {
		k, ok := KeyFrom(c)
		if !ok {
			c.JSON(http.StatusInternalServerError, gin.H{"error": "no key in context"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"message": "This is a secure endpoint", "key_id": k.ID})
	})
	h.engine = r
}

type req struct {
	method, path, body string
	header             map[string]string
}

func (h *harness) do(r req) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.doFrom("", r)
}

// doFrom sends r as if from the client at remote ("10.1.2.3:4567"; "" keeps
// httptest's default).
func (h *harness) doFrom(remote string, r req) *httptest.ResponseRecorder {
	h.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequestWithContext(context.Background(), r.method, r.path, body)
	if remote != "" {
		hr.RemoteAddr = remote
	}
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.engine.ServeHTTP(w, hr)
	return w
}

func (h *harness) admin(method, path, body string) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do(req{method: method, path: "/auth" + path, body: body, header: map[string]string{adminHeader: testSecret}})
}

func (h *harness) secure(key string) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do(req{method: http.MethodGet, path: "/secure", header: map[string]string{"X-API-Key": key}})
}

func (h *harness) createKey(body string) CreatedKey {
	h.t.Helper()
	w := h.admin(http.MethodPost, "/keys", body)
	if w.Code != http.StatusCreated {
		h.t.Fatalf("create key: %d %s\nlogs:\n%s", w.Code, w.Body, h.logs)
	}
	var out CreatedKey
	decode(h.t, w, &out)
	return out
}

func decode(t testing.TB, w *httptest.ResponseRecorder, dst any) {
	t.Helper()
	if err := json.Unmarshal(w.Body.Bytes(), dst); err != nil {
		t.Fatalf("decode %q: %v", w.Body.String(), err)
	}
}

// wantError asserts the status and the stable code of an error response.
func wantError(t testing.TB, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	var body ErrorBody
	decode(t, w, &body)
	if body.Error.Code != code {
		t.Fatalf("code = %q, want %q; body %s", body.Error.Code, code, w.Body)
	}
	if body.Error.Message == "" {
		t.Fatalf("empty error message: %s", w.Body)
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// refuseInserts makes the harness's real SQLite file refuse inserts into
// table, as a full disk would, until the returned function lifts it.
func (h *harness) refuseInserts(table string) (lift func()) {
	h.t.Helper()
	db := h.guard.store.(*gormstore.Store).DB()
	trigger := "refuse_" + table
	sql := "CREATE TRIGGER " + trigger + " BEFORE INSERT ON " + table +
		" BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
	if err := db.Exec(sql).Error; err != nil {
		h.t.Fatal(err)
	}
	return func() {
		h.t.Helper()
		if err := db.Exec("DROP TRIGGER " + trigger).Error; err != nil {
			h.t.Fatal(err)
		}
	}
}

// echo answers 200 with the id of the key that was let in, or "anonymous".
func echo(c *gin.Context) {
	k, ok := KeyFrom(c)
	if !ok {
		c.JSON(http.StatusOK, gin.H{"key_id": "anonymous"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"key_id": k.ID})
}

// route adds a route that ends in echo.
func (h *harness) route(method, path string, mw ...gin.HandlerFunc) {
	h.t.Helper()
	h.engine.Handle(method, path, append(mw, echo)...)
}

// get sends GET path with key in X-API-Key from remote.
func (h *harness) get(remote, path, key string) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.doFrom(remote, req{method: http.MethodGet, path: path, header: map[string]string{"X-API-Key": key}})
}

func wantOK(t testing.TB, w *httptest.ResponseRecorder, keyID string) {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
	}
	if want := `"key_id":"` + keyID + `"`; !strings.Contains(w.Body.String(), want) {
		t.Fatalf("body %s does not hold %s", w.Body, want)
	}
}

func wantHeader(t testing.TB, w *httptest.ResponseRecorder, name, want string) {
	t.Helper()
	if got := w.Header().Get(name); got != want {
		t.Fatalf("%s = %q, want %q (status %d, body %s)", name, got, want, w.Code, w.Body)
	}
}

func wantRetryAfter(t testing.TB, w *httptest.ResponseRecorder, d time.Duration) {
	t.Helper()
	wantHeader(t, w, "Retry-After", strconv.FormatInt(ceilSeconds(d), 10))
}

// countingStore counts key lookups, to prove a refusal never reached the
// store.
type countingStore struct {
	*gormstore.Store
	byHash atomic.Int64
}

func (s *countingStore) ByHash(ctx context.Context, hash string) (*keystore.Record, error) {
	s.byHash.Add(1)
	return s.Store.ByHash(ctx, hash)
}

// newCountingHarness is a harness whose store counts lookups.
func newCountingHarness(t *testing.T, mod func(*Config)) (*harness, *countingStore) {
	t.Helper()
	st := &countingStore{Store: newTestGormStore(t)}
	h := newHarness(t, func(c *Config) {
		c.Store = st
		if mod != nil {
			mod(c)
		}
	})
	return h, st
}

// newTestGormStore is a GORM store on a fresh SQLite file, for wrapping.
func newTestGormStore(t *testing.T) *gormstore.Store {
	t.Helper()
	s, err := gormstore.Open(context.Background(), t.TempDir()+"/wrapped.db", defaultTablePrefix, slogDiscard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
