package limiter

import (
	"context"
	"testing"
	"time"
)

func TestMemoryLimiterSpendsAndRefusesWithRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	var l Limiter = NewMemoryLimiter(0, func() time.Time { return now })
	ctx := context.Background()
	for i := range 2 {
		d, err := l.Allow(ctx, "k", 2, time.Minute)
		if err != nil || !d.Allowed || d.Limit != 2 || d.Remaining != int64(1-i) {
			t.Fatalf("request %d: %+v, %v; want allowed, %d remaining", i+1, d, err, 1-i)
		}
	}
	d, err := l.Allow(ctx, "k", 2, time.Minute)
	if err != nil || d.Allowed || d.RetryAfter != 30*time.Second {
		t.Fatalf("third request: %+v, %v; want refused, retry after 30s", d, err)
	}
	if d, _ := l.Allow(ctx, "other", 2, time.Minute); !d.Allowed {
		t.Fatal("another key shares k's allowance")
	}
}

func TestMemoryLimiterWithoutALimitAllowsAll(t *testing.T) {
	t.Parallel()
	l := NewMemoryLimiter(-1, nil)
	for range 3 {
		if d, err := l.Allow(context.Background(), "k", 0, time.Minute); err != nil || !d.Allowed {
			t.Fatalf("no limit: %+v, %v", d, err)
		}
	}
}
