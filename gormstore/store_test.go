package gormstore

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

// Counts of a key deleted before they were flushed leave no rows behind.
func TestUsageOfADeletedKeyIsDropped(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		for _, id := range []string{"kept", "gone"} {
			if err := s.Insert(ctx, testRecord(t, id, now, nil)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Delete(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
		batch := []keystore.UsageDelta{
			{KeyID: "gone", Day: "2026-11-25", Requests: 5, LastUsed: now},
			{KeyID: "kept", Day: "2026-11-25", Requests: 2, LastUsed: now},
		}
		if err := s.AddUsage(ctx, batch); err != nil {
			t.Fatal(err)
		}
		var rows int64
		if err := s.db.Table(s.usage).Where("key_id = ?", "gone").Count(&rows).Error; err != nil || rows != 0 {
			t.Fatalf("usage rows of the deleted key: %d (%v)", rows, err)
		}
		if total, _, err := s.Usage(ctx, "kept", "2000-01-01"); err != nil || total != 2 {
			t.Fatalf("usage of the kept key: %d (%v)", total, err)
		}
	})
}

// On the guard's own SQLite file the lookup on a cache miss skips GORM, and
// reads exactly what GORM reads: every column, set, unset, and a NULL
// created_at from a row written outside ginkey. A caller's *gorm.DB keeps
// GORM's path, so its plugins see the query.
func TestHashLookupReadsWhatGORMReads(t *testing.T) {
	t.Parallel()
	own, err := Open(context.Background(), filepath.Join(t.TempDir(), "own.db"), defaultPrefix, nil, nil)
	if err != nil || own.byHash == nil {
		t.Fatalf("no plain lookup on the store's own SQLite file (%v)", err)
	}
	t.Cleanup(func() { _ = own.Close() })
	if caller := newTestStore(t); caller.byHash != nil {
		t.Fatal("a caller's *gorm.DB was read around GORM")
	}

	s := newTestStore(t)
	ctx := context.Background()
	if s.byHash, err = newHashLookup(ctx, s.db, s.keys); err != nil {
		t.Fatalf("no plain lookup on SQLite: %v", err)
	}
	t.Cleanup(func() { _ = s.byHash.close() })
	now := time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)
	later := now.Add(time.Hour)
	full := testRecord(t, "full", now, &later)
	full.RateLimit = &keystore.Limit{Requests: 5, Per: "1s"}
	full.AllowedIPs = []string{"10.0.0.0/8"}
	full.Quota = &keystore.Limit{Requests: 9, Per: "day"}
	bare := testRecord(t, "bare", now, nil)
	bare.Scopes, bare.Metadata = nil, nil
	for _, r := range []*keystore.Record{full, bare} {
		if err := s.Insert(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	revoked := now.Add(time.Minute)
	if _, err := s.Modify(ctx, "full", func(r *keystore.Record) (*keystore.Record, error) { r.RevokedAt = &revoked; return r, nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUsage(ctx, []keystore.UsageDelta{{KeyID: "full", Day: "2026-11-25", Requests: 1, LastUsed: now}}); err != nil {
		t.Fatal(err)
	}
	outside := testRecord(t, "outside", now, nil)
	if err := s.db.Exec("INSERT INTO "+s.keys+" (id, hash, prefix, name, scopes, metadata) VALUES (?, ?, ?, ?, '[]', '{}')",
		outside.ID, outside.Hash, outside.Prefix, outside.Name).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range []*keystore.Record{full, bare, outside} {
		fast, err := s.byHash.find(ctx, r.Hash)
		if err != nil {
			t.Fatalf("plain lookup of %s: %v", r.ID, err)
		}
		slow, err := s.first(ctx, "hash = ?", r.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s: plain lookup\n%+v\nGORM\n%+v", r.ID, fast, slow)
		}
	}
	if fast, _ := s.byHash.find(ctx, full.Hash); fast.RevokedAt == nil || fast.LastUsedAt == nil || fast.RateLimit == nil {
		t.Fatalf("set columns read as unset: %+v", fast)
	}
	if _, err := s.byHash.find(ctx, strings.Repeat("0", 64)); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("missing hash: %v, want ErrNotFound", err)
	}
}
