package ginkey

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// adminGate is the guard's admin component: the ways into the admin API
// and what the admin adapter and its OpenAPI document need. Wrong
// credentials are throttled by the limits component (limiting.admin).
type adminGate struct {
	secretHashes atomic.Pointer[[][sha256.Size]byte] // nil until configured or generated
	secretOnce   sync.Once
	auths        []Authenticator        // AdminAuth and AdminKeyScope's; none: the secret only
	checks       []string               // their WWW-Authenticate challenges
	schemes      []string               // their schemes in the OpenAPI document
	queryNames   []string               // query parameters the auths read keys from
	keyScope     string                 // AdminKeyScope: only a literal grant gives it (see OwnerKeys.Create)
	base         atomic.Pointer[string] // the first group given to RegisterAdmin, for Docs
	// failures writes the failed-authentication log lines. Why it is not
	// one counter with the audit's per-minute counts (authFailures) and the
	// admin throttle's: a log line may forget an address (its next line
	// comes sooner), an audit count may not (extra addresses go to
	// "http:other"), and the throttle holds GCRA times, may be off, and may
	// count in Redis; each keeps the bound its own loss allows.
	failures *failureLog
	sources  []sourceSpec // as configured, for the OpenAPI document
	maxBody  int64
	hideDocs bool
}

// adminGateKey marks, in the gin context, a request on its way into the
// admin API. Every guard's key check reads it (adminGated), so that the
// rules of the way in hold whichever Authenticator admits the request.
const adminGateKey = "ginkey.admin_gate"

// adminGated reports whether c is on its way into the admin API: then no
// Skipper applies, and scopes are held literally.
func adminGated(c *gin.Context) bool {
	_, ok := c.Get(adminGateKey)
	return ok
}

// requireAdmin is the admin API's one gate. Every way in (the
// X-Admin-Secret header, AdminAuth, AdminKeyScope's keys) passes it, and
// it alone throttles wrong credentials per client address, logs them and
// counts them for the audit log. No Skipper applies here.
//
// A state-changing request another site's page may have forged (see
// browserWrites) is refused first, before any credential is read: it costs
// its address none of the throttle's allowance, and a credential the
// browser attached by itself (a cookie) is never judged.
func (g *Guard) requireAdmin(c *gin.Context) {
	if e := g.browser.refuse(c.Request); e != nil {
		writeError(c, e)
		return
	}
	if challenges, err := g.admitAdmin(c, c.GetHeader(adminHeader)); err != nil {
		refuse(c, err, challenges)
		return
	}
	// Admin answers can carry a plaintext key: keep them out of caches.
	c.Header("Cache-Control", "no-store")
	c.Next()
}

// admitAdmin judges c's admin credentials: given, the admin secret, when
// it is not ""; else AdminAuth and AdminKeyScope's keys. A request with a
// credential in its query string is refused whatever it holds. It alone
// throttles wrong credentials per client address, logs them and counts
// them for the audit log. On success c's request context names the actor
// and the principal; on failure it returns the error and, for a 401, the
// challenges to send with it.
func (g *Guard) admitAdmin(c *gin.Context, given string) ([]string, error) {
	// Credentials in the URL end up in logs and histories: refused on every
	// way in (the admin API and AdmitAdmin), before any is judged.
	if e := g.adminQueryCredential(c); e != nil {
		return nil, e
	}
	if given == "" && len(g.admin.auths) == 0 { // no guess made: nothing to throttle
		return nil, errAdminUnauthorized
	}
	c.Set(adminGateKey, true)
	who := requesterOf(c)
	ip := who.addr
	// No address (unix socket): one shared bucket would lock out everyone.
	throttled := g.limits.admin != nil && ip.IsValid()
	now := g.now()
	var held hold
	if throttled {
		// Reserved before any check, so that a guesser past its allowance
		// learns nothing, not even from a right guess.
		var wait time.Duration
		if wait, held = g.limits.admin.acquire(c.Request.Context(), who, now.UnixNano()); wait > 0 {
			g.adminFailed(ip, now, true)
			return nil, retryLater(errAdminTooManyFailures, wait)
		}
	}
	var (
		err error
		by  Authenticator // the way in that accepted the request
	)
	if given != "" { // the secret is judged by the secret alone
		if !g.adminAuthorized(given) {
			err = errAdminUnauthorized
		}
	} else {
		c.Set(principalKey, "") // only what the accepting Authenticator sets counts
		by, err = anyAccepts(c, g.admin.auths)
	}
	wrong := wrongCredentials(err)
	if throttled && !wrong {
		g.limits.admin.refund(c.Request.Context(), who, held)
	}
	if err != nil {
		if wrong {
			g.adminFailed(ip, now, false)
		}
		var challenges []string
		if given == "" {
			// Credentials presented and refused are answered with their
			// refusal (an invalid key, a key without the scope, a wrong
			// password); none at all with admin_unauthorized.
			challenges = g.admin.checks
			if isMissing(err) {
				err = errAdminCredentialsMissing
			}
		}
		return challenges, err
	}
	// Who acts, for the audit log: the address and the principal admitted.
	ctx := WithActor(c.Request.Context(), httpActor(ip))
	c.Request = c.Request.WithContext(withPrincipal(ctx, principalOf(c, by)))
	return nil, nil
}

// adminQueryCredential refuses a request whose query string holds a
// credential: a parameter named like a secret, or one a key source reads.
func (g *Guard) adminQueryCredential(c *gin.Context) *Error {
	if c.Request.URL.RawQuery == "" {
		return nil
	}
	for name := range c.Request.URL.Query() {
		if strings.Contains(strings.ToLower(name), "secret") {
			return errAdminCredentialsInQuery
		}
		for _, q := range g.admin.queryNames {
			if name == q {
				return errAdminCredentialsInQuery
			}
		}
	}
	return nil
}

// wrongCredentials reports whether err refuses credentials that were
// presented: a guess, which the admin throttle counts. No credentials, a
// key's own rate limit or quota, and a store outage are not guesses.
func wrongCredentials(err error) bool {
	if err == nil || isMissing(err) {
		return false
	}
	var e *Error
	if !errors.As(err, &e) { // a host Authenticator's own error: credentials_invalid
		return true
	}
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}
