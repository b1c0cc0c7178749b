package ginkeyredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/ginkey/ginkey"
)

const testSecret = "test-admin-secret-0123456789" //nolint:gosec // a test fixture, not a credential

func init() { gin.SetMode(gin.TestMode) }

// needService skips a test that needs what is missing, loudly, unless
// GINKEY_REQUIRE_SERVICES=1 (set by .ci/run) makes it a failure.
func needService(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("GINKEY_REQUIRE_SERVICES") == "1" {
		t.Fatal("a Redis test cannot run (" + why + ") but GINKEY_REQUIRE_SERVICES=1")
	}
	t.Skip("SKIPPING Redis test: " + why)
}

// redisURL is the shared test Redis, GINKEY_TEST_REDIS.
func redisURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("GINKEY_TEST_REDIS")
	if url == "" {
		needService(t, "set GINKEY_TEST_REDIS (e.g. redis://127.0.0.1:6379/0)")
	}
	return url
}

// testPrefix returns a Redis key prefix of the test's own, whose keys are
// removed when the test ends.
func testPrefix(t testing.TB, url string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "ginkeytest:" + hex.EncodeToString(b) + ":"
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := c.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			err = c.Del(ctx, keys...).Err()
		}
		if err != nil {
			t.Errorf("removing the test's Redis keys: %v", err)
		}
		_ = c.Close()
	})
	return prefix
}

// newLimits returns Limits with a client of their own.
func newLimits(t testing.TB, url, prefix string, opts ...Option) *Limits {
	t.Helper()
	l, err := FromURL(url, append([]Option{WithPrefix(prefix)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// syncBuffer is a log sink safe for the guard's goroutines.
type syncBuffer = testkit.Buffer

// instance is one guard behind a gin engine, as one of several instances
// of an application would be.
type instance struct {
	t      testing.TB
	guard  *ginkey.Guard
	engine *gin.Engine
	logs   *syncBuffer
}

func noEnv(string) (string, bool) { return "", false }

// newInstance starts a guard on the SQLite file db, counting in limits
// (nil: in memory).
func newInstance(t testing.TB, db string, limits *Limits, mod func(*ginkey.Config)) *instance {
	t.Helper()
	in := &instance{t: t, logs: &syncBuffer{}}
	cfg := ginkey.Config{
		DBPath:      db,
		AdminSecret: testSecret,
		Logger:      slog.New(slog.NewTextHandler(in.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		LookupEnv:   noEnv,
	}
	if limits != nil {
		limits.Apply(&cfg)
	}
	if mod != nil {
		mod(&cfg)
	}
	g, err := ginkey.New(cfg)
	if err != nil {
		t.Fatalf("ginkey.New: %v", err)
	}
	t.Cleanup(func() { _ = g.Close() })
	in.guard = g
	r := gin.New()
	if err := r.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	g.RegisterAdmin(r.Group("/auth"))
	r.GET("/secure", g.Handler(), func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	in.engine = r
	return in
}

// get requests /secure with key from the client at remote ("" for
// httptest's default).
func (in *instance) get(remote, key string) *httptest.ResponseRecorder {
	return in.do(remote, "/secure", "X-API-Key", key)
}

// admin lists keys with secret as the admin secret.
func (in *instance) admin(remote, secret string) *httptest.ResponseRecorder {
	return in.do(remote, "/auth/keys", "X-Admin-Secret", secret)
}

func (in *instance) do(remote, path, header, value string) *httptest.ResponseRecorder {
	r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
	if remote != "" {
		r.RemoteAddr = remote
	}
	r.Header.Set(header, value)
	w := httptest.NewRecorder()
	in.engine.ServeHTTP(w, r)
	return w
}

func createKey(t testing.TB, g *ginkey.Guard, spec ginkey.KeySpec) ginkey.CreatedKey {
	t.Helper()
	k, err := g.CreateKey(context.Background(), spec)
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return k
}

// wantError asserts the status and the stable code of an error response.
func wantError(t testing.TB, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if w.Code != status || !strings.Contains(w.Body.String(), `"code":"`+code+`"`) {
		t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, status, code)
	}
}

// fakeClock is a settable clock.
type fakeClock = testkit.Clock

func newFakeClock() *fakeClock { return testkit.NewClock() }

// ownRedis is a redis-server of the test's own, on a free port, that the
// test can stop and start again.
type ownRedis struct {
	t    testing.TB
	port string
	dir  string
	cmd  *exec.Cmd
}

func startOwnRedis(t testing.TB) *ownRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		needService(t, "no redis-server binary on PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	_ = ln.Close()
	r := &ownRedis{t: t, port: port, dir: t.TempDir()}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *ownRedis) url() string { return "redis://127.0.0.1:" + r.port + "/0" }

func (r *ownRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", r.port, "--bind", "127.0.0.1", //nolint:gosec // a fixed binary, a port we picked
		"--save", "", "--appendonly", "no", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	for range 100 {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+r.port, 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatal("redis-server did not start")
}

// stop kills the server, as a crash would.
func (r *ownRedis) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}
