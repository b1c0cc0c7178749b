package storetest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

func testRotator(t *testing.T, s keystore.Store) {
	r, ok := s.(keystore.Rotator)
	if !ok {
		t.Skip("not a keystore.Rotator")
	}
	ctx := context.Background()
	old := NewRecord(t, "old", base, nil)
	taken := NewRecord(t, "taken", base, nil)
	insert(t, s, old, taken)
	stop := base.Add(time.Hour)
	rotation := func(hash string) func(*keystore.Record) (*keystore.Record, *keystore.Record, error) {
		return func(o *keystore.Record) (*keystore.Record, *keystore.Record, error) {
			next := NewRecord(t, "next", base.Add(time.Second), nil)
			next.Hash, next.RotatedFrom = hash, o.ID
			changed := *o
			changed.RevokedAt, changed.RotatedTo = &stop, next.ID
			return &changed, next, nil
		}
	}
	// A successor that cannot be inserted (its hash is taken) leaves the
	// old key as it was: both or neither.
	if _, _, err := r.Rotate(ctx, "old", rotation(taken.Hash)); err == nil {
		t.Fatal("a successor with a taken hash was inserted")
	}
	if o, _ := s.ByID(ctx, "old"); o.RevokedAt != nil || o.RotatedTo != "" {
		t.Fatalf("a failed rotation changed the old key: %+v", o)
	}
	if _, _, err := r.Rotate(ctx, "old", func(*keystore.Record) (*keystore.Record, *keystore.Record, error) {
		return nil, nil, errRefused
	}); err != errRefused { //nolint:errorlint // the contract: fn's error unchanged
		t.Fatalf("Rotate returned %v, want fn's error itself", err)
	}
	if _, _, err := r.Rotate(ctx, "missing", rotation("x")); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("rotating a missing key: %v", err)
	}
	o, n, err := r.Rotate(ctx, "old", rotation(strings.Repeat("a", 64)))
	if err != nil || !o.RevokedAt.Equal(stop) || o.RotatedTo != "next" || n.ID != "next" || n.RotatedFrom != "old" {
		t.Fatalf("Rotate: %+v %+v %v", o, n, err)
	}
	if got, err := s.ByHash(ctx, strings.Repeat("a", 64)); err != nil || got.ID != "next" || got.RotatedFrom != "old" {
		t.Fatalf("successor: %+v %v", got, err)
	}
	if got, _ := s.ByID(ctx, "old"); !got.RevokedAt.Equal(stop) || got.RotatedTo != "next" {
		t.Fatalf("old key: %+v", got)
	}
}

func testBulkInserter(t *testing.T, s keystore.Store) {
	b, ok := s.(keystore.BulkInserter)
	if !ok {
		t.Skip("not a keystore.BulkInserter")
	}
	ctx := context.Background()
	recs := make([]keystore.Record, 3)
	for i := range recs {
		recs[i] = *NewRecord(t, "bulk"+strconv.Itoa(i), base.Add(time.Duration(i)*time.Second), nil)
	}
	if err := b.InsertBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.List(ctx, keystore.ListQuery{Now: base, Limit: 10}); ids(got) != "bulk2,bulk1,bulk0" {
		t.Fatalf("after InsertBatch: %s", ids(got))
	}
	dup := []keystore.Record{*NewRecord(t, "fresh", base, nil), recs[0]}
	if err := b.InsertBatch(ctx, dup); err == nil {
		t.Fatal("a batch with a duplicate was accepted")
	}
	if _, err := s.ByID(ctx, "fresh"); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("a failed batch inserted some of its keys: %v", err)
	}
}

func usageStore(t *testing.T, s keystore.Store) keystore.UsageStore {
	t.Helper()
	u, ok := s.(keystore.UsageStore)
	if !ok {
		t.Skip("not a keystore.UsageStore")
	}
	return u
}

