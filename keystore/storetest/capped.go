package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

// testCappedInserter checks what counts toward an owner's cap, that a
// refused insert inserts nothing, and that concurrent inserts for one owner
// never pass the cap.
func testCappedInserter(t *testing.T, s keystore.Store) {
	c, ok := s.(keystore.CappedInserter)
	if !ok {
		t.Skip("not a keystore.CappedInserter")
	}
	ctx := context.Background()
	now := base
	later, earlier, soon := now.Add(time.Hour), now.Add(-time.Hour), now.Add(time.Minute)
	owned := func(id string, expires *time.Time) *keystore.Record {
		r := NewRecord(t, id, now, expires)
		r.Owner = "alice"
		return r
	}
	// None of these count: expired, revoked, rotated (in its grace),
	// another owner's, an owner whose name differs only in case.
	expired := owned("expired", &earlier)
	revoked := owned("revoked", nil)
	revoked.RevokedAt = &earlier
	rotated := owned("rotated", nil)
	rotated.RevokedAt, rotated.RotatedTo = &later, "successor"
	bob := NewRecord(t, "bob", now, nil)
	bob.Owner = "bob"
	upper := NewRecord(t, "upper", now, nil)
	upper.Owner = "Alice"
	insert(t, s, expired, revoked, rotated, bob, upper)

	for i, r := range []*keystore.Record{owned("one", &soon), owned("two", nil)} {
		if err := c.InsertCapped(ctx, r, 2, now); err != nil {
			t.Fatalf("insert %d of 2: %v", i+1, err)
		}
	}
	if err := c.InsertCapped(ctx, owned("three", nil), 2, now); !errors.Is(err, keystore.ErrOwnerFull) {
		t.Fatalf("the third insert under a cap of 2: %v, want ErrOwnerFull", err)
	}
	if _, err := s.ByID(ctx, "three"); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("a refused insert was stored: %v", err)
	}
	// Once "one" has expired, it no longer counts.
	if err := c.InsertCapped(ctx, owned("three", nil), 2, soon); err != nil {
		t.Fatalf("insert after a key expired: %v", err)
	}
	if got, err := s.ByID(ctx, "three"); err != nil || got.Owner != "alice" {
		t.Fatalf("capped insert: %+v %v", got, err)
	}

	// Twenty at once under a cap of 5: exactly five. carol has one key
	// already, so a store's per-owner lock (if it keeps one) exists before
	// the race, and the race is over the count, not over creating the lock.
	first := NewRecord(t, "race-first", now, nil)
	first.Owner = "carol"
	if err := c.InsertCapped(ctx, first, 5, now); err != nil {
		t.Fatal(err)
	}
	const racers, limit = 20, 5
	var (
		wg           sync.WaitGroup
		mu           sync.Mutex
		stored, full int
		others       []error
		start        = make(chan struct{})
	)
	for i := range racers {
		wg.Go(func() {
			<-start
			r := NewRecord(t, "race"+strconv.Itoa(i), now, nil)
			r.Owner = "carol"
			err := c.InsertCapped(ctx, r, limit, now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				stored++
			case errors.Is(err, keystore.ErrOwnerFull):
				full++
			default:
				others = append(others, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if stored != limit-1 || full != racers-limit+1 || len(others) > 0 {
		t.Fatalf("%d concurrent inserts under a cap of %d, one key stored before: %d stored, %d refused as full, other errors %v", racers, limit, stored, full, others)
	}
	if _, total, err := s.List(ctx, keystore.ListQuery{Owner: "carol", Now: now, Limit: 50}); err != nil || total != limit {
		t.Fatalf("carol has %d keys (%v), want %d", total, err, limit)
	}
}
