package gormstore

import (
	"context"
	"time"

	"github.com/ginkey/ginkey/keystore"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ownerLockRow is one owner's lock: InsertCapped locks it for the length of
// its transaction, so that one owner's capped inserts take turns across
// every process on the database (on MySQL, owners equal but for case
// share one: harmless). A row lock, not a table or advisory lock,
// because it is the one kind SQLite, PostgreSQL and MariaDB/MySQL all have
// (SELECT … FOR UPDATE; SQLite's writer holds the whole database anyway),
// and owners' inserts never wait for each other's.
type ownerLockRow struct {
	Owner string `gorm:"primaryKey;size:200"`
}

// InsertCapped inserts r, in one transaction with the owner's lock held,
// unless the owner has limit or more keys that count toward the cap at now
// (see keystore.Capped); then it returns keystore.ErrOwnerFull.
func (s *Store) InsertCapped(ctx context.Context, r *keystore.Record, limit int, now time.Time) error {
	row, err := toRow(r)
	if err != nil {
		return err
	}
	now = now.UTC()
	return s.transaction(ctx, false, func(tx *gorm.DB) error {
		if err := s.lockOwner(tx, r.Owner); err != nil {
			return err
		}
		// Read after the lock: under PostgreSQL's and MariaDB's default
		// isolation this statement sees every insert committed by the
		// lock's previous holder (a REPEATABLE READ snapshot starts at the
		// first plain read, which this is).
		count := tx.Table(s.keys).
			Where("owner = ? AND rotated_to IS NULL AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", r.Owner, now)
		if s.db.Name() == "mysql" { // its default collations ignore case (and List's owner is exact)
			count = count.Where("BINARY owner = ?", r.Owner)
		}
		var n int64
		if err := count.Count(&n).Error; err != nil {
			return err
		}
		if n >= int64(limit) {
			return keystore.ErrOwnerFull
		}
		return tx.Table(s.keys).Create(&row).Error
	})
}

// lockOwner makes sure owner's lock row exists and locks it until tx ends.
func (s *Store) lockOwner(tx *gorm.DB, owner string) error {
	err := tx.Table(s.owners).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&ownerLockRow{Owner: owner}).Error
	if err != nil || s.sqlite { // SQLite: the insert took the database's write lock
		return err
	}
	var locked []ownerLockRow
	return tx.Table(s.owners).Where("owner = ?", owner).
		Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Find(&locked).Error
}
