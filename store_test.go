package ginkey

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// postgresDSN returns the DSN of the test PostgreSQL server from
// GINKEY_TEST_POSTGRES. Without it the test is skipped, loudly, unless
// GINKEY_REQUIRE_SERVICES=1 (set by .ci/run) turns the skip into a failure.
func postgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("GINKEY_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("GINKEY_REQUIRE_SERVICES") == "1" {
			t.Fatal("GINKEY_TEST_POSTGRES is not set but GINKEY_REQUIRE_SERVICES=1")
		}
		t.Skip("SKIPPING PostgreSQL test: set GINKEY_TEST_POSTGRES (e.g. host=127.0.0.1 user=postgres dbname=test sslmode=disable)")
	}
	return dsn
}

// mysqlDSN returns the DSN of the test MySQL/MariaDB server from
// GINKEY_TEST_MYSQL, skipping loudly without it as postgresDSN does.
func mysqlDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("GINKEY_TEST_MYSQL")
	if dsn == "" {
		if os.Getenv("GINKEY_REQUIRE_SERVICES") == "1" {
			t.Fatal("GINKEY_TEST_MYSQL is not set but GINKEY_REQUIRE_SERVICES=1")
		}
		t.Skip("SKIPPING MySQL/MariaDB test: set GINKEY_TEST_MYSQL (e.g. root@tcp(127.0.0.1:3306)/test?parseTime=true)")
	}
	return dsn
}

// openMySQL is openPostgres for MySQL/MariaDB.
func openMySQL(t *testing.T) (*gorm.DB, string) {
	t.Helper()
	db, err := gorm.Open(mysql.Open(mysqlDSN(t)), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("MySQL: %v", err)
	}
	prefix := uniquePrefix(t)
	t.Cleanup(func() { dropAndClose(db, prefix) })
	return db, prefix
}

// openPostgres connects and returns a table prefix no other test uses; the
// tables are dropped when the test ends.
func openPostgres(t *testing.T) (*gorm.DB, string) {
	t.Helper()
	db, err := gorm.Open(postgres.Open(postgresDSN(t)), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("PostgreSQL: %v", err)
	}
	prefix := uniquePrefix(t)
	t.Cleanup(func() { dropAndClose(db, prefix) })
	return db, prefix
}

// uniquePrefix isolates one test's tables in a shared database server.
func uniquePrefix(t *testing.T) string {
	t.Helper()
	suffix, err := randomBase62(8)
	if err != nil {
		t.Fatal(err)
	}
	return "gkt_" + strings.ToLower(suffix) + "_"
}

