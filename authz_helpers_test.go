package ginkey

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

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
	*gormStore
	byHash atomic.Int64
}

func (s *countingStore) ByHash(ctx context.Context, hash string) (*Record, error) {
	s.byHash.Add(1)
	return s.gormStore.ByHash(ctx, hash)
}

// newCountingHarness is a harness whose store counts lookups.
func newCountingHarness(t *testing.T, mod func(*Config)) (*harness, *countingStore) {
	t.Helper()
	st := &countingStore{gormStore: newTestGormStore(t)}
	h := newHarness(t, func(c *Config) {
		c.Store = st
		if mod != nil {
			mod(c)
		}
	})
	return h, st
}

// newTestGormStore is a GORM store on a fresh SQLite file, for wrapping.
func newTestGormStore(t *testing.T) *gormStore {
	t.Helper()
	db, err := openSQLite(t.TempDir() + "/wrapped.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	gs, err := newGormStore(context.Background(), db, defaultTablePrefix)
	if err != nil {
		t.Fatal(err)
	}
	return gs
}
