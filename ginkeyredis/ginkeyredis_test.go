package ginkeyredis

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
)

// twoInstances starts two guards on one database, each counting in the
// test Redis through a client of its own, under one prefix.
func twoInstances(t *testing.T, mod func(*ginkey.Config)) (a, b *instance, prefix string) {
	t.Helper()
	url := redisURL(t)
	prefix = testPrefix(t, url)
	db := filepath.Join(t.TempDir(), "keys.db")
	a = newInstance(t, db, newLimits(t, url, prefix), mod)
	b = newInstance(t, db, newLimits(t, url, prefix), mod)
	return a, b, prefix
}

// alternate sends n requests with key, from a and b in turn, and returns
// how many passed; every other answer must be a 429 with code and a
// Retry-After.
func alternate(t *testing.T, a, b *instance, key string, n int, code string) int {
	t.Helper()
	passed := 0
	for i := range n {
		in := a
		if i%2 == 1 {
			in = b
		}
		w := in.Get("", "/secure", key)
		if w.Code == http.StatusOK {
			passed++
			continue
		}
		testkit.WantError(t, w, http.StatusTooManyRequests, code)
		if w.Header().Get("Retry-After") == "" {
			t.Fatalf("request %d: 429 without Retry-After", i+1)
		}
	}
	return passed
}

func TestTwoGuardsShareARateLimitOfTenPerMinuteExactly(t *testing.T) {
	t.Parallel()
	a, b, _ := twoInstances(t, nil)
	k := guardtest.CreateKey(t, a.Guard, ginkey.KeySpec{RateLimit: &ginkey.RateLimit{Requests: 10, Per: ginkey.PerMinute}})
	if n := alternate(t, a, b, k.Secret, 16, "rate_limited"); n != 10 {
		t.Fatalf("%d of 16 alternating requests passed, want exactly 10", n)
	}
}

func TestTwoGuardsShareADailyQuotaOfFiveExactly(t *testing.T) {
	t.Parallel()
	a, b, _ := twoInstances(t, nil)
	k := guardtest.CreateKey(t, a.Guard, ginkey.KeySpec{Quota: &ginkey.Quota{Requests: 5, Per: ginkey.PerDay}})
	if n := alternate(t, a, b, k.Secret, 12, "quota_exceeded"); n != 5 {
		t.Fatalf("%d of 12 alternating requests passed, want exactly 5", n)
	}
}

func TestTwoGuardsShareTheUnknownKeyThrottle(t *testing.T) {
	t.Parallel()
	a, b, _ := twoInstances(t, func(c *ginkey.Config) { c.FailureLimit = 4 })
	// A well-formed key the store no longer knows.
	gone := guardtest.CreateKey(t, a.Guard, ginkey.KeySpec{})
	if err := a.Guard.DeleteKey(context.Background(), gone.ID); err != nil {
		t.Fatal(err)
	}
	good := guardtest.CreateKey(t, a.Guard, ginkey.KeySpec{})
	const attacker, other = "203.0.113.7:5555", "198.51.100.1:80"
	for i := range 4 {
		in := a
		if i%2 == 1 {
			in = b
		}
		testkit.WantError(t, in.Get(attacker, "/secure", gone.Secret), http.StatusUnauthorized, "key_invalid")
	}
	for _, in := range []*instance{a, b} {
		w := in.Get(attacker, "/secure", gone.Secret)
		testkit.WantError(t, w, http.StatusTooManyRequests, "too_many_failures")
		if got := w.Header().Get("Retry-After"); got != "15" { // 4 per minute: one back every 15s
			t.Fatalf("Retry-After = %q, want 15", got)
		}
		// Throttled before the store: a good key not yet cached is refused too.
		testkit.WantError(t, in.Get(attacker, "/secure", good.Secret), http.StatusTooManyRequests, "too_many_failures")
		// Another address is not.
		if w := in.Get(other, "/secure", good.Secret); w.Code != http.StatusOK {
			t.Fatalf("another address: %d %s", w.Code, w.Body)
		}
	}
}

func TestTwoGuardsShareTheAdminSecretThrottle(t *testing.T) {
	t.Parallel()
	a, b, _ := twoInstances(t, func(c *ginkey.Config) { c.AdminFailureLimit = 3 })
	const guesser, admin = "203.0.113.9:1000", "198.51.100.2:1000"
	// Right secrets are given back: they cost nothing.
	for range 5 {
		if w := a.AdminAs(admin, testkit.AdminSecret); w.Code != http.StatusOK {
			t.Fatalf("admin: %d %s", w.Code, w.Body)
		}
	}
	for i := range 3 {
		in := a
		if i%2 == 1 {
			in = b
		}
		testkit.WantError(t, in.AdminAs(guesser, "wrong-secret-0123456789"), http.StatusUnauthorized, "admin_unauthorized")
	}
	for _, in := range []*instance{a, b} {
		testkit.WantError(t, in.AdminAs(guesser, "wrong-secret-0123456789"), http.StatusTooManyRequests, "too_many_failures")
		testkit.WantError(t, in.AdminAs(guesser, testkit.AdminSecret), http.StatusTooManyRequests, "too_many_failures")
		if w := in.AdminAs(admin, testkit.AdminSecret); w.Code != http.StatusOK {
			t.Fatalf("admin from another address: %d %s", w.Code, w.Body)
		}
	}
}

