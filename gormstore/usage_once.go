package gormstore

import (
	"context"
	"time"

	"github.com/ginkey/ginkey/keystore"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// flushMarkRow is one instance's high-water mark: the sequence number of
// the last batch it wrote, committed with the batch itself.
type flushMarkRow struct {
	Instance  string    `gorm:"primaryKey;size:32"`
	Seq       int64     `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

// flushMarkTTL is how long an instance's mark outlives its last batch. A
// retry comes seconds after the failure; an instance is a process, and a
// restarted one takes a new id, so old marks only take room.
const flushMarkTTL = 30 * 24 * time.Hour

// AddUsageOnce is AddUsage that does nothing for a batch whose sequence
// number the instance's mark has reached: the mark and the counts commit
// together, so the batch is in the store exactly when the mark says so.
// The mark moves first in the transaction, by a conditional upsert (a
// locking read on MySQL): a retry that overlaps the commit of the attempt
// it repeats waits on the mark's row lock, then finds the mark moved and
// changes nothing.
func (s *Store) AddUsageOnce(ctx context.Context, instance string, seq int64, batch []keystore.UsageDelta) error {
	return s.addUsage(ctx, batch, func(tx *gorm.DB) (bool, error) {
		now := time.Now().UTC()
		table := clause.Table{Name: s.marks}
		if tx.Name() == "mysql" {
			// MySQL's affected-row count depends on the DSN (clientFoundRows),
			// so the mark is read under a lock instead: FOR UPDATE holds the
			// row, or the gap where it would go, until the commit.
			var marks []int64
			if err := tx.Raw("SELECT seq FROM ? WHERE instance = ? FOR UPDATE", table, instance).Scan(&marks).Error; err != nil {
				return false, err
			}
			if len(marks) > 0 && marks[0] >= seq { // written before its reply was lost
				return false, nil
			}
			err := tx.Exec("INSERT INTO ? (instance, seq, updated_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE "+
				"seq = VALUES(seq), updated_at = VALUES(updated_at)", table, instance, seq, now).Error
			if err != nil {
				return false, err
			}
		} else {
			res := tx.Exec("INSERT INTO ? (instance, seq, updated_at) VALUES (?, ?, ?) ON CONFLICT (instance) DO UPDATE "+
				"SET seq = excluded.seq, updated_at = excluded.updated_at WHERE ?.seq < excluded.seq",
				table, instance, seq, now, table)
			if res.Error != nil || res.RowsAffected == 0 { // written before its reply was lost
				return false, res.Error
			}
		}
		if seq%1000 == 1 { // now and then, forget instances long gone
			err := tx.Table(s.marks).Where("updated_at < ?", now.Add(-flushMarkTTL)).Delete(&flushMarkRow{}).Error
			return err == nil, err
		}
		return true, nil
	})
}
