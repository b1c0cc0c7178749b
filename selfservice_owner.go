package ginkey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

// OwnerKeys is the key-management API as one owner sees it: the owner's
// keys only, under the owner's OwnerPolicy. The self-service routes are an
// adapter over it; a host building its own key pages calls it to get the
// same checks. Every method calls the Guard's own (CreateKey, RevokeKey...),
// with WithActor "owner:<owner>", so each action is audited and observed as
// any other.
//
// Another owner's key, like an unknown or malformed id, is ErrNotFound: the
// same error, so that no answer tells the two apart.
type OwnerKeys struct {
	g      *Guard
	owner  string
	policy OwnerPolicy // checked, defaults applied
	scopes scopeSet
	cap    keystore.CappedInserter
}

// ForOwner returns the management API as owner sees it under policy. It
// fails when owner is "" or breaks KeySpec.Owner's rules, when a field of
// policy breaks its rule (those of KeySpec, and no negative numbers), or
// when the store cannot cap an owner's keys atomically (see
// RegisterSelfService).
func (g *Guard) ForOwner(owner string, policy OwnerPolicy) (*OwnerKeys, error) {
	capper, ok := g.store.(keystore.CappedInserter)
	if !ok {
		return nil, errNoCap
	}
	if owner == "" {
		return nil, errors.New("ginkey: ForOwner: no owner")
	}
	if e := validateOwner(owner); e != nil {
		return nil, fmt.Errorf("ginkey: ForOwner: %w", e)
	}
	p, err := g.checkPolicy(policy)
	if err != nil {
		return nil, err
	}
	return &OwnerKeys{g: g, owner: owner, policy: p, scopes: newScopeSet(p.Scopes), cap: capper}, nil
}

// checkPolicy validates p and fills in its defaults.
func (g *Guard) checkPolicy(p OwnerPolicy) (OwnerPolicy, error) {
	bad := func(e *Error) error { return fmt.Errorf("ginkey: OwnerPolicy: %s", e.Message) }
	scopes, e := validateScopes(p.Scopes)
	if e != nil {
		return p, bad(e)
	}
	ips, e := validateLimits(p.RateLimit, p.AllowedIPs, p.Quota)
	if e != nil {
		return p, bad(e)
	}
	if p.MaxLifetime < 0 || p.MaxKeys < 0 || p.CreatesPerHour < 0 {
		return p, errors.New("ginkey: OwnerPolicy: MaxLifetime, MaxKeys and CreatesPerHour must not be negative")
	}
	p.Scopes, p.AllowedIPs = scopes, ips
	p.RateLimit, p.Quota = clone(p.RateLimit), clone(p.Quota)
	if p.MaxLifetime == 0 {
		p.MaxLifetime = g.ttl
		if g.ttl <= 0 {
			p.MaxLifetime = defaultMaxLifetime
		}
	}
	if p.MaxKeys == 0 {
		p.MaxKeys = defaultMaxKeys
	}
	if p.CreatesPerHour == 0 {
		p.CreatesPerHour = defaultCreatesPerHour
	}
	return p, nil
}

// Owner is the owner o acts for.
func (o *OwnerKeys) Owner() string { return o.owner }

// as is ctx under which the Guard's methods audit o's owner as the actor.
func (o *OwnerKeys) as(ctx context.Context) context.Context {
	return WithActor(ctx, "owner:"+o.owner)
}

// errOwnerExpired refuses an owner's renewal of an expired key.
var errOwnerExpired = conflict("key_expired", "the key has expired and cannot be renewed here; create a new key")

// notChosen is the error of a field the policy sets, not the owner.
func notChosen(field string) *Error {
	return badField(field, "is set by the service for every key of yours; leave it out")
}

