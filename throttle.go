package ginkey

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// DefaultFailureLimit is Config.FailureLimit's default: failed key checks
// per client address per minute.
const DefaultFailureLimit = 30

const (
	throttleShards  = 32
	throttleWindow  = time.Minute
	throttleMaxAddr = 100_000
)

// failureThrottle counts, per client address, well-formed keys that turned
// out not to exist. An address that used up its allowance gets 429 before
// its next unknown key reaches the store. It is a GCRA like MemoryLimiter,
// so the allowance comes back gradually (one attempt every minute/limit),
// and its map is bounded.
type failureThrottle struct {
	shards   [throttleShards]throttleShard
	perShard int
	interval int64 // nanoseconds one failure occupies
	window   int64 // interval * limit
}

type throttleShard struct {
	mu  sync.Mutex
	tat map[netip.Addr]int64
}

// newFailureThrottle returns nil (throttling off) for limit <= 0.
func newFailureThrottle(limit int) *failureThrottle {
	if limit <= 0 {
		return nil
	}
	t := &failureThrottle{perShard: throttleMaxAddr / throttleShards}
	t.interval, t.window = gcraSteps(int64(limit), throttleWindow)
	for i := range t.shards {
		t.shards[i].tat = make(map[netip.Addr]int64)
	}
	return t
}

// throttleKey groups IPv6 clients by /64, the block one subscriber
// usually holds, so that walking through its addresses buys no attempts.
func throttleKey(a netip.Addr) netip.Addr {
	if a.Is6() {
		b := a.As16()
		clear(b[8:])
		return netip.AddrFrom16(b)
	}
	return a
}

func (t *failureThrottle) shard(a netip.Addr) *throttleShard {
	b := a.As16()
	return &t.shards[(b[3]^b[7]^b[11]^b[15])%throttleShards]
}

// acquire reserves one attempt for a, under the shard's lock, so that
// concurrent attempts cannot all pass before any of them is counted. It
// reports false, and when one more attempt will be allowed, if a's
// allowance is used up. An attempt whose key turns out to exist is given
// back with refund.
func (t *failureThrottle) acquire(a netip.Addr, now int64) (time.Duration, bool) {
	a = throttleKey(a)
	s := t.shard(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	tat, known := s.tat[a]
	next := max(tat, now) + t.interval
	if wait := next - t.window - now; wait > 0 {
		return time.Duration(wait), false
	}
	if !known && len(s.tat) >= t.perShard {
		evictFull(s.tat, now, func(tat int64) int64 { return tat })
	}
	s.tat[a] = next
	return 0, true
}

// allowed reports whether a may have another unknown key looked up, and if
// not, when it may. It reserves nothing: charge counts the attempt once the
// store has said the key is unknown, so lookups in flight hold no attempt
// against a's good keys.
func (t *failureThrottle) allowed(a netip.Addr, now int64) (time.Duration, bool) {
	a = throttleKey(a)
	s := t.shard(a)
	s.mu.Lock()
	tat := s.tat[a]
	s.mu.Unlock()
	if wait := max(tat, now) + t.interval - t.window - now; wait > 0 {
		return time.Duration(wait), false
	}
	return 0, true
}

// charge counts one unknown key against a, past its allowance if need be:
// a burst that went over it while in flight locks a out for as long.
func (t *failureThrottle) charge(a netip.Addr, now int64) {
	a = throttleKey(a)
	s := t.shard(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	tat, known := s.tat[a]
	if !known && len(s.tat) >= t.perShard {
		evictFull(s.tat, now, func(tat int64) int64 { return tat })
	}
	s.tat[a] = max(tat, now) + t.interval
}

// refund gives back an attempt acquire reserved for a.
func (t *failureThrottle) refund(a netip.Addr) {
	a = throttleKey(a)
	s := t.shard(a)
	s.mu.Lock()
	if tat, ok := s.tat[a]; ok {
		s.tat[a] = tat - t.interval
	}
	s.mu.Unlock()
}

// throttle is one of the guard's failure throttles: in memory, or counted
// by a shared FailureCounter, which gets addresses grouped by throttleKey.
// While the FailureCounter fails, the in-memory throttle stands in for it:
// the allowance holds per instance rather than not at all, and nobody is
// refused for want of a counter. A wait greater than zero refuses.
type throttle struct {
	mem    *failureThrottle
	shared FailureCounter // nil: mem alone
	spec   Throttle
	down   *outage
}

// newThrottle returns nil (throttling off) for limit <= 0.
func newThrottle(name string, limit int, shared FailureCounter, down *outage) *throttle {
	if limit <= 0 {
		return nil
	}
	return &throttle{
		mem:    newFailureThrottle(limit),
		shared: shared,
		spec:   Throttle{Name: name, Limit: int64(limit), Per: throttleWindow},
		down:   down,
	}
}

func (t *throttle) allowed(ctx context.Context, a netip.Addr, now int64) time.Duration {
	if t.shared != nil {
		wait, err := t.shared.Allowed(ctx, t.spec, throttleKey(a))
		if t.settle(err, true) {
			return wait
		}
	}
	wait, _ := t.mem.allowed(a, now)
	return wait
}

// acquire reserves an attempt, and reports where: the refund must go to
// the same counter, whichever is up by then.
func (t *throttle) acquire(ctx context.Context, a netip.Addr, now int64) (wait time.Duration, shared bool) {
	if t.shared != nil {
		wait, err := t.shared.Acquire(ctx, t.spec, throttleKey(a))
		if t.settle(err, true) {
			return wait, true
		}
	}
	wait, _ = t.mem.acquire(a, now)
	return wait, false
}

// charge counts even for a client that hung up meanwhile.
func (t *throttle) charge(ctx context.Context, a netip.Addr, now int64) {
	if t.shared == nil || !t.settle(t.shared.Charge(context.WithoutCancel(ctx), t.spec, throttleKey(a)), false) {
		t.mem.charge(a, now)
	}
}

// refund gives back an attempt acquire reserved, to the counter that
// reserved it. A shared counter that fails meanwhile keeps it: its GCRA
// gives it back with time, and memory never held it.
func (t *throttle) refund(ctx context.Context, a netip.Addr, shared bool) {
	if !shared {
		t.mem.refund(a)
		return
	}
	t.settle(t.shared.Refund(context.WithoutCancel(ctx), t.spec, throttleKey(a)), false)
}

// settle notes the outcome of a call to the shared counter and reports
// whether it succeeded.
func (t *throttle) settle(err error, decided bool) bool {
	if err != nil {
		_ = t.down.failed(err, decided) // never closed: the in-memory throttle decides
		return false
	}
	t.down.ok()
	return true
}
