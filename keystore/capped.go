package keystore

import (
	"context"
	"errors"
	"time"
)

// ErrOwnerFull is what a CappedInserter returns, inserting nothing, when the
// owner already has the most active keys allowed.
var ErrOwnerFull = errors.New("keystore: the owner has the most active keys allowed")

// CappedInserter is a Store that inserts a key only while its owner has
// fewer than a number of active keys, atomically: ginkey's self-service
// routes cap each owner's keys with it, and refuse to mount on a store
// without it rather than count and insert apart, which concurrent creates
// would race past.
type CappedInserter interface {
	// InsertCapped inserts r unless r.Owner already has limit or more
	// records that are active at now (StatusAt) and not rotated
	// (RotatedTo ""); then it inserts nothing and returns ErrOwnerFull.
	// Calls for one owner, from any number of processes sharing the
	// store's database, never together leave more than limit such records.
	// A rotated key in its grace does not count: its successor does.
	InsertCapped(ctx context.Context, r *Record, limit int, now time.Time) error
}

// Capped reports whether r counts toward its owner's cap at now: active and
// not rotated. It is the definition every CappedInserter follows.
func Capped(r *Record, now time.Time) bool {
	return r.RotatedTo == "" && r.StatusAt(now) == StatusActive
}
