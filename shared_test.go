package ginkey

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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
			w := h.secure(k.Secret)
			switch {
			case failClosed:
				wantError(t, w, 503, "unavailable")
			case w.Code != 200 || w.Header().Get("RateLimit-Limit") != "":
				t.Fatalf("fail open: %d %v", w.Code, w.Header())
			}
		}
		lim.mu.Lock()
		lim.err, lim.calls = nil, nil
		lim.mu.Unlock()
		for range 2 {
			if w := h.secure(k.Secret); w.Header().Get("RateLimit-Limit") != "9" {
				t.Fatalf("FailClosed %v, limiter back: %d %v", failClosed, w.Code, w.Header())
			}
		}
		logs := h.logs.String()
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

// retryingQuota is a QuotaCounter whose first seed finds the store down and
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
		return false, fmt.Errorf("seeds: first %v, want an error; retry %v, want none", first, err)
	}
	return n < limit, nil
}

func TestARetriedQuotaSeedThatSucceedsAdmitsTheRequest(t *testing.T) {
	t.Parallel()
	var gp atomic.Pointer[Guard]
	q := &retryingQuota{g: &gp}
	h := newHarness(t, func(c *Config) { c.QuotaCounter = q })
	gp.Store(h.guard)
	k := mustCreate(t, h.guard, KeySpec{Quota: &Quota{Requests: 5, Per: PerDay}})
	wantOK(t, h.secure(k.Secret), k.ID)
	if q.seeds.Load() != 2 {
		t.Fatalf("%d seeds, want 2", q.seeds.Load())
	}
}
