package limits

import (
	"testing"
	"time"
)

func TestQuotaCounterStaysWithinItsBound(t *testing.T) {
	t.Parallel()
	q := NewQuotas(64, time.Second)
	for i := range 10_000 {
		q.Set(string(rune('a'+i%26))+string(rune(i)), "day", 0, 1, 0, 0)
	}
	n := 0
	for i := range q.shards {
		n += len(q.shards[i].m)
	}
	if n > 64 {
		t.Fatalf("quota counter holds %d keys, bound 64", n)
	}
}

// TestAReadDoesNotUndoTheTakesOfItsPeers: two requests find a key's count
// unread; the first sets it and takes the only request of the period; the
// second's read, as old as the first's, must not set the count back.
func TestAReadDoesNotUndoTheTakesOfItsPeers(t *testing.T) {
	q := NewQuotas(100, time.Minute)
	const start, end, now = 0, int64(24 * time.Hour), int64(time.Hour)
	for range 2 {
		if v, _, _ := q.Take("k", "day", 1, now); v != Unread {
			t.Fatalf("first take: %v, want Unread", v)
		}
	}
	q.Set("k", "day", start, end, 0, now)
	if v, _, _ := q.Take("k", "day", 1, now); v != Taken {
		t.Fatalf("after the first read: %v, want Taken", v)
	}
	q.Set("k", "day", start, end, 0, now) // the second request's read
	if v, _, _ := q.Take("k", "day", 1, now); v != Exhausted {
		t.Fatalf("after the second read: %v, want Exhausted (the first request's take undone)", v)
	}
	// A later read that sees more (other instances) raises the count.
	q.Set("k", "day", start, end, 5, now)
	if v, _, _ := q.Take("k", "day", 5, now); v != Exhausted {
		t.Fatalf("after a read of 5: %v, want Exhausted under a quota of 5", v)
	}
}
