package ginkey

import (
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"strconv"
	"sync"
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
	if len(c.slots) != 104 {
		t.Fatalf("capacity %d, want 100 rounded up to a multiple of %d", len(c.slots), cacheWays)
	}
	for i := range 10_000 {
		h := testHash(i)
		_, _, gen := c.get(&h, 1)
		c.put(&h, &Record{}, 1, gen)
	}
	if n := cachedEntries(c); n != len(c.slots) {
		t.Fatalf("%d entries after 10,000 puts, want exactly %d", n, len(c.slots))
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

func TestUnknownKeysTableEvictsStaleThenOldestEntries(t *testing.T) {
	t.Parallel()
	u := newUnknownKeys(1, 100) // one set of cacheWays slots
	if len(u.slots) != cacheWays {
		t.Fatalf("capacity %d, want %d", len(u.slots), cacheWays)
	}
	tags := make([]uint64, cacheWays+2)
	for i := range tags {
		tags[i] = u.tag("unknown-" + strconv.Itoa(i))
	}
	u.put(tags[0], 0) // stale by the time the set fills
	for i := 1; i < cacheWays; i++ {
		u.put(tags[i], int64(50+i))
	}
	u.put(tags[cacheWays], 120) // the set is full: the stale entry goes
	if u.has(tags[0], 120) {
		t.Fatal("the stale entry survived")
	}
	for i := 1; i <= cacheWays; i++ {
		if !u.has(tags[i], 120) {
			t.Fatalf("fresh entry %d was evicted instead of the stale one", i)
		}
	}
	u.put(tags[cacheWays+1], 121) // all fresh: the oldest (put at 51) goes
	if u.has(tags[1], 121) || !u.has(tags[cacheWays+1], 121) || !u.has(tags[2], 121) {
		t.Fatal("with every entry fresh, the oldest was not the one replaced")
	}
}

func TestUnknownKeyEntryAgesOutAfterTTL(t *testing.T) {
	t.Parallel()
	u := newUnknownKeys(10, 100)
	tag := u.tag("k")
	u.put(tag, 1000)
	for _, tc := range []struct {
		now  int64
		want bool
	}{{1000, true}, {1099, true}, {1100, false}, {999, false}} {
		if got := u.has(tag, tc.now); got != tc.want {
			t.Errorf("has at %d: %v, want %v", tc.now, got, tc.want)
		}
	}
	if u.has(u.tag("other"), 1000) {
		t.Error("a key never put is reported unknown")
	}
	u.put(tag, 5000) // the same key again takes its own slot
	n := 0
	for i := range u.slots {
		if u.slots[i].tag.Load() == tag {
			n++
		}
	}
	if n != 1 || !u.has(tag, 5050) {
		t.Fatalf("re-put: %d slots hold the tag, fresh=%v", n, u.has(tag, 5050))
	}
}

// A repeated unknown key is answered from memory. And however many unknown
// keys arrive, a cache full of verified keys keeps every one: unknown keys
// live in their own table. (When they shared the cache, the oldest verified
// key of a full set made way for them.)
func TestUnknownKeysNeitherReachTheStoreTwiceNorEvictVerifiedKeys(t *testing.T) {
	t.Parallel()
	clock := newFakeClock() // a stalled test machine must not age entries out
	h, st := newCountingHarness(t, func(c *Config) { c.CacheSize = cacheWays; c.FailureLimit = -1; c.Now = clock.Now })
	good := make([]CreatedKey, cacheWays) // the cache's one set, full
	for i := range good {
		good[i] = h.createKey(`{}`)
		wantOK(t, h.secure(good[i].Secret), good[i].ID)
	}

	unknown := unknownKey(t, h)
	wantError(t, h.secure(unknown), http.StatusUnauthorized, "key_invalid")
	lookups := st.byHash.Load()
	for range 10 {
		wantError(t, h.secure(unknown), http.StatusUnauthorized, "key_invalid")
	}
	if n := st.byHash.Load() - lookups; n != 0 {
		t.Fatalf("a repeated unknown key reached the store %d more times", n)
	}

	for range 200 {
		wantError(t, h.secure(unknownKey(t, h)), http.StatusUnauthorized, "key_invalid")
	}
	lookups = st.byHash.Load()
	for _, k := range good {
		wantOK(t, h.secure(k.Secret), k.ID)
	}
	if n := st.byHash.Load() - lookups; n != 0 {
		t.Fatalf("after 200 unknown keys, %d verified keys were read from the store again", n)
	}
}

// twoProcesses is two guards on one SQLite file, standing for two processes,
// on one settable clock.
func twoProcesses(t *testing.T) (a, b *harness, clock *fakeClock) {
	t.Helper()
	clock = newFakeClock()
	a = newHarness(t, func(c *Config) { c.Now = clock.Now })
	b = &harness{t: t, dbPath: a.dbPath, logs: &syncBuffer{}}
	b.start(Config{DBPath: a.dbPath, AdminSecret: testSecret, Logger: slogDiscard(), LookupEnv: noEnv, Now: clock.Now})
	return a, b, clock
}

// A key deleted by another instance loses its cached record once this guard
// learns of it: a stale record must not keep letting the key skip the
// failure throttle as a "known" key.
func TestAKeyDeletedElsewhereLeavesTheCache(t *testing.T) {
	t.Parallel()
	a, b, clock := twoProcesses(t)

	k := a.createKey(`{}`)
	wantOK(t, a.secure(k.Secret), k.ID)
	if w := b.admin(http.MethodDelete, "/keys/"+k.ID, ""); w.Code != http.StatusNoContent && w.Code != http.StatusOK {
		t.Fatalf("delete through the other guard: %d %s", w.Code, w.Body)
	}
	clock.Advance(DefaultCacheTTL)
	wantError(t, a.secure(k.Secret), http.StatusUnauthorized, "key_invalid")
	hash := hashKey(k.Secret)
	if rec, _, _ := a.guard.cache.get(&hash, clock.Now().UnixNano()); rec != nil {
		t.Fatal("the deleted key's record is still cached")
	}
}

// Two guards on one database stand for two processes: a change made through
// one reaches the other within CacheTTL, and not through a stale cache after.
func TestChangesFromAnotherProcessAreSeenWithinCacheTTL(t *testing.T) {
	t.Parallel()
	a, b, clock := twoProcesses(t)

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

// A reader must get the record of the key it asked for, even while writers
// replace and remove the entries of its set. Reading a slot again after
// matching it once could return another key's record, or none.
func TestCacheNeverReturnsAnotherKeysRecordUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	c := newKeyCache(cacheWays, int64(time.Hour)) // one set: every key competes for it
	const keys = 3 * cacheWays
	hashes := make([]keyHash, keys)
	recs := make([]*Record, keys)
	for i := range hashes {
		hashes[i] = testHash(i)
		recs[i] = &Record{Hash: strconv.Itoa(i)}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := i % keys
				c.put(&hashes[k], recs[k], int64(i), 0)
				if i%3 == 0 {
					c.remove(&hashes[(k+5)%keys])
				}
			}
		})
	}
	wrong := 0
	deadline := time.Now().Add(300 * time.Millisecond)
	for n := 0; time.Now().Before(deadline); n++ {
		k := n % keys
		if rec, _, _ := c.get(&hashes[k], int64(n)); rec != nil && rec != recs[k] {
			wrong++
		}
	}
	close(stop)
	wg.Wait()
	if wrong > 0 {
		t.Fatalf("%d lookups returned another key's record", wrong)
	}
}
