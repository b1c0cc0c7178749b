package ginkey

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// AdmitAdmin lets a page of the host's own, such as the console package's,
// into the admin API's one gate: the checks, throttle, log and audit
// counts of wrong credentials that the X-Admin-Secret header, AdminAuth and
// AdminKeyScope's keys pass through RegisterAdmin. With secret not "" the
// secret is judged as the X-Admin-Secret header would be (one typed into a
// sign-in form); with "" the request's own credentials are.
//
// Unlike RegisterAdmin's routes it does not judge where the request comes
// from or how its body is encoded: the caller, serving forms, makes its own
// CSRF checks first. On success c's request context names the actor (the
// client address) and the returned principal for the audit log, as the
// admin API's do. A refusal is the admin API's error: 401
// admin_unauthorized (or the refusal of AdminAuth; also, unjudged, for a
// request with a credential in its query string), 429 too_many_failures
// with its Retry-After. The refusal's headers are set on c's response (a
// page of the host's own renders the error itself): Retry-After, and on a
// 401 refusing the request's own credentials AdminAuth's WWW-Authenticate
// challenges, so that a browser asks for HTTP Basic credentials.
func (g *Guard) AdmitAdmin(c *gin.Context, secret string) (principal string, err error) {
	if secret == "" {
		secret = c.GetHeader(adminHeader)
	}
	challenges, err := g.admitAdmin(c, secret)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) { // a host Authenticator's own error, as refuse reads it
			err = ErrCredentialsInvalid
		}
		var r *rejection
		if errors.As(err, &r) && r.retryAfter > 0 {
			c.Header("Retry-After", strconv.FormatInt(ceilSeconds(r.retryAfter), 10))
		}
		if e, _ := asError(err); e.Status == http.StatusUnauthorized {
			for _, ch := range challenges {
				c.Writer.Header().Add("WWW-Authenticate", ch)
			}
		}
		return "", err
	}
	return principalFrom(c.Request.Context()), nil
}

// ResumeAdmin marks c as an admin request of principal, which AdmitAdmin
// admitted earlier (a console session resumed from its cookie): the key
// operations c's handlers call are audited with c's client address and
// principal, as those of the admin API.
func (g *Guard) ResumeAdmin(c *gin.Context, principal string) {
	ctx := WithActor(c.Request.Context(), httpActor(requesterOf(c).addr))
	c.Request = c.Request.WithContext(withPrincipal(ctx, principal))
}
