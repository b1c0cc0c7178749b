package ginkey

import (
	"sync"
	"testing"
)

// Found by the Swagger UI browser test under -race: a drain that met an
// empty shard ranged over the shard's live map after unlocking it.
func TestDrainRacesWithRecordOnEmptyShards(t *testing.T) {
	t.Parallel()
	r := newUsageRecorder(1 << 20)
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
