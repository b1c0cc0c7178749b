package testkit

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/gin-gonic/gin"
)

// AdminSecret is the admin secret of every guard under test.
const AdminSecret = "test-admin-secret-0123456789" //nolint:gosec // a test fixture, not a credential

// AdminHeader carries the admin secret.
const AdminHeader = "X-Admin-Secret"

// NoEnv is a Config.LookupEnv that finds nothing: it keeps the developer's
// environment out of tests.
func NoEnv(string) (string, bool) { return "", false }

// Guard is what a Harness needs of the guard under test; *ginkey.Guard is
// one. testkit names no type of package ginkey, whose own tests import it:
// package guardtest, for every other package's tests, does.
type Guard interface {
	Handler() gin.HandlerFunc
	RegisterAdmin(*gin.RouterGroup)
	Close() error
}

// Harness is a guard under test behind a real gin engine, with what it is
// made from: a SQLite file of the test's own and a logger into a Buffer.
// ginkey's tests make the guard from DBPath, AdminSecret, Logger and NoEnv
// (guardtest.New does, for other packages), then Serve it.
type Harness[G Guard] struct {
	T      testing.TB
	DBPath string       // keys.db in t.TempDir(), not yet created
	Logs   *Buffer      // what Logger wrote
	Logger *slog.Logger // all levels, into Logs
	Guard  G
	Engine *gin.Engine

	// Router builds the engine Serve puts a guard behind; nil: the admin
	// API under /auth and GET /secure behind Guard.Handler(), answering
	// {"message": …, "key_id": …}.
	Router func(G) *gin.Engine

	keyID func(*gin.Context) (string, bool)
}

// NewHarness returns a harness with no guard yet. keyID returns the id of
// the key the guard let in (from ginkey.KeyFrom), for Echo.
func NewHarness[G Guard](t testing.TB, keyID func(*gin.Context) (string, bool)) *Harness[G] {
	t.Helper()
	logs := &Buffer{}
	return &Harness[G]{
		T:      t,
		DBPath: filepath.Join(t.TempDir(), "keys.db"),
		Logs:   logs,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		keyID:  keyID,
	}
}

// Serve puts g behind a new engine (see Router) and closes it when the test
// ends; err (New's) fails the test. Serving another guard replaces the
// first, as a restart would.
func (h *Harness[G]) Serve(g G, err error) {
	h.T.Helper()
	if err != nil {
		h.T.Fatalf("New: %v", err)
	}
	h.T.Cleanup(func() { _ = g.Close() })
	h.Guard = g
	if h.Router != nil {
		h.Engine = h.Router(g)
		return
	}
	r := gin.New()
	g.RegisterAdmin(r.Group("/auth"))
	r.GET("/secure", g.Handler(), func(c *gin.Context) {
		id, ok := h.keyID(c)
		if !ok {
			c.JSON(http.StatusInternalServerError, gin.H{"error": "no key in context"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"message": "This is a secure endpoint", "key_id": id})
	})
	h.Engine = r
}

// Echo returns a handler answering 200 with the id of the key that was let
// in (keyID's), or "anonymous".
func Echo(keyID func(*gin.Context) (string, bool)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := keyID(c)
		if !ok {
			id = "anonymous"
		}
		c.JSON(http.StatusOK, gin.H{"key_id": id})
	}
}

// Route adds a route through mw that ends in Echo.
func (h *Harness[G]) Route(method, path string, mw ...gin.HandlerFunc) {
	h.T.Helper()
	h.Engine.Handle(method, path, append(mw, Echo(h.keyID))...)
}
