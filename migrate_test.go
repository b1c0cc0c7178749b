package ginkey

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// coreKeyRow is keyRow as the core release created it, before the
// authorization columns.
type coreKeyRow struct {
	ID         string `gorm:"primaryKey;size:32"`
	Hash       string `gorm:"size:64;not null"`
	Prefix     string `gorm:"size:32;not null"`
	Name       string `gorm:"size:200;not null"`
	Scopes     string `gorm:"type:text;not null"`
	Metadata   string `gorm:"type:text;not null"`
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

func TestADatabaseFromTheCoreReleaseIsMigratedAndItsKeysKeepWorking(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := gorm.Open(sqlite.Open(path), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Table("ginkey_keys").AutoMigrate(&coreKeyRow{}); err != nil {
		t.Fatal(err)
	}
	f, _ := newKeyFormat("")
	secret, display, err := f.generate()
	if err != nil {
		t.Fatal(err)
	}
	h := hashKey(secret)
	row := coreKeyRow{ID: "oldkey0000000000000000", Hash: h.String(), Prefix: display, Name: "old", Scopes: `["items:read"]`, Metadata: `{}`, CreatedAt: time.Now().UTC()}
	if err := db.Table("ginkey_keys").Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}

	hs := newHarness(t, func(c *Config) { c.DBPath = path })
	hs.route("GET", "/items", hs.guard.Require("items:read"))
	wantOK(t, hs.get("10.0.0.1:1", "/items", secret), row.ID)
	var got Key
	decode(t, hs.admin("GET", "/keys/"+row.ID, ""), &got)
	if got.RateLimit != nil || got.Quota != nil || got.AllowedIPs == nil || len(got.AllowedIPs) != 0 {
		t.Fatalf("old key = %+v", got)
	}
	if w := hs.admin("PATCH", "/keys/"+row.ID, `{"allowed_ips":["192.168.0.0/16"]}`); w.Code != 200 {
		t.Fatalf("PATCH: %d %s", w.Code, w.Body)
	}
	wantError(t, hs.get("10.0.0.1:1", "/items", secret), 403, "ip_not_allowed")
}

// TestStoreConformanceAuthzFields runs the authorization columns through
// every store of the conformance suite: insert, read back, set, clear.
func TestStoreConformanceAuthzFields(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *gormStore) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		r := testRecord(t, "limited", now, nil)
		r.RateLimit = &RateLimit{Requests: 5, Per: PerSecond}
		r.AllowedIPs = []string{"10.0.0.0/8", "2001:db8::/32"}
		r.Quota = &Quota{Requests: 1000, Per: PerMonth}
		plain := testRecord(t, "plain", now, nil)
		for _, rec := range []*Record{r, plain} {
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
		upd, err := s.Update(ctx, "plain", Changes{
			AllowedIPs: &ips, SetRateLimit: true, RateLimit: &RateLimit{Requests: 9, Per: PerHour},
			SetQuota: true, Quota: &Quota{Requests: 3, Per: PerDay},
		})
		if err != nil || upd.RateLimit.Requests != 9 || upd.Quota.Per != PerDay || !slices.Equal(upd.AllowedIPs, ips) {
			t.Fatalf("set: %+v %v", upd, err)
		}
		none := []string{}
		upd, err = s.Update(ctx, "limited", Changes{AllowedIPs: &none, SetRateLimit: true, SetQuota: true})
		if err != nil || upd.RateLimit != nil || upd.Quota != nil || len(upd.AllowedIPs) != 0 || upd.Name != "n-limited" {
			t.Fatalf("clear: %+v %v", upd, err)
		}
	})
}
