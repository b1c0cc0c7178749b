package gormstore

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// outcomeRow counts one key's refused verifications of one outcome on one
// UTC day. Admitted requests stay in the usage table; a key's outcomes are
// both together.
type outcomeRow struct {
	KeyID    string `gorm:"primaryKey;size:32"`
	Day      string `gorm:"primaryKey;size:10"`
	Outcome  string `gorm:"primaryKey;size:24"`
	Refusals int64  `gorm:"not null"`
}

// addRefused adds rows to the counts in tx, as increments.
func (s *Store) addRefused(tx *gorm.DB, rows []outcomeRow) error {
	if len(rows) == 0 {
		return nil
	}
	add := gorm.Expr(s.refused + ".refusals + excluded.refusals")
	if tx.Name() == "mysql" {
		add = gorm.Expr("refusals + VALUES(refusals)")
	}
	return tx.Table(s.refused).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "key_id"}, {Name: "day"}, {Name: "outcome"}},
		DoUpdates: clause.Assignments(map[string]any{"refusals": add}),
	}).CreateInBatches(rows, 500).Error
}

// Outcomes returns key id's refusals by outcome, in all and per day from
// since on.
func (s *Store) Outcomes(ctx context.Context, id, since string) (map[string]int64, map[string]map[string]int64, error) {
	var sums []struct {
		Outcome string
		Sum     int64
	}
	var rows []outcomeRow
	err := s.read(ctx, func(db *gorm.DB) error {
		sums, rows = nil, nil
		if err := db.Table(s.refused).Select("outcome, SUM(refusals) AS sum").Where("key_id = ?", id).Group("outcome").Scan(&sums).Error; err != nil {
			return err
		}
		return db.Table(s.refused).Where("key_id = ? AND day >= ?", id, since).Find(&rows).Error
	})
	if err != nil {
		return nil, nil, err
	}
	totals := make(map[string]int64, len(sums))
	for _, r := range sums {
		totals[r.Outcome] = r.Sum
	}
	daily := make(map[string]map[string]int64)
	for _, r := range rows {
		if daily[r.Day] == nil {
			daily[r.Day] = make(map[string]int64)
		}
		daily[r.Day][r.Outcome] += r.Refusals
	}
	return totals, daily, nil
}

// RefusalTotals returns each of ids' refusals in all, by outcome.
func (s *Store) RefusalTotals(ctx context.Context, ids []string) (map[string]map[string]int64, error) {
	out := make(map[string]map[string]int64)
	if len(ids) == 0 {
		return out, nil
	}
	var sums []struct {
		KeyID   string
		Outcome string
		Sum     int64
	}
	err := s.read(ctx, func(db *gorm.DB) error {
		sums = nil
		return db.Table(s.refused).Select("key_id, outcome, SUM(refusals) AS sum").
			Where("key_id IN ?", ids).Group("key_id, outcome").Scan(&sums).Error
	})
	if err != nil {
		return nil, err
	}
	for _, r := range sums {
		if out[r.KeyID] == nil {
			out[r.KeyID] = make(map[string]int64)
		}
		out[r.KeyID][r.Outcome] = r.Sum
	}
	return out, nil
}
