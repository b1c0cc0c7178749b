package gormstore

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
)

// Tables of a shape close to ginkey's, as an operator might have left them.
type (
	tenantKeyRow struct {
		keyRow
		Tenant string `gorm:"size:20;not null"`
	}
	nullableTenantKeyRow struct {
		keyRow
		Tenant *string `gorm:"size:20"`
	}
	defaultTenantKeyRow struct {
		keyRow
		Tenant string `gorm:"size:20;not null;default:'acme'"`
	}
	usageRowWithoutKey struct {
		KeyID    string `gorm:"size:32;not null"`
		Day      string `gorm:"size:10;not null"`
		Requests int64  `gorm:"not null"`
	}
	usageRowKeyedByKey struct {
		KeyID    string `gorm:"primaryKey;size:32"`
		Day      string `gorm:"size:10;not null"`
		Requests int64  `gorm:"not null"`
	}
)

// forEachDatabase runs test on an empty database of every dialect, with the
// table prefix to use; the tables are dropped when the test ends.
func forEachDatabase(t *testing.T, test func(t *testing.T, db *gorm.DB, prefix string)) {
	t.Helper()
	for name, open := range map[string]func(t *testing.T) (*gorm.DB, string){
		"sqlite": func(t *testing.T) (*gorm.DB, string) {
			db, err := openSQLite(filepath.Join(t.TempDir(), "schema.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { testkit.DropAndClose(db, defaultPrefix) })
			return db, defaultPrefix
		},
		"postgres": openPostgres,
		"mysql":    openMySQL,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db, prefix := open(t)
			test(t, db, prefix)
		})
	}
}

func TestStartFailsOnASchemaGinkeyCouldNotWriteTo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		prepare func(db *gorm.DB, prefix string) error
		want    string // "" for a shape ginkey works with; %s is the prefix
		// GORM's MySQL migrator drops a single-column unique index the
		// model does not declare; ginkey then creates its own.
		repairedOnMySQL bool
	}{
		{"extra NOT NULL column without a default", keysAs(&tenantKeyRow{}),
			`ginkey: table %skeys: column "tenant" is NOT NULL without a default; ginkey's inserts would fail`, false},
		{"extra nullable column", keysAs(&nullableTenantKeyRow{}), "", false},
		{"extra NOT NULL column with a default", keysAs(&defaultTenantKeyRow{}), "", false},
		{"usage without a primary key", usageAs(&usageRowWithoutKey{}),
			"ginkey: table %susage: has no primary key, not on (key_id, day)", false},
		{"usage keyed by key_id alone", usageAs(&usageRowKeyedByKey{}),
			"ginkey: table %susage: has its primary key on (key_id), not on (key_id, day)", false},
		{"non-unique index under the hash index's name", hashIndexAs("CREATE INDEX ? ON ? (?)", "hash"),
			"ginkey: table %skeys: index %skeys_hash_idx is not UNIQUE, want UNIQUE on (hash)", false},
		{"unique index on another column under the hash index's name", hashIndexAs("CREATE UNIQUE INDEX ? ON ? (?)", "prefix"),
			"ginkey: table %skeys: index %skeys_hash_idx is on (prefix), want UNIQUE on (hash)", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachDatabase(t, func(t *testing.T, db *gorm.DB, prefix string) {
				if err := tc.prepare(db, prefix); err != nil {
					t.Fatal(err)
				}
				s, err := New(context.Background(), db, prefix, nil)
				if tc.want == "" || tc.repairedOnMySQL && db.Name() == "mysql" {
					if err != nil {
						t.Fatalf("start: %v", err)
					}
					// The point of accepting the shape: keys can be stored.
					if err := s.Insert(context.Background(), testRecord(t, "k1", time.Now(), nil)); err != nil {
						t.Fatalf("insert: %v", err)
					}
					return
				}
				want := strings.ReplaceAll(tc.want, "%s", prefix)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("start: %v, want an error with %q", err, want)
				}
			})
		})
	}
}

func keysAs(model any) func(db *gorm.DB, prefix string) error {
	return func(db *gorm.DB, prefix string) error { return db.Table(prefix + "keys").AutoMigrate(model) }
}

func usageAs(model any) func(db *gorm.DB, prefix string) error {
	return func(db *gorm.DB, prefix string) error { return db.Table(prefix + "usage").AutoMigrate(model) }
}

// hashIndexAs migrates the tables, then replaces the hash index by sql on
// column under the same name.
func hashIndexAs(sql, column string) func(db *gorm.DB, prefix string) error {
	return func(db *gorm.DB, prefix string) error {
		if _, err := New(context.Background(), db, prefix, nil); err != nil {
			return err
		}
		name := prefix + "keys_" + hashIndex
		if err := db.Migrator().DropIndex(prefix+"keys", name); err != nil {
			return err
		}
		return db.Exec(sql, clause.Table{Name: name}, clause.Table{Name: prefix + "keys"}, clause.Column{Name: column}).Error
	}
}

// statements records the SQL a GORM session runs.
type statements struct {
	logger.Interface
	mu  sync.Mutex
	sql []string
}

func (r *statements) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	sql, _ := fc()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sql = append(r.sql, sql)
}

// TestASecondMigrationLeavesTheHashIndexAlone guards against GORM's MySQL
// migrator, which drops single-column unique indexes the model does not
// declare: the hash index was rebuilt at every start.
func TestASecondMigrationLeavesTheHashIndexAlone(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, db *gorm.DB, prefix string) {
		if _, err := New(context.Background(), db, prefix, nil); err != nil {
			t.Fatal(err)
		}
		rec := &statements{Interface: logger.Discard}
		if _, err := New(context.Background(), db.Session(&gorm.Session{Logger: rec}), prefix, nil); err != nil {
			t.Fatal(err)
		}
		for _, sql := range rec.sql {
			if strings.Contains(sql, "DROP") && strings.Contains(sql, hashIndex) {
				t.Errorf("the second start ran %s", sql)
			}
		}
	})
}
