package gormstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ginkey/ginkey/keystore"
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
