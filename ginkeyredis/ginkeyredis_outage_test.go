package ginkeyredis

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/limits"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
)

// outageSetup starts a Redis of the test's own and a guard counting in it,
// with a key limited by rate and quota, and a deleted key for the failure
// throttle.
func outageSetup(t *testing.T, failClosed bool) (r *ownRedis, in *instance, limited, gone ginkey.CreatedKey) {
	t.Helper()
	r = startOwnRedis(t)
	in = newInstance(t, filepath.Join(t.TempDir(), "keys.db"), newLimits(t, r.url(), "ginkey:"), func(c *ginkey.Config) {
		c.FailClosed = failClosed
		c.FailureLimit = 100
	})
	limited = guardtest.CreateKey(t, in.Guard, ginkey.KeySpec{
		RateLimit: &ginkey.RateLimit{Requests: 2, Per: ginkey.PerMinute},
		Quota:     &ginkey.Quota{Requests: 100, Per: ginkey.PerDay},
	})
	gone = guardtest.CreateKey(t, in.Guard, ginkey.KeySpec{})
	if err := in.Guard.DeleteKey(context.Background(), gone.ID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if w := in.Get("", "/secure", limited.Secret); w.Code != http.StatusOK || w.Header().Get("RateLimit-Remaining") == "" {
			t.Fatalf("Redis up: %d %v", w.Code, w.Header())
		}
	}
	testkit.WantError(t, in.Get("", "/secure", limited.Secret), http.StatusTooManyRequests, "rate_limited")
	return r, in, limited, gone
}

