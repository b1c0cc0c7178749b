package ginkey

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

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
			_, errs[i] = newGormStore(context.Background(), db, prefix)
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
		prefix := uniquePrefix(t)
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
		_ = dbs[0].Migrator().DropTable(prefix+"keys", prefix+"usage")
	}
	t.Logf("%d of %d starts failed (%d rounds of %d instances) in %v", failed, total, rounds, len(dbs), time.Since(began).Round(time.Millisecond))
	if failed > 0 {
		t.Errorf("%d of %d concurrent starts failed; first: %v", failed, total, first)
	}
}

func TestConcurrentStartsOnAnEmptyPostgresAllSucceed(t *testing.T) {
	dsn := postgresDSN(t)
	dbs := instances(t, 4, func() gorm.Dialector { return postgres.Open(dsn) })
	countFailures(t, dbs, 20, nil)
}

// TestConcurrentStartsAddingIndexesToALargePostgresTableAllSucceed is the
// upgrade of a populated table from before the indexes: every instance
// starts, and the indexes they build are valid.
func TestConcurrentStartsAddingIndexesToALargePostgresTableAllSucceed(t *testing.T) {
	dsn := postgresDSN(t)
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
	prefix := uniquePrefix(t)
	t.Cleanup(func() { _ = dbs[0].Migrator().DropTable(prefix+"keys", prefix+"usage") })
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
	dsn := os.Getenv("GINKEY_TEST_MYSQL")
	if dsn == "" {
		if os.Getenv("GINKEY_REQUIRE_SERVICES") == "1" {
			t.Fatal("GINKEY_TEST_MYSQL is not set but GINKEY_REQUIRE_SERVICES=1")
		}
		t.Skip("SKIPPING MySQL/MariaDB test: set GINKEY_TEST_MYSQL (e.g. root@tcp(127.0.0.1:3306)/test?parseTime=true)")
	}
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
				for _, err := range startTogether(dbs, DefaultTablePrefix) {
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
