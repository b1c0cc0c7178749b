package ginkey

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// Period names a rate-limit window ("1s", "1m", "1h") or a quota period
// ("day", "month").
type Period string

// The periods a RateLimit or a Quota may use.
const (
	PerSecond Period = "1s"
	PerMinute Period = "1m"
	PerHour   Period = "1h"
	PerDay    Period = "day"   // a UTC calendar day (quotas only)
	PerMonth  Period = "month" // a UTC calendar month (quotas only)
)

const maxRateRequests = 1_000_000

// RateLimit caps how fast one key may be used: Requests per Per, spread
// evenly (GCRA). A key may spend its whole allowance at once and then gets
// one request back every Per/Requests.
type RateLimit struct {
	Requests int64  `json:"requests" example:"100" minimum:"1" maximum:"1000000"`
	Per      Period `json:"per" enums:"1s,1m,1h" swaggertype:"string" example:"1m"`
}

// window is the rate's period, or 0 when rl is not a valid rate limit.
func (rl RateLimit) window() time.Duration {
	switch rl.Per {
	case PerSecond:
		return time.Second
	case PerMinute:
		return time.Minute
	case PerHour:
		return time.Hour
	}
	return 0
}

func validateRateLimit(rl *RateLimit) *Error {
	if rl == nil {
		return nil
	}
	if rl.Requests < 1 || rl.Requests > maxRateRequests || rl.window() == 0 {
		return BadRequest(`rate_limit must be {"requests": 1-` + strconv.Itoa(maxRateRequests) + `, "per": "1s", "1m" or "1h"}`)
	}
	return nil
}

// Limiter counts requests against a rate. The guard calls Allow once per
// request of a rate-limited key, with the key's id; an in-memory Limiter is
// used unless Config.Limiter names another (e.g. one shared through Redis by
// several instances). Implementations must be safe for concurrent use.
//
// An error from Allow lets the request through without RateLimit-* headers
// (with Config.FailClosed: answers 503 unavailable); an outage is logged
// once, when it starts, and once more when Allow answers again.
type Limiter interface {
	Allow(ctx context.Context, id string, limit int64, per time.Duration) (Decision, error)
}

// Decision is a Limiter's answer for one request.
type Decision struct {
	Allowed    bool
	Limit      int64         // requests allowed per period
	Remaining  int64         // requests that could be made right now
	Reset      time.Duration // until the full limit is available again
	RetryAfter time.Duration // when not Allowed: until one request will be
}

const limiterShards = 32

// MemoryLimiter is the in-memory Limiter: a generic cell rate algorithm
// (GCRA) keeping one timestamp per key in a bounded map. It is exact for one
// process; instances behind a load balancer each count on their own.
type MemoryLimiter struct {
	shards   [limiterShards]limiterShard
	perShard int
	now      func() time.Time
}

type limiterShard struct {
	mu    sync.Mutex
	cells map[string]*gcraCell
}

// gcraCell is one key's state: its theoretical arrival time (unix
// nanoseconds), updated lock-free. The guard keeps a pointer to its key's
// cell in the cached record, so a cached request skips the map.
type gcraCell struct{ tat atomic.Int64 }

var _ Limiter = (*MemoryLimiter)(nil)

// NewMemoryLimiter returns a Limiter that tracks at most size keys (default
// 100,000 when size <= 0) and reads time from now (default time.Now). When
// full, it forgets keys whose allowance is whole again first, and failing
// that the one nearest to whole among those it looks at, which then starts
// afresh.
func NewMemoryLimiter(size int, now func() time.Time) *MemoryLimiter {
	if size <= 0 {
		size = DefaultCacheSize
	}
	if now == nil {
		now = time.Now
	}
	l := &MemoryLimiter{perShard: max(1, (size+limiterShards-1)/limiterShards), now: now}
	for i := range l.shards {
		l.shards[i].cells = make(map[string]*gcraCell)
	}
	return l
}

// Allow spends one request of id's allowance if there is one left.
func (l *MemoryLimiter) Allow(_ context.Context, id string, limit int64, per time.Duration) (Decision, error) {
	if limit <= 0 || per <= 0 {
		return Decision{Allowed: true}, nil
	}
	now := l.now().UnixNano()
	interval, window := gcraSteps(limit, per)
	return l.cell(id, now).allow(limit, interval, window, now), nil
}

// gcraSteps returns the time one request occupies and the period it is
// spread over (per, rounded down to a multiple of it).
func gcraSteps(limit int64, per time.Duration) (interval, window int64) {
	interval = max(1, int64(per)/limit)
	return interval, interval * limit
}

