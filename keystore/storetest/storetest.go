// Package storetest is the conformance suite of keystore.Store, in the
// manner of testing/fstest: a store passes Run, and the suite also checks
// each optional power (Rotator, BulkInserter, UsageStore, OnceUsageStore,
// OutcomeStore, AuditStore, CappedInserter) the store has.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) keystore.Store { return memstore.New() })
//	}
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

// Run checks the store open returns against the keystore contract, each
// case on a fresh, empty store, in parallel. open is called once per case,
// with that case's t; it registers its own cleanup.
func Run(t *testing.T, open func(t *testing.T) keystore.Store) {
	t.Helper()
	for _, c := range []struct {
		name string
		test func(t *testing.T, s keystore.Store)
	}{
		{"InsertAndLookup", testInsertAndLookup},
		{"NamesOf200CharactersInAnyScript", testLongNames},
		{"List", testList},
		{"ListFilters", testListFilters},
		{"Modify", testModify},
		{"ModifyFailingPersistsNothing", testModifyFailing},
		{"ModifyIsAtomic", testModifyIsAtomic},
		{"Delete", testDelete},
		{"Rotator", testRotator},
		{"ChainID", testChainID},
		{"BulkInserter", testBulkInserter},
		{"UsageStore", testUsage},
		{"UsageOfADeletedKeyIsDropped", testUsageOfDeletedKey},
		{"OnceUsageStore", testOnceUsage},
		{"OutcomeStore", testOutcomes},
		{"AuditStore", testAudit},
		{"AuditPrincipal", testAuditPrincipal},
		{"CappedInserter", testCappedInserter},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.test(t, open(t))
		})
	}
}

// base is the suite's now: microseconds set, as every store must keep them.
var base = time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)

// NewRecord returns a record with id, a random hash and display prefix,
// created at created and expiring at expires (nil: never), for tests of
// stores and of code built on them.
func NewRecord(t testing.TB, id string, created time.Time, expires *time.Time) *keystore.Record {
	t.Helper()
	var b [32]byte
	_, _ = rand.Read(b[:])
	return &keystore.Record{
		ID: id, Hash: hex.EncodeToString(b[:]), Prefix: "gk_" + hex.EncodeToString(b[:3]),
		Name: "n-" + id, Scopes: []string{"a:b"}, Metadata: map[string]any{"k": "v"},
		CreatedAt: created, ExpiresAt: expires,
	}
}

func insert(t *testing.T, s keystore.Store, recs ...*keystore.Record) {
	t.Helper()
	for _, r := range recs {
		if err := s.Insert(context.Background(), r); err != nil {
			t.Fatalf("insert %s: %v", r.ID, err)
		}
	}
}

func ids(recs []keystore.Record) string {
	out := make([]string, len(recs))
	for i := range recs {
		out[i] = recs[i].ID
	}
	return strings.Join(out, ",")
}

