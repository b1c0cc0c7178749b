// Package limiter holds the interfaces behind a ginkey guard's limits, for
// whoever counts them somewhere else than in the guard's memory (the
// ginkeyredis module counts them in Redis): Limiter for rate limits,
// QuotaCounter for quotas and FailureCounter for the failure throttles.
//
// The guard owns the policy: what is counted, when, and what a refusal
// looks like. An implementation owns only the counting. While a Limiter or
// QuotaCounter fails, the guard lets requests through unchecked by it, or
// with ginkey.Config.FailClosed answers 503 unavailable; while a
// FailureCounter fails, the throttles count on this instance alone. Either
// way the outage is logged once when it starts and once when it ends, never
// per request.
//
// A guard uses the in-memory defaults unless its Config names others:
//
//	guard, err := ginkey.New(ginkey.Config{Limiter: myLimiter, QuotaCounter: myQuotas})
package limiter

import (
	"context"
	"time"

	"github.com/ginkey/ginkey/internal/limits"
)

// Limiter counts requests against a rate. The guard calls Allow once per
// request of a rate-limited key, with the id of the key's rotation chain
// (the id of the chain's first key, so that a rotated-in key goes on from
// its predecessor's state and shares it in the grace); an in-memory
// Limiter is used unless ginkey.Config.Limiter names another (e.g. one
// shared through Redis by several instances). Implementations must be safe
// for concurrent use.
//
// An error from Allow lets the request through without RateLimit-* headers
// (with ginkey.Config.FailClosed: answers 503 unavailable); an outage is
// logged once, when it starts, and once more when Allow answers again.
type Limiter interface {
	Allow(ctx context.Context, id string, limit int64, per time.Duration) (Decision, error)
}

// Decision is a Limiter's answer for one request: Allowed, the Limit per
// period, the Remaining requests, the time until the full limit is back
// (Reset) and, when refused, until one request will be (RetryAfter).
type Decision = limits.Decision

// MemoryLimiter is the in-memory Limiter: a generic cell rate algorithm
// (GCRA) keeping one timestamp per key in a bounded map. It is exact for one
// process; instances behind a load balancer each count on their own.
type MemoryLimiter = limits.MemoryLimiter

var _ Limiter = (*MemoryLimiter)(nil)

// defaultSize is how many keys NewMemoryLimiter tracks when told none.
const defaultSize = 100_000

// NewMemoryLimiter returns a Limiter that tracks at most size keys (default
// 100,000 when size <= 0) and reads time from now (default time.Now). When
// full, it forgets keys whose allowance is whole again first, and failing
// that the one nearest to whole among those it looks at, which then starts
// afresh.
func NewMemoryLimiter(size int, now func() time.Time) *MemoryLimiter {
	if size <= 0 {
		size = defaultSize
	}
	return limits.NewMemoryLimiter(size, now)
}
