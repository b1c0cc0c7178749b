package ginkey

import (
	"errors"

	"github.com/gin-gonic/gin"
)

// WithScopes returns an Authenticator that accepts a request with one of
// this guard's keys holding every one of scopes: Require as an
// Authenticator, for AnyOf, AllOf and another guard's Config.AdminAuth. It
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
		// Held literally: a key scoped "*" for the application's own routes
		// must not become an administrator of every key.
		r := g.newRequirement([]string{cfg.AdminKeyScope}, false, false)
		r.literal = true
		g.admin.auths = append(g.admin.auths, &scopedAuth{g: g, r: r})
		for _, src := range g.admin.sources {
			switch src.From {
			case FromHeader:
				g.admin.schemes = appendNew(g.admin.schemes, headerScheme)
			case FromQuery:
				g.admin.schemes = appendNew(g.admin.schemes, queryScheme)
			}
		}
	}
	if cfg.AdminAuth != nil {
		g.admin.auths = append(g.admin.auths, cfg.AdminAuth)
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

// errAdminCredentialsMissing answers an admin request without credentials
// when AdminAuth or AdminKeyScope offer other ways in than the secret.
var errAdminCredentialsMissing = newError(401, "admin_unauthorized",
	"admin credentials are required: the X-Admin-Secret header or the application's own")

// hostAdmin admits an admin request without the X-Admin-Secret header
// through AdminAuth or AdminKeyScope, and reports whether it did; else it
// has answered. Credentials presented and refused are answered with their
// refusal (an invalid key, a key without the scope, a wrong password);
// none at all with admin_unauthorized, challenges included.
func (g *Guard) hostAdmin(c *gin.Context) bool {
	err := anyAccepts(c, g.admin.auths)
	if err == nil {
		return true
	}
	if isMissing(err) {
		err = errAdminCredentialsMissing
	}
	refuse(c, err, g.admin.checks)
	return false
}