func testInsertAndLookup(t *testing.T, s keystore.Store) {
	ctx := context.Background()
	later := base.Add(time.Hour)
	active := NewRecord(t, "active", base, &later)
	active.Owner = "team"
	active.RateLimit = &keystore.Limit{Requests: 5, Per: "1s"}
	active.Quota = &keystore.Limit{Requests: 9, Per: "day"}
	active.AllowedIPs = []string{"10.0.0.0/8"}
	forever := NewRecord(t, "forever", base.Add(time.Second), nil)
	forever.Scopes, forever.Metadata = nil, nil
	insert(t, s, active, forever)

	dup := NewRecord(t, "dup", base, nil)
	dup.Hash = active.Hash
	if err := s.Insert(ctx, dup); err == nil {
		t.Fatal("a second key with the same hash was accepted")
	}
	if _, err := s.ByID(ctx, "dup"); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("the refused duplicate is there: %v", err)
	}
	if err := s.Insert(ctx, NewRecord(t, "active", base, nil)); err == nil {
		t.Fatal("a second key with the same id was accepted")
	}

	got, err := s.ByHash(ctx, active.Hash)
	if err != nil || got.ID != "active" || got.Name != "n-active" || got.Owner != "team" || got.Scopes[0] != "a:b" || got.Metadata["k"] != "v" ||
		*got.RateLimit != *active.RateLimit || *got.Quota != *active.Quota || got.AllowedIPs[0] != "10.0.0.0/8" || got.Prefix != active.Prefix {
		t.Fatalf("ByHash: %+v %v", got, err)
	}
	if !got.CreatedAt.Equal(base) || got.CreatedAt.Location() != time.UTC || !got.ExpiresAt.Equal(later) {
		t.Fatalf("times do not round-trip: created %v expires %v", got.CreatedAt, got.ExpiresAt)
	}
	g, err := s.ByID(ctx, "forever")
	if err != nil || g.ExpiresAt != nil || g.Hash != forever.Hash || g.RevokedAt != nil || g.RateLimit != nil || g.Quota != nil {
		t.Fatalf("ByID: %+v %v", g, err)
	}
	if g.Scopes == nil || len(g.Scopes) != 0 || g.Metadata == nil || len(g.Metadata) != 0 || g.AllowedIPs == nil {
		t.Fatalf("unset lists read as nil rather than empty: %+v", g)
	}
	for _, lookup := range []func() (*keystore.Record, error){
		func() (*keystore.Record, error) { return s.ByHash(ctx, strings.Repeat("0", 64)) },
		func() (*keystore.Record, error) { return s.ByID(ctx, "missing") },
	} {
		if _, err := lookup(); !errors.Is(err, keystore.ErrNotFound) {
			t.Fatalf("lookup of a missing key: %v, want ErrNotFound", err)
		}
	}
}

