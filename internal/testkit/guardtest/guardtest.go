// Package guardtest makes the guard under test of testkit's Harness, for the
// tests of every package but ginkey itself: those cannot import a package
// that imports ginkey, and make theirs the same way in helpers_test.go.
package guardtest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/internal/testkit"
)

// H is the harness of a ginkey guard.
type H = testkit.Harness[*ginkey.Guard]

// New serves a guard on the harness's SQLite file, with testkit.AdminSecret,
// the harness's Logger and no environment; mod (nil: none) changes that
// Config first.
func New(t testing.TB, mod func(*ginkey.Config)) *H {
	t.Helper()
	return NewRouted(t, mod, nil)
}

// NewRouted is New behind the engine router builds (nil: testkit's).
func NewRouted(t testing.TB, mod func(*ginkey.Config), router func(*ginkey.Guard) *gin.Engine) *H {
	t.Helper()
	h := testkit.NewHarness[*ginkey.Guard](t, keyID)
	h.Router = router
	cfg := ginkey.Config{DBPath: h.DBPath, AdminSecret: testkit.AdminSecret, Logger: h.Logger, LookupEnv: testkit.NoEnv}
	if mod != nil {
		mod(&cfg)
	}
	h.Serve(ginkey.New(cfg))
	return h
}

func keyID(c *gin.Context) (string, bool) {
	k, ok := ginkey.KeyFrom(c)
	return k.ID, ok
}

// CreateKey creates a key with g's Go API.
func CreateKey(t testing.TB, g *ginkey.Guard, spec ginkey.KeySpec) ginkey.CreatedKey {
	t.Helper()
	k, err := g.CreateKey(context.Background(), spec)
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return k
}

// FailingStore is a testkit.FailingStore over the GORM store on a SQLite
// file of the test's own, closed when the test ends: for Config.Store.
func FailingStore(t testing.TB) *testkit.FailingStore {
	t.Helper()
	s, err := gormstore.Open(context.Background(), filepath.Join(t.TempDir(), "failing.db"), "ginkey_", slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return testkit.NewFailingStore(s)
}
