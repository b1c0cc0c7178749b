package ginkey

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
)

// Found by the Swagger UI browser test under -race: a drain that met an
// empty shard ranged over the shard's live map after unlocking it.
func TestDrainRacesWithRecordOnEmptyShards(t *testing.T) {
	t.Parallel()
	r := &usageRecorder{}
	r.init(1 << 20)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range 2000 {
			r.record("k", int64(i))
		}
	}()
	total := int64(0)
	go func() {
		defer wg.Done()
		for range 2000 {
			for _, d := range r.drain() {
				total += d.Requests
			}
		}
	}()
	wg.Wait()
	for _, d := range r.drain() {
		total += d.Requests
	}
	if total != 2000 {
		t.Fatalf("counted %d requests, want 2000", total)
	}
}

// While the store fails, a full recorder must not turn every request into a
// flush attempt (and an error log line): retries wait for the ticker.
func TestFailingFlushesRetryOnTheTickerNotOnEveryKick(t *testing.T) {
	t.Parallel()
	st := newFailingStore(t)
	st.FailWith(errors.New("usage table unavailable"), testkit.OpAddUsage)
	h := newHarness(t, func(c *Config) { c.Store = st; c.FlushInterval = time.Hour; c.StoreTimeout = 100 * time.Millisecond })
	k := h.createKey(`{}`)
	h.Secure(k.Secret)
	kick := func() {
		select {
		case h.Guard.usage.kick <- struct{}{}:
		default:
		}
	}
	kick()
	deadline := time.Now().Add(5 * time.Second)
	for st.Calls(testkit.OpAddUsage) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the kick did not start a flush")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 50 {
		kick()
		time.Sleep(4 * time.Millisecond)
	}
	if n := st.Calls(testkit.OpAddUsage); n != 1 {
		t.Fatalf("%d flush attempts after a failure within one FlushInterval, want 1", n)
	}
	if err := h.Guard.Close(); err == nil { // its final flush fails too, and says so
		t.Fatal("Close hid the failed flush")
	}
	// Close retries for 5 x StoreTimeout, half a second apart at most.
	if n := st.Calls(testkit.OpAddUsage) - 1; n < 2 || n > 5 {
		t.Fatalf("Close made %d attempts, want a bounded retry (2 to 5 in 500 ms)", n)
	}
}
