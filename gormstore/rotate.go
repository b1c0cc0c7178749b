package gormstore

import (
	"context"

	"github.com/ginkey/ginkey/keystore"
	"gorm.io/gorm"
)

// Rotate reads the key with id under a lock, calls fn, and writes the old
// key as fn changed it and inserts its successor, in one transaction.
func (s *Store) Rotate(ctx context.Context, id string, fn func(*keystore.Record) (*keystore.Record, *keystore.Record, error)) (old, next *keystore.Record, err error) {
	err = s.transaction(ctx, false, func(tx *gorm.DB) error {
		o, err := s.locked(tx, id)
		if err != nil {
			return err
		}
		read := *o // fn may change what it is given; o stays as read
		changed, n, err := fn(&read)
		if err != nil {
			return err
		}
		if o, err = s.persist(tx, o, changed); err != nil {
			return err
		}
		row, err := toRow(n)
		if err != nil {
			return err
		}
		if err := tx.Table(s.keys).Create(&row).Error; err != nil {
			return err
		}
		old, next = o, n
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return old, next, nil
}
