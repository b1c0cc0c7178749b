package ginkey

import (
	"context"
	"errors"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

// What a revoked, rotated or expired key still accepts. The management API
// decides it here, inside the functions it hands to Store.Modify and
// Rotator.Rotate, which run on the record as read under the store's lock;
// the store only persists the answer.

// changeable refuses a change other than revocation to a revoked key, since
// revocation is final, and to a rotated one, even in its grace period.
// An expired key may be changed (renewed, above all).
func changeable(r *keystore.Record) error {
	switch {
	case r.RevokedAt == nil:
		return nil
	case r.RotatedTo != "":
		return errRotatedConflict
	}
	return errRevokedConflict
}

// revocable reports whether revoking r at now changes it: a key not revoked
// yet, or one whose revocation lies ahead (a rotated key in its grace:
// revoking it ends the grace now).
func revocable(r *keystore.Record, now time.Time) bool {
	return r.RevokedAt == nil || r.RevokedAt.After(now)
}

// rotatable refuses rotating a key rotated before (in its grace or past
// it), revoked, or expired at now.
func rotatable(r *keystore.Record, now time.Time) error {
	switch {
	case r.RotatedTo != "":
		return errRotatedConflict
	case r.RevokedAt != nil:
		return errRevokedConflict
	case keystore.Expired(r.ExpiresAt, now):
		return errExpiredConflict
	}
	return nil
}

// alreadyRevoked carries, out of RevokeKey's Modify, a key that revoking
// would not change: it is returned as it is.
type alreadyRevoked struct{ rec *keystore.Record }

func (alreadyRevoked) Error() string { return "ginkey: already revoked" }

// maxPredecessors bounds how far back RevokeKey follows a rotation chain.
const maxPredecessors = 1000

// endPredecessors ends, at now, the grace of every key that id was rotated
// from, directly or through keys between, that is still in its grace. It
// runs before id itself is revoked, so that no predecessor outlives the
// revocation. A predecessor deleted meanwhile ends the walk.
func (g *Guard) endPredecessors(ctx context.Context, id string, now time.Time) error {
	rec, err := g.store.ByID(ctx, id)
	if err != nil {
		return err
	}
	succ, pred := rec.ID, rec.RotatedFrom
	for i := 0; pred != "" && i < maxPredecessors; i++ {
		p, err := g.store.Modify(ctx, pred, func(r *keystore.Record) (*keystore.Record, error) {
			if r.RotatedTo != succ || !revocable(r, now) {
				return nil, alreadyRevoked{r}
			}
			r.RevokedAt = &now
			return r, nil
		})
		already, unchanged := errors.AsType[alreadyRevoked](err)
		switch {
		case unchanged:
			p = already.rec
		case errors.Is(err, keystore.ErrNotFound):
			return nil
		case err != nil:
			return err
		default:
			g.invalidateHex(ctx, p.Hash)
			g.audit(ctx, actionRevoke, p.ID, nil, nil)
			g.log.Info("ginkey: grace ended by revoking a successor", "key_id", p.ID, "successor_id", succ)
		}
		if p.RotatedTo != succ { // not the chain any more
			return nil
		}
		succ, pred = p.ID, p.RotatedFrom
	}
	return nil
}
