package ginkey

import (
	"context"
	"net/netip"
	"time"

	"github.com/ginkey/ginkey/internal/limits"
	"github.com/ginkey/ginkey/limiter"
)

// defaultFailureLimit is Config.FailureLimit's default: failed key checks
// per client address per minute.
const defaultFailureLimit = 30

// throttle is one of the guard's failure throttles: in memory, or counted
// by a shared limiter.FailureCounter, which gets addresses grouped by limits.AddrKey.
// While it fails, the in-memory throttle stands in for it:
// the allowance holds per instance rather than not at all, and nobody is
// refused for want of a counter. A wait greater than zero refuses.
type throttle struct {
	mem    *limits.Failures
	shared limiter.FailureCounter // nil: mem alone
	spec   limiter.Throttle
	down   *limits.Outage
}

// newThrottle returns nil (throttling off) for limit <= 0.
func newThrottle(name string, limit int, shared limiter.FailureCounter, down *limits.Outage) *throttle {
	if limit <= 0 {
		return nil
	}
	return &throttle{
		mem:    limits.NewFailures(limit),
		shared: shared,
		spec:   limiter.Throttle{Name: name, Limit: int64(limit), Per: limits.ThrottleWindow},
		down:   down,
	}
}

func (t *throttle) allowed(ctx context.Context, a netip.Addr, now int64) time.Duration {
	if t.useShared(true) {
		wait, err := t.shared.Allowed(ctx, t.spec, limits.AddrKey(a))
		if t.settle(err, true) {
			return wait
		}
	}
	wait, _ := t.mem.Allowed(a, now)
	return wait
}

// acquire reserves an attempt, and reports where: the refund must go to
// the same counter, whichever is up by then.
func (t *throttle) acquire(ctx context.Context, a netip.Addr, now int64) (wait time.Duration, shared bool) {
	if t.useShared(true) {
		wait, err := t.shared.Acquire(ctx, t.spec, limits.AddrKey(a))
		if t.settle(err, true) {
			return wait, true
		}
	}
	wait, _ = t.mem.Acquire(a, now)
	return wait, false
}

// charge counts even for a client that hung up meanwhile.
func (t *throttle) charge(ctx context.Context, a netip.Addr, now int64) {
	if !t.useShared(false) || !t.settle(t.shared.Charge(context.WithoutCancel(ctx), t.spec, limits.AddrKey(a)), false) {
		t.mem.Charge(a, now)
	}
}

// refund gives back an attempt acquire reserved, to the counter that
// reserved it. A shared counter that fails meanwhile keeps it: its GCRA
// gives it back with time, and memory never held it.
func (t *throttle) refund(ctx context.Context, a netip.Addr, shared bool) {
	if !shared {
		t.mem.Refund(a)
		return
	}
	if !t.down.Call() {
		return // down: kept, as below
	}
	t.settle(t.shared.Refund(context.WithoutCancel(ctx), t.spec, limits.AddrKey(a)), false)
}

// useShared reports whether to ask the shared counter: there is one, and
// it is up or due for its probe (limits.Outage.Call); otherwise the
// in-memory throttle decides at once.
func (t *throttle) useShared(decided bool) bool {
	if t.shared == nil {
		return false
	}
	if !t.down.Call() {
		t.down.Skipped(decided)
		return false
	}
	return true
}

// settle notes the outcome of a call to the shared counter and reports
// whether it succeeded.
func (t *throttle) settle(err error, decided bool) bool {
	if err != nil {
		t.down.Failed(err, decided) // never closed: the in-memory throttle decides
		return false
	}
	t.down.OK()
	return true
}