// The same requests at the same times get the same headers from the Redis
// limiter as from the in-memory one.
func TestRedisLimiterHeadersMatchTheMemoryLimiters(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	clock := testkit.NewClock()
	withClock := func(c *ginkey.Config) { c.Now = clock.Now }
	mem := newInstance(t, filepath.Join(t.TempDir(), "mem.db"), nil, withClock)
	red := newInstance(t, filepath.Join(t.TempDir(), "redis.db"),
		newLimits(t, url, testPrefix(t, url), WithClock(clock.Now)), withClock)
	for _, rl := range []ginkey.RateLimit{{Requests: 5, Per: ginkey.PerSecond}, {Requests: 2, Per: ginkey.PerMinute}} {
		km := guardtest.CreateKey(t, mem.Guard, ginkey.KeySpec{RateLimit: &rl})
		kr := guardtest.CreateKey(t, red.Guard, ginkey.KeySpec{RateLimit: &rl})
		steps := []time.Duration{0, 0, 0, 0, 0, 0, 0, 150 * time.Millisecond, 49 * time.Millisecond,
			time.Millisecond, 0, 10 * time.Second, 20 * time.Second, 0, 0, time.Hour, 0}
		for i, step := range steps {
			clock.Advance(step)
			wm, wr := mem.Get("", "/secure", km.Secret), red.Get("", "/secure", kr.Secret)
			for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"} {
				if gm, gr := wm.Header().Get(h), wr.Header().Get(h); gm != gr || wm.Code != wr.Code {
					t.Fatalf("%+v, request %d: memory %d %s=%q, Redis %d %s=%q", rl, i+1, wm.Code, h, gm, wr.Code, h, gr)
				}
			}
		}
	}
}

// A period's count that Redis lacks starts from the usage table.
func TestRedisQuotaIsSeededFromTheUsageTable(t *testing.T) {
	t.Parallel()
	// A key rotated in is seeded with its predecessors' usage too: the
	// keys of a rotation chain share one quota.
	for _, rotated := range []bool{false, true} {
		t.Run(map[bool]string{false: "own_key", true: "rotated_in_key"}[rotated], func(t *testing.T) {
			t.Parallel()
			url := redisURL(t)
			db := filepath.Join(t.TempDir(), "keys.db")
			mem := newInstance(t, db, nil, nil)
			k := guardtest.CreateKey(t, mem.Guard, ginkey.KeySpec{Quota: &ginkey.Quota{Requests: 5, Per: ginkey.PerDay}})
			for range 3 {
				if w := mem.Get("", "/secure", k.Secret); w.Code != http.StatusOK {
					t.Fatalf("in-memory guard: %d %s", w.Code, w.Body)
				}
			}
			if rotated {
				next, err := mem.Guard.RotateKey(context.Background(), k.ID, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				k = next
			}
			if err := mem.Guard.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			red := newInstance(t, db, newLimits(t, url, testPrefix(t, url)), nil)
			passed := 0
			for range 5 {
				if w := red.Get("", "/secure", k.Secret); w.Code == http.StatusOK {
					passed++
				} else {
					testkit.WantError(t, w, http.StatusTooManyRequests, "quota_exceeded")
				}
			}
			if passed != 2 {
				t.Fatalf("%d requests passed after 3 recorded, want 2 of the quota of 5", passed)
			}
		})
	}
}

func TestRedisKeysNameKeyIDsNeverKeys(t *testing.T) {
	t.Parallel()
	a, _, prefix := twoInstances(t, func(c *ginkey.Config) { c.FailureLimit = 2 })
	k := guardtest.CreateKey(t, a.Guard, ginkey.KeySpec{
		RateLimit: &ginkey.RateLimit{Requests: 5, Per: ginkey.PerMinute},
		Quota:     &ginkey.Quota{Requests: 5, Per: ginkey.PerMonth},
	})
	gone := guardtest.CreateKey(t, a.Guard, ginkey.KeySpec{})
	if err := a.Guard.DeleteKey(context.Background(), gone.ID); err != nil {
		t.Fatal(err)
	}
	a.Get("", "/secure", k.Secret)
	a.Get("192.0.2.1:1", "/secure", gone.Secret)
	a.AdminAs("192.0.2.2:1", "wrong-secret-0123456789")
	opt, _ := redis.ParseURL(redisURL(t))
	c := redis.NewClient(opt)
	defer func() { _ = c.Close() }()
	keys, err := c.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		prefix + "rate:" + k.ID:                false,
		prefix + "fail:unknown_key:192.0.2.1":  false,
		prefix + "fail:admin_secret:192.0.2.2": false,
		prefix + "quota:" + k.ID + ":":         false, // a prefix: the period follows
	}
	for _, key := range keys {
		for _, secret := range []string{k.Secret, gone.Secret, testkit.AdminSecret, "wrong-secret"} {
			if strings.Contains(key, secret) {
				t.Fatalf("Redis key %q holds a secret", key)
			}
		}
		for w := range want {
			if key == w || strings.HasSuffix(w, ":") && strings.HasPrefix(key, w) {
				want[w] = true
			}
		}
	}
	for w, seen := range want {
		if !seen {
			t.Errorf("no Redis key %q among %q", w, keys)
		}
	}
}

