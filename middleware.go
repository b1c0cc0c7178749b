package ginkey

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/gin-gonic/gin"
)

// Handler returns the middleware that admits only requests carrying a valid,
// unexpired, unrevoked key. Rejections are 401 with a JSON error body and a
// WWW-Authenticate header (codes key_missing, key_invalid, key_expired,
// key_revoked), or 503 unavailable when the store cannot be read. On success
// the key is available to later handlers through KeyFrom.
func (g *Guard) Handler() gin.HandlerFunc {
	return g.serve
}

func (g *Guard) serve(c *gin.Context) {
	k, err := g.authenticate(c)
	if err != nil {
		g.reject(c, err)
		return
	}
	c.Set(contextKey, k)
	c.Next()
}

// authenticate runs the request path: extract, parse (no I/O), cache, store,
// checks, usage.
func (g *Guard) authenticate(c *gin.Context) (*Key, error) {
	raw := extractKey(c, g.sources)
	if raw == "" {
		return nil, ErrKeyMissing
	}
	if !g.format.valid(raw) {
		return nil, ErrKeyInvalid
	}
	h := hashKey(raw)
	now := g.now()
	rec, err := g.lookup(c.Request.Context(), &h, now.UnixNano())
	if err != nil {
		return nil, err
	}
	if err := checkUsable(&rec.Key, now); err != nil {
		return nil, err
	}
	if g.usage != nil {
		g.usage.record(rec.ID, now.UnixNano())
	}
	return &rec.Key, nil
}

// lookup finds the record for h, from the cache when it holds a fresh entry.
func (g *Guard) lookup(ctx context.Context, h *keyHash, now int64) (*Record, error) {
	var gen uint64
	if g.cache != nil {
		rec, ok, token := g.cache.get(h, now)
		if ok {
			if rec == nil {
				return nil, ErrKeyInvalid
			}
			return rec, nil
		}
		gen = token
	}
	hexHash := h.String()
	rec, err := g.store.ByHash(ctx, hexHash)
	if isNotFound(err) {
		if g.cache != nil {
			g.cache.put(h, nil, now, gen)
		}
		return nil, ErrKeyInvalid
	}
	if err != nil {
		g.log.Error("ginkey: key lookup failed", "error", err)
		return nil, ErrUnavailable
	}
	// The store found the row by its hash; comparing again in constant time
	// keeps a store with a case-folding or prefix-matching index honest.
	if subtle.ConstantTimeCompare([]byte(rec.Hash), []byte(hexHash)) != 1 {
		return nil, ErrKeyInvalid
	}
	if g.cache != nil {
		g.cache.put(h, rec, now, gen)
	}
	return rec, nil
}

// checkUsable is evaluated against the clock on every request: the cache
// holds records, never verdicts.
func checkUsable(k *Key, now time.Time) error {
	if k.RevokedAt != nil {
		return ErrKeyRevoked
	}
	if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
		return ErrKeyExpired
	}
	return nil
}

// reject writes err as the response. Internal errors reach the client only as
// their stable code.
func (g *Guard) reject(c *gin.Context, err error) {
	e, _ := asError(err)
	if v, ok := g.wwwAuth[e.Code]; ok && e.Status == 401 {
		c.Header("WWW-Authenticate", v)
	}
	writeError(c, e)
}

// wwwAuthenticate precomputes the challenge for each 401 key error (RFC 6750
// style, since a bearer token is one accepted source).
func wwwAuthenticate(realm string) map[string]string {
	base := `Bearer realm="` + realm + `"`
	m := map[string]string{ErrKeyMissing.Code: base}
	for _, e := range []*Error{ErrKeyInvalid, ErrKeyExpired, ErrKeyRevoked} {
		m[e.Code] = base + `, error="invalid_token", error_description="` + e.Code + `"`
	}
	return m
}
