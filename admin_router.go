package ginkey

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// RegisterAdmin mounts the admin API below rg, which it takes whole: give it
// a group of its own, e.g. r.Group("/auth"). Every request below rg needs
// the X-Admin-Secret header, or what Config.AdminAuth or AdminKeyScope
// accept (credentials in the query string are refused, no Skipper applies,
// and an address that sends too many wrong credentials is throttled, see
// Config.AdminFailureLimit), and every answer, an unknown path's 404 and a
// wrong method's 405 included, is JSON in the shape of ErrorBody. The
// document served by Docs shows the admin operations below the first group
// given to RegisterAdmin.
//
// Without a configured admin secret RegisterAdmin generates one and logs it,
// or, in gin's release mode, panics: see Config.AdminSecret.
func (g *Guard) RegisterAdmin(rg *gin.RouterGroup) {
	g.ensureAdminSecret()
	g.noteAdminMount(rg.BasePath())
	routes := g.adminRoutes()
	dispatch := func(c *gin.Context) {
		// No deadline here: each call of the management API sets its own
		// (adminOp), for HTTP and Go callers alike, and it covers the whole
		// call, audit entry included. Who acts, requireAdmin has put in the
		// request's context.
		routes.serve(c, c.Param(adminPathParam))
	}
	a := rg.Group("", g.requireAdmin)
	if !strings.HasSuffix(rg.BasePath(), "/") { // else the catch-all below serves the group's own path
		a.Any("", dispatch)
	}
	a.Any("/*"+adminPathParam, dispatch)
}

// adminTimeout bounds one call of the management API, its store calls, the
// flush before a usage read and its audit entry together (adminOp): longer
// than a lookup's, since writes and listings do more.
func (g *Guard) adminTimeout() time.Duration { return 5 * g.storeTimeout }

// adminPathParam names the catch-all under the admin group. The admin API
// routes by itself below it, because gin cannot mix a catch-all for the
// unmatched paths with the API's own routes in one group.
const adminPathParam = "ginkey_path"

func (g *Guard) adminRoutes() adminRouter {
	return adminRouter{
		{http.MethodPost, "/keys", g.createKey},
		{http.MethodGet, "/keys", g.listKeys},
		{http.MethodGet, "/keys/:id", g.getKey},
		{http.MethodPatch, "/keys/:id", g.patchKey},
		{http.MethodDelete, "/keys/:id", g.deleteKey},
		{http.MethodPost, "/keys/:id/revoke", g.revokeKey},
		{http.MethodPost, "/keys/:id/renew", g.renewKey},
		{http.MethodPost, "/keys/:id/rotate", g.rotateKey},
		{http.MethodGet, "/keys/:id/usage", g.keyUsage},
		{http.MethodGet, "/usage", g.usageSummary},
		{http.MethodGet, "/audit", g.listAudit},
	}
}

// Answers of the admin API to a request no operation serves. A path with no
// operation is not a key that is not there: it shares ErrNotFound's code on
// the wire, not its identity.
var (
	errRouteNotFound    = distinct(newError(http.StatusNotFound, "not_found", "no admin operation at this path"))
	errMethodNotAllowed = newError(http.StatusMethodNotAllowed, "method_not_allowed", "the admin operation at this path does not take this method")
)

type adminRoute struct {
	method  string
	pattern string // segments; ":id" matches one non-empty segment
	handle  gin.HandlerFunc
}

type adminRouter []adminRoute

// serve runs the operation for the request's method and path (below the
// group), with its ":id" in c.Params, or answers 404 or 405.
func (rt adminRouter) serve(c *gin.Context, path string) {
	var allow []string
	for i := range rt {
		id, ok := match(rt[i].pattern, path)
		if !ok {
			continue
		}
		if rt[i].method != c.Request.Method {
			allow = append(allow, rt[i].method)
			continue
		}
		c.Params = c.Params[:0]
		if id != "" {
			c.Params = append(c.Params, gin.Param{Key: "id", Value: id})
		}
		rt[i].handle(c)
		return
	}
	if len(allow) > 0 {
		c.Header("Allow", strings.Join(allow, ", "))
		writeError(c, errMethodNotAllowed)
		return
	}
	writeError(c, errRouteNotFound)
}

// match reports whether path fits pattern, and the segment ":id" matched.
func match(pattern, path string) (id string, ok bool) {
	if !strings.HasPrefix(path, "/") {
		return "", false
	}
	want, got := strings.Split(pattern[1:], "/"), strings.Split(path[1:], "/")
	if len(want) != len(got) {
		return "", false
	}
	for i, w := range want {
		switch {
		case w == ":id" && got[i] != "":
			id = got[i]
		case w != got[i]:
			return "", false
		}
	}
	return id, true
}
