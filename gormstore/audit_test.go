package gormstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/keystore"
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
		_, err := New(context.Background(), db, prefix, nil)
		want := `ginkey: table ` + prefix + `audit: column "tenant" is NOT NULL without a default`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("start: %v, want an error with %q", err, want)
		}
	})
}

// auditRowBeforePrincipal is the audit table as ginkey made it before the
// principal column.
type auditRowBeforePrincipal struct {
	ID      int64     `gorm:"primaryKey;autoIncrement"`
	At      time.Time `gorm:"precision:6;not null"`
	Action  string    `gorm:"size:16;not null"`
	KeyID   string    `gorm:"size:32;not null"`
	Actor   string    `gorm:"size:200;not null"`
	Fields  string    `gorm:"size:200;not null"`
	Outcome string    `gorm:"size:32;not null"`
	Count   int64     `gorm:"not null"`
}

// A start adds the principal column to an audit table that has entries:
// they read back without a principal, and new entries keep theirs.
func TestStartAddsThePrincipalColumnToAPopulatedAuditTable(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, db *gorm.DB, prefix string) {
		ctx := context.Background()
		table := prefix + "audit"
		if err := db.Table(table).AutoMigrate(&auditRowBeforePrincipal{}); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		old := auditRowBeforePrincipal{At: at, Action: "revoke", KeyID: "k1", Actor: "http:10.0.0.1", Outcome: "ok", Count: 1}
		if err := db.Table(table).Create(&old).Error; err != nil {
			t.Fatal(err)
		}
		s, err := New(ctx, db, prefix, nil)
		if err != nil {
			t.Fatalf("start on an audit table without the principal column: %v", err)
		}
		if err := s.AddAudit(ctx, []keystore.AuditEntry{{Time: at.Add(time.Second), Action: "delete", KeyID: "k1",
			Actor: "http:10.0.0.1", Principal: "basic:alice", Fields: []string{}, Outcome: "ok", Count: 1}}); err != nil {
			t.Fatal(err)
		}
		got, _, err := s.Audit(ctx, keystore.AuditQuery{KeyID: "k1", Limit: 10})
		if err != nil || len(got) != 2 || got[0].Principal != "basic:alice" || got[1].Principal != "" || got[1].Action != "revoke" {
			t.Fatalf("entries after the migration: %+v, %v", got, err)
		}
		if _, err := New(ctx, db, prefix, nil); err != nil { // and again: nothing left to do
			t.Fatalf("second start: %v", err)
		}
	})
}