// cell returns id's cell, creating it (and making room) if need be.
func (l *MemoryLimiter) cell(id string, now int64) *gcraCell {
	s := &l.shards[hashString(id)%limiterShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cells[id]
	if c == nil {
		if len(s.cells) >= l.perShard {
			evictFull(s.cells, now, func(c *gcraCell) int64 { return c.tat.Load() })
		}
		c = &gcraCell{}
		s.cells[id] = c
	}
	return c
}

func (c *gcraCell) allow(limit, interval, window, now int64) Decision {
	for {
		old := c.tat.Load()
		if old > now+window {
			// No request at this rate leaves more than a window of debt: the
			// limit was raised or the clock stepped back. Keep at most a
			// window, so the key waits one interval rather than the old debt.
			c.tat.CompareAndSwap(old, now+window)
			continue
		}
		tat := max(old, now)
		next := tat + interval
		if next-now > window {
			return Decision{Limit: limit, Reset: time.Duration(tat - now), RetryAfter: time.Duration(next - window - now)}
		}
		if c.tat.CompareAndSwap(old, next) {
			return Decision{Allowed: true, Limit: limit, Remaining: (window - (next - now)) / interval, Reset: time.Duration(next - now)}
		}
	}
}

// rateChanged applies a key's new rate limit rl (nil: the guard's default)
// from now: whatever the key owed under its old rate is capped at one
// window of the new one, so raising a limit is not held back by debt run up
// at the old, slower rate.
func (g *Guard) rateChanged(id string, rl *RateLimit) {
	if g.ownLimiter == nil {
		return
	}
	r := g.rateLimit
	if rl != nil {
		r = *rl
	}
	w := r.window()
	if w == 0 || r.Requests <= 0 {
		return
	}
	_, window := gcraSteps(r.Requests, w)
	g.ownLimiter.capDebt(id, g.now().UnixNano()+window)
}

// capDebt lowers id's theoretical arrival time to at most limit.
func (l *MemoryLimiter) capDebt(id string, limit int64) {
	s := &l.shards[hashString(id)%limiterShards]
	s.mu.Lock()
	c := s.cells[id]
	s.mu.Unlock()
	if c == nil {
		return
	}
	for {
		old := c.tat.Load()
		if old <= limit || c.tat.CompareAndSwap(old, limit) {
			return
		}
	}
}

// evictFull makes room in a map of GCRA states: a state at or before now
// describes a whole allowance, exactly like a missing one, so dropping it
// changes nothing. Failing that, of the entries looked at, the one closest
// to whole goes: it gives away the least.
func evictFull[K comparable, V any](m map[K]V, now int64, tat func(V) int64) {
	var (
		dropped bool
		least   K
		leastAt int64
		n       int
	)
	for k, v := range m {
		t := tat(v)
		if t <= now {
			delete(m, k)
			dropped = true
		} else if n == 0 || t < leastAt {
			least, leastAt = k, t
		}
		if n++; n >= 64 {
			break
		}
	}
	if !dropped && n > 0 {
		delete(m, least)
	}
}

// Response headers of a rate-limited key, in canonical form so that setting
// them costs no canonicalization.
const (
	hdrRateLimit     = "Ratelimit-Limit"
	hdrRateRemaining = "Ratelimit-Remaining"
	hdrRateReset     = "Ratelimit-Reset"
)

// checkRate spends one request of the key's rate limit and describes what is
// left in the RateLimit-* headers, on success and refusal alike.
func (g *Guard) checkRate(c *gin.Context, rec *Record, now int64) error {
	p := rec.policy
	if p.rateLimit == 0 {
		return nil
	}
	var d Decision
	if p.rateCell != nil { // the guard's own limiter: straight to the key's cell
		d = p.rateCell.allow(p.rateLimit, p.rateInterval, p.rateWindow, now)
	} else {
		var err error
		d, err = g.limiter.Allow(c.Request.Context(), rec.ID, p.rateLimit, p.ratePer)
		if err != nil {
			return g.limiterDown.failed(err, true)
		}
		g.limiterDown.ok()
	}
	setRateHeaders(c.Writer.Header(), p.rateLimitHeader, d)
	if !d.Allowed {
		return retryLater(ErrRateLimited, d.RetryAfter)
	}
	return nil
}

func setRateHeaders(h http.Header, limit string, d Decision) {
	// One allocation for the three values; full slice expressions keep a
	// later Header.Add from writing into a neighbour.
	v := make([]string, 3)
	v[0] = limit
	v[1] = strconv.FormatInt(d.Remaining, 10)
	v[2] = strconv.FormatInt(ceilSeconds(d.Reset), 10)
	h[hdrRateLimit] = v[0:1:1]
	h[hdrRateRemaining] = v[1:2:2]
	h[hdrRateReset] = v[2:3:3]
}
