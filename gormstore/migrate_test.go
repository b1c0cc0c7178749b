package gormstore

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ginkey/ginkey/keystore"
	"gorm.io/gorm"
)

// TestStoreConformanceAuthzFields runs the authorization columns through
// every store of the conformance suite: insert, read back, set, clear.
func TestStoreConformanceAuthzFields(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		r := testRecord(t, "limited", now, nil)
		r.RateLimit = &keystore.Limit{Requests: 5, Per: "1s"}
		r.AllowedIPs = []string{"10.0.0.0/8", "2001:db8::/32"}
		r.Quota = &keystore.Limit{Requests: 1000, Per: "month"}
		plain := testRecord(t, "plain", now, nil)
		for _, rec := range []*keystore.Record{r, plain} {
			if err := s.Insert(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ByHash(ctx, r.Hash)
		if err != nil || *got.RateLimit != *r.RateLimit || *got.Quota != *r.Quota || !slices.Equal(got.AllowedIPs, r.AllowedIPs) {
			t.Fatalf("round trip: %+v %v", got, err)
		}
		if got, err := s.ByID(ctx, "plain"); err != nil || got.RateLimit != nil || got.Quota != nil || got.AllowedIPs == nil || len(got.AllowedIPs) != 0 {
			t.Fatalf("a key without limits: %+v %v", got, err)
		}
		ips := []string{"127.0.0.1"}
		upd, err := s.Modify(ctx, "plain", func(r *keystore.Record) (*keystore.Record, error) {
			r.AllowedIPs, r.RateLimit, r.Quota = ips, &keystore.Limit{Requests: 9, Per: "1h"}, &keystore.Limit{Requests: 3, Per: "day"}
			return r, nil
		})
		if err != nil || upd.RateLimit.Requests != 9 || upd.Quota.Per != "day" || !slices.Equal(upd.AllowedIPs, ips) {
			t.Fatalf("set: %+v %v", upd, err)
		}
		upd, err = s.Modify(ctx, "limited", func(r *keystore.Record) (*keystore.Record, error) {
			r.AllowedIPs, r.RateLimit, r.Quota = []string{}, nil, nil
			return r, nil
		})
		if err != nil || upd.RateLimit != nil || upd.Quota != nil || len(upd.AllowedIPs) != 0 || upd.Name != "n-limited" {
			t.Fatalf("clear: %+v %v", upd, err)
		}
	})
}

// TestMigrationAddsTheChainColumnToAPopulatedTable starts on keys stored
// before rotation chains were recorded: the column is added, the keys
// already there read as their own chain, and a rotated-in key's chain is
// written and read back, on every dialect.
func TestMigrationAddsTheChainColumnToAPopulatedTable(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, db *gorm.DB, prefix string) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		old, next := testRecord(t, "old", now, nil), testRecord(t, "next", now, nil)
		next.RotatedFrom = "old"
		// The table as it was, with the two keys in it.
		table := prefix + "keys"
		if err := db.Table(table).AutoMigrate(keyRowBeforeChains(t, nil)); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*keystore.Record{old, next} {
			if err := db.Table(table).Create(keyRowBeforeChains(t, r)).Error; err != nil {
				t.Fatal(err)
			}
		}
		s := onDB(t, db, prefix)
		if !db.Migrator().HasColumn(table, "chain_id") {
			t.Fatal("the start did not add chain_id")
		}
		for _, id := range []string{"old", "next"} {
			if r, err := s.ByID(ctx, id); err != nil || r.ChainID != "" || r.Chain() != id {
				t.Fatalf("%s after the migration: %+v (%v), want its own id as its chain", id, r, err)
			}
		}
		_, n, err := s.Rotate(ctx, "next", func(o *keystore.Record) (*keystore.Record, *keystore.Record, error) {
			n := testRecord(t, "third", now, nil)
			n.RotatedFrom, n.ChainID = o.ID, o.Chain()
			changed := *o
			changed.RevokedAt, changed.RotatedTo = &now, n.ID
			return &changed, n, nil
		})
		if err != nil || n.ChainID != "next" {
			t.Fatalf("rotation after the migration: %+v %v", n, err)
		}
		if r, err := s.ByHash(ctx, n.Hash); err != nil || r.ChainID != "next" {
			t.Fatalf("the successor read back: %+v %v", r, err)
		}
	})
}

// keyRowBeforeChains is r (nil: an empty row) as a keys row of the shape
// before the chain_id column.
func keyRowBeforeChains(t *testing.T, r *keystore.Record) any {
	t.Helper()
	var row keyRow
	if r != nil {
		var err error
		if row, err = toRow(r); err != nil {
			t.Fatal(err)
		}
	}
	var fields []reflect.StructField
	for f := range reflect.TypeFor[keyRow]().Fields() {
		if f.Name != "ChainID" {
			fields = append(fields, f)
		}
	}
	out := reflect.New(reflect.StructOf(fields))
	for _, f := range fields {
		out.Elem().FieldByName(f.Name).Set(reflect.ValueOf(row).FieldByName(f.Name))
	}
	return out.Interface()
}
