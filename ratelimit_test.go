package ginkey

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/limiter"
)

func TestRateLimitOfFivePerSecondAllowsExactlyFiveThenRetryAfter(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := h.createKey(`{"rate_limit":{"requests":5,"per":"1s"}}`)
	if k.RateLimit == nil || k.RateLimit.Requests != 5 || k.RateLimit.Per != PerSecond {
		t.Fatalf("created rate_limit = %+v", k.RateLimit)
	}
	for i := range 5 {
		w := h.Secure(k.Secret)
		if w.Code != 200 {
			t.Fatalf("request %d: %d %s", i+1, w.Code, w.Body)
		}
		testkit.WantHeader(t, w, "RateLimit-Limit", "5")
		testkit.WantHeader(t, w, "RateLimit-Remaining", strconv.Itoa(4-i))
		testkit.WantHeader(t, w, "RateLimit-Reset", "1")
	}
	w := h.Secure(k.Secret)
	testkit.WantError(t, w, 429, "rate_limited")
	testkit.WantHeader(t, w, "Retry-After", "1") // one request comes back after 200ms; Retry-After counts whole seconds
	testkit.WantHeader(t, w, "RateLimit-Limit", "5")
	testkit.WantHeader(t, w, "RateLimit-Remaining", "0")

	clock.Advance(199 * time.Millisecond)
	testkit.WantError(t, h.Secure(k.Secret), 429, "rate_limited")
	clock.Advance(time.Millisecond) // 200ms: one request's share is back
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("after 200ms: %d", w.Code)
	}
	testkit.WantError(t, h.Secure(k.Secret), 429, "rate_limited")

	clock.Advance(time.Second) // a whole window: the full allowance is back
	for i := range 5 {
		if w := h.Secure(k.Secret); w.Code != 200 {
			t.Fatalf("after the window, request %d: %d", i+1, w.Code)
		}
	}
	testkit.WantError(t, h.Secure(k.Secret), 429, "rate_limited")
}

func TestRetryAfterOfSlowRatesCountsWholeSeconds(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := h.createKey(`{"rate_limit":{"requests":2,"per":"1m"}}`)
	h.Secure(k.Secret)
	h.Secure(k.Secret)
	clock.Advance(10 * time.Second)
	w := h.Secure(k.Secret)
	testkit.WantError(t, w, 429, "rate_limited")
	testkit.WantHeader(t, w, "Retry-After", "20") // one request every 30s, 10s of which have passed
	testkit.WantHeader(t, w, "RateLimit-Reset", "50")
	clock.Advance(20 * time.Second)
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("after Retry-After: %d", w.Code)
	}
}

func TestGuardDefaultRateLimitAppliesToKeysWithoutTheirOwn(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) {
		c.Now = clock.Now
		c.RateLimit = RateLimit{Requests: 2, Per: PerMinute}
	})
	plain := h.createKey(`{}`)
	own := h.createKey(`{"rate_limit":{"requests":3,"per":"1h"}}`)
	for range 2 {
		testkit.WantHeader(t, h.Secure(plain.Secret), "RateLimit-Limit", "2")
	}
	testkit.WantError(t, h.Secure(plain.Secret), 429, "rate_limited")
	for range 3 {
		testkit.WantHeader(t, h.Secure(own.Secret), "RateLimit-Limit", "3")
	}
	testkit.WantError(t, h.Secure(own.Secret), 429, "rate_limited")

	// null hands the key back to the default, on the next request.
	if w := h.Admin("PATCH", "/keys/"+own.ID, `{"rate_limit":null}`); w.Code != 200 {
		t.Fatalf("PATCH: %d %s", w.Code, w.Body)
	}
	clock.Advance(time.Hour)
	w := h.Secure(own.Secret)
	testkit.WantHeader(t, w, "RateLimit-Limit", "2")
	testkit.WantHeader(t, w, "RateLimit-Remaining", "1")
}

