package ginkey

import (
	"context"
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
