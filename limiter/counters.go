package limiter

import (
	"context"
	"net/netip"
	"time"
)

// Throttle names one of the guard's failure throttles and its allowance:
// Limit failed attempts per Per, per client address.
type Throttle struct {
	Name  string // "unknown_key" (ginkey.Config.FailureLimit) or "admin_secret" (ginkey.Config.AdminFailureLimit)
	Limit int64
	Per   time.Duration
}

// FailureCounter counts failed attempts per client address for the guard's
// two failure throttles (unknown keys, wrong admin secrets) as a generic
// cell rate algorithm: each failure occupies Per/Limit, a client may have
// Limit of them outstanding, and they come back gradually. addr is the
// client's address with IPv6 already grouped by /64. Replace the default
// (in memory, per instance) to share the throttles between instances.
// While it fails, the guard counts in memory, per instance, as without it.
// Implementations must be safe for concurrent use.
//
// A wait greater than zero means "no": the address must wait that long
// before one more attempt would be allowed.
type FailureCounter interface {
	// Charge counts one failed attempt, past the allowance if need be: a
	// burst that went over it while in flight locks addr out for as long.
	Charge(ctx context.Context, t Throttle, addr netip.Addr) error
	// Acquire reserves one attempt if addr has one left; an attempt that
	// turns out not to have failed is given back with Refund.
	Acquire(ctx context.Context, t Throttle, addr netip.Addr) (wait time.Duration, err error)
	// Refund gives back an attempt Acquire reserved.
	Refund(ctx context.Context, t Throttle, addr netip.Addr) error
}

// QuotaCounter counts quota-limited keys' requests per period. The guard
// calls Take once per request of such a key, after every other check.
// Replace the default (in memory, per instance, re-read from the usage
// table every ginkey.Config.CacheTTL) to make quotas exact across
// instances. Implementations must be safe for concurrent use.
type QuotaCounter interface {
	// Take spends one request of quota id's limit for the period [start,
	// end) if one is left, and reports whether it did; id is the key's
	// rotation chain (the id of its first key), shared by the keys of the
	// chain. A request refused is not counted. When the counter has no
	// count for the period yet, it starts from seed's: the requests the
	// usage table (and this instance's unwritten counts) hold for the period
	// so far, over the keys of the chain. An error of seed must be returned,
	// wrapped or not.
	Take(ctx context.Context, id string, start, end time.Time, limit int64,
		seed func(context.Context) (int64, error)) (bool, error)
}

// QuotaRaiser is a QuotaCounter that can catch up with requests the guard
// let through while it was down (fail open), which it never counted. The
// guard calls Raise once per such key, before the key's first Take after
// the outage, with used: the period's requests in the usage table and this
// instance's unwritten counts. Raise sets the period's count to used if it
// is lower, and leaves a period without a count alone (Take seeds it).
// Implementations must be safe for concurrent use.
type QuotaRaiser interface {
	Raise(ctx context.Context, id string, start, end time.Time, used int64) error
}
