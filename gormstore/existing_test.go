package gormstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// TestOpenExistingCreatesAndAltersNothing opens a SQLite file in each state
// a mistaken setting meets: missing, without tables, with another prefix's
// tables, with an older (incomplete) set. Each is refused with what it
// lacks, and none gains a file or a table; the complete set opens.
func TestOpenExistingCreatesAndAltersNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "keys.db")
	tables := func() []string {
		t.Helper()
		db, err := gorm.Open(sqlite.Open(file), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if sqlDB, err := db.DB(); err == nil {
				_ = sqlDB.Close()
			}
		}()
		all, err := db.Migrator().GetTables()
		if err != nil {
			t.Fatal(err)
		}
		return all
	}

	if _, err := OpenExisting(ctx, file, "svc_", nil, nil); !errors.Is(err, ErrNoDatabase) || !strings.Contains(err.Error(), file) {
		t.Fatalf("a missing file: %v, want ErrNoDatabase naming it", err)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("OpenExisting created the missing file")
	}
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var missing *MissingTablesError
	if _, err := OpenExisting(ctx, file, "svc_", nil, nil); !errors.As(err, &missing) || len(missing.Missing) != 5 || missing.Others != nil ||
		!strings.Contains(err.Error(), `prefix "svc_"`) {
		t.Fatalf("an empty database: %v", err)
	}

	s, err := Open(ctx, file, "other_", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Migrator().DropTable("other_audit"); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s, err = Open(ctx, file, "mine_", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	before := tables()
	if _, err := OpenExisting(ctx, file, "svc_", nil, nil); !errors.As(err, &missing) || !slices.Equal(missing.Others, []string{"mine_"}) ||
		!strings.Contains(err.Error(), `it holds ginkey tables with the prefix "mine_"`) {
		t.Errorf("another prefix's tables (and an incomplete set): %v, want mine_ named, other_ not", err)
	}
	if _, err := OpenExisting(ctx, file, "other_", nil, nil); !errors.As(err, &missing) || !slices.Equal(missing.Missing, []string{"other_audit"}) ||
		!strings.Contains(err.Error(), "older ginkey") {
		t.Errorf("an incomplete set: %v, want other_audit missing", err)
	}
	s, err = OpenExisting(ctx, file, "mine_", nil, nil)
	if err != nil {
		t.Fatalf("the complete set: %v", err)
	}
	_ = s.Close()
	if after := tables(); !slices.Equal(before, after) {
		t.Errorf("tables before OpenExisting: %q; after: %q", before, after)
	}
	if _, err := OpenExisting(ctx, file, "Bad Prefix", nil, nil); !errors.Is(err, ErrBadTablePrefix) {
		t.Errorf("a bad prefix: %v", err)
	}
}
