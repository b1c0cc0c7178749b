// Package keycache holds what the request path remembers of keys: verified
// records in a set-associative cache, tags of keys the store did not know,
// and the store reads in flight that concurrent misses of one key share. It
// is generic in the record it caches, so it knows nothing of the guard.
package keycache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// Hash is the SHA-256 of a whole key: what the cache is indexed by.
type Hash = [32]byte

const (
	// Ways is the number of entries per set.
	Ways       = 8
	cacheLocks = 64 // writer locks, each guarding every 64th set
)

// Cache maps the hashes of verified keys to their records for a bounded
// time and a bounded number of entries. Keys the store does not know are
// kept apart, in Unknown, so that a flood of them cannot displace one.
//
// It is a set-associative table: a key can live only in the Ways slots of
// its set, so the bound is exact and eviction looks at eight entries. Each
// slot holds a pointer to an immutable entry, so a lookup is a few atomic
// loads and takes no lock; only writers (a miss being filled, an
// invalidation) lock, and only the stripe their set belongs to.
type Cache[V any] struct {
	slots []atomic.Pointer[Entry[V]] // sets*Ways
	sets  uint64
	seed  maphash.Seed // picks the set, so clients cannot aim many keys at one
	ttl   int64        // nanoseconds
	locks [cacheLocks]cacheLock
}

type cacheLock struct {
	mu  sync.Mutex
	gen atomic.Uint64 // bumped by Invalidate; a Put that began before it is dropped
}

// Entry is one cached record, never modified once stored.
type Entry[V any] struct {
	hash    Hash
	Val     V
	Fetched int64 // unix nanoseconds
}

// NewCache holds at most size entries, rounded up to a multiple of Ways,
// for ttlNanos each. It returns nil when either is not positive: caching is
// then off.
func NewCache[V any](size int, ttlNanos int64) *Cache[V] {
	if size <= 0 || ttlNanos <= 0 {
		return nil
	}
	sets := (size + Ways - 1) / Ways
	return &Cache[V]{
		slots: make([]atomic.Pointer[Entry[V]], sets*Ways),
		sets:  uint64(sets),
		seed:  maphash.MakeSeed(),
		ttl:   ttlNanos,
	}
}

func (c *Cache[V]) set(h *Hash) (ways []atomic.Pointer[Entry[V]], lock *cacheLock) {
	s := maphash.Comparable(c.seed, *h) % c.sets
	return c.slots[s*Ways : (s+1)*Ways], &c.locks[s%cacheLocks]
}

// Get returns h's cached entry, nil if there is none, and whether it is
// fresh. Unless it is, gen is the token to hand to Put.
//
// A stale entry is returned with fresh false: the caller must read the
// store again, but knows the key is no guess; its Fetched time tells how
// stale it is.
func (c *Cache[V]) Get(h *Hash, now int64) (e *Entry[V], fresh bool, gen uint64) {
	ways, lock := c.set(h)
	gen = lock.gen.Load()
	// The entry find matched, not a second load of its slot: a writer may
	// have put another key's entry there in between.
	if _, e = find(ways, h); e != nil {
		return e, c.fresh(e, now), gen
	}
	return nil, false, gen
}

// find returns the slot of ways holding h and its entry, or -1 and nil.
func find[V any](ways []atomic.Pointer[Entry[V]], h *Hash) (int, *Entry[V]) {
	for i := range ways {
		if e := ways[i].Load(); e != nil && e.hash == *h {
			return i, e
		}
	}
	return -1, nil
}

func (c *Cache[V]) fresh(e *Entry[V], now int64) bool {
	return now >= e.Fetched && now-e.Fetched < c.ttl
}

// Put stores v unless the set's stripe was invalidated since the Get that
// returned gen: a record read from the store before a revoke must not be
// cached after it.
func (c *Cache[V]) Put(h *Hash, v V, now int64, gen uint64) {
	ways, lock := c.set(h)
	e := &Entry[V]{hash: *h, Val: v, Fetched: now}
	lock.mu.Lock()
	defer lock.mu.Unlock()
	if lock.gen.Load() != gen {
		return
	}
	ways[c.victim(ways, h, now)].Store(e)
}

// victim picks the slot for h: its own, else an empty or stale one, else the
// oldest entry.
func (c *Cache[V]) victim(ways []atomic.Pointer[Entry[V]], h *Hash, now int64) int {
	if i, _ := find(ways, h); i >= 0 {
		return i
	}
	oldest, oldestAt := 0, int64(0)
	for i := range ways {
		e := ways[i].Load()
		if e == nil || !c.fresh(e, now) {
			return i
		}
		if i == 0 || e.Fetched < oldestAt {
			oldest, oldestAt = i, e.Fetched
		}
	}
	return oldest
}

// Remove drops h's entry, if any, without voiding fills in flight: the
// store no longer knows the key, and a stale record must not keep vouching
// for it.
func (c *Cache[V]) Remove(h *Hash) {
	ways, lock := c.set(h)
	lock.mu.Lock()
	defer lock.mu.Unlock()
	if i, _ := find(ways, h); i >= 0 {
		ways[i].Store(nil)
	}
}

// Invalidate drops h's entry and voids every fill of its stripe in flight.
// The generation moves first, so a fill that checks it after the entry is
// gone cannot put it back.
func (c *Cache[V]) Invalidate(h *Hash) {
	_, lock := c.set(h)
	lock.gen.Add(1)
	c.Remove(h)
}

// ExpireAll makes every entry stale as of now, and voids every fill in
// flight, as Invalidate does for one key: changes made elsewhere may have
// been missed. A stale entry is read again at its key's next request, but
// may still vouch for it while the store cannot be read.
func (c *Cache[V]) ExpireAll(now int64) {
	for i := range c.locks {
		lock := &c.locks[i]
		lock.mu.Lock()
		lock.gen.Add(1)
		for s := uint64(i); s < c.sets; s += cacheLocks {
			ways := c.slots[s*Ways : (s+1)*Ways]
			for j := range ways {
				if e := ways[j].Load(); e != nil && c.fresh(e, now) {
					ways[j].Store(&Entry[V]{hash: e.hash, Val: e.Val, Fetched: now - c.ttl})
				}
			}
		}
		lock.mu.Unlock()
	}
}

// Len counts the entries cached now, by a pass over every slot: for
// statistics, not the request path.
func (c *Cache[V]) Len() int {
	n := 0
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			n++
		}
	}
	return n
}
