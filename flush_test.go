package ginkey

import (
	"sync"
	"testing"
	"time"
)

// TestAFlushDoesNotRaceTheQuotaReadsOfItsBatch: quota reads and Stats walk
// the batch being written while the store writes it; the GORM store sorts
// its batch. Under -race this failed with the store sorting the guard's
// own slice (insertionSortCmpFunc against unsentBatch.count).
func TestAFlushDoesNotRaceTheQuotaReadsOfItsBatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) {
		c.CacheTTL = time.Millisecond
		c.FlushInterval = time.Millisecond
	})
	var keys []string
	for range 6 {
		keys = append(keys, h.createKey(`{"quota":{"requests":100000000,"per":"day"}}`).Secret)
	}
	deadline := time.Now().Add(time.Second)
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if w := h.Secure(k); w.Code != 200 {
					t.Errorf("%d %s", w.Code, w.Body)
					return
				}
			}
		})
	}
	wg.Wait()
}
