package ginkey

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/limits"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/limiter"
)

func countLines(logs, substr string) int {
	n := 0
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

func TestLimiterOutageIsLoggedOnceWhenItStartsAndOnceWhenItEnds(t *testing.T) {
	t.Parallel()
	for _, failClosed := range []bool{false, true} {
		lim := &stubLimiter{err: errors.New("redis: connection refused")}
		clock := newFakeClock()
		h := newHarness(t, func(c *Config) { c.Limiter = lim; c.FailClosed = failClosed; c.Now = clock.Now })
		k := h.createKey(`{"rate_limit":{"requests":9,"per":"1m"}}`)
		for range 3 {
			w := h.Secure(k.Secret)
			switch {
			case failClosed:
				testkit.WantError(t, w, 503, "unavailable")
			case w.Code != 200 || w.Header().Get("RateLimit-Limit") != "":
				t.Fatalf("fail open: %d %v", w.Code, w.Header())
			}
		}
		lim.mu.Lock()
		lim.err, lim.calls = nil, nil
		lim.mu.Unlock()
		clock.Advance(limits.ProbeEvery) // the next request probes the limiter
		for range 2 {
			if w := h.Secure(k.Secret); w.Header().Get("RateLimit-Limit") != "9" {
				t.Fatalf("FailClosed %v, limiter back: %d %v", failClosed, w.Code, w.Header())
			}
		}
		logs := h.Logs.String()
		if n := countLines(logs, "the rate limiter failed"); n != 1 || countLines(logs, "connection refused") != 1 {
			t.Fatalf("FailClosed %v: %d WARN lines, want 1:\n%s", failClosed, n, logs)
		}
		want := "requests_let_through=3"
		if failClosed {
			want = "requests_refused=3"
		}
		if countLines(logs, "the rate limiter answers again") != 1 || countLines(logs, want) != 1 {
			t.Fatalf("FailClosed %v: want one INFO line with %s:\n%s", failClosed, want, logs)
		}
	}
}

// retryingQuota is a limiter.QuotaCounter whose first seed finds the store down and
// whose second, the retry, reads it: the request must not pay for the
// failure its counter recovered from.
type retryingQuota struct {
	g     *atomic.Pointer[Guard]
	seeds atomic.Int32
}

func (q *retryingQuota) Take(ctx context.Context, _ string, _, _ time.Time, limit int64, seed func(context.Context) (int64, error)) (bool, error) {
	g := q.g.Load()
	g.health.Trip(time.Now())
	_, first := seed(ctx)
	g.health.Reset()
	n, err := seed(ctx)
	q.seeds.Add(2)
	if first == nil || err != nil {
		return false, fmt.Errorf("seeds: first %w, want an error; retry %w, want none", first, err)
	}
	return n < limit, nil
}

func TestARetriedQuotaSeedThatSucceedsAdmitsTheRequest(t *testing.T) {
	t.Parallel()
	var gp atomic.Pointer[Guard]
	q := &retryingQuota{g: &gp}
	h := newHarness(t, func(c *Config) { c.QuotaCounter = q })
	gp.Store(h.Guard)
	k := mustCreate(t, h.Guard, KeySpec{Quota: &Quota{Requests: 5, Per: PerDay}})
	testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	if q.seeds.Load() != 2 {
		t.Fatalf("%d seeds, want 2", q.seeds.Load())
	}
}

// flakyCounter is a limiter.FailureCounter that fails Acquire while down and
// counts the refunds it is sent; it allows every attempt.
type flakyCounter struct {
	down    atomic.Bool
	refunds atomic.Int32
}

func (f *flakyCounter) Charge(context.Context, limiter.Throttle, netip.Addr) error { return nil }

func (f *flakyCounter) Acquire(context.Context, limiter.Throttle, netip.Addr) (time.Duration, error) {
	if f.down.Load() {
		return 0, errors.New("counter down")
	}
	return 0, nil
}

func (f *flakyCounter) Refund(context.Context, limiter.Throttle, netip.Addr) error {
	f.refunds.Add(1)
	return nil
}

func TestAnAdminAttemptIsRefundedWhereItWasReserved(t *testing.T) {
	t.Parallel()
	fc := &flakyCounter{}
	h := newHarness(t, func(c *Config) { c.FailureCounter, c.AdminFailureLimit = fc, 2 })
	ok := func() {
		t.Helper()
		if w := h.Admin(http.MethodGet, "/keys", ""); w.Code != http.StatusOK {
			t.Fatalf("admin call: %d %s", w.Code, w.Body)
		}
	}
	// Reserved in the shared counter: refunded there.
	ok()
	if fc.refunds.Load() != 1 {
		t.Fatalf("%d refunds to the shared counter, want 1", fc.refunds.Load())
	}
	// Reserved in memory while the shared counter failed: refunded in memory,
	// never to the shared counter, which held nothing. Without the refund
	// memory's allowance of 2 is spent by the second call and the third is 429.
	fc.down.Store(true)
	for range 3 {
		ok()
	}
	if fc.refunds.Load() != 1 {
		t.Fatalf("%d refunds to the shared counter, want still 1", fc.refunds.Load())
	}
}

// countingQuota is a limiter.QuotaCounter that fails while down and counts
// the calls it gets.
type countingQuota struct {
	down  atomic.Bool
	calls atomic.Int32
}

func (q *countingQuota) Take(context.Context, string, time.Time, time.Time, int64, func(context.Context) (int64, error)) (bool, error) {
	q.calls.Add(1)
	if q.down.Load() {
		return false, errors.New("redis: i/o timeout")
	}
	return true, nil
}

// While a shared counter is known down, requests are decided at once: the
// limiter, the quota counter and the failure counter each get one call (a
// probe) a second, not one per request, so a counter that hangs costs one
// timeout a second.
func TestADownCounterIsProbedOnceASecondNotCalledOnEveryRequest(t *testing.T) {
	t.Parallel()
	for _, failClosed := range []bool{false, true} {
		lim := &stubLimiter{err: errors.New("redis: i/o timeout")}
		quota := &countingQuota{}
		quota.down.Store(true)
		fc := &flakyCounter{}
		fc.down.Store(true)
		clock := newFakeClock()
		h := newHarness(t, func(c *Config) {
			c.Limiter, c.QuotaCounter, c.FailureCounter = lim, quota, fc
			c.FailClosed, c.Now, c.AdminFailureLimit = failClosed, clock.Now, 1000
		})
		rated := h.createKey(`{"rate_limit":{"requests":9,"per":"1m"}}`)
		quotaed := h.createKey(`{"quota":{"requests":9,"per":"day"}}`)
		limiterCalls := func() int {
			lim.mu.Lock()
			defer lim.mu.Unlock()
			return len(lim.calls)
		}
		for second := 1; second <= 3; second++ {
			for range 10 {
				for _, k := range []string{rated.Secret, quotaed.Secret} {
					w := h.Secure(k)
					switch {
					case failClosed:
						testkit.WantError(t, w, 503, "unavailable")
					case w.Code != 200:
						t.Fatalf("fail open: %d %s", w.Code, w.Body)
					}
				}
				if w := h.Admin(http.MethodGet, "/keys", ""); w.Code != http.StatusOK {
					t.Fatalf("admin: %d %s", w.Code, w.Body)
				}
			}
			if got := limiterCalls(); got != second {
				t.Fatalf("FailClosed %v, second %d: the limiter was called %d times, want %d (one probe a second)", failClosed, second, got, second)
			}
			if got := quota.calls.Load(); got != int32(second) {
				t.Fatalf("FailClosed %v, second %d: the quota counter was called %d times, want %d", failClosed, second, got, second)
			}
			clock.Advance(limits.ProbeEvery)
		}
		want := "requests_let_through=30"
		if failClosed {
			want = "requests_refused=30"
		}
		lim.mu.Lock()
		lim.err = nil
		lim.mu.Unlock()
		quota.down.Store(false)
		fc.down.Store(false)
		for range 3 { // the first probes, the others count again
			if w := h.Secure(rated.Secret); w.Header().Get("RateLimit-Limit") != "9" {
				t.Fatalf("FailClosed %v, limiter back: %d %v", failClosed, w.Code, w.Header())
			}
			if w := h.Secure(quotaed.Secret); w.Code != 200 {
				t.Fatalf("FailClosed %v, quota counter back: %d %s", failClosed, w.Code, w.Body)
			}
		}
		if got := quota.calls.Load(); got != 6 {
			t.Fatalf("quota counter back: %d calls in all, want 6", got)
		}
		logs := h.Logs.String()
		if countLines(logs, "the rate limiter answers again") != 1 || countLines(logs, want) != 2 {
			t.Fatalf("FailClosed %v: want an INFO line with %s for the limiter and the quota counter:\n%s", failClosed, want, logs)
		}
	}
}

// raisingQuota is a countingQuota that can catch up (limiter.QuotaRaiser).
type raisingQuota struct{ countingQuota }

func (*raisingQuota) Raise(context.Context, string, time.Time, time.Time, int64) error { return nil }

// Requests a down quota counter let through for keys beyond the ones the
// guard can remember to charge later are never charged: Stats says how many.
func TestRequestsAQuotaCounterWillNeverBeChargedForAreCounted(t *testing.T) {
	t.Parallel()
	quota := &raisingQuota{}
	quota.down.Store(true)
	h := newHarness(t, func(c *Config) { c.QuotaCounter = quota })
	h.Guard.limits.uncounted = limits.NewUncounted(1) // room for one key
	a := h.createKey(`{"quota":{"requests":9,"per":"day"}}`)
	b := h.createKey(`{"quota":{"requests":9,"per":"day"}}`)
	for _, k := range []string{a.Secret, b.Secret, b.Secret} {
		if w := h.Secure(k); w.Code != http.StatusOK {
			t.Fatalf("fail open: %d %s", w.Code, w.Body)
		}
	}
	s := h.Guard.Stats()
	if got := s.Degraded["quota_never_charged"]; got != 2 {
		t.Fatalf("quota_never_charged = %d, want 2 (b's two requests); limits_fail_open = %d",
			got, s.Degraded["limits_fail_open"])
	}
}
