package ginkey

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// maxRotationGrace is the longest grace period RotateKey accepts.
const maxRotationGrace = 30 * 24 * time.Hour

// RotateKey replaces the key with id by a new one and returns the new key,
// its plaintext in Secret as CreateKey does. The new key has the old one's
// name, owner, scopes, metadata, rate limit, allowed IPs, quota and expiry,
// a usage history of its own, and RotatedFrom set to id. The old key keeps
// working for grace (0 to 720h, 30 days; 0 stops it at once), then is
// refused as key_revoked: its RevokedAt is the end of the grace, its
// RotatedTo the new key's id. Meanwhile it accepts no other change;
// revoking it ends the grace.
//
// Both keys change in one transaction on the GORM store. On this guard the
// change applies from the next request; other instances see it within
// their CacheTTL.
//
// A grace out of range is a bad_request; an unknown id is ErrNotFound; a
// revoked key is ErrRevokedConflict, a key already rotated (in its grace or
// past it) ErrRotatedConflict, an expired one ErrExpiredConflict.
func (g *Guard) RotateKey(ctx context.Context, id string, grace time.Duration) (_ CreatedKey, err error) {
	if e := checkID(id); e != nil {
		return CreatedKey{}, e
	}
	ctx, done := g.adminOp(ctx, actionRotate)
	defer func() { done(id, []string{"revoked_at", "rotated_to"}, err) }()
	if grace < 0 || grace > maxRotationGrace {
		return CreatedKey{}, BadRequest(`grace must be from "0s" to "720h" (30 days)`)
	}
	plaintext, display, err := g.format.generate()
	if err != nil {
		return CreatedKey{}, fmt.Errorf("ginkey: generate key: %w", err)
	}
	nextID, err := randomBase62(22)
	if err != nil {
		return CreatedKey{}, fmt.Errorf("ginkey: generate key id: %w", err)
	}
	h := hashKey(plaintext)
	now := g.now().UTC().Truncate(time.Microsecond)
	stop := now.Add(grace)
	successor := func(old *Record) (*Record, error) {
		switch {
		case old.RotatedTo != "":
			return nil, ErrRotatedConflict
		case old.RevokedAt != nil:
			return nil, ErrRevokedConflict
		case old.ExpiresAt != nil && !now.Before(*old.ExpiresAt):
			return nil, ErrExpiredConflict
		}
		next := &Record{Key: old.Key, Hash: h.String()}
		next.ID, next.Prefix, next.CreatedAt = nextID, display, now
		next.RevokedAt, next.LastUsedAt, next.Status = nil, nil, ""
		next.RotatedFrom, next.RotatedTo = old.ID, ""
		return next, nil
	}
	ctx, cancel := context.WithTimeout(ctx, g.adminTimeout())
	defer cancel()
	var old, next *Record
	if r, ok := g.store.(rotator); ok {
		old, next, err = r.rotate(ctx, id, stop, successor)
	} else {
		old, next, err = rotateApart(ctx, g.store, id, stop, successor)
	}
	if err != nil {
		return CreatedKey{}, storeError("rotate key", err)
	}
	g.invalidateHex(old.Hash)
	g.invalidate(&h)
	g.log.Info("ginkey: key rotated", "key_id", id, "new_key_id", nextID, "grace", grace.String())
	return CreatedKey{Key: g.public(next), Secret: plaintext}, nil
}

// rotator is a Store that rotates a key in one transaction: it marks the old
// key with stop and the successor's id, and inserts the successor, built by
// successor from the old key as read under lock, or changes nothing. It
// returns the old key as changed and its successor.
type rotator interface {
	rotate(ctx context.Context, id string, stop time.Time, successor func(*Record) (*Record, error)) (old, next *Record, err error)
}

var _ rotator = (*gormStore)(nil)

func (s *gormStore) rotate(ctx context.Context, id string, stop time.Time, successor func(*Record) (*Record, error)) (old, next *Record, err error) {
	err = s.write(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			read := tx.Table(s.keys).Where("id = ?", id)
			if !s.sqlite { // SQLite's writer holds the whole database
				read = read.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
			}
			var rows []keyRow
			if err := read.Limit(1).Find(&rows).Error; err != nil {
				return err
			}
			if len(rows) == 0 {
				return ErrNotFound
			}
			o, err := fromRow(&rows[0])
			if err != nil {
				return err
			}
			n, err := successor(o)
			if err != nil {
				return err
			}
			res := tx.Table(s.keys).Where("id = ? AND revoked_at IS NULL", id).
				Updates(map[string]any{"revoked_at": stop, "rotated_to": n.ID})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 { // changed since it was read: a caller's SQLite without locks
				return ErrRevokedConflict
			}
			row, err := toRow(n)
			if err != nil {
				return err
			}
			if err := tx.Table(s.keys).Create(&row).Error; err != nil {
				return err
			}
			o.RevokedAt, o.RotatedTo = &stop, n.ID
			old, next = o, n
			return nil
		})
	})
	return old, next, err
}

// rotateApart rotates on a Store without transactions: the successor is
// inserted first, then the old key is marked, and the successor deleted
// again if that fails, so that no key is left half rotated. A crash in
// between leaves an unused successor that nobody ever saw.
func rotateApart(ctx context.Context, st Store, id string, stop time.Time, successor func(*Record) (*Record, error)) (old, next *Record, err error) {
	o, err := st.ByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	n, err := successor(o)
	if err != nil {
		return nil, nil, err
	}
	if err := st.Insert(ctx, n); err != nil {
		return nil, nil, err
	}
	o, err = st.Update(ctx, id, Changes{RevokedAt: &stop, RotatedTo: &n.ID})
	if err != nil {
		if derr := st.Delete(context.WithoutCancel(ctx), n.ID); derr != nil {
			err = errors.Join(err, fmt.Errorf("removing the unused successor %s: %w", n.ID, derr))
		}
		return nil, nil, err
	}
	return o, n, nil
}
