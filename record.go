package ginkey

import (
	"time"

	"github.com/ginkey/ginkey/keystore"
)

// Status is a key's state at a moment: active, expired or revoked.
type Status = keystore.Status

// The states a key can be in.
const (
	StatusActive  = keystore.StatusActive
	StatusExpired = keystore.StatusExpired
	StatusRevoked = keystore.StatusRevoked
)

// keyRecord is a key as the request path holds it: the public Key, the hash
// of the key, and its policy, prepared once when it enters the cache (see
// prepare), so that a cache hit converts and parses nothing.
type keyRecord struct {
	Key
	Hash string

	policy *keyPolicy
}

// keyOf is r as a caller sees it, without its status.
func keyOf(r *keystore.Record) Key {
	return Key{
		ID: r.ID, Prefix: r.Prefix, Name: r.Name, Owner: r.Owner,
		Scopes: r.Scopes, Metadata: r.Metadata, AllowedIPs: r.AllowedIPs,
		RateLimit: rateLimitOf(r.RateLimit), Quota: quotaOf(r.Quota),
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, RevokedAt: r.RevokedAt, LastUsedAt: r.LastUsedAt,
		RotatedFrom: r.RotatedFrom, RotatedTo: r.RotatedTo,
	}
}

// recordOf is k as a store keeps it, with the key's hash.
func recordOf(k *Key, hash string) *keystore.Record {
	return &keystore.Record{
		ID: k.ID, Hash: hash, Prefix: k.Prefix, Name: k.Name, Owner: k.Owner,
		Scopes: k.Scopes, Metadata: k.Metadata, AllowedIPs: k.AllowedIPs,
		RateLimit: storedRateLimit(k.RateLimit), Quota: storedQuota(k.Quota),
		CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt, LastUsedAt: k.LastUsedAt,
		RotatedFrom: k.RotatedFrom, RotatedTo: k.RotatedTo,
	}
}

// rateLimitOf and quotaOf are stored limits as a RateLimit and a Quota;
// nil for none.
func rateLimitOf(l *keystore.Limit) *RateLimit {
	if l == nil {
		return nil
	}
	return &RateLimit{Requests: l.Requests, Per: l.Per}
}

func quotaOf(l *keystore.Limit) *Quota {
	if l == nil {
		return nil
	}
	return &Quota{Requests: l.Requests, Per: l.Per}
}

// storedLimit is a rate limit or a quota as a store keeps it.
func storedLimit(requests int64, per string) *keystore.Limit {
	return &keystore.Limit{Requests: requests, Per: per}
}

func storedRateLimit(rl *RateLimit) *keystore.Limit {
	if rl == nil {
		return nil
	}
	return storedLimit(rl.Requests, rl.Per)
}

func storedQuota(q *Quota) *keystore.Limit {
	if q == nil {
		return nil
	}
	return storedLimit(q.Requests, q.Per)
}

// statusAt is k's state at now; keystore.StatusAt says when a key counts as
// revoked or expired, for the request path, the management API and the
// stores' listing filters alike.
func statusAt(k *Key, now time.Time) Status {
	return keystore.StatusAt(k.RevokedAt, k.ExpiresAt, k.RotatedTo, now)
}
