package ginkey

import (
	"context"
	"time"
)

// Record is what a Store keeps for one key: its public fields and the
// SHA-256 of the key (hex). The plaintext key is never part of it.
type Record struct {
	Key
	Hash string

	policy *keyPolicy // prepared by the guard on the way into its cache
}

// Changes lists the fields an update sets; nil fields are left alone.
//
// RevokedAt may lie in the future: a rotated key keeps working until then
// (its grace period). A key with RevokedAt set accepts no other change; a
// Changes holding RevokedAt alone also applies to a key whose RevokedAt is
// later (revoking a key in its grace period ends the grace at once).
type Changes struct {
	RevokedAt *time.Time
	RotatedTo *string    // with RevokedAt, by the fallback of RotateKey
	ExpiresAt *time.Time // with SetExpiry; nil then means "never expires"
	SetExpiry bool
	Name      *string
	Owner     *string
	Scopes    *[]string
	Metadata  *map[string]any

	AllowedIPs   *[]string  // empty: any address
	RateLimit    *RateLimit // with SetRateLimit; nil then means "the guard's default"
	SetRateLimit bool
	Quota        *Quota // with SetQuota; nil then means "no quota"
	SetQuota     bool
}

// revocationOnly reports whether ch revokes and changes nothing else.
func (ch *Changes) revocationOnly() bool {
	return ch.RevokedAt != nil && *ch == Changes{RevokedAt: ch.RevokedAt}
}

// Status filters a listing.
type Status string

// The states a key can be in.
const (
	StatusActive  Status = "active"
	StatusExpired Status = "expired"
	StatusRevoked Status = "revoked"
)

// ListQuery selects a page of keys. Every filter set must hold: Status ""
// means all; Owner and Prefix match exactly, Name as a case-insensitive
// substring.
type ListQuery struct {
	Status Status
	Owner  string
	Prefix string
	Name   string
	Now    time.Time
	Limit  int
	Offset int
}

// UsageDelta is a batch of requests made with one key on one UTC day.
type UsageDelta struct {
	KeyID    string
	Day      string    // YYYY-MM-DD, UTC
	Requests int64     // admitted requests
	LastUsed time.Time // the latest admitted request; zero when Requests is 0
	// Refused counts the key's refused verifications that day by outcome
	// (expired, revoked, insufficient_scope, ip_not_allowed, rate_limited,
	// quota_exceeded: KeyOutcomes but valid); nil
	// when there were none. A UsageStore that keeps no outcomes may ignore
	// it; Requests never includes them.
	Refused map[string]int64
}

// Store keeps keys. Implementations return ErrNotFound for an unknown id or
// hash, and ErrRevokedConflict when Update targets a revoked key
// (ErrRotatedConflict when it was revoked by a rotation). All times are UTC.
type Store interface {
	Insert(ctx context.Context, r *Record) error
	ByHash(ctx context.Context, hash string) (*Record, error)
	ByID(ctx context.Context, id string) (*Record, error)
	List(ctx context.Context, q ListQuery) ([]Record, int64, error)
	Update(ctx context.Context, id string, ch Changes) (*Record, error)
	Delete(ctx context.Context, id string) error
}

// UsageStore keeps request counts. The GORM store implements it; a Store
// without it has usage recording switched off.
type UsageStore interface {
	AddUsage(ctx context.Context, batch []UsageDelta) error
	Usage(ctx context.Context, id string, since string) (total int64, daily []DailyUsage, err error)
	UsageSummaries(ctx context.Context, limit, offset int) ([]UsageSummary, int64, error)
}
