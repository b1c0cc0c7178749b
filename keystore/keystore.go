// Package keystore is ginkey's storage SPI: the record a store keeps for
// one key, the queries it answers, the Store interface and its optional
// powers, and the errors a store returns. It knows nothing of HTTP, gin or
// the request path, so that any backend can be written against it alone.
//
// A Store owns only the bytes: what a revoked, rotated or expired key may
// still accept is decided by ginkey's key-management API, in the function
// it passes to Modify (or Rotate). A store never re-implements it.
//
// ginkey.New opens the GORM store (package gormstore) unless Config.Store
// names another; package memstore keeps keys in memory, for tests; package
// storetest is the conformance suite every Store passes.
package keystore

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is what a Store returns for an unknown id or hash.
var ErrNotFound = errors.New("keystore: no such key")

// Record is what a Store keeps for one key: its fields and the SHA-256 of
// the key (hex). The plaintext key is never part of it. All times are UTC.
type Record struct {
	ID     string
	Hash   string // SHA-256 of the key, lower-case hex; unique among records
	Prefix string // the display prefix ("gk_AbC1x")
	Name   string
	Owner  string

	Scopes     []string
	Metadata   map[string]any // numbers are json.Number, digit for digit as stored
	RateLimit  *Limit         // nil: the guard's default
	Quota      *Limit         // nil: none
	AllowedIPs []string       // empty: any address

	CreatedAt  time.Time
	ExpiresAt  *time.Time // nil: never
	RevokedAt  *time.Time // may lie ahead for a rotated key: the end of its grace
	LastUsedAt *time.Time

	RotatedFrom string // the key this one replaced, "" for none
	RotatedTo   string // the key that replaced this one, "" for none
	// ChainID is the id of the first key of the rotation chain this key
	// belongs to: a rotation gives the successor its predecessor's chain
	// (its ChainID, else its ID). "" for a key no rotation created, whose
	// chain is its own ID. The keys of one chain share one rate limit and
	// one quota count.
	ChainID string
}

// Chain is the id of r's rotation chain: ChainID, or for a key no rotation
// created (or one stored before chains were recorded) its own ID.
func (r *Record) Chain() string {
	if r.ChainID != "" {
		return r.ChainID
	}
	return r.ID
}

// Limit is a rate limit or a quota as stored: Requests per Per ("1s", "1m",
// "1h" for a rate limit; "day", "month" for a quota).
type Limit struct {
	Requests int64  `json:"requests"`
	Per      string `json:"per"`
}

// Status is a key's state at a moment; ListQuery filters on it.
type Status string

// The states a key can be in.
const (
	StatusActive  Status = "active"
	StatusExpired Status = "expired"
	StatusRevoked Status = "revoked"
)

// Expired reports whether a key with expiry expires (nil: never) is expired
// at now.
func Expired(expires *time.Time, now time.Time) bool {
	return expires != nil && !now.Before(*expires)
}

// StatusAt is r's state at now. Only a rotated key has a RevokedAt that may
// lie ahead, the end of its grace; any other revocation holds from the
// moment it is stored, whatever the clocks of the instance that wrote it and
// of this one say.
func (r *Record) StatusAt(now time.Time) Status {
	return StatusAt(r.RevokedAt, r.ExpiresAt, r.RotatedTo, now)
}

// StatusAt is the state at now of a key with these fields: the definition
// ListQuery's Status filter follows, and ginkey's request path and
// management API use.
func StatusAt(revokedAt, expiresAt *time.Time, rotatedTo string, now time.Time) Status {
	switch {
	case revokedAt != nil && (rotatedTo == "" || !now.Before(*revokedAt)):
		return StatusRevoked
	case Expired(expiresAt, now):
		return StatusExpired
	}
	return StatusActive
}

// ListQuery selects a page of keys, newest first (CreatedAt descending,
// then ID). Every filter set must hold: Status "" means all, else the
// records whose StatusAt(Now) is Status; Owner and Prefix match exactly,
// Name as a case-insensitive substring.
type ListQuery struct {
	Status Status
	Owner  string
	Prefix string
	Name   string
	Now    time.Time
	Limit  int
	Offset int
}

// Store keeps keys. Implementations return ErrNotFound for an unknown id or
// hash, and store times in UTC with at least microsecond precision.
type Store interface {
	// Insert adds r; a record whose ID or Hash another has is an error.
	Insert(ctx context.Context, r *Record) error
	// ByHash returns the record with hash.
	ByHash(ctx context.Context, hash string) (*Record, error)
	// ByID returns the record with id.
	ByID(ctx context.Context, id string) (*Record, error)
	// List returns q's page and the number of records matching q.
	List(ctx context.Context, q ListQuery) ([]Record, int64, error)
	// Modify is an atomic read-modify-write: it reads the record with id
	// under a lock no other Modify, Rotate or Delete of it passes, calls fn
	// with a copy, and persists every field of the record fn returns but
	// ID, Hash, CreatedAt and LastUsedAt, and returns it as stored. When fn
	// fails, nothing is persisted and fn's error is returned unchanged.
	Modify(ctx context.Context, id string, fn func(*Record) (*Record, error)) (*Record, error)
	// Delete removes the record with id and its usage.
	Delete(ctx context.Context, id string) error
}

// Rotator is a Store that rotates a key atomically: it reads the record
// with id under lock, calls fn with a copy, then persists the old record as
// fn changed it (as Modify does) and inserts the successor, in one
// transaction; or, when fn fails, changes nothing and returns fn's error
// unchanged. Without it, ginkey inserts the successor, modifies the old key,
// and deletes the successor again if that fails.
type Rotator interface {
	Rotate(ctx context.Context, id string, fn func(old *Record) (changed, next *Record, err error)) (old, next *Record, err error)
}

// BulkInserter is a Store that inserts many keys at once: InsertBatch
// writes all of records or none of them. Callers split a large import into
// batches (the benchmarks use fifty thousand keys a batch).
type BulkInserter interface {
	InsertBatch(ctx context.Context, records []Record) error
}
