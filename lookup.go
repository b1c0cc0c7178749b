package ginkey

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/netip"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/internal/keycache"
)

// errClientGone answers a request whose client hung up while it waited for
// the store. Nobody reads it; access logs show 499, as nginx logs such
// requests, rather than a 503 that never happened.
var errClientGone = newError(499, "client_closed_request", "the client closed the request")

type (
	cacheEntry = keycache.Entry[*keyRecord]
	flight     = keycache.Flight[*keyRecord]
)

// revalidate serves a key this guard verified before whose cache entry went
// stale. While another request re-reads it, the stale record serves for a
// little longer (up to twice CacheTTL old); when the store fails, for up to
// StaleIfError. A key changed through this guard is never here: a change
// drops its entry.
func (g *Guard) revalidate(c *gin.Context, e *cacheEntry, h *keyHash, tag uint64, now time.Time) (*keyRecord, error) {
	age := time.Duration(now.UnixNano() - e.Fetched)
	if !g.health.allow(now.UnixNano()) {
		return g.staleOr(e, age)
	}
	fl, lead := g.keys.Flights.Join(hashOf(h))
	if !lead && age >= 0 && age < 2*g.keys.ttl {
		return e.Val, nil
	}
	rec, err := g.await(c, fl, lead, h, tag, now)
	if err == ErrUnavailable { //nolint:errorlint // fetch returns the sentinel itself
		return g.staleOr(e, age)
	}
	return rec, err
}

// staleOr admits e's record if it is young enough for StaleIfError, else
// answers 503.
func (g *Guard) staleOr(e *cacheEntry, age time.Duration) (*keyRecord, error) {
	if g.keys.staleIfError > 0 && age >= 0 && age < g.keys.staleIfError { // a clock set back vouches for nothing
		g.health.servedStale()
		return e.Val, nil
	}
	g.health.unavailable()
	return nil, ErrUnavailable
}

// lookUp takes part in h's read for a key not in the cache: a leader, from
// client address a, does the read if a and everyone together have room for
// one more lookup in flight, and otherwise answers at once, as do the
// followers waiting on it.
func (g *Guard) lookUp(c *gin.Context, fl *flight, lead bool, a netip.Addr, h *keyHash, tag uint64, now time.Time) (*keyRecord, error) {
	if lead {
		if err := g.limits.enterLookup(a); err != nil {
			// Its followers may come from other addresses: a's share is
			// not theirs to be refused for.
			fl.Err = retryLater(errLookupsBusy, lookupRetry)
			g.keys.Flights.Land(hashOf(h), fl)
			return nil, err
		}
		defer g.limits.leaveLookup(a)
	}
	return g.await(c, fl, lead, h, tag, now)
}

// await takes part in h's read: the leader does it, the others wait for it
// or for their client to hang up.
func (g *Guard) await(c *gin.Context, fl *flight, lead bool, h *keyHash, tag uint64, now time.Time) (*keyRecord, error) {
	ctx := c.Request.Context()
	if lead {
		g.lead(ctx, fl, h, tag, now)
	} else {
		select {
		case <-fl.Done():
		case <-ctx.Done():
			return nil, errClientGone
		}
	}
	if fl.Err != nil && ctx.Err() != nil {
		return nil, errClientGone
	}
	return fl.Val, fl.Err
}

// lead does the read of fl for everyone waiting on it. The read goes on if
// this client hangs up, since others may be waiting; and however it ends,
// even in a panic of the store, the flight lands.
func (g *Guard) lead(ctx context.Context, fl *flight, h *keyHash, tag uint64, now time.Time) {
	fl.Err = ErrUnavailable
	defer g.keys.Flights.Land(hashOf(h), fl)
	fl.Val, fl.Err = g.fetch(context.WithoutCancel(ctx), h, tag, now)
}

// fetch reads the record for h from the store, within StoreTimeout, and
// caches it, prepared; or remembers tag as unknown.
func (g *Guard) fetch(ctx context.Context, h *keyHash, tag uint64, now time.Time) (*keyRecord, error) {
	var gen uint64
	if g.keys.Verified != nil {
		_, _, gen = g.keys.Verified.Get(hashOf(h), now.UnixNano())
	}
	ctx, cancel := context.WithTimeout(ctx, g.storeTimeout)
	defer cancel()
	hexHash := h.String()
	ctx, end := g.observed(ctx, "lookup", false)
	rec, err := g.store.ByHash(ctx, hexHash)
	err = fromStore(err)
	end(err)
	if errors.Is(err, ErrNotFound) {
		g.health.ok(now)
		if g.keys.Verified != nil { // deleted since it was cached (e.g. by another instance)
			g.keys.Verified.Remove(hashOf(h))
		}
		if g.keys.Unknown != nil {
			g.keys.Unknown.Put(tag, now.UnixNano())
		}
		return nil, ErrKeyInvalid
	}
	if err != nil {
		g.health.failure(g.now(), err)
		return nil, ErrUnavailable
	}
	g.health.ok(now)
	// The store found the row by its hash; comparing again in constant time
	// keeps a store with a case-folding or prefix-matching index honest.
	if subtle.ConstantTimeCompare([]byte(rec.Hash), []byte(hexHash)) != 1 {
		return nil, ErrKeyInvalid
	}
	prepared := g.prepare(rec)
	if g.keys.Verified != nil {
		g.keys.Verified.Put(hashOf(h), prepared, now.UnixNano(), gen)
	}
	return prepared, nil
}
