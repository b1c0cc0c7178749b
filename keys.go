package ginkey

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

// The key-management API. What each operation means (validation, id and key
// generation, storage, cache invalidation, logging) is written here once; the
// admin HTTP handlers decode a request, call one of these methods and encode
// its answer.
//
// Every method returns a *Error a client may see (ErrNotFound, a bad_request
// naming the field, ErrConflict, ErrUnavailable) as it is, and wraps
// any other failure of the store as an internal error; WriteError renders
// both. Each call, its audit entry included, runs under the guard's admin
// deadline (five StoreTimeouts) or ctx's own, whichever is sooner (adminOp).

// KeySpec describes a key for CreateKey. Every field is optional.
type KeySpec struct {
	// Name is at most 200 characters of letters, marks, numbers, punctuation,
	// symbols and the ASCII space.
	Name string
	// Owner is the user, team or tenant of the host application the key
	// belongs to, under the rules of Name. ListKeys finds keys by it.
	Owner string
	// Scopes hold at most 64 entries of 1 to 128 letters, digits and
	// ": . _ - / *". Duplicates are dropped, order kept.
	Scopes []string
	// Metadata is any object whose JSON encoding is at most 4096 bytes. It
	// is stored as JSON: numbers come back as json.Number. Default: {}.
	Metadata map[string]any
	// ExpiresAt must be in the future, before the year 10000 (UTC). Default:
	// now plus Config.TTL.
	ExpiresAt *time.Time
	// NeverExpires gives the key no expiry; not together with ExpiresAt.
	NeverExpires bool
	// RateLimit caps how fast the key may be used. Default: Config.RateLimit.
	RateLimit *RateLimit
	// AllowedIPs are the addresses or CIDR prefixes the key may be used from
	// (at most 64), stored in canonical form. Default: any address.
	AllowedIPs []string
	// Quota caps the key's requests per UTC day or month. Default: none.
	Quota *Quota
}

// KeyQuery selects a page of keys for ListKeys. The filters set combine:
// a key is listed when it matches all of them.
type KeyQuery struct {
	Status Status // only keys in this state; "" for all
	Owner  string // only keys of this owner, exactly
	Prefix string // only keys with this display prefix, exactly ("gk_AbC1x")
	Name   string // only keys whose name contains this, ignoring case (SQLite: ASCII letters only)
	Limit  int    // page size, 1 to 500; 0 means 50
	Offset int    // keys to skip, 0 to 1073741824
}

// KeyUpdate lists the changes UpdateKey makes; nil fields are left alone.
// The rules of KeySpec apply to each field set.
type KeyUpdate struct {
	Name       *string
	Owner      *string
	Scopes     *[]string       // replaced as a whole
	Metadata   *map[string]any // replaced as a whole
	AllowedIPs *[]string       // replaced as a whole; empty: any address

	RateLimit      *RateLimit // the key's own rate limit
	ClearRateLimit bool       // back to Config.RateLimit; not with RateLimit
	Quota          *Quota     // the key's quota
	ClearQuota     bool       // no quota; not with Quota
}

// Renewal is RenewKey's new expiry. The zero value means one Config.TTL from
// now.
type Renewal struct {
	ExpiresAt    *time.Time // in the future, before the year 10000 (UTC)
	NeverExpires bool       // no expiry; not together with ExpiresAt
}

// CreateKey validates spec, generates a key and stores its hash. The
// plaintext key is in the result's Secret and nowhere else: it cannot be
// read again. The key works on the guard's handlers at once.
//
// A field that breaks its rule is a *Error with code bad_request whose
// message names the field; a store failure is an internal error.
func (g *Guard) CreateKey(ctx context.Context, spec KeySpec) (CreatedKey, error) {
	return g.create(ctx, spec, nil, g.store.Insert)
}

// create is CreateKey with admit, when not nil, judging (and completing)
// the key spec describes before it is generated, and insert storing it.
func (g *Guard) create(ctx context.Context, spec KeySpec, admit func(*Key, time.Time) *Error,
	insert func(context.Context, *keystore.Record) error) (out CreatedKey, err error) {
	ctx, done := g.adminOp(ctx, actionCreate)
	defer func() { done(out.ID, spec.given(), err) }()
	now := g.now().UTC().Truncate(time.Microsecond)
	k, e := g.checkSpec(&spec, now)
	if e == nil && admit != nil {
		e = admit(&k, now)
	}
	if e != nil {
		return CreatedKey{}, e
	}
	nk, err := g.generateKey()
	if err != nil {
		return CreatedKey{}, err
	}
	k.ID, k.Prefix = nk.id, nk.prefix
	if err := insert(ctx, recordOf(&k, nk.hash.String())); err != nil {
		return CreatedKey{}, storeError("insert key", err)
	}
	g.drop(&nk.hash) // a new key: other instances have nothing to drop
	g.log.Info("ginkey: key created", "key_id", k.ID, "prefix", nk.prefix)
	k.Status = statusAt(&k, now)
	return CreatedKey{Key: k, Secret: nk.secret}, nil
}

