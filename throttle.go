package ginkey

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/internal/limits"
	"github.com/ginkey/ginkey/limiter"
)

// defaultFailureLimit is Config.FailureLimit's default: failed key checks
// per client address per minute.
const defaultFailureLimit = 30

// peerFactor is how many times a throttle's per-address allowance one
// connection peer has, all the client addresses it forwards together.
const peerFactor = 10

// defaultMaxLookups is Config.MaxLookups' default: store lookups of keys not
// in the cache in flight at once. One client address may have half of them
// (1/lookupShare), so that it never takes them all from the others.
const (
	defaultMaxLookups = 16
	lookupShare       = 2
)

// The answers to a lookup there is no room for. Both say when to retry:
// lookups last milliseconds.
var (
	errTooManyLookups = newError(http.StatusTooManyRequests, "too_many_lookups",
		"too many keys from this address are being looked up at once; retry shortly")
	errLookupsBusy = newError(http.StatusServiceUnavailable, "lookups_busy",
		"too many keys are being looked up at once; retry shortly")
)

// lookupRetry is the Retry-After of errTooManyLookups and errLookupsBusy.
const lookupRetry = time.Second

// requester is what a failed attempt is counted against: the client's
// address (gin's ClientIP) and, when that address was forwarded by the
// connection's peer (gin's RemoteIP) rather than being the peer's own, the
// peer too. gin trusts every proxy unless told otherwise, so a client may
// write any address into X-Forwarded-For; the peer's budget bounds what
// inventing addresses buys.
type requester struct {
	addr netip.Addr // invalid: no IP address (a unix socket peer)
	peer netip.Addr // valid only when it forwarded addr
}

// requesterOf returns c's requester.
func requesterOf(c *gin.Context) requester {
	r := requester{addr: clientAddr(c)}
	if !r.addr.IsValid() {
		return r
	}
	if peer, err := netip.ParseAddr(c.RemoteIP()); err == nil {
		if peer = peer.Unmap().WithZone(""); peer != r.addr {
			r.peer = peer
		}
	}
	return r
}

// throttle is one of the guard's failure throttles, counting per client
// address and per forwarding peer: in memory, or counted by a shared
// limiter.FailureCounter, which gets addresses grouped by limits.AddrKey.
// While it fails, the in-memory throttle stands in for it: the allowance
// holds per instance rather than not at all, and nobody is refused for want
// of a counter. A wait greater than zero refuses.
type throttle struct {
	addrs, peers   *limits.Failures
	shared         limiter.FailureCounter // nil: memory alone
	spec, peerSpec limiter.Throttle
	down           *limits.Outage
	forwarded      *forwardedNotice
}

// newThrottles returns cfg's throttles of unknown keys and of wrong admin
// credentials; nil for a limit <= 0 (throttling off).
func newThrottles(cfg *Config, down *limits.Outage) (unknown, admin *throttle) {
	n := &forwardedNotice{log: cfg.Logger, unknownKeys: cfg.FailureLimit, adminCredentials: cfg.AdminFailureLimit}
	return newThrottle(throttleUnknownKeys, cfg.FailureLimit, cfg, down, n),
		newThrottle(throttleAdminSecrets, cfg.AdminFailureLimit, cfg, down, n)
}

func newThrottle(name string, limit int, cfg *Config, down *limits.Outage, n *forwardedNotice) *throttle {
	if limit <= 0 {
		return nil
	}
	return &throttle{
		addrs:     limits.NewFailures(limit),
		peers:     limits.NewFailures(peerFactor * limit),
		shared:    cfg.FailureCounter,
		spec:      limiter.Throttle{Name: name, Limit: int64(limit), Per: limits.ThrottleWindow},
		peerSpec:  limiter.Throttle{Name: name + "_peer", Limit: int64(peerFactor * limit), Per: limits.ThrottleWindow},
		down:      down,
		forwarded: n,
	}
}

// hold is an attempt acquire reserved, and where: a refund goes to the
// counters that hold it, whichever is up by then.
type hold struct {
	shared     bool // the address's attempt is in the shared counter
	peer       bool // the peer's budget holds one too
	peerShared bool
}

// acquire reserves an attempt for r, against its address and then its
// peer's budget, so that concurrent attempts cannot all pass before any of
// them is counted. An attempt the address's allowance refuses costs the
// peer nothing, so one client behind a proxy cannot use up the others'.
func (t *throttle) acquire(ctx context.Context, r requester, now int64) (time.Duration, hold) {
	var h hold
	var wait time.Duration
	if wait, h.shared = t.take(ctx, t.addrs, &t.spec, r.addr, now); wait > 0 || !r.peer.IsValid() {
		return wait, h
	}
	t.forwarded.note(r)
	if wait, h.peerShared = t.take(ctx, t.peers, &t.peerSpec, r.peer, now); wait > 0 {
		t.give(ctx, t.addrs, &t.spec, r.addr, h.shared)
		return wait, hold{}
	}
	h.peer = true
	return 0, h
}

