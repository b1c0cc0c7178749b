package ginkey

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/ginkey/ginkey/internal/keycache"
)

// keyCache is the guard's cache component: verified records, unknown-key
// tags and reads in flight (see keycache), and how long a record serves.
//
// A change made through the guard drops the key's entry (invalidate), here
// and, with a Notifier, on the other instances; a change made elsewhere and
// not announced is seen once CacheTTL has passed.
type keyCache struct {
	keycache.Keys[*keyRecord]
	ttl          time.Duration // CacheTTL
	staleIfError time.Duration // <= 0: off
}

// hashOf is h as the cache indexes it.
func hashOf(h *keyHash) *keycache.Hash { return (*keycache.Hash)(h) }

// invalidate drops the record of the key with hash h, here and, through
// the Notifier, on every other instance. The key-management API calls it
// after each write to the store, with the call's context (see announce).
func (g *Guard) invalidate(ctx context.Context, h *keyHash) {
	g.keys.Drop(hashOf(h))
	g.announce(ctx, h)
}

func (g *Guard) invalidateHex(ctx context.Context, hexHash string) {
	if h, ok := parseKeyHash(hexHash); ok {
		g.invalidate(ctx, &h)
	}
}

// parseKeyHash reads a key's hash as the store keeps it, in hex.
func parseKeyHash(hexHash string) (keyHash, bool) {
	var h keyHash
	b, err := hex.DecodeString(hexHash)
	if err != nil || len(b) != len(h) {
		return h, false
	}
	copy(h[:], b)
	return h, true
}

// drop forgets h's record and voids its reads in flight, in this guard only.
func (g *Guard) drop(h *keyHash) { g.keys.Drop(hashOf(h)) }
