package limits

import (
	"net/netip"
	"sync"
)

// InFlight bounds work in flight at once: overall, and per client address
// (IPv6 grouped by /64). Its map holds only addresses with work in flight,
// so it never outgrows the overall bound.
type InFlight struct {
	mu      sync.Mutex
	total   int
	limit   int
	perAddr int
	by      map[netip.Addr]int
}

// NewInFlight returns nil (no bound) for limit <= 0; perAddr is clamped
// to [1, limit].
func NewInFlight(limit, perAddr int) *InFlight {
	if limit <= 0 {
		return nil
	}
	return &InFlight{limit: limit, perAddr: min(max(perAddr, 1), limit), by: make(map[netip.Addr]int)}
}

// Enter takes a place for a, whose zero value stands for a client without
// an address: it counts only overall. It reports false, and whether the
// overall bound (rather than a's) refused it, if there is no place.
// A place taken is given back with Leave.
func (f *InFlight) Enter(a netip.Addr) (ok, overall bool) {
	a = AddrKey(a)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.total >= f.limit {
		return false, true
	}
	if a.IsValid() {
		if f.by[a] >= f.perAddr {
			return false, false
		}
		f.by[a]++
	}
	f.total++
	return true, false
}

// Leave gives back a place Enter took for a.
func (f *InFlight) Leave(a netip.Addr) {
	a = AddrKey(a)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.total--
	if !a.IsValid() {
		return
	}
	if n := f.by[a] - 1; n > 0 {
		f.by[a] = n
	} else {
		delete(f.by, a)
	}
}
