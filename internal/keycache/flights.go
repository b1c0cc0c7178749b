package keycache

import "sync"

// Flights lets concurrent cache misses of one key share a single store
// read. Entries live only while their read does, so the map is bounded by
// the requests in flight. The zero value is ready to use.
type Flights[V any] struct {
	mu sync.Mutex
	m  map[Hash]*Flight[V]
}

// Flight is one store read in flight: its leader sets Val and Err, then
// Land closes Done for the followers.
type Flight[V any] struct {
	done chan struct{}
	Val  V
	Err  error
}

// Done is closed when the read has landed.
func (f *Flight[V]) Done() <-chan struct{} { return f.done }

// Join returns h's read in flight, or starts one; lead reports whether the
// caller must do the read and then call Land.
func (f *Flights[V]) Join(h *Hash) (fl *Flight[V], lead bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl = f.m[*h]; fl != nil {
		return fl, false
	}
	if f.m == nil {
		f.m = make(map[Hash]*Flight[V])
	}
	fl = &Flight[V]{done: make(chan struct{})}
	f.m[*h] = fl
	return fl, true
}

// Land publishes the leader's result to the flight's followers.
func (f *Flights[V]) Land(h *Hash, fl *Flight[V]) {
	f.mu.Lock()
	if f.m[*h] == fl {
		delete(f.m, *h)
	}
	f.mu.Unlock()
	close(fl.done)
}

// Forget detaches h's read in flight, if any, so that no request joins it
// any more: it began before a change to the key, and its record must not
// reach a request that comes after the change.
func (f *Flights[V]) Forget(h *Hash) {
	f.mu.Lock()
	delete(f.m, *h)
	f.mu.Unlock()
}

// ForgetAll is Forget for every key.
func (f *Flights[V]) ForgetAll() {
	f.mu.Lock()
	clear(f.m)
	f.mu.Unlock()
}

// InFlight reports how many reads are in flight: for tests.
func (f *Flights[V]) InFlight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}
