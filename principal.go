package ginkey

import (
	"context"

	"github.com/gin-gonic/gin"
)

// The principal is who was admitted into the admin API, beside the
// address it came from (the actor): the audit log records both, since an
// address alone names no one, and behind a proxy it may be whatever
// X-Forwarded-For says.
//
//	secret          the X-Admin-Secret header
//	key:<id>        a key holding the admin scope (AdminKeyScope, or a
//	                guard's WithScopes or the guard itself as AdminAuth)
//	basic:<user>    BasicAuth as AdminAuth
//	app:<name>      another AdminAuth that called SetPrincipal(c, name)
//	app             another AdminAuth that did not
//
// Like an actor it is printable and at most 200 bytes. Entries written
// outside the admin API (the ginkey command, Go code) and auth_failed
// entries have none.

// principalKey is where SetPrincipal puts the principal in a gin context.
const principalKey = "ginkey.principal"

// SetPrincipal records, from an Authenticator that accepts the request
// (or BearerAuth's verify), who it admitted: e.g. a user name or a
// token's subject. When the Authenticator is Config.AdminAuth, the audit
// log names the admin API request's principal "app:" followed by name
// (characters that are not printable become '?', and the whole is cut to
// 200 bytes); without SetPrincipal, "app". The prefix keeps a host's name
// from passing for one of ginkey's own ("secret", "key:<id>",
// "basic:<user>"). Elsewhere it has no effect.
func SetPrincipal(c *gin.Context, name string) {
	c.Set(principalKey, name)
}

// principalOf is the principal of an admin request the Authenticator by
// accepted; by nil: the admin secret.
func principalOf(c *gin.Context, by Authenticator) string {
	switch a := by.(type) {
	case nil:
		return "secret"
	case *scopedAuth:
		if rec := a.g.admitted(c); rec != nil {
			return "key:" + rec.ID
		}
	case *Guard:
		if rec := a.admitted(c); rec != nil {
			return "key:" + rec.ID
		}
	case *basicAuth:
		return cleanActor("basic:" + c.GetString(gin.AuthUserKey))
	}
	if name := c.GetString(principalKey); name != "" {
		return cleanActor("app:" + name)
	}
	return "app"
}

// principalCtxKey is where the admin gate puts the principal in a context.
type principalCtxKey struct{}

func withPrincipal(ctx context.Context, principal string) context.Context {
	return context.WithValue(ctx, principalCtxKey{}, principal)
}

// principalFrom is the principal the admin gate put in ctx, or "".
func principalFrom(ctx context.Context) string {
	p, _ := ctx.Value(principalCtxKey{}).(string)
	return p
}
