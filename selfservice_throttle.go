package ginkey

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/ginkey/ginkey/internal/limits"
)

// selfServe is the guard's self-service component: the creates throttle
// and where the routes are mounted, for the OpenAPI document.
type selfServe struct {
	creates createThrottle
	mount   atomic.Pointer[selfServiceMount] // the first RegisterSelfService's
}

// createThrottle counts each owner's key creates on this instance as a
// GCRA over an hour, so that the allowance comes back gradually (one create
// every hour/limit) rather than all at once on the hour. It keeps at most
// maxThrottledOwners owners, dropping those whose allowance is whole again
// first. Its zero value is ready.
type createThrottle struct {
	mu  sync.Mutex
	tat map[string]int64 // owner to theoretical arrival time, unix nanoseconds
}

const maxThrottledOwners = 100_000

// take spends one of owner's perHour creates at now (unix nanoseconds), or
// reports how long until one is allowed.
func (t *createThrottle) take(owner string, perHour int, now int64) (time.Duration, bool) {
	interval, window := limits.Steps(int64(perHour), int64(time.Hour))
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tat == nil {
		t.tat = make(map[string]int64)
	}
	tat, known := t.tat[owner]
	next := max(tat, now) + interval
	if wait := next - window - now; wait > 0 {
		return time.Duration(wait), false
	}
	if !known && len(t.tat) >= maxThrottledOwners {
		limits.EvictFull(t.tat, now, func(tat int64) int64 { return tat })
	}
	t.tat[owner] = next
	return 0, true
}
