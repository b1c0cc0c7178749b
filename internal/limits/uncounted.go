package limits

import (
	"sync"
	"sync/atomic"
)

// Uncounted remembers the keys whose requests were let through while a
// shared quota counter was down, which it therefore never counted, with
// the period they were let through in (its start, unix nanoseconds), so
// that the counter can catch up when it answers again. It holds at most
// max keys; Dropped counts those it had no room for.
type Uncounted struct {
	n       atomic.Int32 // len(keys): all the request path reads while nothing is owed
	dropped atomic.Int64
	mu      sync.Mutex
	keys    map[string]int64
	max     int
}

// NewUncounted returns an Uncounted holding at most max keys.
func NewUncounted(max int) *Uncounted {
	return &Uncounted{keys: make(map[string]int64), max: max}
}

// Add notes that a request of key id was let through uncounted in the
// period starting at period.
func (u *Uncounted) Add(id string, period int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.keys[id]; !ok && len(u.keys) >= u.max {
		u.dropped.Add(1)
		return
	}
	u.keys[id] = period
	u.n.Store(int32(len(u.keys))) //nolint:gosec // at most max, an int32-sized map bound
}

// Take removes key id and returns the period it was let through in, if it
// was.
func (u *Uncounted) Take(id string) (period int64, ok bool) {
	if u.n.Load() == 0 {
		return 0, false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	period, ok = u.keys[id]
	if ok {
		delete(u.keys, id)
		u.n.Store(int32(len(u.keys))) //nolint:gosec // as in Add
	}
	return period, ok
}

// Dropped returns how many requests Add had no room for since NewUncounted:
// let through uncounted, and never to be charged.
func (u *Uncounted) Dropped() int64 { return u.dropped.Load() }