func testUsage(t *testing.T, s keystore.Store) {
	u := usageStore(t, s)
	ctx := context.Background()
	later, earlier := base.Add(time.Hour), base.Add(-time.Hour)
	insert(t, s, NewRecord(t, "active", base, &later), NewRecord(t, "expired", base.Add(time.Second), &earlier),
		NewRecord(t, "forever", base.Add(2*time.Second), nil))
	t1, t2 := base.Add(time.Minute), base.Add(2*time.Minute)
	if err := u.AddUsage(ctx, []keystore.UsageDelta{{KeyID: "active", Day: "2026-11-24", Requests: 2, LastUsed: t1}, {KeyID: "active", Day: "2026-11-25", Requests: 3, LastUsed: t2}}); err != nil {
		t.Fatal(err)
	}
	if err := u.AddUsage(ctx, []keystore.UsageDelta{{KeyID: "active", Day: "2026-11-25", Requests: 4, LastUsed: t1}}); err != nil {
		t.Fatal(err)
	}
	total, daily, err := u.Usage(ctx, "active", "2026-11-25")
	if err != nil || total != 9 || len(daily) != 1 || daily[0].Requests != 7 || daily[0].Day != "2026-11-25" {
		t.Fatalf("Usage: %d %v %v", total, daily, err)
	}
	if _, daily, _ := u.Usage(ctx, "active", "2000-01-01"); len(daily) != 2 || daily[0].Day != "2026-11-24" {
		t.Fatalf("days out of order: %v", daily)
	}
	if g, _ := s.ByID(ctx, "active"); g.LastUsedAt == nil || !g.LastUsedAt.Equal(t2) {
		t.Fatalf("last_used_at went backwards or is missing: %v", g.LastUsedAt)
	}
	// Modify leaves LastUsedAt to the usage writes.
	if got, err := s.Modify(ctx, "active", func(r *keystore.Record) (*keystore.Record, error) { r.LastUsedAt = nil; return r, nil }); err != nil || got.LastUsedAt == nil {
		t.Fatalf("Modify cleared last_used_at: %+v %v", got, err)
	}
	sums, n, err := u.UsageSummaries(ctx, 10, 0)
	if err != nil || n != 3 || len(sums) != 3 || sums[0].ID != "forever" {
		t.Fatalf("UsageSummaries: %v %d %v", sums, n, err)
	}
	byID := map[string]int64{}
	for _, k := range sums {
		byID[k.ID] = k.Requests
	}
	if byID["active"] != 9 || byID["expired"] != 0 {
		t.Fatalf("summaries: %v", byID)
	}
	if page, n, _ := u.UsageSummaries(ctx, 1, 2); len(page) != 1 || page[0].ID != "active" || n != 3 || page[0].LastUsedAt == nil {
		t.Fatalf("summaries, page 3: %v %d", page, n)
	}
	if err := s.Delete(ctx, "active"); err != nil {
		t.Fatal(err)
	}
	if total, _, _ := u.Usage(ctx, "active", "2000-01-01"); total != 0 {
		t.Fatalf("usage survived the key's deletion: %d", total)
	}
}

// Counts of a key deleted before they were flushed are dropped.
func testUsageOfDeletedKey(t *testing.T, s keystore.Store) {
	u := usageStore(t, s)
	ctx := context.Background()
	insert(t, s, NewRecord(t, "kept", base, nil), NewRecord(t, "gone", base, nil))
	if err := s.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := u.AddUsage(ctx, []keystore.UsageDelta{
		{KeyID: "gone", Day: "2026-11-25", Requests: 5, LastUsed: base},
		{KeyID: "kept", Day: "2026-11-25", Requests: 2, LastUsed: base},
	}); err != nil {
		t.Fatal(err)
	}
	if total, _, err := u.Usage(ctx, "gone", "2000-01-01"); err != nil || total != 0 {
		t.Fatalf("usage of the deleted key: %d (%v)", total, err)
	}
	if total, _, err := u.Usage(ctx, "kept", "2000-01-01"); err != nil || total != 2 {
		t.Fatalf("usage of the kept key: %d (%v)", total, err)
	}
}