// Create creates a key for the owner, as CreateKey does, once the owner's
// creates this hour (CreatesPerHour: else ErrTooManyCreates, with when to
// retry) and active keys (MaxKeys: else ErrTooManyKeys) allow it. spec may
// set Name, Scopes (some of the policy's; none: all of them) and ExpiresAt
// (at most MaxLifetime ahead; none: MaxLifetime ahead); Owner, if set, must
// be the owner's. Setting Metadata, NeverExpires, RateLimit, AllowedIPs or
// Quota, which the policy decides, is a bad_request naming the field. Key
// and audit entry are CreateKey's, the actor "owner:<owner>".
func (o *OwnerKeys) Create(ctx context.Context, spec KeySpec) (CreatedKey, error) {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"owner", spec.Owner != "" && spec.Owner != o.owner},
		{"metadata", len(spec.Metadata) > 0},
		{"never_expires", spec.NeverExpires},
		{"rate_limit", spec.RateLimit != nil},
		{"allowed_ips", len(spec.AllowedIPs) > 0},
		{"quota", spec.Quota != nil},
	} {
		if f.set {
			return CreatedKey{}, notChosen(f.name)
		}
	}
	askedScopes := spec.Scopes != nil
	admit := func(k *Key, now time.Time) *Error {
		// The policy's fields go on the key, not the spec: the audit entry
		// lists the fields the owner gave. ForOwner checked them.
		k.Owner, k.RateLimit, k.Quota = o.owner, clone(o.policy.RateLimit), clone(o.policy.Quota)
		k.AllowedIPs = slices.Clone(o.policy.AllowedIPs)
		if !askedScopes {
			k.Scopes = o.policy.Scopes
		}
		for _, s := range k.Scopes {
			if !o.scopes.grants(s) || (s == o.g.admin.keyScope && !slices.Contains(o.policy.Scopes, s)) {
				// The admin scope is held literally on the way in, so a
				// plan's "*" or "ginkey:*" does not grant it either: only
				// the plan naming it does.
				return badField("scopes", "may hold only scopes your plan grants: "+strings.Join(o.policy.Scopes, ", "))
			}
		}
		return o.expiry(&k.ExpiresAt, spec.ExpiresAt != nil, now)
	}
	insert := func(ctx context.Context, r *keystore.Record) error {
		// Here, once the request is valid: a create the request itself
		// dooms (a scope, an expiry) costs none of the hour's allowance.
		if d, _ := o.g.self.creates.Allow(ctx, o.owner, int64(o.policy.CreatesPerHour), time.Hour); !d.Allowed {
			return retryLater(ErrTooManyCreates, d.RetryAfter)
		}
		if err := o.cap.InsertCapped(ctx, r, o.policy.MaxKeys, r.CreatedAt); err != nil {
			if errors.Is(err, keystore.ErrOwnerFull) {
				return ErrTooManyKeys
			}
			return err
		}
		return nil
	}
	return o.g.create(o.as(ctx), spec, admit, insert)
}

// expiry holds *at (nil: never) to the policy's MaxLifetime from now; a
// time not asked for is set to it.
func (o *OwnerKeys) expiry(at **time.Time, asked bool, now time.Time) *Error {
	longest := now.Add(o.policy.MaxLifetime)
	switch {
	case !asked || *at == nil:
		*at = &longest
	case (*at).After(longest):
		return badField("expires_at", "must be at most "+o.policy.MaxLifetime.String()+" from now")
	}
	return nil
}

// mineFor is Get before action: a refusal is audited (and observed) as
// the Guard's method would have audited an unknown id, so that a probe of
// another owner's key leaves its trace. The owner is checked again by
// nothing after this read: only the admin can change a key's owner.
func (o *OwnerKeys) mineFor(ctx context.Context, action, id string) (Key, error) {
	k, err := o.Get(ctx, id)
	if err != nil && checkID(id) == nil {
		_, done := o.g.adminOp(ctx, action)
		done(id, nil, err)
	}
	return k, err
}

// List returns a page of the owner's keys, as ListKeys does; q.Owner, if
// set, must be the owner's (else a bad_request naming owner). Paging and
// filters see only the owner's keys, and Total counts only them.
func (o *OwnerKeys) List(ctx context.Context, q KeyQuery) ([]Key, int64, error) {
	if q.Owner != "" && q.Owner != o.owner {
		return nil, 0, notChosen("owner")
	}
	q.Owner = o.owner
	return o.g.ListKeys(o.as(ctx), q)
}

