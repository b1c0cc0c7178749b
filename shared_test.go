package ginkey

import (
	"errors"
	"strings"
	"testing"
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