// refund gives back an attempt acquire reserved.
func (t *throttle) refund(ctx context.Context, r requester, h hold) {
	t.give(ctx, t.addrs, &t.spec, r.addr, h.shared)
	if h.peer {
		t.give(ctx, t.peers, &t.peerSpec, r.peer, h.peerShared)
	}
}

// charge counts a failed attempt that reserved nothing, past the allowance
// if need be, and even for a client that hung up meanwhile.
func (t *throttle) charge(ctx context.Context, r requester, now int64) {
	ctx = context.WithoutCancel(ctx)
	t.count(ctx, t.addrs, &t.spec, r.addr, now)
	if r.peer.IsValid() {
		t.count(ctx, t.peers, &t.peerSpec, r.peer, now)
	}
}

// take reserves an attempt for a in mem or, if there is one and it
// answers, the shared counter, and reports which.
func (t *throttle) take(ctx context.Context, mem *limits.Failures, spec *limiter.Throttle, a netip.Addr, now int64) (wait time.Duration, shared bool) {
	if t.useShared(true) {
		// Not cancelled with the request: a client gone is not the counter
		// failing (its breaker would switch every instance's share off).
		wait, err := t.shared.Acquire(context.WithoutCancel(ctx), *spec, limits.AddrKey(a))
		if t.settle(err, true) {
			return wait, true
		}
	}
	wait, _ = mem.Acquire(a, now)
	return wait, false
}

// give refunds an attempt take reserved to the counter that reserved it. A
// shared counter that fails meanwhile keeps it: its GCRA gives it back
// with time, and memory never held it.
func (t *throttle) give(ctx context.Context, mem *limits.Failures, spec *limiter.Throttle, a netip.Addr, shared bool) {
	if !shared {
		mem.Refund(a)
		return
	}
	if !t.down.Call() {
		return // down: kept, as above
	}
	t.settle(t.shared.Refund(context.WithoutCancel(ctx), *spec, limits.AddrKey(a)), false)
}

func (t *throttle) count(ctx context.Context, mem *limits.Failures, spec *limiter.Throttle, a netip.Addr, now int64) {
	if !t.useShared(false) || !t.settle(t.shared.Charge(context.WithoutCancel(ctx), *spec, limits.AddrKey(a)), false) {
		mem.Charge(a, now)
	}
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

// forwardedNotice warns, once per guard, that the throttles count
// addresses a peer forwarded: with gin's default trust of every proxy,
// any client can name them.
type forwardedNotice struct {
	once                          sync.Once
	log                           *slog.Logger
	unknownKeys, adminCredentials int
}

func (n *forwardedNotice) note(r requester) {
	n.once.Do(func() {
		n.log.Warn("ginkey: client addresses come from a header a peer forwarded (gin's ClientIP differs from its RemoteIP); "+
			"the failure throttles count them per address and, together, per peer. Unless the peer is a proxy of yours, "+
			"call SetTrustedProxies on the gin engine: gin trusts every proxy by default, so any client can name its address",
			"peer", r.peer.String(), "client", r.addr.String(),
			"unknown_keys_per_peer_per_minute", peerBudget(n.unknownKeys),
			"admin_credentials_per_peer_per_minute", peerBudget(n.adminCredentials))
	})
}

// peerBudget renders a peer's allowance for a per-address limit.
func peerBudget(limit int) string {
	if limit <= 0 {
		return "off"
	}
	return strconv.Itoa(peerFactor * limit)
}

// newLookups bounds cfg's store lookups in flight (nil: no bound).
func newLookups(cfg *Config) *limits.InFlight {
	return limits.NewInFlight(cfg.MaxLookups, cfg.MaxLookups/lookupShare)
}

// enterLookup takes a place for a store lookup of a key from a, or returns
// the answer to a request for which there is none: errTooManyLookups when
// a has its share in flight, errLookupsBusy when everyone together has.
// A place taken is given back with leaveLookup.
func (l *limiting) enterLookup(a netip.Addr) error {
	if l.inFlight == nil {
		return nil
	}
	ok, overall := l.inFlight.Enter(a)
	switch {
	case ok:
		return nil
	case overall:
		return retryLater(errLookupsBusy, lookupRetry)
	}
	return retryLater(errTooManyLookups, lookupRetry)
}

func (l *limiting) leaveLookup(a netip.Addr) {
	if l.inFlight != nil {
		l.inFlight.Leave(a)
	}
}
