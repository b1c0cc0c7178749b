package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

// testChainID checks that a record's rotation chain is kept as given by
// every read, left alone by a Modify that does not touch it, and written
// for the successor of a Rotate; a record without one reads "" and is its
// own chain.
func testChainID(t *testing.T, s keystore.Store) {
	ctx := context.Background()
	first := NewRecord(t, "first", base, nil)
	second := NewRecord(t, "second", base.Add(time.Second), nil)
	second.RotatedFrom, second.ChainID = "first", "first"
	insert(t, s, first, second)
	check := func(what string, r *keystore.Record, err error, want string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if r.ChainID != want {
			t.Fatalf("%s: chain %q, want %q", what, r.ChainID, want)
		}
	}
	r, err := s.ByID(ctx, "first")
	check("ByID of a key no rotation created", r, err, "")
	if r.Chain() != "first" {
		t.Fatalf("Chain() of a key without ChainID is %q, want its own id", r.Chain())
	}
	r, err = s.ByID(ctx, "second")
	check("ByID", r, err, "first")
	r, err = s.ByHash(ctx, second.Hash)
	check("ByHash", r, err, "first")
	page, _, err := s.List(ctx, keystore.ListQuery{Now: base, Limit: 10})
	if err != nil || len(page) != 2 || page[0].ID != "second" || page[0].ChainID != "first" || page[1].ChainID != "" {
		t.Fatalf("List: %+v %v", page, err)
	}
	r, err = s.Modify(ctx, "second", func(r *keystore.Record) (*keystore.Record, error) { r.Name = "renamed"; return r, nil })
	check("Modify leaving it alone", r, err, "first")
	r, err = s.ByID(ctx, "second")
	check("ByID after Modify", r, err, "first")
	r, err = s.Modify(ctx, "first", func(r *keystore.Record) (*keystore.Record, error) { r.ChainID = "elsewhere"; return r, nil })
	check("Modify setting it", r, err, "elsewhere")
	r, err = s.ByID(ctx, "first")
	check("ByID after setting it", r, err, "elsewhere")

	rot, ok := s.(keystore.Rotator)
	if !ok {
		t.Log("not checked: the chain of Rotate's successor (the store is no keystore.Rotator)")
		return
	}
	_, next, err := rot.Rotate(ctx, "second", func(o *keystore.Record) (*keystore.Record, *keystore.Record, error) {
		n := NewRecord(t, "third", base.Add(2*time.Second), nil)
		n.RotatedFrom, n.ChainID = o.ID, o.Chain()
		changed := *o
		stop := base.Add(time.Hour)
		changed.RevokedAt, changed.RotatedTo = &stop, n.ID
		return &changed, n, nil
	})
	check("Rotate's successor", next, err, "first")
	r, err = s.ByID(ctx, "third")
	check("ByID of Rotate's successor", r, err, "first")
	r, err = s.ByID(ctx, "second")
	check("ByID of the rotated key", r, err, "first")
}
