// Package observe is what a ginkey guard shows of itself to metrics and
// tracing: the Observer it tells of its store calls and admin operations,
// the Stats its Stats method returns, and the names of the outcomes both
// count. The ginkeyprom and ginkeyotel modules implement it:
//
//	guard, err := ginkey.New(ginkey.Config{Observers: []observe.Observer{metrics}})
package observe

import "context"

// Observer is told of the guard's store calls and admin operations as they
// happen, to time them (a Prometheus histogram) or trace them (an
// OpenTelemetry span): see the ginkeyprom and ginkeyotel modules. Each
// method is called as the operation starts and returns the context the
// operation runs in and the function to call with its outcome when it
// ends. Implementations must be safe for concurrent use and fast: Store is
// called on every cache miss.
//
// The operations are "lookup" (a key's record read on a cache miss),
// "flush" (a batch of usage), "notify" (a key change announced to the
// other instances, see keystore.Notifier), and the admin actions "create",
// "update", "revoke", "renew", "rotate" and "delete", from any caller. The
// outcome is "ok" or an error code of the HTTP contract ("not_found",
// "unavailable", ...). Nothing secret is passed: no key, hash or secret.
type Observer interface {
	Store(ctx context.Context, op string) (context.Context, func(outcome string))
	Admin(ctx context.Context, action string) (context.Context, func(outcome string))
}

// Stats is a snapshot of a guard's counters since ginkey.New, for a metrics
// exporter (the ginkeyprom module) to read on each scrape. Every map holds
// every name it can hold, zeros included.
type Stats struct {
	// Verifications counts the requests the guard's middlewares decided,
	// by outcome (see VerificationOutcomes).
	Verifications map[string]uint64
	// CacheHits, CacheMisses and CacheNegative count key lookups answered
	// from the cache, read from the store, and refused from the memory of
	// keys the store did not know.
	CacheHits, CacheMisses, CacheNegative uint64
	// CachedKeys is the number of verified keys in the cache now.
	CachedKeys int
	// UsagePending is the requests counted in memory and not yet written.
	UsagePending int64
	// FlushErrors counts usage flushes that failed.
	FlushErrors uint64
	// Degraded counts the requests the guard decided without a dependency
	// that was failing, by DegradedDecisions: "served_stale" (admitted on
	// a stale record while the key store failed, also counted as "valid"),
	// "limits_fail_open" (let through unchecked by a rate limiter or quota
	// counter that was down), "limits_fail_closed" (refused 503 for want of
	// one, with Config.FailClosed), "throttle_local" (a failure throttle
	// step counted on this instance alone while the failure counter was
	// down), "quota_never_charged" (let through uncounted by a quota
	// counter that was down, for a key beyond the ones the guard remembers
	// to charge when the counter is back). Alert on their rate.
	Degraded map[string]uint64
	// Down tells which dependencies are known to be down now, by
	// Dependencies: "store" (the key store), "rate_limiter",
	// "quota_counter", "failure_counter" (Config.Limiter, QuotaCounter and
	// FailureCounter, e.g. Redis).
	Down map[string]bool
}

// DegradedDecisions lists the names Stats.Degraded counts, in a fixed order.
func DegradedDecisions() []string {
	return []string{"served_stale", "limits_fail_open", "limits_fail_closed", "throttle_local", "quota_never_charged"}
}

// Dependencies lists the names Stats.Down holds, in a fixed order.
func Dependencies() []string {
	return []string{"store", "rate_limiter", "quota_counter", "failure_counter"}
}

// KeyOutcomes lists the outcomes kept per key and day (ginkey's KeyUsage),
// in a fixed order: "valid", then the refusals of an identified key.
func KeyOutcomes() []string {
	return []string{"valid", "expired", "revoked", "insufficient_scope", "ip_not_allowed", "rate_limited", "quota_exceeded"}
}

// VerificationOutcomes lists every outcome Stats counts, in a fixed order:
// KeyOutcomes, then the codes of the HTTP contract that cannot be
// attributed to a key, and "other" (a client that hung up, or an error of a
// composite's scheme).
func VerificationOutcomes() []string {
	return append(KeyOutcomes(), "key_missing", "key_invalid", "too_many_failures", "unavailable", "other")
}
