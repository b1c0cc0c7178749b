package ginkey

import (
	"context"
	"encoding/hex"
	"errors"
	"strconv"

	"github.com/gin-gonic/gin"
)

func (g *Guard) respondKey(c *gin.Context, status int, rec *Record) {
	k := rec.Key
	k.Status = statusAt(&k, g.now())
	c.JSON(status, k)
}

func (g *Guard) idParam(c *gin.Context) (string, bool) {
	id := c.Param("id")
	if len(id) == 0 || len(id) > 32 || !isBase62(id) {
		writeError(c, ErrNotFound)
		return "", false
	}
	return id, true
}

func (g *Guard) keyByParam(c *gin.Context) (*Record, bool) {
	id, ok := g.idParam(c)
	if !ok {
		return nil, false
	}
	rec, err := g.store.ByID(c.Request.Context(), id)
	if err != nil {
		g.fail(c, "read key", err)
		return nil, false
	}
	return rec, true
}

// fail answers with err's client-facing form; internal errors are logged
// with what was attempted and reach the client only as "unavailable".
//
// A client that hung up is not a store failure: it is neither logged nor
// answered 503.
func (g *Guard) fail(c *gin.Context, what string, err error) {
	e, known := asError(err)
	if !known {
		if errors.Is(c.Request.Context().Err(), context.Canceled) {
			writeError(c, errClientGone)
			return
		}
		g.log.Error("ginkey: "+what+" failed", "error", err)
	}
	writeError(c, e)
}

func (g *Guard) invalidate(h *keyHash) {
	g.flights.forget(h)
	if g.cache != nil {
		g.cache.invalidate(h)
	}
}

func (g *Guard) invalidateHex(hexHash string) {
	var h keyHash
	if b, err := hex.DecodeString(hexHash); err == nil && len(b) == len(h) {
		copy(h[:], b)
		g.invalidate(&h)
	}
}

func isRevokedConflict(err error) bool { return errors.Is(err, ErrRevokedConflict) }

func pageParams(c *gin.Context) (limit, offset int, e *Error) {
	if limit, e = intParam(c, "limit", 50, 1, 500); e != nil {
		return 0, 0, e
	}
	if offset, e = intParam(c, "offset", 0, 0, 1<<30); e != nil {
		return 0, 0, e
	}
	return limit, offset, nil
}

func intParam(c *gin.Context, name string, def, lo, hi int) (int, *Error) {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, BadRequest(name + " must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi))
	}
	return n, nil
}