// Concurrent requests, batched into pipelines, are counted exactly too.
func TestTwoGuardsCountConcurrentRequestsExactly(t *testing.T) {
	t.Parallel()
	a, b, _ := twoInstances(t, nil)
	rated := guardtest.CreateKey(t, a.Guard, ginkey.KeySpec{RateLimit: &ginkey.RateLimit{Requests: 10, Per: ginkey.PerMinute}})
	quota := guardtest.CreateKey(t, a.Guard, ginkey.KeySpec{Quota: &ginkey.Quota{Requests: 5, Per: ginkey.PerDay}})
	for _, c := range []struct {
		key  string
		want int64
	}{{rated.Secret, 10}, {quota.Secret, 5}} {
		var passed atomic.Int64
		var wg sync.WaitGroup
		for i := range 40 {
			in := a
			if i%2 == 1 {
				in = b
			}
			wg.Go(func() {
				if in.Get("", "/secure", c.key).Code == http.StatusOK {
					passed.Add(1)
				}
			})
		}
		wg.Wait()
		if n := passed.Load(); n != c.want {
			t.Fatalf("%d of 40 concurrent requests passed, want exactly %d", n, c.want)
		}
	}
}

func TestFromURLNeverRepeatsTheURLAndDoesNotConnectYet(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"http://user:hunter2@localhost:6379/0", "redis://user:hunter2@localhost:6379/notadb", "hunter2"} {
		if _, err := FromURL(bad); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("FromURL(%q): %v", bad, err)
		}
	}
	l, err := FromURL("redis://user:hunter2@127.0.0.1:1/0") // nothing listens there
	if err != nil {
		t.Fatalf("FromURL connected, or failed: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// A rotated-in key counts in its predecessor's Redis keys: two guards hold
// the old and the new key together to one rate limit and one quota, in the
// grace period and after, and no Redis key names the new key.
func TestTwoGuardsHoldARotationChainToOneRateLimitAndOneQuota(t *testing.T) {
	t.Parallel()
	a, b, prefix := twoInstances(t, nil)
	ctx := context.Background()
	rated := guardtest.CreateKey(t, a.Guard, ginkey.KeySpec{RateLimit: &ginkey.RateLimit{Requests: 4, Per: ginkey.PerMinute}})
	quota := guardtest.CreateKey(t, a.Guard, ginkey.KeySpec{Quota: &ginkey.Quota{Requests: 5, Per: ginkey.PerDay}})
	if n := alternate(t, a, b, rated.Secret, 4, "rate_limited"); n != 4 {
		t.Fatalf("%d of 4 requests passed", n)
	}
	if n := alternate(t, a, b, quota.Secret, 3, "quota_exceeded"); n != 3 {
		t.Fatalf("%d of 3 requests passed", n)
	}
	var next [2]ginkey.CreatedKey
	for i, k := range []ginkey.CreatedKey{rated, quota} {
		var err error
		if next[i], err = a.Guard.RotateKey(ctx, k.ID, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if n := alternate(t, a, b, next[0].Secret, 4, "rate_limited") + alternate(t, a, b, rated.Secret, 4, "rate_limited"); n != 0 {
		t.Fatalf("%d requests passed the spent rate limit after its rotation, want 0", n)
	}
	passed := 0
	for range 4 { // new, old, new, old...
		passed += alternate(t, a, b, next[1].Secret, 1, "quota_exceeded") + alternate(t, b, a, quota.Secret, 1, "quota_exceeded")
	}
	if passed != 2 {
		t.Fatalf("%d of 8 requests with the new and the old key passed, want the 2 left of the quota of 5", passed)
	}
	opt, _ := redis.ParseURL(redisURL(t))
	c := redis.NewClient(opt)
	defer func() { _ = c.Close() }()
	for _, pattern := range []string{prefix + "rate:" + next[0].ID, prefix + "quota:" + next[1].ID + ":*"} {
		if keys, err := c.Keys(ctx, pattern).Result(); err != nil || len(keys) != 0 {
			t.Errorf("Redis keys of the rotated-in key: %q %v, want none", keys, err)
		}
	}
}
