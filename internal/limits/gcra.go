// Package limits holds the guard's counting: the generic cell rate
// algorithm (GCRA) behind the rate limiter and the failure throttles, the
// per-period quota counter, and the outage log of a shared counter. It knows
// nothing of HTTP, keys or stores: the root package owns the policy (what is
// counted, when, and what a refusal looks like).
package limits

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Decision is a rate limiter's answer for one request.
type Decision struct {
	Allowed    bool
	Limit      int64         // requests allowed per period
	Remaining  int64         // requests that could be made right now
	Reset      time.Duration // until the full limit is available again
	RetryAfter time.Duration // when not Allowed: until one request will be
}

// Steps returns the time one request occupies and the period it is spread
// over (per, rounded down to a multiple of it), in per's unit: nanoseconds
// here, microseconds in ginkeyredis, whose Lua scripts take the same steps.
func Steps(limit, per int64) (interval, window int64) {
	interval = max(1, per/limit)
	return interval, interval * limit
}

// Cell is one key's GCRA state: its theoretical arrival time (unix
// nanoseconds), updated lock-free. The guard keeps a pointer to its key's
// cell in the cached record, so a cached request skips the map.
type Cell struct{ tat atomic.Int64 }

// Allow spends one request of the cell's allowance if there is one left.
// interval and window are Steps' for limit; now is unix nanoseconds.
func (c *Cell) Allow(limit, interval, window, now int64) Decision {
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

// capAt lowers the cell's theoretical arrival time to at most limit.
func (c *Cell) capAt(limit int64) {
	for {
		old := c.tat.Load()
		if old <= limit || c.tat.CompareAndSwap(old, limit) {
			return
		}
	}
}

// mapShards is the number of shards of the limiter's and the quota counter's
// maps.
const mapShards = 32

// MemoryLimiter is the in-memory rate limiter: a GCRA keeping one timestamp
// per key in a bounded map. It is exact for one process; instances behind a
// load balancer each count on their own.
type MemoryLimiter struct {
	shards   [mapShards]limiterShard
	perShard int
	now      func() time.Time
}

type limiterShard struct {
	mu    sync.Mutex
	cells map[string]*Cell
}

// NewMemoryLimiter returns a limiter that tracks at most size keys (size
// must be positive) and reads time from now (default time.Now). When full,
// it forgets keys whose allowance is whole again first, and failing that
// the one nearest to whole among those it looks at, which then starts
// afresh.
func NewMemoryLimiter(size int, now func() time.Time) *MemoryLimiter {
	if now == nil {
		now = time.Now
	}
	l := &MemoryLimiter{perShard: max(1, (size+mapShards-1)/mapShards), now: now}
	for i := range l.shards {
		l.shards[i].cells = make(map[string]*Cell)
	}
	return l
}

// Allow spends one request of id's allowance if there is one left.
func (l *MemoryLimiter) Allow(_ context.Context, id string, limit int64, per time.Duration) (Decision, error) {
	if limit <= 0 || per <= 0 {
		return Decision{Allowed: true}, nil
	}
	now := l.now().UnixNano()
	interval, window := Steps(limit, int64(per))
	return l.Cell(id, now).Allow(limit, interval, window, now), nil
}

// Cell returns id's cell, creating it (and making room) if need be.
func (l *MemoryLimiter) Cell(id string, now int64) *Cell {
	s := &l.shards[shardOf(id)%mapShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cells[id]
	if c == nil {
		if len(s.cells) >= l.perShard {
			EvictFull(s.cells, now, func(c *Cell) int64 { return c.tat.Load() })
		}
		c = &Cell{}
		s.cells[id] = c
	}
	return c
}

// CapDebt applies a key's new rate from now: whatever id owed under its old
// rate is capped at window (the new rate's), so raising a limit is not held
// back by debt run up at the old, slower rate.
func (l *MemoryLimiter) CapDebt(id string, now, window int64) {
	s := &l.shards[shardOf(id)%mapShards]
	s.mu.Lock()
	c := s.cells[id]
	s.mu.Unlock()
	if c != nil {
		c.capAt(now + window)
	}
}

// shardOf picks a shard for a key id, where one key's state must always
// live in the same shard (the limiter's and the quota counter's maps).
func shardOf(s string) byte {
	var h byte
	for i := 0; i < len(s); i++ {
		h = h*31 + s[i]
	}
	return h
}

// EvictFull makes room in a map of GCRA states: a state at or before now
// describes a whole allowance, exactly like a missing one, so dropping it
// changes nothing. Failing that, of the entries looked at, the one closest
// to whole goes: it gives away the least.
func EvictFull[K comparable, V any](m map[K]V, now int64, tat func(V) int64) {
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