// checkSpec validates spec and returns the key it describes, without id and
// prefix.
func (g *Guard) checkSpec(spec *KeySpec, now time.Time) (Key, *Error) {
	expires, e := g.expiry(spec.ExpiresAt, spec.NeverExpires, now)
	if e != nil {
		return Key{}, e
	}
	if e := validateName(spec.Name); e != nil {
		return Key{}, e
	}
	if e := validateOwner(spec.Owner); e != nil {
		return Key{}, e
	}
	scopes, e := validateScopes(spec.Scopes)
	if e != nil {
		return Key{}, e
	}
	metadata, e := checkMetadata(spec.Metadata)
	if e != nil {
		return Key{}, e
	}
	if metadata == nil {
		metadata = map[string]any{}
	}
	ips, e := validateLimits(spec.RateLimit, spec.AllowedIPs, spec.Quota)
	if e != nil {
		return Key{}, e
	}
	return Key{
		Name: spec.Name, Owner: spec.Owner, Scopes: scopes, Metadata: metadata,
		RateLimit: clone(spec.RateLimit), AllowedIPs: ips, Quota: clone(spec.Quota),
		CreatedAt: now, ExpiresAt: expires,
	}, nil
}

// GetKey returns the key with id, or ErrNotFound.
func (g *Guard) GetKey(ctx context.Context, id string) (Key, error) {
	if e := checkID(id); e != nil {
		return Key{}, e
	}
	ctx, cancel := g.adminRead(ctx)
	defer cancel()
	rec, err := g.store.ByID(ctx, id)
	if err != nil {
		return Key{}, storeError("read key", err)
	}
	return g.public(rec), nil
}

// ListKeys returns a page of keys, newest first, and the number of keys
// matching q. A Status other than "", active, expired and revoked, an owner
// or name that no key could have, a prefix that is not a display prefix's
// shape, or a Limit or Offset out of range, is a bad_request naming it.
//
// An owner's keys and a prefix's are read off an index: listing one owner's
// among a million keys takes a few milliseconds. A name alone is searched
// for in every key.
func (g *Guard) ListKeys(ctx context.Context, q KeyQuery) ([]Key, int64, error) {
	switch q.Status {
	case "", StatusActive, StatusExpired, StatusRevoked:
	default:
		return nil, 0, badField("status", "must be active, expired or revoked")
	}
	if e := validateOwner(q.Owner); e != nil {
		return nil, 0, e
	}
	if e := validateName(q.Name); e != nil {
		return nil, 0, e
	}
	if e := checkDisplayPrefix(q.Prefix); e != nil {
		return nil, 0, e
	}
	limit, e := limitRange.value(q.Limit)
	if e != nil {
		return nil, 0, e
	}
	offset, e := offsetRange.value(q.Offset)
	if e != nil {
		return nil, 0, e
	}
	ctx, cancel := g.adminRead(ctx)
	defer cancel()
	now := g.now().UTC()
	recs, total, err := g.store.List(ctx, keystore.ListQuery{
		Status: q.Status, Owner: q.Owner, Prefix: q.Prefix, Name: q.Name,
		Now: now, Limit: limit, Offset: offset,
	})
	if err != nil {
		return nil, 0, storeError("list keys", err)
	}
	keys := make([]Key, len(recs))
	for i := range recs {
		keys[i] = keyOf(&recs[i])
		keys[i].Status = statusAt(&keys[i], now)
	}
	return keys, total, nil
}

// UpdateKey applies u to the key with id and returns the key as changed;
// the change applies from the key's next request. An update that changes
// nothing, or a field that breaks its rule, is a bad_request; an unknown id
// is ErrNotFound; a revoked or rotated key is ErrConflict.
func (g *Guard) UpdateKey(ctx context.Context, id string, u KeyUpdate) (_ Key, err error) {
	if e := checkID(id); e != nil {
		return Key{}, e
	}
	ch, fields, e := u.changes()
	ctx, done := g.adminOp(ctx, actionUpdate)
	defer func() { done(id, fields, err) }()
	if e != nil {
		return Key{}, e
	}
	rec, err := g.store.Modify(ctx, id, func(r *keystore.Record) (*keystore.Record, error) {
		if err := changeable(r); err != nil {
			return nil, err
		}
		ch.apply(r)
		return r, nil
	})
	if err != nil {
		return Key{}, storeError("update key", err)
	}
	g.invalidateHex(ctx, rec.Hash)
	if ch.SetRateLimit {
		g.rateChanged(rec.Chain(), ch.RateLimit)
	}
	g.log.Info("ginkey: key updated", "key_id", id, "fields", strings.Join(fields, ","))
	return g.public(rec), nil
}

