package ginkey

import "sync"

const cacheShards = 32

// keyCache maps key hashes to records for a bounded time and a bounded number
// of entries. A nil record is a negative entry: a well-formed key the store
// does not know. Entries are immutable once stored; a change made through the
// guard drops the entry, a change made elsewhere is seen once ttl has passed.
type keyCache struct {
	shards   [cacheShards]cacheShard
	perShard int
	ttl      int64 // nanoseconds
}

type cacheShard struct {
	mu  sync.RWMutex
	m   map[keyHash]cacheEntry
	gen uint64 // bumped by invalidate; a put that began before it is dropped
}

type cacheEntry struct {
	rec     *Record
	fetched int64 // unix nanoseconds
}

// newKeyCache returns nil when size <= 0: caching is then off.
func newKeyCache(size int, ttlNanos int64) *keyCache {
	if size <= 0 || ttlNanos <= 0 {
		return nil
	}
	c := &keyCache{perShard: max(1, (size+cacheShards-1)/cacheShards), ttl: ttlNanos}
	for i := range c.shards {
		c.shards[i].m = make(map[keyHash]cacheEntry)
	}
	return c
}

func (c *keyCache) shard(h *keyHash) *cacheShard { return &c.shards[h[0]%cacheShards] }

// get returns the cached record (nil for a negative entry) and whether a fresh
// entry exists. On a miss, gen is the token to hand to put.
func (c *keyCache) get(h *keyHash, now int64) (rec *Record, ok bool, gen uint64) {
	s := c.shard(h)
	s.mu.RLock()
	e, found := s.m[*h]
	gen = s.gen
	s.mu.RUnlock()
	if !found || now-e.fetched >= c.ttl || now < e.fetched {
		return nil, false, gen
	}
	return e.rec, true, gen
}

// put stores rec unless the shard was invalidated since the get that
// returned gen: a record read from the store before a revoke must not be
// cached after it.
func (c *keyCache) put(h *keyHash, rec *Record, now int64, gen uint64) {
	s := c.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return
	}
	if _, exists := s.m[*h]; !exists && len(s.m) >= c.perShard {
		c.evictLocked(s, now)
	}
	s.m[*h] = cacheEntry{rec: rec, fetched: now}
}

// evictLocked drops stale entries, or failing that one arbitrary entry, so
// the shard stays within its bound whatever clients send.
func (c *keyCache) evictLocked(s *cacheShard, now int64) {
	dropped := false
	n := 0
	for h, e := range s.m {
		if now-e.fetched >= c.ttl {
			delete(s.m, h)
			dropped = true
		}
		if n++; n >= 64 {
			break
		}
	}
	if dropped {
		return
	}
	for h := range s.m {
		delete(s.m, h)
		return
	}
}

func (c *keyCache) invalidate(h *keyHash) {
	s := c.shard(h)
	s.mu.Lock()
	delete(s.m, *h)
	s.gen++
	s.mu.Unlock()
}
