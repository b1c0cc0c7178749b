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
type Changes struct {
	RevokedAt *time.Time // set once; a revoked key accepts no further change
	ExpiresAt *time.Time // with SetExpiry; nil then means "never expires"
	SetExpiry bool
	Name      *string
	Scopes    *[]string
	Metadata  *map[string]any

	AllowedIPs   *[]string  // empty: any address
	RateLimit    *RateLimit // with SetRateLimit; nil then means "the guard's default"
	SetRateLimit bool
	Quota        *Quota // with SetQuota; nil then means "no quota"
	SetQuota     bool
}

// Status filters a listing.
type Status string

// The states a key can be in.
const (
	StatusActive  Status = "active"
	StatusExpired Status = "expired"
	StatusRevoked Status = "revoked"
)

// ListQuery selects a page of keys; Status "" means all.
type ListQuery struct {
	Status Status
	Now    time.Time
	Limit  int
	Offset int
}

// UsageDelta is a batch of requests made with one key on one UTC day.
type UsageDelta struct {
	KeyID    string
	Day      string // YYYY-MM-DD, UTC
	Requests int64
	LastUsed time.Time
}

// Store keeps keys. Implementations return ErrNotFound for an unknown id or
// hash, and ErrRevokedConflict when Update targets a revoked key. All times
// are UTC.
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
