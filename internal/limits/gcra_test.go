package limits

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
)

// defaultSize is the root's defaultCacheSize, what a guard's own limiter
// holds by default.
const defaultSize = 100_000

func TestMemoryLimiterStaysWithinItsBound(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock()
	l := NewMemoryLimiter(64, clock.Now)
	for i := range 10_000 {
		if d, _ := l.Allow(context.Background(), "k"+strconv.Itoa(i), 1, time.Hour); !d.Allowed {
			t.Fatalf("fresh key %d refused", i)
		}
	}
	n := 0
	for i := range l.shards {
		n += len(l.shards[i].cells)
	}
	if n > 64+mapShards {
		t.Fatalf("limiter holds %d keys, bound 64", n)
	}
	// A key that is tracked keeps its state.
	d, _ := l.Allow(context.Background(), "k9999", 1, time.Hour)
	if d.Allowed {
		t.Fatal("the latest key lost its state")
	}
}

func TestMemoryLimiterIsExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock()
	l := NewMemoryLimiter(defaultSize, clock.Now)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				d, _ := l.Allow(context.Background(), "k", 50, time.Minute)
				if d.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 50 {
		t.Fatalf("%d of 800 concurrent requests allowed, want exactly 50", allowed)
	}
}

func TestClockSteppingBackCostsAtMostOneInterval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.NewClock()
	l := NewMemoryLimiter(defaultSize, clock.Now)
	for range 10 {
		if d, _ := l.Allow(ctx, "k", 10, time.Second); !d.Allowed {
			t.Fatal("refused within the allowance")
		}
	}
	clock.Advance(-time.Hour)
	d, _ := l.Allow(ctx, "k", 10, time.Second)
	if d.Allowed || d.RetryAfter > 100*time.Millisecond {
		t.Fatalf("after a 1h step back with the allowance spent: %+v, want refused for at most 100ms", d)
	}
	clock.Advance(100 * time.Millisecond)
	if d, _ := l.Allow(ctx, "k", 10, time.Second); !d.Allowed {
		t.Fatalf("one interval after a 1h step back: refused, RetryAfter %v", d.RetryAfter)
	}
	if d, _ := l.Allow(ctx, "k", 10, time.Second); d.Allowed {
		t.Fatal("a second request in the same interval was allowed")
	}
}

func TestFullLimiterEvictsTheKeyThatOwesLeast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.NewClock()
	l := NewMemoryLimiter(4*mapShards, clock.Now) // 4 keys per shard
	const heavy = "heavy"
	if d, _ := l.Allow(ctx, heavy, 1, time.Hour); !d.Allowed {
		t.Fatal("first request refused")
	}
	// Fill heavy's shard, over and over, with keys that owe little.
	for i, n := 0, 0; n < 40; i++ {
		id := "light" + strconv.Itoa(i)
		if shardOf(id)%mapShards != shardOf(heavy)%mapShards {
			continue
		}
		n++
		if _, err := l.Allow(ctx, id, 10, time.Second); err != nil {
			t.Fatal(err)
		}
		if d, _ := l.Allow(ctx, heavy, 1, time.Hour); d.Allowed {
			t.Fatalf("after %d keys passed through its shard, a key limited to 1/h got a second request", n)
		}
	}
}
