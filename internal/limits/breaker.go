package limits

import (
	"sync/atomic"
	"time"
)

// ProbeEvery is how often a dependency known to be down is tried again:
// one call in each ProbeEvery goes through (the probe), the others are
// decided without it.
const ProbeEvery = time.Second

// Breaker is the state every dependency's breaker shares (the key store's,
// a shared counter's): whether it is down, and when it may next be probed.
// Its zero value is up. What an outage logs and counts is its owner's.
type Breaker struct {
	down      atomic.Bool  // the request path reads only this while all is well
	nextProbe atomic.Int64 // unix nanoseconds
}

// Down reports whether the dependency is down.
func (b *Breaker) Down() bool { return b.down.Load() }

// Allow reports whether a call may go to the dependency at now (unix
// nanoseconds): always while it is up; while it is down, once a
// ProbeEvery (the caller told true is the probe).
func (b *Breaker) Allow(now int64) bool {
	if !b.down.Load() {
		return true
	}
	next := b.nextProbe.Load()
	return now >= next && b.nextProbe.CompareAndSwap(next, now+int64(ProbeEvery))
}

// Trip marks the dependency down at now, its first probe a ProbeEvery
// later. The owner calls it under its own lock, once per outage.
func (b *Breaker) Trip(now time.Time) {
	b.nextProbe.Store(now.Add(ProbeEvery).UnixNano())
	b.down.Store(true)
}

// Reset marks the dependency up again.
func (b *Breaker) Reset() { b.down.Store(false) }
