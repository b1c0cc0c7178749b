package gormstore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
	"github.com/ginkey/ginkey/keystore/storetest"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// The conformance suite on every dialect: SQLite as a caller's *gorm.DB and
// as a file the store opens itself (its own hash lookup), PostgreSQL and
// MariaDB/MySQL (skipped loudly without their servers).
func TestConformance(t *testing.T) {
	t.Parallel()
	for name, open := range storeFactories() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) keystore.Store { return open(t) })
		})
	}
	t.Run("sqlite-file", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, func(t *testing.T) keystore.Store {
			s, err := Open(context.Background(), filepath.Join(t.TempDir(), "own.db"), defaultPrefix, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		})
	})
}

// MySQL counts an unchanged row as affected when the DSN asks for found
// rows; the flush mark must not depend on it.
func TestUsageBatchesAreAppliedOnceOnMySQLCountingFoundRows(t *testing.T) {
	t.Parallel()
	db, err := gorm.Open(mysql.Open(testkit.MySQLDSN(t)+"&clientFoundRows=true"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("MySQL: %v", err)
	}
	prefix := testkit.UniquePrefix(t)
	t.Cleanup(func() { testkit.DropAndClose(db, prefix) })
	s := onDB(t, db, prefix)
	storetest.ApplyOnce(t, s, s)
}
