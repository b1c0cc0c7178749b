package keycache

import (
	"hash/maphash"
	"math"
	"sync/atomic"
)

// Unknown remembers, for a bounded time, well-formed keys the store does
// not know, so that a key presented again is refused without hashing it with
// SHA-256 or reading the store. It is indexed by a 63-bit tag: a maphash of
// the key itself under a seed made at start-up, low bit forced to 1 so that 0
// means empty. The tag also picks the set, so clients can neither aim keys at
// one set nor predict a tag.
//
// A tag is no proof of identity, and need not be: an entry can only make the
// guard refuse a key. Refusing a good key would take a 63-bit collision with
// a key someone presented while unknown, and lasts at most ttl. Nothing done
// through the guard turns an unknown key into a known one (new keys are
// random), so entries are never invalidated, only aged out.
//
// Slots hold plain atomics: a reader that races a writer may pair one key's
// tag with another's time, which can only keep an unknown key refused a
// little longer.
type Unknown struct {
	slots []unknownSlot // sets*Ways
	sets  uint64
	seed  maphash.Seed
	ttl   int64 // nanoseconds
}

type unknownSlot struct {
	tag atomic.Uint64 // 0: empty
	at  atomic.Int64  // unix nanoseconds of the store's answer
}

// NewUnknown holds at most size entries, rounded up to a multiple of Ways;
// nil when size or ttl is not positive.
func NewUnknown(size int, ttlNanos int64) *Unknown {
	if size <= 0 || ttlNanos <= 0 {
		return nil
	}
	sets := (size + Ways - 1) / Ways
	return &Unknown{
		slots: make([]unknownSlot, sets*Ways),
		sets:  uint64(sets),
		seed:  maphash.MakeSeed(),
		ttl:   ttlNanos,
	}
}

// Tag is raw's index, never 0.
func (u *Unknown) Tag(raw string) uint64 {
	return maphash.String(u.seed, raw) | 1
}

func (u *Unknown) set(tag uint64) []unknownSlot {
	s := (tag >> 1) % u.sets // bit 0 is always set
	return u.slots[s*Ways : (s+1)*Ways]
}

// Has reports whether tag's key was unknown to the store less than ttl ago.
func (u *Unknown) Has(tag uint64, now int64) bool {
	ways := u.set(tag)
	for i := range ways {
		if ways[i].tag.Load() == tag {
			return u.fresh(ways[i].at.Load(), now)
		}
	}
	return false
}

func (u *Unknown) fresh(at, now int64) bool { return now >= at && now-at < u.ttl }

// Put records that the store did not know tag's key at now. It takes the
// key's own slot, else an empty or stale one, else the oldest.
func (u *Unknown) Put(tag uint64, now int64) {
	ways := u.set(tag)
	victim, oldest := 0, int64(math.MaxInt64)
	for i := range ways {
		t, at := ways[i].tag.Load(), ways[i].at.Load()
		if t == tag {
			victim = i
			break
		}
		if t == 0 || !u.fresh(at, now) {
			at = math.MinInt64 // free: preferred to any live entry
		}
		if at < oldest {
			victim, oldest = i, at
		}
	}
	ways[victim].tag.Store(tag)
	ways[victim].at.Store(now)
}