// A batch sent again under its sequence number is not counted again; later
// ones are, and each instance has its own numbers.
func testOnceUsage(t *testing.T, s keystore.Store) {
	o, ok := s.(keystore.OnceUsageStore)
	if !ok {
		t.Skip("not a keystore.OnceUsageStore")
	}
	ApplyOnce(t, s, o)
}

// ApplyOnce checks an OnceUsageStore s on the key "once", which it
// inserts: for stores opened in ways Run does not cover (a MySQL DSN
// counting found rows, say).
func ApplyOnce(t *testing.T, s keystore.Store, o keystore.OnceUsageStore) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	insert(t, s, NewRecord(t, "once", now, nil))
	batch := func(n int64) []keystore.UsageDelta {
		return []keystore.UsageDelta{{KeyID: "once", Day: "2026-11-25", Requests: n, LastUsed: now}}
	}
	for _, step := range []struct {
		instance string
		seq, n   int64
	}{
		{"a", 1, 10}, {"a", 1, 10}, // the same batch again: a no-op
		{"a", 2, 5}, {"a", 1, 10}, {"a", 2, 5}, // older numbers too
		{"b", 1, 7}, // another instance's own numbering
	} {
		if err := o.AddUsageOnce(ctx, step.instance, step.seq, batch(step.n)); err != nil {
			t.Fatal(err)
		}
	}
	total, _, err := usageStore(t, s).Usage(ctx, "once", "2026-11-01")
	if err != nil || total != 22 {
		t.Fatalf("total %d (%v), want 10+5+7 = 22", total, err)
	}
}