func testList(t *testing.T, s keystore.Store) {
	ctx := context.Background()
	now := base
	later, earlier := now.Add(time.Hour), now.Add(-time.Hour)
	active := NewRecord(t, "active", now, &later)
	expired := NewRecord(t, "expired", now.Add(time.Second), &earlier)
	revoked := NewRecord(t, "revoked", now.Add(2*time.Second), nil)
	at := now.Add(-time.Minute)
	revoked.RevokedAt = &at
	// A rotated key in its grace is what its expiry makes it; a plain
	// revocation ahead of now holds at once.
	grace := NewRecord(t, "grace", now.Add(3*time.Second), nil)
	grace.RevokedAt, grace.RotatedTo = &later, "next"
	graceExpired := NewRecord(t, "graceexpired", now.Add(4*time.Second), &earlier)
	graceExpired.RevokedAt, graceExpired.RotatedTo = &later, "next2"
	ahead := NewRecord(t, "ahead", now.Add(5*time.Second), nil)
	ahead.RevokedAt = &later
	insert(t, s, active, expired, revoked, grace, graceExpired, ahead)

	for _, tc := range []struct {
		status keystore.Status
		ids    string
	}{
		{"", "ahead,graceexpired,grace,revoked,expired,active"},
		{keystore.StatusActive, "grace,active"},
		{keystore.StatusExpired, "graceexpired,expired"},
		{keystore.StatusRevoked, "ahead,revoked"},
	} {
		recs, total, err := s.List(ctx, keystore.ListQuery{Status: tc.status, Now: now, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(recs); got != tc.ids || total != int64(len(recs)) {
			t.Fatalf("List(%q) = %s (total %d), want %s", tc.status, got, total, tc.ids)
		}
		for i := range recs {
			if st := recs[i].StatusAt(now); st != tc.status && tc.status != "" {
				t.Fatalf("List(%q) listed %s, whose StatusAt is %q", tc.status, recs[i].ID, st)
			}
		}
	}
	if recs, total, _ := s.List(ctx, keystore.ListQuery{Now: now, Limit: 2, Offset: 1}); ids(recs) != "graceexpired,grace" || total != 6 {
		t.Fatalf("paging: %s %d", ids(recs), total)
	}
	if recs, total, _ := s.List(ctx, keystore.ListQuery{Now: now, Limit: 2, Offset: 6}); len(recs) != 0 || total != 6 {
		t.Fatalf("past the end: %s %d", ids(recs), total)
	}
	if recs, _, _ := s.List(ctx, keystore.ListQuery{Now: later.Add(time.Second), Status: keystore.StatusRevoked, Limit: 10}); ids(recs) != "ahead,graceexpired,grace,revoked" {
		t.Fatalf("after the grace: %s", ids(recs))
	}
}

func testListFilters(t *testing.T, s keystore.Store) {
	ctx := context.Background()
	a := NewRecord(t, "a", base, nil)
	a.Owner, a.Name = "alice", "Billing Service"
	b := NewRecord(t, "b", base.Add(time.Second), nil)
	b.Owner, b.Name = "Alice", "billing_100%"
	c := NewRecord(t, "c", base.Add(2*time.Second), nil)
	c.Owner, c.Name = "bob", "search"
	insert(t, s, a, b, c)
	for _, tc := range []struct {
		q    keystore.ListQuery
		want string
	}{
		{keystore.ListQuery{Owner: "alice"}, "a"},
		{keystore.ListQuery{Owner: "Alice"}, "b"},
		{keystore.ListQuery{Prefix: c.Prefix}, "c"},
		{keystore.ListQuery{Name: "BILLING"}, "b,a"},
		{keystore.ListQuery{Name: "100%"}, "b"},
		{keystore.ListQuery{Name: "g_"}, "b"},
		{keystore.ListQuery{Name: "billing", Owner: "alice"}, "a"},
		{keystore.ListQuery{Name: "billing", Status: keystore.StatusExpired}, ""},
	} {
		tc.q.Now, tc.q.Limit = base, 10
		recs, total, err := s.List(ctx, tc.q)
		if err != nil || ids(recs) != tc.want || total != int64(len(recs)) {
			t.Errorf("List(%+v) = %s (total %d, %v), want %s", tc.q, ids(recs), total, err, tc.want)
		}
	}
}

func testModify(t *testing.T, s keystore.Store) {
	ctx := context.Background()
	r := NewRecord(t, "live", base, nil)
	insert(t, s, r)
	later := base.Add(time.Hour)
	got, err := s.Modify(ctx, "live", func(r *keystore.Record) (*keystore.Record, error) {
		r.Name, r.Owner, r.Scopes, r.ExpiresAt = "renamed", "o", []string{"x", "y"}, &later
		r.Metadata = map[string]any{"n": "1"}
		r.RateLimit, r.Quota, r.AllowedIPs = &keystore.Limit{Requests: 1, Per: "1m"}, &keystore.Limit{Requests: 2, Per: "month"}, []string{"::1/128"}
		r.ID, r.Hash, r.CreatedAt = "other", "other", later // not Modify's to change
		return r, nil
	})
	if err != nil || got.ID != "live" || got.Hash != r.Hash || !got.CreatedAt.Equal(base) || got.Name != "renamed" || !got.ExpiresAt.Equal(later) {
		t.Fatalf("Modify: %+v %v", got, err)
	}
	read, _ := s.ByID(ctx, "live")
	if read.Name != "renamed" || read.Owner != "o" || strings.Join(read.Scopes, ",") != "x,y" || read.Metadata["n"] != "1" ||
		read.RateLimit == nil || read.RateLimit.Per != "1m" || read.Quota == nil || read.Quota.Per != "month" || read.AllowedIPs[0] != "::1/128" {
		t.Fatalf("not persisted: %+v", read)
	}
	// Clearing, and writing what is there already (MySQL counts no changed
	// rows for it), are no conflicts.
	for range 2 {
		if _, err := s.Modify(ctx, "live", func(r *keystore.Record) (*keystore.Record, error) {
			r.ExpiresAt, r.RateLimit, r.Quota, r.AllowedIPs = nil, nil, nil, nil
			return r, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if read, _ := s.ByID(ctx, "live"); read.ExpiresAt != nil || read.RateLimit != nil || read.Quota != nil || len(read.AllowedIPs) != 0 {
		t.Fatalf("not cleared: %+v", read)
	}
	stop := base.Add(time.Minute)
	if got, err := s.Modify(ctx, "live", func(r *keystore.Record) (*keystore.Record, error) {
		r.RevokedAt, r.RotatedTo = &stop, "next"
		return r, nil
	}); err != nil || !got.RevokedAt.Equal(stop) || got.RotatedTo != "next" {
		t.Fatalf("revocation: %+v %v", got, err)
	}
	called := false
	if _, err := s.Modify(ctx, "missing", func(r *keystore.Record) (*keystore.Record, error) { called = true; return r, nil }); !errors.Is(err, keystore.ErrNotFound) || called {
		t.Fatalf("modifying a missing key: %v (fn called: %v), want ErrNotFound", err, called)
	}
}

// errRefused is a callback's own error, which Modify must return as it is.
var errRefused = errors.New("storetest: refused")

func testModifyFailing(t *testing.T, s keystore.Store) {
	ctx := context.Background()
	insert(t, s, NewRecord(t, "k", base, nil))
	_, err := s.Modify(ctx, "k", func(r *keystore.Record) (*keystore.Record, error) {
		r.Name = "changed"
		return r, errRefused
	})
	if err != errRefused { //nolint:errorlint // the contract: fn's error unchanged
		t.Fatalf("Modify returned %v, want fn's error itself", err)
	}
	if r, _ := s.ByID(ctx, "k"); r.Name != "n-k" {
		t.Fatalf("a failed Modify persisted %q", r.Name)
	}
}

func testModifyIsAtomic(t *testing.T, s keystore.Store) {
	ctx := context.Background()
	insert(t, s, NewRecord(t, "k", base, nil))
	const writers = 8
	errs := make(chan error, writers)
	for i := range writers {
		go func() {
			_, err := s.Modify(ctx, "k", func(r *keystore.Record) (*keystore.Record, error) {
				r.Scopes = append(r.Scopes, "s"+strconv.Itoa(i))
				return r, nil
			})
			errs <- err
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if r, _ := s.ByID(ctx, "k"); len(r.Scopes) != writers+1 {
		t.Fatalf("concurrent Modify lost updates: %v", r.Scopes)
	}
}

func testDelete(t *testing.T, s keystore.Store) {
	ctx := context.Background()
	r := NewRecord(t, "k", base, nil)
	insert(t, s, r, NewRecord(t, "kept", base, nil))
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "k"); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.ByHash(ctx, r.Hash); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("deleted key found by hash: %v", err)
	}
	if _, err := s.ByID(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
}

// testLongNames: a name and an owner may be 200 characters (the admin API's
// limit counts characters, not bytes), in any script: a store keeps 200
// two-, three- and four-byte characters whole.
func testLongNames(t *testing.T, s keystore.Store) {
	for i, text := range []string{strings.Repeat("é", 200), strings.Repeat("名", 200), strings.Repeat("😀", 200)} {
		r := NewRecord(t, fmt.Sprintf("long-%d", i), base, nil)
		r.Name, r.Owner = text, text
		insert(t, s, r)
		got, err := s.ByID(context.Background(), r.ID)
		if err != nil {
			t.Fatalf("200 × %q: %v", text[:len(text)/200], err)
		}
		if got.Name != text || got.Owner != text {
			t.Fatalf("200 × %q: read back a name of %d bytes and an owner of %d, want %d each", text[:len(text)/200], len(got.Name), len(got.Owner), len(text))
		}
	}
}
