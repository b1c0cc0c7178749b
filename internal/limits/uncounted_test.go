package limits

import (
	"strconv"
	"testing"
)

func TestUncountedKeysAreTakenOnceAndBounded(t *testing.T) {
	t.Parallel()
	u := NewUncounted(2)
	if _, ok := u.Take("a"); ok {
		t.Fatal("empty: took a key")
	}
	u.Add("a", 1)
	u.Add("a", 2) // the latest period
	u.Add("b", 1)
	for i := range 3 {
		u.Add("c"+strconv.Itoa(i), 1) // no room
	}
	if p, ok := u.Take("a"); !ok || p != 2 {
		t.Fatalf("a: %d %v, want period 2", p, ok)
	}
	if _, ok := u.Take("a"); ok {
		t.Fatal("a taken twice")
	}
	if _, ok := u.Take("c0"); ok || u.Dropped() != 3 {
		t.Fatalf("over the bound: kept c0 %v, dropped %d, want 3", ok, u.Dropped())
	}
	u.Add("d", 1) // room again
	if _, ok := u.Take("d"); !ok {
		t.Fatal("d not kept after a take made room")
	}
}
