package ginkey

import (
	"context"
	"encoding/hex"
	"errors"
	"strconv"

	"github.com/gin-gonic/gin"
)

// idParam reads the path's key id for an operation with a body. The API
// checks the id too; checking it here first answers a malformed id with 404
// before the body is read.
func idParam(c *gin.Context) (string, bool) {
	id := c.Param("id")
	if e := checkID(id); e != nil {
		writeError(c, e)
		return "", false
	}
	return id, true
}

// queryInt reads the query parameter named by r: absent or empty is r's
// default; anything but an integer within r's bounds is r's error.
func queryInt(c *gin.Context, r intRange) (int, *Error) {
	v, ok := c.GetQuery(r.name)
	if !ok || v == "" {
		return r.def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || !r.within(n) {
		return 0, r.err()
	}
	return n, nil
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
