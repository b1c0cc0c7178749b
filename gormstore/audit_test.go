package gormstore

import (
	"context"
	"strings"
	"testing"

	"gorm.io/gorm"
)

// Migrating again changes nothing and finds the audit log's indexes.
func TestAuditIndexesSurviveAMigration(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for _, ix := range auditIndexes() {
			if !s.db.Migrator().HasIndex(s.audit, s.audit+"_"+ix.name) {
				t.Errorf("index %s_%s missing", s.audit, ix.name)
			}
		}
	})
}

// tenantAuditRow is an audit table an operator extended.
type tenantAuditRow struct {
	ID     int64  `gorm:"primaryKey;autoIncrement"`
	Action string `gorm:"size:16;not null"`
	Tenant string `gorm:"size:20;not null"`
}

func TestStartFailsOnAnAuditTableGinkeyCouldNotWriteTo(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, db *gorm.DB, prefix string) {
		if err := db.Table(prefix + "audit").AutoMigrate(&tenantAuditRow{}); err != nil {
			t.Fatal(err)
		}
		_, err := New(context.Background(), db, prefix)
		want := `ginkey: table ` + prefix + `audit: column "tenant" is NOT NULL without a default`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("start: %v, want an error with %q", err, want)
		}
	})
}
