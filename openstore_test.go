package ginkey

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/internal/testkit"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// TestTwoGuardsOnOnePostgresShareKeys is the multi-instance shape: a key
// created on one instance works on the other, and a revoke on one is seen by
// the other at once, announced by NOTIFY; a change the other does not hear
// of (made to the table directly) is seen within CacheTTL.
func TestTwoGuardsOnOnePostgresShareKeys(t *testing.T) {
	t.Parallel()
	db, prefix := testkit.OpenPostgres(t)
	clock := newFakeClock()
	mod := func(c *Config) { c.DB = db; c.TablePrefix = prefix; c.Now = clock.Now }
	a, b := newHarness(t, mod), newHarness(t, mod)
	waitSubscribed(t, b.Guard, 1)
	k := a.createKey(`{"name":"shared"}`)
	if w := b.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("key from instance a on b: %d %s", w.Code, w.Body)
	}
	if w := a.Admin("POST", "/keys/"+k.ID+"/revoke", ""); w.Code != 200 {
		t.Fatal(w.Body)
	}
	testkit.WantError(t, a.Secure(k.Secret), 401, "key_revoked")
	waitStatus(t, b, k.Secret, 401, "revoke")

	unheard := a.createKey(`{"name":"changed behind ginkey's back"}`)
	if w := b.Secure(unheard.Secret); w.Code != 200 {
		t.Fatalf("key from instance a on b: %d %s", w.Code, w.Body)
	}
	if err := db.Table(prefix+"keys").Where("id = ?", unheard.ID).Update("revoked_at", clock.Now()).Error; err != nil {
		t.Fatal(err)
	}
	if w := b.Secure(unheard.Secret); w.Code != 200 {
		t.Fatalf("within CacheTTL instance b may still serve its cached record; got %d", w.Code)
	}
	clock.Advance(defaultCacheTTL)
	testkit.WantError(t, b.Secure(unheard.Secret), 401, "key_revoked")
}

func TestSQLiteOpenedByGuardUsesWAL(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	var mode string
	if err := h.Guard.store.(*gormstore.Store).DB().Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
	var timeout int
	if err := h.Guard.store.(*gormstore.Store).DB().Raw("PRAGMA busy_timeout").Scan(&timeout).Error; err != nil || timeout < 1000 {
		t.Fatalf("busy_timeout = %d (%v)", timeout, err)
	}
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
	hs.Route("GET", "/items", hs.Guard.Require("items:read"))
	testkit.WantOK(t, hs.Get("10.0.0.1:1", "/items", secret), row.ID)
	var got Key
	testkit.Decode(t, hs.Admin("GET", "/keys/"+row.ID, ""), &got)
	if got.RateLimit != nil || got.Quota != nil || got.AllowedIPs == nil || len(got.AllowedIPs) != 0 {
		t.Fatalf("old key = %+v", got)
	}
	if w := hs.Admin("PATCH", "/keys/"+row.ID, `{"allowed_ips":["192.168.0.0/16"]}`); w.Code != 200 {
		t.Fatalf("PATCH: %d %s", w.Code, w.Body)
	}
	testkit.WantError(t, hs.Get("10.0.0.1:1", "/items", secret), 403, "ip_not_allowed")
}

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
