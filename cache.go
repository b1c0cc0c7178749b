package ginkey

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

const (
	cacheWays  = 8  // entries per set
	cacheLocks = 64 // writer locks, each guarding every 64th set
)

// keyCache maps the hashes of verified keys to their records for a bounded
// time and a bounded number of entries. Keys the store does not know are kept
// apart, in unknownKeys, so that a flood of them cannot displace one.
//
// It is a set-associative table: a key can live only in the cacheWays slots
// of its set, so the bound is exact and eviction looks at eight entries. Each
// slot holds a pointer to an immutable entry, so a lookup is a few atomic
// loads and takes no lock; only writers (a miss being filled, an
// invalidation) lock, and only the stripe their set belongs to.
//
// A change made through the guard drops the entry (invalidate), here and,
// with a Notifier, on the other instances; a change made elsewhere and not
// announced is seen once ttl has passed.
type keyCache struct {
	slots []atomic.Pointer[cacheEntry] // sets*cacheWays
	sets  uint64
	seed  maphash.Seed // picks the set, so clients cannot aim many keys at one
	ttl   int64        // nanoseconds
	locks [cacheLocks]cacheLock
}

type cacheLock struct {
	mu  sync.Mutex
	gen atomic.Uint64 // bumped by invalidate; a put that began before it is dropped
}

type cacheEntry struct {
	hash    keyHash
	rec     *Record
	fetched int64 // unix nanoseconds
}

// newKeyCache holds at most size entries, rounded up to a multiple of
// cacheWays. It returns nil when size <= 0: caching is then off.
func newKeyCache(size int, ttlNanos int64) *keyCache {
	if size <= 0 || ttlNanos <= 0 {
		return nil
	}
	sets := (size + cacheWays - 1) / cacheWays
	return &keyCache{
		slots: make([]atomic.Pointer[cacheEntry], sets*cacheWays),
		sets:  uint64(sets),
		seed:  maphash.MakeSeed(),
		ttl:   ttlNanos,
	}
}

func (c *keyCache) set(h *keyHash) (ways []atomic.Pointer[cacheEntry], lock *cacheLock) {
	s := maphash.Comparable(c.seed, *h) % c.sets
	return c.slots[s*cacheWays : (s+1)*cacheWays], &c.locks[s%cacheLocks]
}

// get returns h's cached record, nil if there is none, and whether it is
// fresh. Unless it is, gen is the token to hand to put.
//
// A stale record is returned with fresh false: the caller must read the store
// again, but knows the key is no guess.
func (c *keyCache) get(h *keyHash, now int64) (rec *Record, fresh bool, gen uint64) {
	e, fresh, gen := c.entry(h, now)
	if e == nil {
		return nil, false, gen
	}
	return e.rec, fresh, gen
}

// entry is get returning the entry itself, whose fetched time tells how
// stale it is.
func (c *keyCache) entry(h *keyHash, now int64) (e *cacheEntry, fresh bool, gen uint64) {
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
func find(ways []atomic.Pointer[cacheEntry], h *keyHash) (int, *cacheEntry) {
	for i := range ways {
		if e := ways[i].Load(); e != nil && e.hash == *h {
			return i, e
		}
	}
	return -1, nil
}

func (c *keyCache) fresh(e *cacheEntry, now int64) bool {
	return now >= e.fetched && now-e.fetched < c.ttl
}

// put stores rec unless the set's stripe was invalidated since the get that
// returned gen: a record read from the store before a revoke must not be
// cached after it.
func (c *keyCache) put(h *keyHash, rec *Record, now int64, gen uint64) {
	ways, lock := c.set(h)
	e := &cacheEntry{hash: *h, rec: rec, fetched: now}
	lock.mu.Lock()
	defer lock.mu.Unlock()
	if lock.gen.Load() != gen {
		return
	}
	ways[c.victim(ways, h, now)].Store(e)
}

// victim picks the slot for h: its own, else an empty or stale one, else the
// oldest entry.
func (c *keyCache) victim(ways []atomic.Pointer[cacheEntry], h *keyHash, now int64) int {
	if i, _ := find(ways, h); i >= 0 {
		return i
	}
	oldest, oldestAt := 0, int64(0)
	for i := range ways {
		e := ways[i].Load()
		if e == nil || !c.fresh(e, now) {
			return i
		}
		if i == 0 || e.fetched < oldestAt {
			oldest, oldestAt = i, e.fetched
		}
	}
	return oldest
}

// remove drops h's entry, if any, without voiding fills in flight: the store
// no longer knows the key, and a stale record must not keep vouching for it.
func (c *keyCache) remove(h *keyHash) {
	ways, lock := c.set(h)
	lock.mu.Lock()
	defer lock.mu.Unlock()
	if i, _ := find(ways, h); i >= 0 {
		ways[i].Store(nil)
	}
}

// invalidate drops h's entry and voids every fill of its stripe in flight.
// The generation moves first, so a fill that checks it after the entry is
// gone cannot put it back.
func (c *keyCache) invalidate(h *keyHash) {
	_, lock := c.set(h)
	lock.gen.Add(1)
	c.remove(h)
}

// expireAll makes every entry stale as of now, and voids every fill in
// flight, as invalidate does for one key: changes made elsewhere may have
// been missed. A stale entry is read again at its key's next request, but
// still vouches for it while the store cannot be read (StaleIfError).
func (c *keyCache) expireAll(now int64) {
	for i := range c.locks {
		lock := &c.locks[i]
		lock.mu.Lock()
		lock.gen.Add(1)
		for s := uint64(i); s < c.sets; s += cacheLocks {
			ways := c.slots[s*cacheWays : (s+1)*cacheWays]
			for j := range ways {
				if e := ways[j].Load(); e != nil && c.fresh(e, now) {
					ways[j].Store(&cacheEntry{hash: e.hash, rec: e.rec, fetched: now - c.ttl})
				}
			}
		}
		lock.mu.Unlock()
	}
}

// len counts the verified keys cached now, by a pass over every slot: for
// Stats, not the request path.
func (c *keyCache) len() int {
	n := 0
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			n++
		}
	}
	return n
}
