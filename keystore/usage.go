package keystore

import (
	"context"
	"time"
)

// UsageDelta is a batch of requests made with one key on one UTC day.
type UsageDelta struct {
	KeyID    string
	Day      string    // YYYY-MM-DD, UTC
	Requests int64     // admitted requests
	LastUsed time.Time // the latest admitted request; zero when Requests is 0
	// Refused counts the key's refused verifications that day by outcome
	// ("expired", "revoked", "insufficient_scope", "ip_not_allowed",
	// "rate_limited", "quota_exceeded"); nil when there were none. A
	// UsageStore that keeps no outcomes may ignore it; Requests never
	// includes them.
	Refused map[string]int64
}

// DayCount is one key's admitted requests on one UTC day.
type DayCount struct {
	Day      string // YYYY-MM-DD
	Requests int64
}

// KeyUsage is one key's requests in all.
type KeyUsage struct {
	ID         string
	Prefix     string
	Name       string
	LastUsedAt *time.Time
	Requests   int64
}

// UsageStore is a Store that keeps request counts; a Store without it has
// usage recording switched off. AddUsage adds each delta to its key's day
// and moves the key's LastUsedAt forward (never back); the counts of a key
// that no longer exists are dropped.
type UsageStore interface {
	AddUsage(ctx context.Context, batch []UsageDelta) error
	// Usage returns key id's requests in all, and per day from since
	// (YYYY-MM-DD) on, in day order.
	Usage(ctx context.Context, id string, since string) (total int64, daily []DayCount, err error)
	// UsageSummaries returns a page of every key's requests, newest key
	// first, and the number of keys.
	UsageSummaries(ctx context.Context, limit, offset int) ([]KeyUsage, int64, error)
}

// OnceUsageStore is a UsageStore that applies each batch of usage exactly
// once. A flush whose outcome is unknown (the connection broke after the
// COMMIT was sent) is retried with the same instance and sequence number;
// the store must then do nothing if the batch was written. Sequence numbers
// of one instance only grow. With a UsageStore that is not one, a retried
// batch may be counted twice. A Store that wraps another by embedding it, to
// change how usage is written, must override AddUsageOnce as well as
// AddUsage: ginkey calls AddUsageOnce when it is there.
type OnceUsageStore interface {
	AddUsageOnce(ctx context.Context, instance string, seq int64, batch []UsageDelta) error
}

// OutcomeStore is a UsageStore that also keeps each key's refused
// verifications (UsageDelta.Refused). With a UsageStore that is not one,
// ginkey's usage reports count only valid requests.
type OutcomeStore interface {
	// Outcomes returns key id's refusals by outcome: in all, and per day
	// from since (YYYY-MM-DD) on.
	Outcomes(ctx context.Context, id, since string) (totals map[string]int64, daily map[string]map[string]int64, err error)
	// RefusalTotals returns each of ids' refusals in all, by outcome; ids
	// without any are left out.
	RefusalTotals(ctx context.Context, ids []string) (map[string]map[string]int64, error)
}
