package ginkey

import (
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"
)

// Require returns a middleware that admits only requests whose key holds
// every one of scopes. It authenticates the request like Handler (and so
// replaces it on the route); behind a Handler of the same guard, e.g. one on
// the router group, or an AnyOf/AllOf in which the guard admitted the
// request, it only checks the scopes: the request has then already been
// counted (rate limit, quota, usage) by the Handler, and a refusal here is
// counted as refused as well.
//
// A key scope "*" grants every scope, and a key scope ending in ":*" grants
// every scope that starts with what comes before the "*": "items:*" grants
// "items:read" and "items:write:bulk", not "items". A missing scope is 403
// insufficient_scope with
//
//	WWW-Authenticate: Bearer realm="ginkey", error="insufficient_scope", scope="items:read"
//
// A scope that no key could hold (empty, longer than 128 bytes, or with a
// character other than letters, digits and : . _ - / *) is a programming
// error: Require panics when the route is built, naming it, as
// regexp.MustCompile does with a bad pattern.
//
// The two @Security lines below mean either scheme will do (swag reads
// "A || B" on one line as both at once). Swagger 2 has no scopes for apiKey schemes, so document a scoped route by
// naming the scope in the description and in the 403 response:
//
//	// @Description	Requires the scope items:read.
//	// @Security	APIKeyHeader
//	// @Security	APIKeyQuery
//	// @Failure	401	{object}	ginkey.ErrorBody	"key_missing, key_invalid, key_expired or key_revoked"
//	// @Failure	403	{object}	ginkey.ErrorBody	"insufficient_scope (needs items:read) or ip_not_allowed"
//	// @Failure	429	{object}	ginkey.ErrorBody	"rate_limited, quota_exceeded, too_many_failures or too_many_lookups"
func (g *Guard) Require(scopes ...string) gin.HandlerFunc {
	return g.middleware(g.newRequirement(scopes, false, false))
}

// RequireAny is Require satisfied by any one of scopes.
func (g *Guard) RequireAny(scopes ...string) gin.HandlerFunc {
	return g.middleware(g.newRequirement(scopes, true, false))
}

// requirement is what one guarded route asks of a request, precomputed when
// the middleware is built.
type requirement struct {
	scopes   []string
	any      bool
	optional bool  // no key at all is let through as anonymous
	denied   error // the 403, with its challenge naming the scopes
}

func (g *Guard) newRequirement(scopes []string, anyOf, optional bool) *requirement {
	r := &requirement{any: anyOf, optional: optional}
	challenge := g.Challenge() + `, error="insufficient_scope"`
	for _, s := range scopes {
		if !validScope(s) {
			panic(fmt.Sprintf("ginkey: required scope %q is malformed: scopes are %s", s, scopeRule))
		}
		r.scopes = append(r.scopes, s)
	}
	if len(r.scopes) > 0 {
		challenge += `, scope="` + strings.Join(r.scopes, " ") + `"`
	}
	r.denied = &rejection{err: ErrInsufficientScope, challenge: challenge}
	return r
}

// scopeRule says validScope's rule in words, for errors.
const scopeRule = "1-128 characters of letters, digits and : . _ - / *"

// validScope is the one rule for a scope's spelling, for keys' scopes and
// routes' alike.
func validScope(s string) bool {
	return s != "" && len(s) <= maxScopeLen && strings.IndexFunc(s, notScopeRune) < 0
}

// check reports whether a key with the scope set s meets the requirement.
func (r *requirement) check(s *scopeSet) error { return r.match(s, false) }

// checkIn is check for the request c. On the way into the admin API (the
// admin gate marked c) every scope is held literally, whichever guard or
// Authenticator checks it: a key scoped "*" or "ginkey:*" for the
// application's own routes must not become an administrator of every key.
// This is the one place that rule is made.
func (r *requirement) checkIn(c *gin.Context, s *scopeSet) error {
	if len(r.scopes) == 0 {
		return nil
	}
	return r.match(s, adminGated(c))
}

// match is check, with literal: a scope is met only by itself, never by a
// wildcard.
func (r *requirement) match(s *scopeSet, literal bool) error {
	if len(r.scopes) == 0 {
		return nil
	}
	for _, want := range r.scopes {
		var has bool
		if literal {
			_, has = s.exact[want]
		} else {
			has = s.grants(want)
		}
		if r.any && has {
			return nil
		}
		if !r.any && !has {
			return r.denied
		}
	}
	if r.any {
		return r.denied
	}
	return nil
}

// scopeSet is a key's scopes prepared for matching, so that a cached key's
// check parses nothing.
type scopeSet struct {
	all      bool                // "*"
	exact    map[string]struct{} // nil when empty
	prefixes []string            // "items:" for "items:*"
}

func newScopeSet(scopes []string) scopeSet {
	var s scopeSet
	for _, sc := range scopes {
		switch {
		case sc == "*":
			s.all = true
		case strings.HasSuffix(sc, ":*"):
			s.prefixes = append(s.prefixes, sc[:len(sc)-1])
		default:
			if s.exact == nil {
				s.exact = make(map[string]struct{}, len(scopes))
			}
			s.exact[sc] = struct{}{}
		}
	}
	return s
}

func (s *scopeSet) grants(want string) bool {
	if s.all {
		return true
	}
	if _, ok := s.exact[want]; ok {
		return true
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(want, p) {
			return true
		}
	}
	return false
}