// Get returns the owner's key with id, as GetKey does, or ErrNotFound when
// it is not the owner's: the one check of ownership every method makes
// first.
func (o *OwnerKeys) Get(ctx context.Context, id string) (Key, error) {
	k, err := o.g.GetKey(ctx, id)
	if err == nil && k.Owner != o.owner {
		return Key{}, ErrNotFound
	}
	return k, err
}

// Rotate rotates the owner's key with id, as RotateKey does; the successor
// takes the key's place under MaxKeys. A key that is itself a rotation's
// successor ends its predecessor's grace (revoking it, as RevokeKey does):
// a chain holds at most two working keys, else rotating again and again,
// each with a grace, would give an owner any number of working keys past
// MaxKeys.
func (o *OwnerKeys) Rotate(ctx context.Context, id string, grace time.Duration) (CreatedKey, error) {
	ctx = o.as(ctx)
	k, err := o.mineFor(ctx, actionRotate, id)
	if err != nil {
		return CreatedKey{}, err
	}
	out, err := o.g.RotateKey(ctx, id, grace)
	if err != nil || k.RotatedFrom == "" {
		return out, err
	}
	// After the rotation, so that a refused one ends no grace. A failure
	// here leaves the predecessor its grace (at most MaxRotationGrace): the
	// new key is made, and is answered.
	if _, err := o.g.RevokeKey(ctx, k.RotatedFrom); err != nil && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) {
		o.g.log.Warn("ginkey: self-service rotation: the predecessor's grace was not ended", "key_id", k.RotatedFrom, "error", err)
	}
	return out, nil
}

// Revoke revokes the owner's key with id, as RevokeKey does.
func (o *OwnerKeys) Revoke(ctx context.Context, id string) (Key, error) {
	ctx = o.as(ctx)
	if _, err := o.mineFor(ctx, actionRevoke, id); err != nil {
		return Key{}, err
	}
	return o.g.RevokeKey(ctx, id)
}

// Renew renews the owner's key with id, as RenewKey does, to r.ExpiresAt
// (at most MaxLifetime ahead; none: MaxLifetime ahead). NeverExpires is a
// bad_request naming never_expires. An expired key is not renewed (409
// key_expired, matching ErrConflict): it would escape MaxKeys; the owner
// creates a new one.
func (o *OwnerKeys) Renew(ctx context.Context, id string, r Renewal) (Key, error) {
	if r.NeverExpires {
		return Key{}, notChosen("never_expires")
	}
	ctx = o.as(ctx)
	k, err := o.mineFor(ctx, actionRenew, id)
	if err != nil {
		return Key{}, err
	}
	// Renewing an expired key would make it count toward MaxKeys again
	// without the cap's atomic check: the owner creates a new key instead.
	if k.Status == StatusExpired {
		return Key{}, errOwnerExpired
	}
	if e := o.expiry(&r.ExpiresAt, r.ExpiresAt != nil, o.g.now().UTC().Truncate(time.Microsecond)); e != nil {
		return Key{}, e
	}
	return o.g.RenewKey(ctx, id, r)
}

// Usage reports the owner's key's usage, as KeyUsage does.
func (o *OwnerKeys) Usage(ctx context.Context, id string, days int) (UsageReport, error) {
	if _, err := o.Get(ctx, id); err != nil {
		return UsageReport{}, err
	}
	return o.g.KeyUsage(ctx, id, days)
}

// Audit returns a page of the audit entries of the owner's key with id, as
// Audit does with q.KeyID set to id (q's KeyID is ignored). Entries of
// actions the owner did not take name the actor "other" and no
// principal: the owner sees what was done to the key, not by whom.
func (o *OwnerKeys) Audit(ctx context.Context, id string, q AuditQuery) ([]AuditEntry, int64, error) {
	if _, err := o.Get(ctx, id); err != nil {
		return nil, 0, err
	}
	q.KeyID = id
	entries, total, err := o.g.Audit(ctx, q)
	self := cleanActor("owner:" + o.owner)
	for i := range entries {
		if e := &entries[i]; e.Actor != self {
			e.Actor, e.Principal = "other", ""
		}
	}
	return entries, total, err
}
