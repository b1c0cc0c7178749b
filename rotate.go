package ginkey

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ginkey/ginkey/internal/envconfig"
	"github.com/ginkey/ginkey/keystore"
)

// maxRotationGrace is the longest grace period RotateKey accepts.
const maxRotationGrace = 30 * 24 * time.Hour

// graceRule is the rule of a rotation's grace, wherever a grace comes in:
// its bound and the syntax of ginkey's durations (envconfig.ParseDuration).
const graceRule = "must be a duration from 0s to 30d (720h): " + envconfig.DurationForms

// RotateKey replaces the key with id by a new one and returns the new key,
// its plaintext in Secret as CreateKey does. The new key has the old one's
// name, owner, scopes, metadata, rate limit, allowed IPs, quota and expiry,
// a usage history of its own, and RotatedFrom set to id. It goes on from the
// old key's rate-limit state and quota count, which the two share while the
// old key is in its grace: the keys of a rotation chain are limited as one
// (see Quota). The old key keeps working for grace (0 to 30 days; 0
// stops it at once), then is refused as key_revoked: its RevokedAt is the
// end of the grace, its RotatedTo the new key's id. Meanwhile it accepts no
// other change; revoking it ends the grace, and so does revoking the new key
// (see RevokeKey).
//
// The audit log gets a rotate entry for the old key (fields revoked_at,
// rotated_to) and, so that the new key is found by its own id, a create
// entry for the new one with the field rotated_from; the new key's
// RotatedFrom names its predecessor.
//
// Both keys change in one transaction on a store that is a
// keystore.Rotator, as the GORM store is. On this guard the
// change applies from the next request; other instances see it within
// their CacheTTL.
//
// A grace out of range is a bad_request; an unknown id is ErrNotFound; a
// revoked key, a key already rotated (in its grace or past it) or an
// expired one is ErrConflict (codes key_revoked, key_rotated, key_expired).
func (g *Guard) RotateKey(ctx context.Context, id string, grace time.Duration) (_ CreatedKey, err error) {
	if e := checkID(id); e != nil {
		return CreatedKey{}, e
	}
	ctx, done := g.adminOp(ctx, actionRotate)
	var successor string // set once the rotation is stored
	defer func() {
		done(id, []string{"revoked_at", "rotated_to"}, err)
		if successor != "" {
			g.audit(ctx, actionCreate, successor, []string{"rotated_from"}, nil)
		}
	}()
	if grace < 0 || grace > maxRotationGrace {
		return CreatedKey{}, badField("grace", graceRule)
	}
	nk, err := g.generateKey()
	if err != nil {
		return CreatedKey{}, err
	}
	now := g.now().UTC().Truncate(time.Microsecond)
	stop := now.Add(grace)
	// rotation reads old under the store's lock, and returns it as rotated
	// and its successor.
	rotation := func(old *keystore.Record) (changed, next *keystore.Record, err error) {
		if err := rotatable(old, now); err != nil {
			return nil, nil, err
		}
		next = new(*old)
		next.ID, next.Hash, next.Prefix, next.CreatedAt = nk.id, nk.hash.String(), nk.prefix, now
		next.RevokedAt, next.LastUsedAt = nil, nil
		next.RotatedFrom, next.RotatedTo, next.ChainID = old.ID, "", old.Chain()
		changed = new(*old)
		changed.RevokedAt, changed.RotatedTo = &stop, nk.id
		return changed, next, nil
	}
	var old, next *keystore.Record
	if r, ok := g.store.(keystore.Rotator); ok {
		old, next, err = r.Rotate(ctx, id, rotation)
	} else {
		old, next, err = rotateApart(ctx, g.store, id, rotation)
	}
	if err != nil {
		return CreatedKey{}, storeError("rotate key", err)
	}
	successor = next.ID
	g.invalidateHex(ctx, old.Hash)
	g.invalidate(ctx, &nk.hash)
	g.log.Info("ginkey: key rotated", "key_id", id, "new_key_id", nk.id, "grace", grace.String())
	return CreatedKey{Key: g.public(next), Secret: nk.secret}, nil
}

// rotateApart rotates on a Store without transactions: the successor is
// inserted first, then the old key is marked, under the same rules, and the
// successor deleted again if that fails, so that no key is left half
// rotated. A crash in between leaves an unused successor that nobody ever
// saw.
func rotateApart(ctx context.Context, st keystore.Store, id string, rotation func(*keystore.Record) (changed, next *keystore.Record, err error)) (old, next *keystore.Record, err error) {
	o, err := st.ByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	_, n, err := rotation(o)
	if err != nil {
		return nil, nil, err
	}
	if err := st.Insert(ctx, n); err != nil {
		return nil, nil, err
	}
	o, err = st.Modify(ctx, id, func(r *keystore.Record) (*keystore.Record, error) {
		changed, _, err := rotation(r)
		return changed, err
	})
	if err != nil {
		if derr := st.Delete(context.WithoutCancel(ctx), n.ID); derr != nil {
			err = errors.Join(err, fmt.Errorf("removing the unused successor %s: %w", n.ID, derr))
		}
		return nil, nil, err
	}
	return o, n, nil
}