func testOutcomes(t *testing.T, s keystore.Store) {
	o, ok := s.(keystore.OutcomeStore)
	if !ok {
		t.Skip("not a keystore.OutcomeStore")
	}
	u := usageStore(t, s)
	ctx := context.Background()
	insert(t, s, NewRecord(t, "k", base, nil), NewRecord(t, "quiet", base, nil))
	if err := u.AddUsage(ctx, []keystore.UsageDelta{
		{KeyID: "k", Day: "2026-11-24", Refused: map[string]int64{"expired": 2}},
		{KeyID: "k", Day: "2026-11-25", Requests: 1, LastUsed: base, Refused: map[string]int64{"expired": 1, "rate_limited": 3}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := u.AddUsage(ctx, []keystore.UsageDelta{{KeyID: "k", Day: "2026-11-25", Refused: map[string]int64{"rate_limited": 1}}}); err != nil {
		t.Fatal(err)
	}
	totals, daily, err := o.Outcomes(ctx, "k", "2026-11-25")
	if err != nil || totals["expired"] != 3 || totals["rate_limited"] != 4 || len(daily) != 1 || daily["2026-11-25"]["rate_limited"] != 4 {
		t.Fatalf("Outcomes: %v %v %v", totals, daily, err)
	}
	if total, _, _ := u.Usage(ctx, "k", "2000-01-01"); total != 1 {
		t.Fatalf("refusals counted as requests: %d", total)
	}
	all, err := o.RefusalTotals(ctx, []string{"k", "quiet"})
	if err != nil || all["k"]["expired"] != 3 || all["quiet"] != nil {
		t.Fatalf("RefusalTotals: %v %v", all, err)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if totals, _, _ := o.Outcomes(ctx, "k", "2000-01-01"); len(totals) != 0 {
		t.Fatalf("refusals survived the key's deletion: %v", totals)
	}
}

func testAudit(t *testing.T, s keystore.Store) {
	a, ok := s.(keystore.AuditStore)
	if !ok {
		t.Skip("not a keystore.AuditStore")
	}
	ctx := context.Background()
	entries := []keystore.AuditEntry{
		{Time: base, Action: "create", KeyID: "k1", Actor: "go", Fields: []string{"name", "scopes"}, Outcome: "ok", Count: 1},
		{Time: base.Add(time.Second), Action: "revoke", KeyID: "k1", Actor: "http:10.0.0.1", Fields: []string{}, Outcome: "ok", Count: 1},
		{Time: base.Add(time.Second), Action: "auth_failed", Actor: "http:10.0.0.2", Outcome: "admin_unauthorized", Count: 50},
		{Time: base.Add(2 * time.Second), Action: "delete", KeyID: "k2", Actor: "cli:bob", Outcome: "not_found", Count: 1},
	}
	if err := a.AddAudit(ctx, entries); err != nil {
		t.Fatal(err)
	}
	got, total, err := a.Audit(ctx, keystore.AuditQuery{Limit: 50})
	if err != nil || total != 4 || len(got) != 4 {
		t.Fatalf("Audit: %d of %d, %v", len(got), total, err)
	}
	// Newest first; one time: the later-written first.
	if got[0].KeyID != "k2" || got[1].Action != "auth_failed" || got[3].Action != "create" ||
		!got[3].Time.Equal(base) || got[3].Time.Location() != time.UTC ||
		!slices.Equal(got[3].Fields, []string{"name", "scopes"}) || got[1].Count != 50 || got[2].Actor != "http:10.0.0.1" ||
		got[1].Fields == nil || len(got[1].Fields) != 0 || got[0].ID <= got[3].ID {
		t.Fatalf("Audit: %+v", got)
	}
	for _, c := range []struct {
		q    keystore.AuditQuery
		want int64
	}{
		{keystore.AuditQuery{KeyID: "k1"}, 2},
		{keystore.AuditQuery{Action: "auth_failed"}, 1},
		{keystore.AuditQuery{Since: base.Add(time.Second)}, 3},
		{keystore.AuditQuery{KeyID: "k1", Since: base.Add(time.Second)}, 1},
	} {
		c.q.Limit = 1
		got, total, err := a.Audit(ctx, c.q)
		if err != nil || total != c.want || len(got) != 1 {
			t.Errorf("Audit(%+v): %d of %d, %v; want 1 of %d", c.q, len(got), total, err, c.want)
		}
	}
	n, err := a.PruneAudit(ctx, base.Add(2*time.Second), 2)
	if err != nil || n != 2 {
		t.Fatalf("PruneAudit, limit 2: %d, %v", n, err)
	}
	if n, err = a.PruneAudit(ctx, base.Add(2*time.Second), 2); err != nil || n != 1 {
		t.Fatalf("PruneAudit again: %d, %v", n, err)
	}
	if _, total, _ := a.Audit(ctx, keystore.AuditQuery{Limit: 50}); total != 1 {
		t.Fatalf("%d entries left, want 1", total)
	}
}

// testAuditPrincipal checks that an entry's principal comes back as
// written: none, each of ginkey's forms, and the longest (200 bytes).
func testAuditPrincipal(t *testing.T, s keystore.Store) {
	a, ok := s.(keystore.AuditStore)
	if !ok {
		t.Skip("not a keystore.AuditStore")
	}
	ctx := context.Background()
	principals := []string{"", "secret", "key:3uV8rKQ0mZ1bXy7wE2tLp4", "basic:alice", "app:ops@example.com", "app:" + strings.Repeat("é", 98)}
	var entries []keystore.AuditEntry
	for i, p := range principals {
		entries = append(entries, keystore.AuditEntry{
			Time: base.Add(time.Duration(i) * time.Second), Action: "update", KeyID: "k" + strconv.Itoa(i),
			Actor: "http:10.0.0.1", Principal: p, Fields: []string{}, Outcome: "ok", Count: 1,
		})
	}
	if err := a.AddAudit(ctx, entries); err != nil {
		t.Fatal(err)
	}
	got, _, err := a.Audit(ctx, keystore.AuditQuery{Limit: 50})
	if err != nil || len(got) != len(principals) {
		t.Fatalf("Audit: %d entries, %v", len(got), err)
	}
	for i, e := range got { // newest first
		if want := principals[len(principals)-1-i]; e.Principal != want || e.Actor != "http:10.0.0.1" {
			t.Errorf("entry %s: principal %q, actor %q; want %q", e.KeyID, e.Principal, e.Actor, want)
		}
	}
}
