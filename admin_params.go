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
// default. Anything but an integer within r's bounds is passed on as
// badCount, which the API refuses with r's message, in the order in which it
// checks its arguments.
func queryInt(c *gin.Context, r intRange) int {
	v, ok := c.GetQuery(r.name)
	if !ok || v == "" {
		return r.def
	}
	n, err := strconv.Atoi(v)
	if err != nil || !r.within(n) {
		return badCount
	}
	return n
}

// badCount is outside every intRange.
const badCount = -1

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

// invalidate drops the record of the key with hash h, here and, through
// the Notifier, on every other instance. The key-management API calls it
// after each write to the store.
func (g *Guard) invalidate(h *keyHash) {
	g.drop(h)
	g.announce(h)
}

func (g *Guard) invalidateHex(hexHash string) {
	if h, ok := parseKeyHash(hexHash); ok {
		g.invalidate(&h)
	}
}

// drop forgets h's record and voids its reads in flight, in this guard only.
func (g *Guard) drop(h *keyHash) {
	g.flights.forget(h)
	if g.cache != nil {
		g.cache.invalidate(h)
	}
}

// expireAll makes every cached record stale and voids every read in
// flight: changes may have been missed. Each key is read again at its next
// request; while the store cannot be read, StaleIfError still applies.
func (g *Guard) expireAll() {
	g.flights.forgetAll()
	if g.cache != nil {
		g.cache.expireAll(g.now().UnixNano())
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
