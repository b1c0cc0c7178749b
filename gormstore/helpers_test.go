package gormstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
	"github.com/ginkey/ginkey/keystore/storetest"
	"gorm.io/gorm"
)

// defaultPrefix is ginkey's default table prefix.
const defaultPrefix = DefaultTablePrefix

func openPostgres(t *testing.T) (*gorm.DB, string) { return testkit.OpenPostgres(t) }

func openMySQL(t *testing.T) (*gorm.DB, string) { return testkit.OpenMySQL(t) }

// storeFactories opens a fresh store of every dialect: SQLite on a file of
// the test's own, PostgreSQL and MariaDB/MySQL with tables of its own.
func storeFactories() map[string]func(t *testing.T) *Store {
	return map[string]func(t *testing.T) *Store{
		"sqlite": newTestStore,
		"mysql": func(t *testing.T) *Store {
			db, prefix := openMySQL(t)
			return onDB(t, db, prefix)
		},
		"postgres": func(t *testing.T) *Store {
			db, prefix := openPostgres(t)
			return onDB(t, db, prefix)
		},
	}
}

func onDB(t *testing.T, db *gorm.DB, prefix string) *Store {
	t.Helper()
	s, err := New(context.Background(), db, prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newTestStore is a store on a fresh SQLite file, opened through GORM as a
// caller's database would be.
func newTestStore(t *testing.T) *Store {
	t.Helper()
	db, err := openSQLite(filepath.Join(t.TempDir(), "conformance.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	return onDB(t, db, defaultPrefix)
}

// forEachStore runs test on a fresh store of every dialect, in parallel.
func forEachStore(t *testing.T, test func(t *testing.T, s *Store)) {
	for name, open := range storeFactories() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, open(t))
		})
	}
}

func testRecord(t *testing.T, id string, created time.Time, expires *time.Time) *keystore.Record {
	t.Helper()
	return storetest.NewRecord(t, id, created, expires)
}
