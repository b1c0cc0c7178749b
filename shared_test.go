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
		h := newHarness(t, func(c *Config) { c.Limiter = lim; c.FailClosed = failClosed })
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
	g.health.down.Store(true)
	_, first := seed(ctx)
	g.health.down.Store(false)
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

func (f *flakyCounter) Allowed(context.Context, limiter.Throttle, netip.Addr) (time.Duration, error) {
	return 0, nil
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
