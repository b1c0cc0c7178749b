package ginkey

import (
	"errors"

	"github.com/gin-gonic/gin"
)

// WithScopes returns an Authenticator that accepts a request with one of
// this guard's keys holding every one of scopes: Require as an
// Authenticator, for AnyOf, AllOf and another guard's Config.AdminAuth. On
// the way into an admin API each scope is held literally (a key scoped "*"
// or "ginkey:*" does not hold "ginkey:admin") and no Skipper applies. It
// panics on a malformed scope, as Require does.
func (g *Guard) WithScopes(scopes ...string) Authenticator {
	return &scopedAuth{g: g, r: g.newRequirement(scopes, false, false)}
}

type scopedAuth struct {
	g *Guard
	r *requirement
}

var (
	_ Authenticator = (*scopedAuth)(nil)
	_ challenger    = (*scopedAuth)(nil)
)

func (s *scopedAuth) Authenticate(c *gin.Context) error { return s.g.authenticate(c, s.r) }
func (s *scopedAuth) Challenge() string                 { return s.g.Challenge() }

// setAdminAuth prepares the ways into the admin API other than the secret.
func (g *Guard) setAdminAuth(cfg *Config) error {
	if cfg.AdminKeyScope != "" {
		if !validScope(cfg.AdminKeyScope) {
			return errors.New("ginkey: AdminKeyScope must be " + scopeRule)
		}
		// Held literally, as every scope on the way in is (requirement.checkIn).
		g.admin.auths = append(g.admin.auths, g.WithScopes(cfg.AdminKeyScope))
		g.admin.keyScope = cfg.AdminKeyScope
		for _, src := range g.admin.sources {
			switch src.from {
			case fromHeader:
				g.admin.schemes = appendNew(g.admin.schemes, headerScheme)
			case fromQuery:
				g.admin.schemes = appendNew(g.admin.schemes, queryScheme)
			case fromBearer:
				g.admin.schemes = appendNew(g.admin.schemes, bearerScheme)
			}
		}
	}
	if cfg.AdminAuth != nil {
		g.admin.auths = append(g.admin.auths, cfg.AdminAuth)
	}
	for _, a := range g.admin.auths {
		if q, ok := a.(queryReader); ok {
			g.admin.queryNames = append(g.admin.queryNames, q.queryNames()...)
		}
	}
	for _, s := range cfg.AdminAuthSchemes {
		if s == "" || s == adminScheme {
			return errors.New("ginkey: AdminAuthSchemes names the application's own security schemes, not \"\" or " + adminScheme)
		}
		g.admin.schemes = appendNew(g.admin.schemes, s)
	}
	g.admin.checks = challengesOf(g.admin.auths)
	return nil
}

func appendNew(list []string, s string) []string {
	for _, e := range list {
		if e == s {
			return list
		}
	}
	return append(list, s)
}

// queryReader is implemented by the Authenticators that may find a
// credential in the query string: a guard's key checks. The admin gate
// refuses a request with one of their parameters.
type queryReader interface {
	queryNames() []string
}

var (
	_ queryReader = (*Guard)(nil)
	_ queryReader = (*scopedAuth)(nil)
)

// queryNames returns the query parameters the guard's Sources read keys from.
func (g *Guard) queryNames() []string {
	var names []string
	for _, s := range g.lookups {
		if s.from == fromQuery {
			names = append(names, s.name)
		}
	}
	return names
}

func (s *scopedAuth) queryNames() []string { return s.g.queryNames() }

// errAdminCredentialsMissing answers an admin request without credentials
// when AdminAuth or AdminKeyScope offer other ways in than the secret.
var errAdminCredentialsMissing = newError(401, "admin_unauthorized",
	"admin credentials are required: the X-Admin-Secret header or the application's own")
