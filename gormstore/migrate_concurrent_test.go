package gormstore

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// instances opens n connection pools on one database, as n processes of the
// same application would.
func instances(t *testing.T, n int, open func() gorm.Dialector) []*gorm.DB {
	t.Helper()
	dbs := make([]*gorm.DB, n)
	for i := range dbs {
		db, err := gorm.Open(open(), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if sqlDB, err := db.DB(); err == nil {
				_ = sqlDB.Close()
			}
		})
		dbs[i] = db
	}
	return dbs
}

// startTogether opens a store on prefix from every db at the same moment and
// returns each start's error.
func startTogether(dbs []*gorm.DB, prefix string) []error {
	errs := make([]error, len(dbs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			<-start
			_, errs[i] = New(context.Background(), db, prefix, nil)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// countFailures runs rounds of startTogether, each on a fresh table prefix
// prepared by setup, and fails the test if any start failed.
func countFailures(t *testing.T, dbs []*gorm.DB, rounds int, setup func(prefix string)) {
	t.Helper()
	began := time.Now()
	failed, total := 0, 0
	var first error
	for range rounds {
		prefix := testkit.UniquePrefix(t)
		if setup != nil {
			setup(prefix)
		}
		for _, err := range startTogether(dbs, prefix) {
			total++
			if err != nil {
				failed++
				if first == nil {
					first = err
				}
			}
		}
		testkit.DropTables(dbs[0], prefix)
	}
	t.Logf("%d of %d starts failed (%d rounds of %d instances) in %v", failed, total, rounds, len(dbs), time.Since(began).Round(time.Millisecond))
	if failed > 0 {
		t.Errorf("%d of %d concurrent starts failed; first: %v", failed, total, first)
	}
}

func TestConcurrentStartsOnAnEmptyPostgresAllSucceed(t *testing.T) {
	dsn := testkit.PostgresDSN(t)
	dbs := instances(t, 4, func() gorm.Dialector { return postgres.Open(dsn) })
	countFailures(t, dbs, 20, nil)
}

// TestConcurrentStartsAddingIndexesToALargePostgresTableAllSucceed is the
// upgrade of a populated table from before the indexes: every instance
// starts, and the indexes they build are valid.
func TestConcurrentStartsAddingIndexesToALargePostgresTableAllSucceed(t *testing.T) {
	dsn := testkit.PostgresDSN(t)
	dbs := instances(t, 4, func() gorm.Dialector { return postgres.Open(dsn) })
	const rows = 200_000
	var prefixes []string
	countFailures(t, dbs, 3, func(prefix string) {
		prefixes = append(prefixes, prefix)
		db := dbs[0]
		if err := db.Table(prefix + "keys").AutoMigrate(&keyRow{}); err != nil {
			t.Fatal(err)
		}
		if err := db.Table(prefix + "usage").AutoMigrate(&usageRow{}); err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		err := db.Exec(fmt.Sprintf(`INSERT INTO %skeys (id, hash, prefix, name, scopes, metadata, created_at)
			SELECT 'k' || g, encode(sha256(g::text::bytea), 'hex'), 'gk_' || g, 'n', '[]', '{}', now() - g * interval '1 second'
			FROM generate_series(1, %d) AS g`, prefix, rows)).Error
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d keys inserted in %v", rows, time.Since(began).Round(time.Millisecond))
	})
	// countFailures dropped the tables; check the indexes of a last round.
	prefix := testkit.UniquePrefix(t)
	t.Cleanup(func() { testkit.DropTables(dbs[0], prefix) })
	if err := dbs[0].Table(prefix + "keys").AutoMigrate(&keyRow{}); err != nil {
		t.Fatal(err)
	}
	if err := dbs[0].Exec(fmt.Sprintf(`INSERT INTO %skeys (id, hash, prefix, name, scopes, metadata, created_at)
		SELECT 'k' || g, encode(sha256(g::text::bytea), 'hex'), 'gk_' || g, 'n', '[]', '{}', now()
		FROM generate_series(1, %d) AS g`, prefix, rows)).Error; err != nil {
		t.Fatal(err)
	}
	for i, err := range startTogether(dbs, prefix) {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	for _, ix := range []string{"hash_idx", createdIndex, statusIndex} {
		var valid []bool
		err := dbs[0].Raw(`SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			WHERE c.relname = ? AND pg_table_is_visible(c.oid)`, prefix+"keys_"+ix).Scan(&valid).Error
		if err != nil || len(valid) != 1 || !valid[0] {
			t.Errorf("index %s: valid %v (%v)", ix, valid, err)
		}
	}
}

func TestConcurrentStartsOnAnEmptyMariaDBAllSucceed(t *testing.T) {
	dsn := testkit.MySQLDSN(t)
	dbs := instances(t, 4, func() gorm.Dialector { return mysql.Open(dsn) })
	countFailures(t, dbs, 8, nil)
}

// TestConcurrentStartsOnOneSQLiteFileAllSucceed covers both ways a guard
// reaches SQLite: its own file (DBPath) and the caller's *gorm.DB, opened
// here with the driver's defaults (no busy timeout, deferred transactions).
func TestConcurrentStartsOnOneSQLiteFileAllSucceed(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(t *testing.T, path string) *gorm.DB{
		"own file": func(t *testing.T, path string) *gorm.DB {
			db, err := openSQLite(path)
			if err != nil {
				t.Fatal(err)
			}
			return db
		},
		"caller's db": func(t *testing.T, path string) *gorm.DB {
			db, err := gorm.Open(sqlite.Open(path), &gorm.Config{Logger: logger.Discard})
			if err != nil {
				t.Fatal(err)
			}
			return db
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			failed := 0
			var first error
			for round := range 8 {
				path := filepath.Join(t.TempDir(), fmt.Sprintf("r%d.db", round))
				dbs := make([]*gorm.DB, 4)
				for i := range dbs {
					dbs[i] = open(t, path)
				}
				for _, err := range startTogether(dbs, defaultPrefix) {
					if err != nil {
						failed++
						if first == nil {
							first = err
						}
					}
				}
				for _, db := range dbs {
					if sqlDB, err := db.DB(); err == nil {
						_ = sqlDB.Close()
					}
				}
			}
			if failed > 0 {
				t.Errorf("%d of 32 concurrent starts failed; first: %v", failed, first)
			}
		})
	}
}

// TestMigrationRebuildsAnInvalidPostgresIndex: a CREATE INDEX CONCURRENTLY that
// failed leaves an INVALID index, which IF NOT EXISTS would take for done.
func TestMigrationRebuildsAnInvalidPostgresIndex(t *testing.T) {
	t.Parallel()
	db, prefix := openPostgres(t)
	s, err := New(context.Background(), db, prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(context.Background(), testRecord(t, "k1", time.Now(), nil)); err != nil {
		t.Fatal(err)
	}
	name := prefix + "keys_" + hashIndex
	if err := db.Exec("UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass(?)", name).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), db, prefix, nil); err != nil {
		t.Fatal(err)
	}
	var valid []bool
	if err := db.Raw(validity, name).Scan(&valid).Error; err != nil || len(valid) != 1 || !valid[0] {
		t.Fatalf("index %s: valid %v (%v)", name, valid, err)
	}
}

// TestAFailedConcurrentBuildSaysWhyAndLeavesNoInvalidIndex: duplicate
// hashes make the unique index impossible; the start says so and the
// half-built index is gone.
func TestAFailedConcurrentBuildSaysWhyAndLeavesNoInvalidIndex(t *testing.T) {
	t.Parallel()
	db, prefix := openPostgres(t)
	if err := db.Table(prefix + "keys").AutoMigrate(&keyRow{}); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(fmt.Sprintf(`INSERT INTO %skeys (id, hash, prefix, name, scopes, metadata, created_at)
		SELECT 'k' || g, 'same', 'gk', 'n', '[]', '{}', now() FROM generate_series(1, 2) AS g`, prefix)).Error; err != nil {
		t.Fatal(err)
	}
	_, err := New(context.Background(), db, prefix, nil)
	name := prefix + "keys_" + hashIndex
	if err == nil || !strings.Contains(err.Error(), "create index "+name) || !strings.Contains(err.Error(), "23505") {
		t.Fatalf("start: %v, want the failed build of %s", err, name)
	}
	var valid []bool
	if err := db.Raw(validity, name).Scan(&valid).Error; err != nil || len(valid) != 0 {
		t.Fatalf("index %s left behind: valid %v (%v)", name, valid, err)
	}
}

// TestTheWaitForAnotherInstancesMigrationIsBounded holds the migration lock
// from another session, as a stuck instance would.
func TestTheWaitForAnotherInstancesMigrationIsBounded(t *testing.T) {
	t.Parallel()
	dsn := testkit.PostgresDSN(t)
	dbs := instances(t, 2, func() gorm.Dialector { return postgres.Open(dsn) })
	prefix := testkit.UniquePrefix(t)
	t.Cleanup(func() { testkit.DropTables(dbs[0], prefix) })
	err := dbs[1].Connection(func(conn *gorm.DB) error {
		if err := conn.Exec("SELECT pg_advisory_lock(?)", postgresLockKey(prefix+"keys")).Error; err != nil {
			return err
		}
		s := &Store{db: dbs[0], keys: prefix + "keys", usage: prefix + "usage"}
		began := time.Now()
		err := s.migrateWaiting(context.Background(), time.Second)
		if err == nil || !strings.Contains(err.Error(), "waited 1s for another instance to finish migrating table "+prefix+"keys") {
			t.Errorf("migrate: %v, want a timeout", err)
		}
		if d := time.Since(began); d > 5*time.Second {
			t.Errorf("gave up after %v", d)
		}
		return conn.Exec("SELECT pg_advisory_unlock_all()").Error
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), dbs[0], prefix, nil); err != nil {
		t.Fatalf("start once the lock is free: %v", err)
	}
}
