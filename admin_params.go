package ginkey

import (
	"context"
	"errors"

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

// queryInt reads the count named by r from the query, as the Go API's
// argument: the API checks the range, in the order in which it checks its
// arguments (see intRange.fromQuery).
func queryInt(c *gin.Context, r intRange) int {
	v, _ := c.GetQuery(r.name)
	return r.fromQuery(v)
}

// fail answers with err's client-facing form; internal errors are logged
// with what was attempted and reach the client only as their code:
// "unavailable" for the store's failures, "internal_error" for any other.
//
// A client that hung up is not a store failure: it is neither logged nor
// answered 503. A refusal keeps its headers (Retry-After), as WriteError
// writes them.
func (g *Guard) fail(c *gin.Context, what string, err error) {
	e, known := asError(err)
	switch {
	case known:
		WriteError(c, err)
		return
	case errors.Is(c.Request.Context().Err(), context.Canceled):
		e = errClientGone
	default:
		g.log.Error("ginkey: "+what+" failed", "error", err)
	}
	writeError(c, e)
}
