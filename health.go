package ginkey

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ginkey/ginkey/internal/limits"
)

// storeHealth tracks outages of the key store as the request path sees
// them. While the store is down, requests that would need it are answered
// at once (from a stale record, or 503) instead of each waiting out
// StoreTimeout; one request a second probes it. Failures are logged at most
// once a second with a count of the rest, and the outage's end once, with
// its length and totals.
//
// It keeps its own log rather than limits.Outage's start/end pair: a store
// outage is an ERROR repeated every second with a count, not one WARN line.
type storeHealth struct {
	limits.Breaker // the request path reads only Down while all is well

	mu         sync.Mutex
	since      time.Time
	logged     time.Time
	failed     int64         // requests answered 503 in this outage
	suppressed int64         // store calls failed since the last line
	stale      int64         // requests served from stale records in this outage
	staleTotal atomic.Uint64 // requests served from stale records since New
	log        *slog.Logger
}

// healthLogEvery is how often a store outage is logged again.
const healthLogEvery = time.Second

// allow reports whether a request may go to the store: always while it is
// up, and once a limits.ProbeEvery (the probe) while it is down.
func (s *storeHealth) allow(now int64) bool { return s.Allow(now) }

// failure notes a store call that failed (not a key it did not know); the
// request it served is counted where its answer is decided.
func (s *storeHealth) failure(now time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.Down() {
		s.since, s.logged, s.failed, s.suppressed, s.stale = now, now, 0, 0, 0
		s.Trip(now)
		s.log.Error("ginkey: key store unreachable; serving keys from their last record where allowed (StaleIfError)",
			"error", err)
		return
	}
	s.suppressed++
	if now.Sub(s.logged) >= healthLogEvery {
		s.log.Error("ginkey: key store still unreachable", "error", err,
			"failures_since_last_line", s.suppressed, "down_for", now.Sub(s.since).Round(time.Millisecond).String())
		s.logged, s.suppressed = now, 0
	}
}

// unavailable counts a request answered 503 for want of the store. It never
// starts an outage: only a failed store call does.
func (s *storeHealth) unavailable() {
	s.mu.Lock()
	if s.Down() {
		s.failed++
	}
	s.mu.Unlock()
}

// servedStale counts a request admitted on a stale record.
func (s *storeHealth) servedStale() {
	s.staleTotal.Add(1)
	s.mu.Lock()
	if s.Down() {
		s.stale++
	}
	s.mu.Unlock()
}

// ok notes a store call that worked, ending an outage if there was one.
func (s *storeHealth) ok(now time.Time) {
	if !s.Down() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.Down() {
		return
	}
	s.Reset()
	s.log.Warn("ginkey: key store reachable again",
		"down_for", now.Sub(s.since).Round(time.Millisecond).String(),
		"requests_failed", s.failed, "requests_served_stale", s.stale)
}