// recover starts r again (empty, as after a crash without persistence) and
// sends requests with key until one is counted again; it returns how many
// were decided without Redis meanwhile.
func recoverRedis(t *testing.T, r *ownRedis, in *instance, key string) int {
	t.Helper()
	r.start()
	// go-redis waits a moment before it dials a server that refused it.
	for n := 0; ; n++ {
		w := in.Get("", "/secure", key)
		if w.Header().Get("RateLimit-Limit") != "" {
			if w.Code != http.StatusOK {
				t.Fatalf("after the restart: %d %s", w.Code, w.Body)
			}
			return n
		}
		if n > 200 {
			t.Fatal("the guard did not use Redis again within 10s of its restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func wantLines(t *testing.T, logs *testkit.Buffer, n int, parts ...string) []string {
	t.Helper()
	got := logs.Lines(parts...)
	if len(got) != n {
		t.Fatalf("%d log lines with %q, want %d; logs:\n%s", len(got), parts, n, logs)
	}
	return got
}

func TestRedisOutageFailsOpenAndIsLoggedOnceWhenItStartsAndEnds(t *testing.T) {
	t.Parallel()
	r, in, limited, gone := outageSetup(t, false)
	r.stop()
	const during = 10
	for i := range during {
		w := in.Get("", "/secure", limited.Secret)
		if w.Code != http.StatusOK || w.Header().Get("RateLimit-Limit") != "" {
			t.Fatalf("Redis down, request %d: %d %v, want 200 without RateLimit headers", i+1, w.Code, w.Header())
		}
		testkit.WantError(t, in.Get("203.0.113.1:1", "/secure", gone.Secret), http.StatusUnauthorized, "key_invalid")
	}
	for _, what := range []string{"rate limiter", "quota counter"} {
		line := wantLines(t, in.Logs, 1, "level=WARN", "the "+what+" failed")[0]
		if !strings.Contains(line, "requests pass unchecked") || !strings.Contains(line, "error=") {
			t.Fatalf("WARN line: %s", line)
		}
	}
	wantLines(t, in.Logs, 1, "level=WARN", "the failure counter failed", "count on this instance alone")
	if strings.Contains(in.Logs.String(), limited.Secret) || strings.Contains(in.Logs.String(), gone.Secret) {
		t.Fatal("a key reached the log")
	}

	more := recoverRedis(t, r, in, limited.Secret)
	testkit.WantError(t, in.Get("203.0.113.1:1", "/secure", gone.Secret), http.StatusUnauthorized, "key_invalid")
	line := wantLines(t, in.Logs, 1, "level=INFO", "the rate limiter answers again")[0]
	if want := "requests_let_through=" + strconv.Itoa(during+more); !strings.Contains(line, want) {
		t.Fatalf("INFO line %q, want %s", line, want)
	}
	wantLines(t, in.Logs, 1, "level=INFO", "the quota counter answers again")
	wantLines(t, in.Logs, 1, "level=INFO", "the failure counter answers again")
	// Counting again: the restarted Redis lost the old count, so one more
	// request passes and the next is refused.
	if w := in.Get("", "/secure", limited.Secret); w.Code != http.StatusOK {
		t.Fatalf("second request after the restart: %d", w.Code)
	}
	testkit.WantError(t, in.Get("", "/secure", limited.Secret), http.StatusTooManyRequests, "rate_limited")
	wantLines(t, in.Logs, 1, "level=WARN", "the rate limiter failed")
}

func TestRedisOutageWithFailClosedAnswers503(t *testing.T) {
	t.Parallel()
	r, in, limited, gone := outageSetup(t, true)
	quotaOnly := guardtest.CreateKey(t, in.Guard, ginkey.KeySpec{Quota: &ginkey.Quota{Requests: 100, Per: ginkey.PerDay}})
	free := guardtest.CreateKey(t, in.Guard, ginkey.KeySpec{})
	if w := in.Get("", "/secure", quotaOnly.Secret); w.Code != http.StatusOK {
		t.Fatalf("quota-only key, Redis up: %d", w.Code)
	}
	r.stop()
	for range 3 {
		testkit.WantError(t, in.Get("", "/secure", limited.Secret), http.StatusServiceUnavailable, "unavailable")
		testkit.WantError(t, in.Get("", "/secure", quotaOnly.Secret), http.StatusServiceUnavailable, "unavailable")
		// The failure throttles count on this instance meanwhile: unknown
		// keys, good keys and the admin secret are still told apart.
		testkit.WantError(t, in.Get("203.0.113.1:1", "/secure", gone.Secret), http.StatusUnauthorized, "key_invalid")
		if w := in.AdminAs("203.0.113.2:1", testkit.AdminSecret); w.Code != http.StatusOK {
			t.Fatalf("admin, Redis down: %d %s", w.Code, w.Body)
		}
		if w := in.Get("203.0.113.3:1", "/secure", free.Secret); w.Code != http.StatusOK {
			t.Fatalf("unlimited key, Redis down: %d %s", w.Code, w.Body)
		}
	}
	line := wantLines(t, in.Logs, 1, "level=WARN", "the rate limiter failed")[0]
	if !strings.Contains(line, "503 unavailable") {
		t.Fatalf("WARN line: %s", line)
	}
	wantLines(t, in.Logs, 1, "level=WARN", "the quota counter failed")
	wantLines(t, in.Logs, 1, "level=WARN", "the failure counter failed")
	// ... and still throttle (100 unknown keys a minute; some come back
	// while the test runs).
	for range 110 {
		in.Get("203.0.113.1:1", "/secure", gone.Secret)
	}
	testkit.WantError(t, in.Get("203.0.113.1:1", "/secure", gone.Secret), http.StatusTooManyRequests, "too_many_failures")

	more := recoverRedis(t, r, in, limited.Secret)
	line = wantLines(t, in.Logs, 1, "level=INFO", "the rate limiter answers again")[0]
	if want := "requests_refused=" + strconv.Itoa(3+more); !strings.Contains(line, want) {
		t.Fatalf("INFO line %q, want %s", line, want)
	}
	if w := in.Get("", "/secure", quotaOnly.Secret); w.Code != http.StatusOK {
		t.Fatalf("quota-only key after the restart: %d %s", w.Code, w.Body)
	}
	testkit.WantError(t, in.Get("203.0.113.1:1", "/secure", gone.Secret), http.StatusUnauthorized, "key_invalid")
	if w := in.AdminAs("203.0.113.2:1", testkit.AdminSecret); w.Code != http.StatusOK {
		t.Fatalf("admin after the restart: %d %s", w.Code, w.Body)
	}
}

// A Redis that hangs (stopped, not dead) holds a request no longer than
// the client's timeout.
func TestHungRedisHoldsRequestsOnlyForTheTimeout(t *testing.T) {
	t.Parallel()
	r, in, limited, _ := outageSetup(t, false)
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.cmd.Process.Signal(syscall.SIGCONT) }()
	start := time.Now()
	w := in.Get("", "/secure", limited.Secret)
	if took := time.Since(start); w.Code != http.StatusOK || took > 5*DefaultTimeout {
		t.Fatalf("hung Redis: %d after %v, want 200 within the timeout (%v) and some slack", w.Code, took, DefaultTimeout)
	}
}

// Each decision is one command: a rate-limited key's request costs Redis
// one EVALSHA (whose script calls TIME, GET and SET), nothing else.
func TestARateLimitedRequestIsOneRedisCommand(t *testing.T) {
	t.Parallel()
	r, in, _, _ := outageSetup(t, false)
	k := guardtest.CreateKey(t, in.Guard, ginkey.KeySpec{RateLimit: &ginkey.RateLimit{Requests: 1000, Per: ginkey.PerMinute}})
	in.Get("", "/secure", k.Secret) // into the cache
	opt, _ := redis.ParseURL(r.url())
	c := redis.NewClient(opt)
	defer func() { _ = c.Close() }()
	// sent returns how many commands clients sent Redis: those scripts
	// call are left out.
	scriptCalls := map[string]bool{"time": true, "get": true, "set": true, "exists": true, "decrby": true, "incr": true, "expireat": true}
	sent := func() int64 {
		info, err := c.Info(context.Background(), "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, l := range strings.Split(info, "\r\n") {
			name, rest, ok := strings.Cut(strings.TrimPrefix(l, "cmdstat_"), ":calls=")
			if !ok || scriptCalls[name] {
				continue
			}
			calls, _, _ := strings.Cut(rest, ",")
			v, _ := strconv.ParseInt(calls, 10, 64)
			n += v
		}
		return n
	}
	before := sent()
	const n = 50
	for range n {
		if w := in.Get("", "/secure", k.Secret); w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	if got := sent() - before - 1; got != n { // - 1: the first INFO
		info, _ := c.Info(context.Background(), "commandstats").Result()
		t.Fatalf("%d requests sent Redis %d commands, want %d:\n%s", n, got, n, info)
	}
}

// A frozen Redis (SIGSTOP: connections accepted, never answered) costs a
// timeout to the requests in flight when it freezes and then to one
// request a second per counter (the probe), not to every request: the
// others are decided at once. When it wakes, limits are shared again.
func TestFrozenRedisCostsOneTimeoutASecondNotOnePerRequest(t *testing.T) {
	t.Parallel()
	r, in, limited, _ := outageSetup(t, false)
	quotaOnly := guardtest.CreateKey(t, in.Guard, ginkey.KeySpec{Quota: &ginkey.Quota{Requests: 1000, Per: ginkey.PerDay}})
	if w := in.Get("", "/secure", quotaOnly.Secret); w.Code != http.StatusOK {
		t.Fatalf("quota key, Redis up: %d", w.Code)
	}
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.cmd.Process.Signal(syscall.SIGCONT) }()
	const fast = 100 * time.Millisecond // an answer without Redis, on a loaded machine
	var slow, sent int
	start := time.Now()
	for time.Since(start) < 2500*time.Millisecond && sent < 200 {
		for _, k := range []string{limited.Secret, quotaOnly.Secret} {
			t0 := time.Now()
			w := in.Get("", "/secure", k)
			if took := time.Since(t0); took > fast {
				slow++
			}
			sent++
			if w.Code != http.StatusOK || w.Header().Get("RateLimit-Limit") != "" {
				t.Fatalf("Redis frozen: %d %v, want 200 without RateLimit headers", w.Code, w.Header())
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Two counters (rate limiter, quota counter), each: the first call,
	// then one probe a second.
	elapsed := time.Since(start)
	if limit := 2 * (2 + int(elapsed/time.Second)); slow > limit || sent < 20 {
		t.Fatalf("Redis frozen for %v: %d of %d requests waited more than %v, want at most %d", elapsed, slow, sent, fast, limit)
	}
	t.Logf("Redis frozen for %v: %d of %d requests waited more than %v", elapsed.Round(time.Millisecond), slow, sent, fast)
	// The metrics say so: the counters are down, and requests pass unchecked.
	s := in.Guard.Stats()
	if !s.Down["rate_limiter"] || !s.Down["quota_counter"] || s.Down["store"] || s.Degraded["limits_fail_open"] < uint64(sent)-2 {
		t.Fatalf("Redis frozen, %d requests: Stats().Down %v, Degraded %v", sent, s.Down, s.Degraded)
	}
	if err := r.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for n := 0; ; n++ {
		if w := in.Get("", "/secure", limited.Secret); w.Header().Get("RateLimit-Limit") != "" {
			testkit.WantError(t, w, http.StatusTooManyRequests, "rate_limited") // the count Redis kept
			break
		}
		if n > 100 {
			t.Fatal("the guard did not use Redis again within 5s of its waking")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s := in.Guard.Stats(); s.Down["rate_limiter"] {
		t.Fatalf("Redis awake: Stats().Down %v", s.Down)
	}
}

// Requests let through while Redis was down count against the quota once
// it answers again: whether Redis kept its counts (frozen, then woken) or
// lost them (killed, then restarted empty), the key gets its quota and not
// one request more in the period.
func TestRequestsLetThroughWhileRedisWasDownCountAgainstTheQuota(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name        string
		down, again func(r *ownRedis)
	}{
		{"frozen", func(r *ownRedis) { _ = r.cmd.Process.Signal(syscall.SIGSTOP) }, func(r *ownRedis) { _ = r.cmd.Process.Signal(syscall.SIGCONT) }},
		{"killed", (*ownRedis).stop, (*ownRedis).start},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			const quota, before, during = 20, 5, 10
			r := startOwnRedis(t)
			in := newInstance(t, filepath.Join(t.TempDir(), "keys.db"), newLimits(t, r.url(), "ginkey:"), nil)
			k := guardtest.CreateKey(t, in.Guard, ginkey.KeySpec{Quota: &ginkey.Quota{Requests: quota, Per: ginkey.PerDay}})
			admitted := 0
			get := func() int {
				w := in.Get("", "/secure", k.Secret)
				switch w.Code {
				case http.StatusOK:
					admitted++
				case http.StatusTooManyRequests:
				default:
					t.Fatalf("%d %s", w.Code, w.Body)
				}
				return w.Code
			}
			for range before {
				get()
			}
			c.down(r)
			defer func() {
				if r.cmd != nil {
					_ = r.cmd.Process.Signal(syscall.SIGCONT)
				}
			}()
			for range during {
				if get() != http.StatusOK {
					t.Fatal("Redis down: refused, want let through")
				}
			}
			c.again(r)
			// Requests are let through uncounted until the guard probes
			// Redis again, a second after the last probe: wait for it, so
			// that the outage does not admit more than the quota by itself.
			time.Sleep(limits.ProbeEvery + 100*time.Millisecond)
			for n := 0; get() == http.StatusOK; n++ {
				if n > 100 {
					t.Fatalf("no 429 after %d requests since Redis came back", n)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if admitted != quota {
				t.Fatalf("a quota of %d a day admitted %d (%d before the outage, %d during)", quota, admitted, before, during)
			}
			if get() != http.StatusTooManyRequests {
				t.Fatal("over the quota: admitted")
			}
		})
	}
}

// go-redis's own lines about a Redis that is down (a failed dial per
// call) go through a Logger to the application's slog logger, at most one
// a second with a count of the rest. Not parallel: go-redis's logger is
// the process's, and no other test may write to it meanwhile.
func TestGoRedisLinesDuringAnOutageAreRateLimited(t *testing.T) {
	var logs testkit.Buffer
	clock := testkit.NewClock()
	l := NewLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	l.now = clock.Now
	redis.SetLogger(l)
	defer redis.SetLogger(NewLogger(slog.New(slog.DiscardHandler)))

	r := startOwnRedis(t)
	lim := newLimits(t, r.url(), "ginkey:")
	ctx := context.Background()
	if _, err := lim.Allow(ctx, "k", 10, time.Minute); err != nil {
		t.Fatal(err)
	}
	r.stop()
	// 2 s of calls to a Redis that is dead, each its own dial, as many
	// requests' would be without the guard's breaker.
	const calls = 40
	for i := range calls {
		if i%20 == 0 {
			clock.Advance(LogEvery)
		}
		clock.Advance(10 * time.Millisecond)
		if _, err := lim.Allow(ctx, "k", 10, time.Minute); err == nil {
			t.Fatal("a dead Redis answered")
		}
	}
	got := logs.Lines("level=WARN", `msg="ginkeyredis: go-redis"`)
	if len(got) < 1 || len(got) > 2 {
		t.Fatalf("%d calls to a dead Redis in 2 s wrote %d go-redis lines, want 1 or 2:\n%s", calls, len(got), logs.String())
	}
	if !strings.Contains(logs.String(), "suppressed=") || !strings.Contains(logs.String(), "failed to dial") {
		t.Fatalf("lines:\n%s", logs.String())
	}
}

// A flood of one kind of go-redis line does not hide another kind: each
// has its own allowance, and the line is an attribute of one fixed message.
func TestAFloodOfOneGoRedisLineDoesNotHideAnother(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	clock := testkit.NewClock()
	l := NewLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	l.now = clock.Now
	ctx := context.Background()
	for range 30 {
		l.Printf(ctx, "redis: failed to dial after %d attempts: %v", 1, "connection refused")
	}
	l.Printf(ctx, "redis: %s:%d: sentinel: new master=%q addr=%q", "sentinel.go", 1, "mymaster", "10.0.0.2:6379")
	if got := logs.Lines(`msg="ginkeyredis: go-redis"`, "failed to dial"); len(got) != 1 {
		t.Fatalf("30 dial failures in one instant wrote %d lines, want 1:\n%s", len(got), logs.String())
	}
	if got := logs.Lines(`msg="ginkeyredis: go-redis"`, "new master"); len(got) != 1 {
		t.Fatalf("the failover line behind 30 dial failures wrote %d lines, want 1:\n%s", len(got), logs.String())
	}
	clock.Advance(LogEvery)
	l.Printf(ctx, "redis: failed to dial after %d attempts: %v", 1, "connection refused")
	if got := logs.Lines("failed to dial", "suppressed=29"); len(got) != 1 {
		t.Fatalf("want the next dial line to count the 29 left out:\n%s", logs.String())
	}
}

// TestAClientThatHangsUpDoesNotSwitchTheSharedLimitsOff: a request whose
// client has gone (its context cancelled) reached go-redis, which failed
// at once; the guard took that for a Redis outage and, for ProbeEvery,
// decided without Redis: a key at its limit got 20 of 20 requests through.
// Each case runs on a redis-server of the test's own.
func TestAClientThatHangsUpDoesNotSwitchTheSharedLimitsOff(t *testing.T) {
	rd := startOwnRedis(t)
	l := newLimits(t, rd.url(), "gone:", WithAutoPipeline(false))
	in := newInstance(t, filepath.Join(t.TempDir(), "k.db"), l, nil)
	spent := guardtest.CreateKey(t, in.Guard, ginkey.KeySpec{RateLimit: &ginkey.RateLimit{Requests: 1, Per: ginkey.PerHour}})
	other := guardtest.CreateKey(t, in.Guard, ginkey.KeySpec{RateLimit: &ginkey.RateLimit{Requests: 1000, Per: ginkey.PerHour}})
	do := func(key string, ctx context.Context) int {
		r := httptest.NewRequest(http.MethodGet, "/secure", nil).WithContext(ctx)
		r.RemoteAddr = "192.0.2.7:1234"
		r.Header.Set("X-API-Key", key)
		w := httptest.NewRecorder()
		in.Engine.ServeHTTP(w, r)
		return w.Code
	}
	bg := context.Background()
	if code := do(spent.Secret, bg); code != http.StatusOK {
		t.Fatalf("first request: %d", code)
	}
	if code := do(spent.Secret, bg); code != http.StatusTooManyRequests {
		t.Fatalf("second request: %d, want 429", code)
	}
	do(other.Secret, bg) // cached, so that the gone client's request reaches the limiter
	gone, cancel := context.WithCancel(bg)
	cancel()
	do(other.Secret, gone)
	admitted := 0
	for range 20 {
		if do(spent.Secret, bg) == http.StatusOK {
			admitted++
		}
	}
	if admitted > 0 {
		t.Fatalf("after a client hung up, %d of 20 requests of a key past its limit were admitted", admitted)
	}
}
