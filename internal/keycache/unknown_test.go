package keycache

import (
	"strconv"
	"testing"
)

func TestUnknownKeysTableEvictsStaleThenOldestEntries(t *testing.T) {
	t.Parallel()
	u := NewUnknown(1, 100) // one set of Ways slots
	if len(u.slots) != Ways {
		t.Fatalf("capacity %d, want %d", len(u.slots), Ways)
	}
	tags := make([]uint64, Ways+2)
	for i := range tags {
		tags[i] = u.Tag("unknown-" + strconv.Itoa(i))
	}
	u.Put(tags[0], 0) // stale by the time the set fills
	for i := 1; i < Ways; i++ {
		u.Put(tags[i], int64(50+i))
	}
	u.Put(tags[Ways], 120) // the set is full: the stale entry goes
	if u.Has(tags[0], 120) {
		t.Fatal("the stale entry survived")
	}
	for i := 1; i <= Ways; i++ {
		if !u.Has(tags[i], 120) {
			t.Fatalf("fresh entry %d was evicted instead of the stale one", i)
		}
	}
	u.Put(tags[Ways+1], 121) // all fresh: the oldest (put at 51) goes
	if u.Has(tags[1], 121) || !u.Has(tags[Ways+1], 121) || !u.Has(tags[2], 121) {
		t.Fatal("with every entry fresh, the oldest was not the one replaced")
	}
}

func TestUnknownKeyEntryAgesOutAfterTTL(t *testing.T) {
	t.Parallel()
	u := NewUnknown(10, 100)
	tag := u.Tag("k")
	u.Put(tag, 1000)
	for _, tc := range []struct {
		now  int64
		want bool
	}{{1000, true}, {1099, true}, {1100, false}, {999, false}} {
		if got := u.Has(tag, tc.now); got != tc.want {
			t.Errorf("has at %d: %v, want %v", tc.now, got, tc.want)
		}
	}
	if u.Has(u.Tag("other"), 1000) {
		t.Error("a key never put is reported unknown")
	}
	u.Put(tag, 5000) // the same key again takes its own slot
	n := 0
	for i := range u.slots {
		if u.slots[i].tag.Load() == tag {
			n++
		}
	}
	if n != 1 || !u.Has(tag, 5050) {
		t.Fatalf("re-put: %d slots hold the tag, fresh=%v", n, u.Has(tag, 5050))
	}
}
