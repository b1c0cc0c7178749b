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
