package ginkey

import (
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"testing"
	"time"
)

func testHash(i int) keyHash {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i)) //nolint:gosec // test data
	return sha256.Sum256(b[:])
}

func cachedEntries(c *keyCache) int {
	n := 0
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			n++
		}
	}
	return n
}

func TestCacheNeverHoldsMoreThanItsBound(t *testing.T) {
	t.Parallel()
	c := newKeyCache(100, int64(time.Hour))
	if c.capacity() != 104 {
		t.Fatalf("capacity %d, want 100 rounded up to a multiple of %d", c.capacity(), cacheWays)
	}
	for i := range 10_000 {
		h := testHash(i)
		_, _, gen := c.get(&h, 1)
		c.put(&h, &Record{}, 1, gen)
	}
	if n := cachedEntries(c); n != c.capacity() {
		t.Fatalf("%d entries after 10,000 puts, want exactly %d", n, c.capacity())
	}
}

func TestCacheEntryIsStaleAfterTTL(t *testing.T) {
	t.Parallel()
	c := newKeyCache(10, 100)
	h := testHash(1)
	rec := &Record{}
	c.put(&h, rec, 1000, 0)
	for _, tc := range []struct {
		now  int64
		want bool
	}{{1000, true}, {1099, true}, {1100, false}, {999, false}} {
		got, ok, _ := c.get(&h, tc.now)
		if ok != tc.want || (ok && got != rec) {
			t.Errorf("get at %d: ok=%v, want %v", tc.now, ok, tc.want)
		}
	}
}

func TestCacheInvalidateVoidsAFillStartedBeforeIt(t *testing.T) {
	t.Parallel()
	c := newKeyCache(10, int64(time.Hour))
	h := testHash(1)
	_, ok, gen := c.get(&h, 1)
	if ok {
		t.Fatal("hit in an empty cache")
	}
	c.invalidate(&h) // a revoke lands while the store read is in flight
	c.put(&h, &Record{}, 1, gen)
	if _, ok, _ := c.get(&h, 2); ok {
		t.Fatal("a record read before the invalidation was cached after it")
	}
	_, _, gen = c.get(&h, 2)
	c.put(&h, &Record{}, 2, gen)
	if _, ok, _ := c.get(&h, 3); !ok {
		t.Fatal("a fill started after the invalidation was dropped")
	}
}

func TestUnknownKeysAreEvictedBeforeVerifiedOnes(t *testing.T) {
	t.Parallel()
	c := newKeyCache(cacheWays, int64(time.Hour)) // one set
	for i := range cacheWays - 1 {
		h := testHash(i)
		c.put(&h, &Record{}, int64(i+1), 0)
	}
	for i := range 100 { // a flood of unknown keys
		h := testHash(1000 + i)
		c.put(&h, nil, int64(100+i), 0)
	}
	for i := range cacheWays - 1 {
		h := testHash(i)
		if rec, ok, _ := c.get(&h, 200); !ok || rec == nil {
			t.Fatalf("verified key %d was evicted by unknown keys", i)
		}
	}
}

// Two guards on one database stand for two processes: a change made through
// one reaches the other within CacheTTL, and not through a stale cache after.
func TestChangesFromAnotherProcessAreSeenWithinCacheTTL(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	a := newHarness(t, func(c *Config) { c.Now = clock.Now })
	b := &harness{t: t, dbPath: a.dbPath, logs: &syncBuffer{}}
	b.start(Config{DBPath: a.dbPath, AdminSecret: testSecret, Logger: slogDiscard(), LookupEnv: noEnv, Now: clock.Now})

	k := a.createKey(`{}`)
	if w := b.secure(k.Secret); w.Code != http.StatusOK {
		t.Fatalf("key created by the other guard: %d %s", w.Code, w.Body)
	}
	if w := a.admin(http.MethodPost, "/keys/"+k.ID+"/revoke", ""); w.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	wantError(t, a.secure(k.Secret), http.StatusUnauthorized, "key_revoked") // this guard: at once
	if w := b.secure(k.Secret); w.Code != http.StatusOK {
		t.Fatalf("within CacheTTL the other guard may still serve its cached record; got %d", w.Code)
	}
	clock.Advance(DefaultCacheTTL)
	wantError(t, b.secure(k.Secret), http.StatusUnauthorized, "key_revoked")
}
