package gormstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

// SQLite keeps no statistics, so its plans are fixed by the indexes alone:
// every query the request path and the listing run must search an index,
// never scan the table.
func TestLookupsCountsAndPagesReadIndexes(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	now := time.Now().UTC()
	for _, tc := range []struct {
		name, sql string
		args      []any
		want      string
	}{
		{"lookup by hash", "SELECT * FROM ginkey_keys WHERE hash = ? LIMIT 1", []any{"x"}, "USING INDEX ginkey_keys_hash_idx"},
		{"lookup by id", "SELECT * FROM ginkey_keys WHERE id = ? LIMIT 1", []any{"x"}, "USING INDEX sqlite_autoindex_ginkey_keys_1"},
		{"count all", "SELECT COUNT(*) FROM ginkey_keys", nil, "USING COVERING INDEX"},
		{"count revoked", "SELECT COUNT(*) FROM ginkey_keys WHERE revoked_at IS NOT NULL", nil, "COVERING INDEX ginkey_keys_status_idx"},
		{"count expired", "SELECT COUNT(*) FROM ginkey_keys WHERE revoked_at IS NULL AND expires_at <= ?", []any{now}, "COVERING INDEX ginkey_keys_status_idx"},
		{"newest page", "SELECT * FROM ginkey_keys INDEXED BY ginkey_keys_created_idx ORDER BY created_at DESC, id LIMIT 50", nil, "SCAN ginkey_keys USING INDEX ginkey_keys_created_idx"},
	} {
		var plan []struct{ Detail string }
		if err := s.db.Raw("EXPLAIN QUERY PLAN "+tc.sql, tc.args...).Scan(&plan).Error; err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var all []string
		for _, p := range plan {
			all = append(all, p.Detail)
		}
		got := strings.Join(all, "; ")
		if !strings.Contains(got, tc.want) || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("%s: plan %q, want %q and no sort", tc.name, got, tc.want)
		}
	}
}

func TestListingPicksTheIndexThatReadsFewerRows(t *testing.T) {
	t.Parallel()
	s := &Store{}
	for _, tc := range []struct {
		status        keystore.Status
		offset, limit int
		all, matching int64
		want          string
	}{
		{"", 0, 50, 1_000_000, 1_000_000, createdIndex},
		{"", 900_000, 50, 1_000_000, 1_000_000, createdIndex},
		{keystore.StatusActive, 0, 50, 1_000_000, 999_000, createdIndex},
		{keystore.StatusRevoked, 0, 50, 1_000_000, 20, statusIndex},
		{keystore.StatusExpired, 0, 50, 1_000_000, 500_000, createdIndex},
		{keystore.StatusActive, 0, 50, 1_000_000, 100, statusIndex},
	} {
		if got := s.listIndex(keystore.ListQuery{Status: tc.status, Offset: tc.offset, Limit: tc.limit}, tc.all, tc.matching); got != tc.want {
			t.Errorf("%q offset %d of %d/%d: %s, want %s", tc.status, tc.offset, tc.matching, tc.all, got, tc.want)
		}
	}
}

func TestMigrationReplacesTheSingleColumnTimeIndexes(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	for _, sql := range []string{ // the schema before the million-key work
		"DROP INDEX ginkey_keys_created_idx", "DROP INDEX ginkey_keys_status_idx",
		"CREATE INDEX ginkey_keys_created_at_idx ON ginkey_keys (created_at)",
		"CREATE INDEX ginkey_keys_expires_at_idx ON ginkey_keys (expires_at)",
		"CREATE INDEX ginkey_keys_revoked_at_idx ON ginkey_keys (revoked_at)",
	} {
		if err := s.db.Exec(sql).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := s.migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := s.db.Migrator()
	for _, name := range []string{"created_at_idx", "expires_at_idx", "revoked_at_idx"} {
		if m.HasIndex(s.keys, s.keys+"_"+name) {
			t.Errorf("old index %s is still there", name)
		}
	}
	for _, name := range []string{createdIndex, statusIndex, "hash_idx"} {
		if !m.HasIndex(s.keys, s.keys+"_"+name) {
			t.Errorf("index %s is missing", name)
		}
	}
}
