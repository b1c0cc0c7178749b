package limits

import (
	"net/netip"
	"sync"
	"time"
)

const (
	throttleShards = 32
	// ThrottleWindow is the failure throttles' period: their limits are
	// failures per minute.
	ThrottleWindow  = time.Minute
	throttleMaxAddr = 100_000
)

// Failures counts failed attempts per client address as a GCRA, so the
// allowance comes back gradually (one attempt every minute/limit), in a
// bounded map.
type Failures struct {
	shards   [throttleShards]throttleShard
	perShard int
	interval int64 // nanoseconds one failure occupies
	window   int64 // interval * limit
}

type throttleShard struct {
	mu  sync.Mutex
	tat map[netip.Addr]int64
}

// NewFailures returns nil (throttling off) for limit <= 0.
func NewFailures(limit int) *Failures {
	if limit <= 0 {
		return nil
	}
	t := &Failures{perShard: throttleMaxAddr / throttleShards}
	t.interval, t.window = Steps(int64(limit), int64(ThrottleWindow))
	for i := range t.shards {
		t.shards[i].tat = make(map[netip.Addr]int64)
	}
	return t
}

// AddrKey groups IPv6 clients by /64, the block one subscriber usually
// holds, so that walking through its addresses buys no attempts.
func AddrKey(a netip.Addr) netip.Addr {
	if a.Is6() {
		b := a.As16()
		clear(b[8:])
		return netip.AddrFrom16(b)
	}
	return a
}

func (t *Failures) shard(a netip.Addr) *throttleShard {
	b := a.As16()
	return &t.shards[(b[3]^b[7]^b[11]^b[15])%throttleShards]
}

// Acquire reserves one attempt for a, under the shard's lock, so that
// concurrent attempts cannot all pass before any of them is counted. It
// reports false, and when one more attempt will be allowed, if a's
// allowance is used up. An attempt that turns out not to have failed is
// given back with Refund.
func (t *Failures) Acquire(a netip.Addr, now int64) (time.Duration, bool) {
	a = AddrKey(a)
	s := t.shard(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	tat, known := s.tat[a]
	next := max(tat, now) + t.interval
	if wait := next - t.window - now; wait > 0 {
		return time.Duration(wait), false
	}
	if !known && len(s.tat) >= t.perShard {
		EvictFull(s.tat, now, func(tat int64) int64 { return tat })
	}
	s.tat[a] = next
	return 0, true
}

// Charge counts one failure against a, past its allowance if need be: a
// burst that went over it while in flight locks a out for as long.
func (t *Failures) Charge(a netip.Addr, now int64) {
	a = AddrKey(a)
	s := t.shard(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	tat, known := s.tat[a]
	if !known && len(s.tat) >= t.perShard {
		EvictFull(s.tat, now, func(tat int64) int64 { return tat })
	}
	s.tat[a] = max(tat, now) + t.interval
}

// Refund gives back an attempt Acquire reserved for a.
func (t *Failures) Refund(a netip.Addr) {
	a = AddrKey(a)
	s := t.shard(a)
	s.mu.Lock()
	if tat, ok := s.tat[a]; ok {
		s.tat[a] = tat - t.interval
	}
	s.mu.Unlock()
}
