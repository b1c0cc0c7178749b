package ginkey

import (
	"context"
	"crypto/subtle"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// errClientGone answers a request whose client hung up while it waited for
// the store. Nobody reads it; access logs show 499, as nginx logs such
// requests, rather than a 503 that never happened.
var errClientGone = newError(499, "client_closed_request", "the client closed the request")

// flights lets concurrent cache misses of one key share a single store
// read. Entries live only while their read does, so the map is bounded by
// the requests in flight.
type flights struct {
	mu sync.Mutex
	m  map[keyHash]*flight
}

type flight struct {
	done chan struct{}
	rec  *Record
	err  error
}

// join returns h's read in flight, or starts one; lead reports whether the
// caller must do the read and then call land.
func (f *flights) join(h *keyHash) (fl *flight, lead bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl = f.m[*h]; fl != nil {
		return fl, false
	}
	if f.m == nil {
		f.m = make(map[keyHash]*flight)
	}
	fl = &flight{done: make(chan struct{})}
	f.m[*h] = fl
	return fl, true
}

// land publishes the leader's result to the flight's followers.
func (f *flights) land(h *keyHash, fl *flight) {
	f.mu.Lock()
	if f.m[*h] == fl {
		delete(f.m, *h)
	}
	f.mu.Unlock()
	close(fl.done)
}

// forget detaches h's read in flight, if any, so that no request joins it
// any more: it began before a change to the key, and its record must not
// reach a request that comes after the change.
func (f *flights) forget(h *keyHash) {
	f.mu.Lock()
	delete(f.m, *h)
	f.mu.Unlock()
}

// forgetAll is forget for every key.
func (f *flights) forgetAll() {
	f.mu.Lock()
	clear(f.m)
	f.mu.Unlock()
}

// revalidate serves a key this guard verified before whose cache entry went
// stale. While another request re-reads it, the stale record serves for a
// little longer (up to twice CacheTTL old); when the store fails, for up to
// StaleIfError. A key changed through this guard is never here: a change
// drops its entry.
func (g *Guard) revalidate(c *gin.Context, e *cacheEntry, h *keyHash, tag uint64, now time.Time) (*Record, error) {
	age := time.Duration(now.UnixNano() - e.fetched)
	if !g.health.allow(now.UnixNano()) {
		return g.staleOr(e, age)
	}
	fl, lead := g.flights.join(h)
	if !lead && age >= 0 && age < 2*g.cacheTTL {
		return e.rec, nil
	}
	rec, err := g.await(c, fl, lead, h, tag, now)
	if err == ErrUnavailable { //nolint:errorlint // fetch returns the sentinel itself
		return g.staleOr(e, age)
	}
	return rec, err
}

// staleOr admits e's record if it is young enough for StaleIfError, else
// answers 503.
func (g *Guard) staleOr(e *cacheEntry, age time.Duration) (*Record, error) {
	if g.staleIfError > 0 && age >= 0 && age < g.staleIfError { // a clock set back vouches for nothing
		g.health.servedStale()
		return e.rec, nil
	}
	g.health.unavailable()
	return nil, ErrUnavailable
}

// await takes part in h's read: the leader does it, the others wait for it
// or for their client to hang up.
func (g *Guard) await(c *gin.Context, fl *flight, lead bool, h *keyHash, tag uint64, now time.Time) (*Record, error) {
	ctx := c.Request.Context()
	if lead {
		g.lead(ctx, fl, h, tag, now)
	} else {
		select {
		case <-fl.done:
		case <-ctx.Done():
			return nil, errClientGone
		}
	}
	if fl.err != nil && ctx.Err() != nil {
		return nil, errClientGone
	}
	return fl.rec, fl.err
}

// lead does the read of fl for everyone waiting on it. The read goes on if
// this client hangs up, since others may be waiting; and however it ends,
// even in a panic of the store, the flight lands.
func (g *Guard) lead(ctx context.Context, fl *flight, h *keyHash, tag uint64, now time.Time) {
	fl.err = ErrUnavailable
	defer g.flights.land(h, fl)
	fl.rec, fl.err = g.fetch(context.WithoutCancel(ctx), h, tag, now)
}

// fetch reads the record for h from the store, within StoreTimeout, and
// caches it, prepared; or remembers tag as unknown.
func (g *Guard) fetch(ctx context.Context, h *keyHash, tag uint64, now time.Time) (*Record, error) {
	var gen uint64
	if g.cache != nil {
		_, _, gen = g.cache.entry(h, now.UnixNano())
	}
	ctx, cancel := context.WithTimeout(ctx, g.storeTimeout)
	defer cancel()
	hexHash := h.String()
	ctx, end := g.observed(ctx, "lookup", false)
	rec, err := g.store.ByHash(ctx, hexHash)
	end(err)
	if isNotFound(err) {
		g.health.ok(now)
		if g.cache != nil { // deleted since it was cached (e.g. by another instance)
			g.cache.remove(h)
		}
		if g.unknown != nil {
			g.unknown.put(tag, now.UnixNano())
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
	rec = g.prepare(rec)
	if g.cache != nil {
		g.cache.put(h, rec, now.UnixNano(), gen)
	}
	return rec, nil
}
