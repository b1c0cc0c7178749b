package gormstore

import (
	"context"
	"strings"
	"time"

	"github.com/ginkey/ginkey/keystore"
	"gorm.io/gorm"
)

// auditRow is one row of <prefix>audit. The time column is "at": "time" is
// a type name in PostgreSQL and a keyword in MySQL.
type auditRow struct {
	ID      int64     `gorm:"primaryKey;autoIncrement"`
	At      time.Time `gorm:"precision:6;not null"`
	Action  string    `gorm:"size:16;not null"`
	KeyID   string    `gorm:"size:32;not null"` // "" for an entry about no key
	Actor   string    `gorm:"size:200;not null"`
	Fields  string    `gorm:"size:200;not null"` // comma-separated names
	Outcome string    `gorm:"size:32;not null"`
	Count   int64     `gorm:"not null"`
	// Added later: with a default, so that AutoMigrate can add it to a
	// populated table in every dialect.
	Principal string `gorm:"size:200;not null;default:''"`
}

// auditIndexes serve the listing (newest first) and its key filter, and the
// pruning by age.
func auditIndexes() []keysIndex {
	return []keysIndex{
		{"at_idx", []string{"at"}, false},
		{"key_at_idx", []string{"key_id", "at"}, false},
	}
}

func (s *Store) migrateAudit(db *gorm.DB, mariaDB bool) error {
	if err := db.Table(s.audit).AutoMigrate(&auditRow{}); err != nil {
		return err
	}
	for _, ix := range auditIndexes() {
		if err := s.createIndex(db, s.audit, ix, mariaDB); err != nil {
			return err
		}
	}
	return nil
}

// AddAudit appends entries.
func (s *Store) AddAudit(ctx context.Context, entries []keystore.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	rows := make([]auditRow, len(entries))
	for i := range entries {
		e := &entries[i]
		rows[i] = auditRow{
			At: e.Time.UTC().Truncate(time.Microsecond), Action: e.Action, KeyID: e.KeyID,
			Actor: e.Actor, Fields: strings.Join(e.Fields, ","), Outcome: e.Outcome, Count: e.Count,
			Principal: e.Principal,
		}
	}
	return s.transaction(ctx, false, func(tx *gorm.DB) error {
		return tx.Table(s.audit).CreateInBatches(rows, 500).Error
	})
}

// Audit returns the entries matching q, newest first, and how many match.
func (s *Store) Audit(ctx context.Context, q keystore.AuditQuery) ([]keystore.AuditEntry, int64, error) {
	var total int64
	var rows []auditRow
	err := s.read(ctx, func(db *gorm.DB) error {
		where := db.Table(s.audit)
		if q.KeyID != "" {
			where = where.Where("key_id = ?", q.KeyID)
		}
		if q.Action != "" {
			where = where.Where("action = ?", q.Action)
		}
		if !q.Since.IsZero() {
			where = where.Where("at >= ?", q.Since.UTC())
		}
		if err := where.Session(&gorm.Session{}).Count(&total).Error; err != nil {
			return err
		}
		rows = nil
		return where.Session(&gorm.Session{}).Order("at DESC").Order("id DESC").
			Limit(q.Limit).Offset(q.Offset).Find(&rows).Error
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]keystore.AuditEntry, len(rows))
	for i := range rows {
		r := &rows[i]
		fields := []string{}
		if r.Fields != "" {
			fields = strings.Split(r.Fields, ",")
		}
		out[i] = keystore.AuditEntry{
			ID: r.ID, Time: r.At.UTC(), Action: r.Action, KeyID: r.KeyID, Actor: r.Actor,
			Fields: fields, Outcome: r.Outcome, Count: r.Count, Principal: r.Principal,
		}
	}
	return out, total, nil
}

// PruneAudit deletes at most limit entries older than before, oldest first.
func (s *Store) PruneAudit(ctx context.Context, before time.Time, limit int) (int64, error) {
	var deleted int64
	err := s.idempotent(ctx, func(db *gorm.DB) error {
		// Ids first: MySQL takes no LIMIT in an IN subquery.
		var ids []int64
		if err := db.Table(s.audit).Where("at < ?", before.UTC()).Order("at").Limit(limit).Pluck("id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		res := db.Table(s.audit).Where("id IN ?", ids).Delete(&auditRow{})
		deleted = res.RowsAffected
		return res.Error
	})
	return deleted, err
}