func dropAndClose(db *gorm.DB, prefix string) {
	dropTables(db, prefix)
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// dropTables drops every table ginkey keeps under prefix.
func dropTables(db *gorm.DB, prefix string) {
	_ = db.Migrator().DropTable(prefix+"keys", prefix+"usage", prefix+"flush_marks", prefix+"outcomes", prefix+"audit")
}

// storeFactories lists every Store the conformance suite runs against.
func storeFactories() map[string]func(t *testing.T) *gormStore {
	return map[string]func(t *testing.T) *gormStore{
		"sqlite": func(t *testing.T) *gormStore {
			db, err := openSQLite(filepath.Join(t.TempDir(), "conformance.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if sqlDB, err := db.DB(); err == nil {
					_ = sqlDB.Close()
				}
			})
			s, err := newGormStore(context.Background(), db, "ginkey_")
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"mysql": func(t *testing.T) *gormStore {
			db, prefix := openMySQL(t)
			s, err := newGormStore(context.Background(), db, prefix)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"postgres": func(t *testing.T) *gormStore {
			db, prefix := openPostgres(t)
			s, err := newGormStore(context.Background(), db, prefix)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

func TestStoreConformance(t *testing.T) {
	forEachStore(t, testStore)
}

// forEachStore runs test on a fresh store of every dialect, in parallel.
func forEachStore(t *testing.T, test func(t *testing.T, s *gormStore)) {
	for name, open := range storeFactories() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, open(t))
		})
	}
}

func testRecord(t *testing.T, id string, created time.Time, expires *time.Time) *Record {
	t.Helper()
	f, _ := newKeyFormat("gk")
	key, display, err := f.generate()
	if err != nil {
		t.Fatal(err)
	}
	h := hashKey(key)
	return &Record{Hash: h.String(), Key: Key{
		ID: id, Prefix: display, Name: "n-" + id, Scopes: []string{"a:b"},
		Metadata: map[string]any{"k": "v"}, CreatedAt: created, ExpiresAt: expires,
	}}
}

func testStore(t *testing.T, s *gormStore) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)
	later := now.Add(time.Hour)
	earlier := now.Add(-time.Hour)

	active := testRecord(t, "active", now, &later)
	expired := testRecord(t, "expired", now.Add(time.Second), &earlier)
	forever := testRecord(t, "forever", now.Add(2*time.Second), nil)
	for _, r := range []*Record{active, expired, forever} {
		if err := s.Insert(ctx, r); err != nil {
			t.Fatalf("insert %s: %v", r.ID, err)
		}
	}
	dup := testRecord(t, "dup", now, nil)
	dup.Hash = active.Hash
	if err := s.Insert(ctx, dup); err == nil {
		t.Fatal("a second key with the same hash was accepted")
	}

	got, err := s.ByHash(ctx, active.Hash)
	if err != nil || got.ID != "active" || got.Name != "n-active" || got.Scopes[0] != "a:b" || got.Metadata["k"] != "v" {
		t.Fatalf("ByHash: %+v %v", got, err)
	}
	if !got.CreatedAt.Equal(now) || got.CreatedAt.Location() != time.UTC || !got.ExpiresAt.Equal(later) {
		t.Fatalf("times do not round-trip: created %v expires %v", got.CreatedAt, got.ExpiresAt)
	}
	if g, err := s.ByID(ctx, "forever"); err != nil || g.ExpiresAt != nil || g.Hash != forever.Hash {
		t.Fatalf("ByID: %+v %v", g, err)
	}
	for _, lookup := range []func() (*Record, error){
		func() (*Record, error) { return s.ByHash(ctx, strings.Repeat("0", 64)) },
		func() (*Record, error) { return s.ByID(ctx, "missing") },
	} {
		if _, err := lookup(); !errors.Is(err, ErrNotFound) {
			t.Fatalf("lookup of a missing key: %v, want ErrNotFound", err)
		}
	}

	revokedAt := now.Add(-time.Minute)
	if _, err := s.Update(ctx, "forever", Changes{RevokedAt: &revokedAt}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "forever", Changes{SetExpiry: true, ExpiresAt: &later}); !errors.Is(err, ErrRevokedConflict) {
		t.Fatalf("renewing a revoked key: %v, want ErrRevokedConflict", err)
	}
	if _, err := s.Update(ctx, "missing", Changes{SetExpiry: true}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("updating a missing key: %v, want ErrNotFound", err)
	}
	name := "renamed"
	upd, err := s.Update(ctx, "active", Changes{Name: &name, SetExpiry: true})
	if err != nil || upd.Name != "renamed" || upd.ExpiresAt != nil {
		t.Fatalf("update: %+v %v", upd, err)
	}

	for _, tc := range []struct {
		status Status
		ids    string
	}{{"", "forever,expired,active"}, {StatusActive, "active"}, {StatusExpired, "expired"}, {StatusRevoked, "forever"}} {
		recs, total, err := s.List(ctx, ListQuery{Status: tc.status, Now: now, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range recs {
			ids = append(ids, r.ID)
		}
		if strings.Join(ids, ",") != tc.ids || total != int64(len(ids)) {
			t.Fatalf("List(%q) = %v (total %d), want %s", tc.status, ids, total, tc.ids)
		}
	}
	if recs, total, _ := s.List(ctx, ListQuery{Now: now, Limit: 1, Offset: 1}); len(recs) != 1 || recs[0].ID != "expired" || total != 3 {
		t.Fatalf("paging: %v %d", recs, total)
	}

	t1, t2 := now.Add(time.Minute), now.Add(2*time.Minute)
	if err := s.AddUsage(ctx, []UsageDelta{{KeyID: "active", Day: "2026-11-24", Requests: 2, LastUsed: t1}, {KeyID: "active", Day: "2026-11-25", Requests: 3, LastUsed: t2}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUsage(ctx, []UsageDelta{{KeyID: "active", Day: "2026-11-25", Requests: 4, LastUsed: t1}}); err != nil {
		t.Fatal(err)
	}
	total, daily, err := s.Usage(ctx, "active", "2026-11-25")
	if err != nil || total != 9 || len(daily) != 1 || daily[0].Requests != 7 {
		t.Fatalf("Usage: %d %v %v", total, daily, err)
	}
	if g, _ := s.ByID(ctx, "active"); g.LastUsedAt == nil || !g.LastUsedAt.Equal(t2) {
		t.Fatalf("last_used_at went backwards or is missing: %v", g.LastUsedAt)
	}
	sums, n, err := s.UsageSummaries(ctx, 10, 0)
	if err != nil || n != 3 || len(sums) != 3 {
		t.Fatalf("UsageSummaries: %v %d %v", sums, n, err)
	}
	byID := map[string]int64{}
	for _, u := range sums {
		byID[u.ID] = u.TotalRequests
	}
	if byID["active"] != 9 || byID["expired"] != 0 {
		t.Fatalf("summaries: %v", byID)
	}

	if err := s.Delete(ctx, "active"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "active"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if total, _, _ := s.Usage(ctx, "active", "2000-01-01"); total != 0 {
		t.Fatalf("usage survived the key's deletion: %d", total)
	}
}

// TestTwoGuardsOnOnePostgresShareKeys is the multi-instance shape: a key
// created on one instance works on the other, and a revoke on one is seen by
// the other at once, announced by NOTIFY; a change the other does not hear
// of (made to the table directly) is seen within CacheTTL.
func TestTwoGuardsOnOnePostgresShareKeys(t *testing.T) {
	t.Parallel()
	db, prefix := openPostgres(t)
	clock := newFakeClock()
	mod := func(c *Config) { c.DB = db; c.TablePrefix = prefix; c.Now = clock.Now }
	a, b := newHarness(t, mod), newHarness(t, mod)
	waitSubscribed(t, b.guard, 1)
	k := a.createKey(`{"name":"shared"}`)
	if w := b.secure(k.Secret); w.Code != 200 {
		t.Fatalf("key from instance a on b: %d %s", w.Code, w.Body)
	}
	if w := a.admin("POST", "/keys/"+k.ID+"/revoke", ""); w.Code != 200 {
		t.Fatal(w.Body)
	}
	wantError(t, a.secure(k.Secret), 401, "key_revoked")
	waitStatus(t, b, k.Secret, 401, "revoke")

	unheard := a.createKey(`{"name":"changed behind ginkey's back"}`)
	if w := b.secure(unheard.Secret); w.Code != 200 {
		t.Fatalf("key from instance a on b: %d %s", w.Code, w.Body)
	}
	if err := db.Table(prefix+"keys").Where("id = ?", unheard.ID).Update("revoked_at", clock.Now()).Error; err != nil {
		t.Fatal(err)
	}
	if w := b.secure(unheard.Secret); w.Code != 200 {
		t.Fatalf("within CacheTTL instance b may still serve its cached record; got %d", w.Code)
	}
	clock.Advance(defaultCacheTTL)
	wantError(t, b.secure(unheard.Secret), 401, "key_revoked")
}

func TestSQLiteOpenedByGuardUsesWAL(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	var mode string
	if err := h.guard.store.(*gormStore).db.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
	var timeout int
	if err := h.guard.store.(*gormStore).db.Raw("PRAGMA busy_timeout").Scan(&timeout).Error; err != nil || timeout < 1000 {
		t.Fatalf("busy_timeout = %d (%v)", timeout, err)
	}
}

// An update that sets what is already there is no conflict: MySQL reports
// zero changed rows for it, which must not read as "revoked".
func TestUpdateToTheSameValuesIsNotAConflict(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *gormStore) {
		ctx := context.Background()
		r := testRecord(t, "live", time.Now().UTC().Truncate(time.Microsecond), nil)
		if err := s.Insert(ctx, r); err != nil {
			t.Fatal(err)
		}
		same := r.Name
		if _, err := s.Update(ctx, "live", Changes{Name: &same}); err != nil {
			t.Fatalf("same name: %v", err)
		}
		if _, err := s.Update(ctx, "live", Changes{SetExpiry: true}); err != nil {
			t.Fatalf("never expires again: %v", err)
		}
	})
}

// Counts of a key deleted before they were flushed leave no rows behind.
func TestUsageOfADeletedKeyIsDropped(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *gormStore) {
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
		batch := []UsageDelta{
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
	own := newHarness(t, nil)
	gs, ok := own.guard.store.(*gormStore)
	if !ok || gs.byHash == nil {
		t.Fatal("no plain lookup on the guard's own SQLite file")
	}
	caller := newHarness(t, func(c *Config) { c.DB = newTestGormStore(t).db })
	if cs, ok := caller.guard.store.(*gormStore); !ok || cs.byHash != nil {
		t.Fatal("a caller's *gorm.DB was read around GORM")
	}

	s := newTestGormStore(t)
	ctx := context.Background()
	var err error
	if s.byHash, err = newHashLookup(ctx, s.db, s.keys); err != nil {
		t.Fatalf("no plain lookup on SQLite: %v", err)
	}
	t.Cleanup(func() { _ = s.byHash.close() })
	now := time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)
	later := now.Add(time.Hour)
	full := testRecord(t, "full", now, &later)
	full.RateLimit = &RateLimit{Requests: 5, Per: PerSecond}
	full.AllowedIPs = []string{"10.0.0.0/8"}
	full.Quota = &Quota{Requests: 9, Per: PerDay}
	bare := testRecord(t, "bare", now, nil)
	bare.Scopes, bare.Metadata = nil, nil
	for _, r := range []*Record{full, bare} {
		if err := s.Insert(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	revoked := now.Add(time.Minute)
	if _, err := s.Update(ctx, "full", Changes{RevokedAt: &revoked}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUsage(ctx, []UsageDelta{{KeyID: "full", Day: "2026-11-25", Requests: 1, LastUsed: now}}); err != nil {
		t.Fatal(err)
	}
	outside := testRecord(t, "outside", now, nil)
	if err := s.db.Exec("INSERT INTO "+s.keys+" (id, hash, prefix, name, scopes, metadata) VALUES (?, ?, ?, ?, '[]', '{}')",
		outside.ID, outside.Hash, outside.Prefix, outside.Name).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Record{full, bare, outside} {
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
	if _, err := s.byHash.find(ctx, strings.Repeat("0", 64)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing hash: %v, want ErrNotFound", err)
	}
}
