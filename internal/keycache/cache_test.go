package keycache

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type record struct{ id string }

func testHash(i int) Hash {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i)) //nolint:gosec // test data
	return sha256.Sum256(b[:])
}

func cachedEntries(c *Cache[*record]) int {
	n := 0
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			n++
		}
	}
	return n
}

// get is Get returning the record, as the tests read it.
func get(c *Cache[*record], h *Hash, now int64) (rec *record, fresh bool, gen uint64) {
	e, fresh, gen := c.Get(h, now)
	if e == nil {
		return nil, false, gen
	}
	return e.Val, fresh, gen
}

func TestCacheNeverHoldsMoreThanItsBound(t *testing.T) {
	t.Parallel()
	c := NewCache[*record](100, int64(time.Hour))
	if len(c.slots) != 104 {
		t.Fatalf("capacity %d, want 100 rounded up to a multiple of %d", len(c.slots), Ways)
	}
	for i := range 10_000 {
		h := testHash(i)
		_, _, gen := get(c, &h, 1)
		c.Put(&h, &record{}, 1, gen)
	}
	if n := cachedEntries(c); n != len(c.slots) {
		t.Fatalf("%d entries after 10,000 puts, want exactly %d", n, len(c.slots))
	}
}

func TestCacheEntryIsStaleAfterTTL(t *testing.T) {
	t.Parallel()
	c := NewCache[*record](10, 100)
	h := testHash(1)
	rec := &record{}
	c.Put(&h, rec, 1000, 0)
	for _, tc := range []struct {
		now  int64
		want bool
	}{{1000, true}, {1099, true}, {1100, false}, {999, false}} {
		got, ok, _ := get(c, &h, tc.now)
		if ok != tc.want || (ok && got != rec) {
			t.Errorf("get at %d: ok=%v, want %v", tc.now, ok, tc.want)
		}
	}
}

func TestCacheInvalidateVoidsAFillStartedBeforeIt(t *testing.T) {
	t.Parallel()
	c := NewCache[*record](10, int64(time.Hour))
	h := testHash(1)
	_, ok, gen := get(c, &h, 1)
	if ok {
		t.Fatal("hit in an empty cache")
	}
	c.Invalidate(&h) // a revoke lands while the store read is in flight
	c.Put(&h, &record{}, 1, gen)
	if _, ok, _ := get(c, &h, 2); ok {
		t.Fatal("a record read before the invalidation was cached after it")
	}
	_, _, gen = get(c, &h, 2)
	c.Put(&h, &record{}, 2, gen)
	if _, ok, _ := get(c, &h, 3); !ok {
		t.Fatal("a fill started after the invalidation was dropped")
	}
}

// A reader must get the record of the key it asked for, even while writers
// replace and remove the entries of its set. Reading a slot again after
// matching it once could return another key's record, or none.
func TestCacheNeverReturnsAnotherKeysRecordUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	c := NewCache[*record](Ways, int64(time.Hour)) // one set: every key competes for it
	const keys = 3 * Ways
	hashes := make([]Hash, keys)
	recs := make([]*record, keys)
	for i := range hashes {
		hashes[i] = testHash(i)
		recs[i] = &record{id: strconv.Itoa(i)}
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
				c.Put(&hashes[k], recs[k], int64(i), 0)
				if i%3 == 0 {
					c.Remove(&hashes[(k+5)%keys])
				}
			}
		})
	}
	wrong := 0
	deadline := time.Now().Add(300 * time.Millisecond)
	for n := 0; time.Now().Before(deadline); n++ {
		k := n % keys
		if rec, _, _ := get(c, &hashes[k], int64(n)); rec != nil && rec != recs[k] {
			wrong++
		}
	}
	close(stop)
	wg.Wait()
	if wrong > 0 {
		t.Fatalf("%d lookups returned another key's record", wrong)
	}
}

func TestExpiringTheCacheMakesEveryEntryStaleAndVoidsFillsInFlight(t *testing.T) {
	t.Parallel()
	const ttl = int64(time.Hour)
	c := NewCache[*record](256, ttl)
	var hashes []Hash
	for i := range 100 {
		h := sha256.Sum256([]byte("key" + strings.Repeat("x", i)))
		_, _, gen := get(c, &h, 1)
		c.Put(&h, &record{}, 1, gen)
		hashes = append(hashes, h)
	}
	late := sha256.Sum256([]byte("in flight"))
	_, _, gen := get(c, &late, 1)
	c.ExpireAll(2)
	c.Put(&late, &record{}, 2, gen) // read before, landing after
	if rec, _, _ := get(c, &late, 2); rec != nil {
		t.Fatal("a fill begun before expireAll was cached")
	}
	kept := 0
	for i := range hashes {
		rec, fresh, _ := get(c, &hashes[i], 2)
		if fresh {
			t.Fatal("an entry is still fresh")
		}
		if rec != nil {
			kept++
		}
	}
	if kept == 0 {
		t.Fatal("no stale entry kept for StaleIfError")
	}
	_, _, gen = get(c, &hashes[0], 3)
	c.Put(&hashes[0], &record{}, 3, gen)
	if _, fresh, _ := get(c, &hashes[0], 3); !fresh {
		t.Fatal("a fill begun after expireAll was dropped")
	}
}
