package ginkey

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/internal/envconfig"
)

// rotateRequest is the optional body of POST /keys/{id}/rotate.
type rotateRequest struct {
	// Grace is how long the old key keeps working, from "0s" (it stops at
	// once) to "30d" ("720h"): a number with d, h, m or s, such as "2d",
	// "1d12h" or "90m". Default: "0s".
	Grace *string `json:"grace" example:"2d"`
} //	@name	ginkey.RotateRequest

// grace is the request's grace period.
func (r *rotateRequest) grace() (time.Duration, *Error) {
	if r.Grace == nil {
		return 0, nil
	}
	d, err := envconfig.ParseDuration(*r.Grace)
	if err != nil {
		return 0, badField("grace", graceRule)
	}
	return d, nil
}

// rotateKey replaces a key by a new one.
//
//	@ID				ginkeyRotateKey
//	@Summary		Rotate an API key
//	@Description	Creates a key that replaces this one and returns it once, in the "key" field. The new key has the old one's name, owner, scopes, metadata, rate limit, allowed IPs, quota and expiry, and a usage history of its own; rotated_from names the old key. It goes on from the old key's rate limit and quota count, which the two keys share while the old one is in its grace: rotating buys no requests.
//	@Description	The old key keeps working for the grace period (default 0s: it stops at once; at most 30d, i.e. 720h), then is refused as key_revoked; its revoked_at is the end of the grace and rotated_to names the new key. Meanwhile it accepts no other change; revoking it ends the grace.
//	@Tags			ginkey
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string			true	"Key id"	extensions(x-example=3uV8rKQ0mZ1bXy7wE2tLp4)
//	@Param			body	body		rotateRequest	false	"Grace period (optional)"
//	@Success		201		{object}	CreatedKey		"The new key's record plus the plaintext key, shown only here"
//	@Failure		400	{object}	ErrorBody	"bad_request: the body is not one JSON object, or grace is not a duration from 0s to 30d (a number with d, h, m or s, e.g. 2d, 1d12h or 90m)"
//	@Failure		401	{object}	ErrorBody	"admin_unauthorized: no admin credentials, a wrong X-Admin-Secret header, or a secret in the query string. With Config.AdminAuth or AdminKeyScope also their refusals (key_missing, key_invalid, key_expired, key_revoked, credentials_invalid...), with a WWW-Authenticate challenge"
//	@Failure		403	{object}	ErrorBody	"cross_origin_refused: a browser sent the request from a page of another origin (Sec-Fetch-Site, else Origin against Host) that Config.TrustedOrigins does not list. insufficient_scope: a key let in through Config.AdminKeyScope lacks the scope. ip_not_allowed: its allow-list does not hold the client's address"
//	@Failure		404	{object}	ErrorBody	"not_found: no key with that id"
//	@Failure		409	{object}	ErrorBody	"key_revoked: the key is revoked. key_rotated: the key has already been rotated (rotate the key that replaced it). key_expired: the key has expired (renew it first)"
//	@Failure		413	{object}	ErrorBody	"payload_too_large: the body is larger than MaxBodyBytes (default 64 KiB)"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body is not sent as Content-Type: application/json (a form, multipart or text/plain body, or a body without a Content-Type)"
//	@Failure		429	{object}	ErrorBody	"too_many_failures: this address sent too many wrong admin credentials (Config.AdminFailureLimit). Through Config.AdminKeyScope also rate_limited, quota_exceeded or too_many_lookups. Retry-After says when to retry"
//	@Failure		503	{object}	ErrorBody	"unavailable: the key store could not be written. lookups_busy: through Config.AdminKeyScope, too many keys are being looked up at once"
//	@Header		401	{string}	WWW-Authenticate	"The challenges of the ways in other than the X-Admin-Secret header (Config.AdminAuth, AdminKeyScope), when there are any"
//	@Header		403	{string}	WWW-Authenticate	"For insufficient_scope of a key let in through Config.AdminKeyScope: the scope it lacks"
//	@Header		429	{integer}	Retry-After	"Seconds to wait before retrying"
//	@Header		all	{integer}	RateLimit-Limit	"Requests per window of a key let in through Config.AdminKeyScope that has a rate limit"
//	@Header		all	{integer}	RateLimit-Remaining	"Requests left in the window (as RateLimit-Limit)"
//	@Header		all	{integer}	RateLimit-Reset	"Seconds until the window is full again (as RateLimit-Limit)"
//	@Security		AdminSecret
//	@Router			/auth/keys/{id}/rotate [post]
func (g *Guard) rotateKey(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var req rotateRequest
	if e := g.decodeBody(c, &req); e != nil {
		writeError(c, e)
		return
	}
	grace, e := req.grace()
	if e != nil {
		writeError(c, e)
		return
	}
	out, err := g.RotateKey(c.Request.Context(), id, grace)
	if err != nil {
		g.fail(c, "rotate key", err)
		return
	}
	c.JSON(http.StatusCreated, out)
}
