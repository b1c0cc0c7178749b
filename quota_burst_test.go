package ginkey

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
)

// slowUsage is a store whose usage reads take 50 ms, as a loaded database's.
type slowUsage struct{ *testkit.FailingStore }

func (s slowUsage) Usage(ctx context.Context, id, since string) (int64, []keystore.DayCount, error) {
	time.Sleep(50 * time.Millisecond)
	return s.FailingStore.Usage(ctx, id, since)
}

// TestABurstAtAPeriodsStartGetsNoMoreThanTheQuota: 20 requests at once,
// each finding the key's count for the day unread, each reading the usage:
// one is let through under a quota of 1 (all 20 were, each read setting
// the count back to what the store held).
func TestABurstAtAPeriodsStartGetsNoMoreThanTheQuota(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.Store = slowUsage{newFailingStore(t)} })
	k := h.createKey(`{"quota":{"requests":1,"per":"day"}}`)
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if w := h.Secure(k.Secret); w.Code == 200 {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if n := admitted.Load(); n != 1 {
		t.Fatalf("a quota of 1 let %d of 20 simultaneous first requests through", n)
	}
}
