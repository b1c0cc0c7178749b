package ginkey

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/keystore"
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

// failingUsage is a store whose usage writes always fail.
type failingUsage struct {
	*gormstore.Store
	calls atomic.Int64
}

func (f *failingUsage) AddUsage(context.Context, []keystore.UsageDelta) error {
	f.calls.Add(1)
	return errors.New("usage table unavailable")
}

func (f *failingUsage) AddUsageOnce(ctx context.Context, _ string, _ int64, batch []keystore.UsageDelta) error {
	return f.AddUsage(ctx, batch)
}

// While the store fails, a full recorder must not turn every request into a
// flush attempt (and an error log line): retries wait for the ticker.
func TestFailingFlushesRetryOnTheTickerNotOnEveryKick(t *testing.T) {
	t.Parallel()
	st := &failingUsage{Store: newTestGormStore(t)}
	h := newHarness(t, func(c *Config) { c.Store = st; c.FlushInterval = time.Hour; c.StoreTimeout = 100 * time.Millisecond })
	k := h.createKey(`{}`)
	h.secure(k.Secret)
	kick := func() {
		select {
		case h.guard.usage.kick <- struct{}{}:
		default:
		}
	}
	kick()
	deadline := time.Now().Add(5 * time.Second)
	for st.calls.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the kick did not start a flush")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 50 {
		kick()
		time.Sleep(4 * time.Millisecond)
	}
	if n := st.calls.Load(); n != 1 {
		t.Fatalf("%d flush attempts after a failure within one FlushInterval, want 1", n)
	}
	if err := h.guard.Close(); err == nil { // its final flush fails too, and says so
		t.Fatal("Close hid the failed flush")
	}
	// Close retries for 5 x StoreTimeout, half a second apart at most.
	if n := st.calls.Load() - 1; n < 2 || n > 5 {
		t.Fatalf("Close made %d attempts, want a bounded retry (2 to 5 in 500 ms)", n)
	}
}