// RevokeKey revokes the key with id for good; it fails from the key's next
// request. Revoking a revoked key is not an error: it returns the key as it
// is. Revoking a rotated key in its grace period ends the grace now. An
// unknown id is ErrNotFound.
//
// Revoking a key that a rotation created also ends, now, the grace of its
// predecessor, and of the predecessor's own predecessors (up to 1000 back),
// each still in its grace: a leaked key is dealt with by revoking the key in
// use. The predecessors are revoked first and the key last, so that no key
// of the chain works once the call returns; if it fails midway, the
// predecessors revoked so far stay revoked and the call may be repeated.
// Each revoked predecessor gets a revoke entry in the audit log, and is
// dropped from this guard's cache and announced to other instances as the
// key is.
func (g *Guard) RevokeKey(ctx context.Context, id string) (_ Key, err error) {
	if e := checkID(id); e != nil {
		return Key{}, e
	}
	ctx, done := g.adminOp(ctx, actionRevoke)
	defer func() { done(id, nil, err) }()
	now := g.now().UTC().Truncate(time.Microsecond)
	if err := g.endPredecessors(ctx, id, now); err != nil {
		return Key{}, storeError("revoke key", err)
	}
	rec, err := g.store.Modify(ctx, id, func(r *keystore.Record) (*keystore.Record, error) {
		if !revocable(r, now) {
			return nil, alreadyRevoked{r}
		}
		r.RevokedAt = &now
		return r, nil
	})
	if already, ok := errors.AsType[alreadyRevoked](err); ok { // not an error: the record as it is
		rec, err = already.rec, nil
	}
	if err != nil {
		return Key{}, storeError("revoke key", err)
	}
	g.invalidateHex(ctx, rec.Hash)
	g.log.Info("ginkey: key revoked", "key_id", id)
	return g.public(rec), nil
}

// RenewKey sets the expiry of the key with id to r's. A bad expiry is a
// bad_request; an unknown id is ErrNotFound; a revoked key is ErrConflict
// (code key_revoked), since revocation is final, as is a rotated one
// (key_rotated).
func (g *Guard) RenewKey(ctx context.Context, id string, r Renewal) (_ Key, err error) {
	if e := checkID(id); e != nil {
		return Key{}, e
	}
	ctx, done := g.adminOp(ctx, actionRenew)
	defer func() { done(id, nil, err) }()
	now := g.now().UTC().Truncate(time.Microsecond)
	expires, e := g.expiry(r.ExpiresAt, r.NeverExpires, now)
	if e != nil {
		return Key{}, e
	}
	rec, err := g.store.Modify(ctx, id, func(r *keystore.Record) (*keystore.Record, error) {
		if err := changeable(r); err != nil {
			return nil, err
		}
		r.ExpiresAt = expires
		return r, nil
	})
	if err != nil {
		return Key{}, storeError("renew key", err)
	}
	g.invalidateHex(ctx, rec.Hash)
	g.log.Info("ginkey: key renewed", "key_id", id)
	return g.public(rec), nil
}

// DeleteKey deletes the key with id and its usage; it fails from its next
// request. An unknown id is ErrNotFound.
func (g *Guard) DeleteKey(ctx context.Context, id string) (err error) {
	if e := checkID(id); e != nil {
		return e
	}
	ctx, done := g.adminOp(ctx, actionDelete)
	defer func() { done(id, nil, err) }()
	rec, err := g.store.ByID(ctx, id)
	if err != nil {
		return storeError("read key", err)
	}
	if err := g.store.Delete(ctx, rec.ID); err != nil {
		return storeError("delete key", err)
	}
	g.invalidateHex(ctx, rec.Hash)
	g.log.Info("ginkey: key deleted", "key_id", rec.ID)
	return nil
}

// public is rec as a caller sees it, with its status now.
func (g *Guard) public(rec *keystore.Record) Key {
	k := keyOf(rec)
	k.Status = statusAt(&k, g.now())
	return k
}

// checkDisplayPrefix refuses a prefix filter no key's display prefix could
// equal: a key prefix, "_", and base62 characters, at most 32 bytes.
func checkDisplayPrefix(p string) *Error {
	if p == "" {
		return nil
	}
	head, body, ok := strings.Cut(p, "_")
	if !ok || len(p) > 32 || head == "" || body == "" || !isBase62(head) || !isBase62(body) {
		return badField("prefix", `must be a key's display prefix, such as "gk_AbC1x"`)
	}
	return nil
}

// checkID refuses an id that cannot be a key's as unknown, before any I/O.
func checkID(id string) *Error {
	if len(id) == 0 || len(id) > 32 || !isBase62(id) {
		return ErrNotFound
	}
	return nil
}

func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
