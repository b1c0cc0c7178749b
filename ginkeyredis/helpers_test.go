package ginkeyredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
)

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

// instance is one guard behind a gin engine, as one of several instances
// of an application would be.
type instance = guardtest.H

// newInstance starts a guard on the SQLite file db, counting in limits
// (nil: in memory), behind an engine that trusts no proxy.
func newInstance(t testing.TB, db string, limits *Limits, mod func(*ginkey.Config)) *instance {
	t.Helper()
	in := guardtest.New(t, func(c *ginkey.Config) {
		c.DBPath = db
		if limits != nil {
			limits.Apply(c)
		}
		if mod != nil {
			mod(c)
		}
	})
	if err := in.Engine.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	return in
}

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