func TestUnlimitedKeysGetNoRateLimitHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{}`)
	for range 50 {
		w := h.Secure(k.Secret)
		if w.Code != 200 || w.Header().Get("RateLimit-Limit") != "" {
			t.Fatalf("unlimited key: %d, RateLimit-Limit %q", w.Code, w.Header().Get("RateLimit-Limit"))
		}
	}
}

func TestPatchedRateLimitAppliesOnTheNextRequest(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := h.createKey(`{}`)
	h.Secure(k.Secret) // cached without a limit
	h.Admin("PATCH", "/keys/"+k.ID, `{"rate_limit":{"requests":1,"per":"1h"}}`)
	testkit.WantHeader(t, h.Secure(k.Secret), "RateLimit-Remaining", "0")
	w := h.Secure(k.Secret)
	testkit.WantError(t, w, 429, "rate_limited")
	testkit.WantHeader(t, w, "Retry-After", "3600")
}

func TestRateLimitedRequestsAreNotUsage(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := h.createKey(`{"rate_limit":{"requests":3,"per":"1h"}}`)
	for i := range 10 {
		if i < 3 {
			testkit.WantOK(t, h.Secure(k.Secret), k.ID)
		} else {
			testkit.WantError(t, h.Secure(k.Secret), 429, "rate_limited")
		}
	}
	var rep UsageReport
	testkit.Decode(t, h.Admin("GET", "/keys/"+k.ID+"/usage", ""), &rep)
	if rep.TotalRequests != 3 {
		t.Fatalf("usage = %d, want 3", rep.TotalRequests)
	}
}

func TestNewRejectsABadDefaultRateLimit(t *testing.T) {
	t.Parallel()
	for _, rl := range []RateLimit{{Requests: 5}, {Requests: 0, Per: PerSecond}, {Requests: 5, Per: PerDay}, {Requests: -1, Per: PerHour}} {
		g, err := New(Config{DBPath: t.TempDir() + "/x.db", RateLimit: rl, LookupEnv: testkit.NoEnv, Logger: slogDiscard()})
		if err == nil {
			_ = g.Close()
			t.Fatalf("RateLimit %+v accepted", rl)
		}
	}
}

// stubLimiter proves the guard goes through the limiter.Limiter interface.
type stubLimiter struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (s *stubLimiter) Allow(ctx context.Context, id string, limit int64, per time.Duration) (limiter.Decision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx == nil {
		panic("no context")
	}
	s.calls = append(s.calls, id+"/"+strconv.FormatInt(limit, 10)+"/"+per.String())
	if s.err != nil {
		return limiter.Decision{}, s.err
	}
	return limiter.Decision{Allowed: len(s.calls) <= 1, Limit: limit, RetryAfter: 7 * time.Second}, nil
}

func TestConfiguredLimiterReplacesTheMemoryOneAndItsErrorsLetRequestsThrough(t *testing.T) {
	t.Parallel()
	lim := &stubLimiter{}
	h := newHarness(t, func(c *Config) { c.Limiter = lim })
	k := h.createKey(`{"rate_limit":{"requests":9,"per":"1m"}}`)
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("first: %d", w.Code)
	}
	w := h.Secure(k.Secret)
	testkit.WantError(t, w, 429, "rate_limited")
	testkit.WantHeader(t, w, "Retry-After", "7")
	if len(lim.calls) != 2 || lim.calls[0] != k.ID+"/9/1m0s" {
		t.Fatalf("limiter calls = %v", lim.calls)
	}
	lim.mu.Lock()
	lim.err = errors.New("redis: connection refused")
	lim.mu.Unlock()
	if w := h.Secure(k.Secret); w.Code != 200 || w.Header().Get("RateLimit-Limit") != "" {
		t.Fatalf("limiter down: %d, want the request let through", w.Code)
	}
}

func TestRaisedRateLimitAppliesWithoutTheOldRatesDebt(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := h.createKey(`{"rate_limit":{"requests":1,"per":"1h"}}`)
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("first request: %d", w.Code)
	}
	testkit.WantError(t, h.Secure(k.Secret), 429, "rate_limited")
	if w := h.Admin("PATCH", "/keys/"+k.ID, `{"rate_limit":{"requests":100,"per":"1s"}}`); w.Code != 200 {
		t.Fatalf("PATCH: %d %s", w.Code, w.Body)
	}
	clock.Advance(time.Second)
	for i := range 100 {
		if w := h.Secure(k.Secret); w.Code != 200 {
			t.Fatalf("a second after raising the limit to 100/s, request %d: %d, Retry-After %s",
				i+1, w.Code, w.Header().Get("Retry-After"))
		}
	}
	testkit.WantError(t, h.Secure(k.Secret), 429, "rate_limited")
}
