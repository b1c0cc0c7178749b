package ginkey

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// listAudit lists the audit log.
//
//	@ID				ginkeyAuditLog
//	@Summary		List the audit log
//	@Description	Lists what was done to keys, newest first, a page at a time: every create, update, revoke, renew, rotate and delete, from the admin API, the ginkey command or Go code, whether it succeeded or not (outcome "ok" or the error's code), and who did it (actor "http:<client address>", "cli:<OS user>", or what the Go caller gave; for the admin API also the principal it admitted: "secret", "key:<id>", "basic:<user>", "app:<name>" or "app").
//	@Description	Entries name the fields given or changed, never their values; never a key, a hash or the admin secret.
//	@Description	Failed admin authentications are counted per client address and minute into one auth_failed entry (its count), which appears once the minute is over. Entries older than the configured retention (default 90 days) are deleted.
//	@Tags			ginkey
//	@Produce		json
//	@Param			key_id	query		string		false	"Only entries about this key"
//	@Param			action	query		string		false	"Only entries of this action"							Enums(create, update, revoke, renew, rotate, delete, auth_failed)
//	@Param			since	query		string		false	"Only entries at or after this time (RFC 3339)"		format(date-time)
//	@Param			limit	query		int			false	"Page size"												minimum(1)	maximum(500)	default(50)
//	@Param			offset	query		int			false	"Entries to skip"										minimum(0)	default(0)
//	@Success		200		{object}	auditList	"A page of entries and the total number matching"
//	@Failure		400	{object}	ErrorBody	"bad_request: key_id is not a key id, action is not one of the actions, since is not RFC 3339, or limit or offset is out of range"
//	@Failure		401	{object}	ErrorBody	"admin_unauthorized: no admin credentials, a wrong X-Admin-Secret header, or a secret in the query string. With Config.AdminAuth or AdminKeyScope also their refusals (key_missing, key_invalid, key_expired, key_revoked, credentials_invalid...), with a WWW-Authenticate challenge"
//	@Failure		403	{object}	ErrorBody	"insufficient_scope: a key let in through Config.AdminKeyScope lacks the scope. ip_not_allowed: its allow-list does not hold the client's address"
//	@Failure		429	{object}	ErrorBody	"too_many_failures: this address sent too many wrong admin credentials (Config.AdminFailureLimit). Through Config.AdminKeyScope also rate_limited, quota_exceeded or too_many_lookups. Retry-After says when to retry"
//	@Failure		503	{object}	ErrorBody	"unavailable: the store could not be read, or it keeps no audit log. lookups_busy: through Config.AdminKeyScope, too many keys are being looked up at once"
//	@Header		401	{string}	WWW-Authenticate	"The challenges of the ways in other than the X-Admin-Secret header (Config.AdminAuth, AdminKeyScope), when there are any"
//	@Header		403	{string}	WWW-Authenticate	"For insufficient_scope of a key let in through Config.AdminKeyScope: the scope it lacks"
//	@Header		429	{integer}	Retry-After	"Seconds to wait before retrying"
//	@Header		all	{integer}	RateLimit-Limit	"Requests per window of a key let in through Config.AdminKeyScope that has a rate limit"
//	@Header		all	{integer}	RateLimit-Remaining	"Requests left in the window (as RateLimit-Limit)"
//	@Header		all	{integer}	RateLimit-Reset	"Seconds until the window is full again (as RateLimit-Limit)"
//	@Security		AdminSecret
//	@Router			/auth/audit [get]
func (g *Guard) listAudit(c *gin.Context) {
	q := AuditQuery{
		KeyID: c.Query("key_id"), Action: c.Query("action"),
		Limit: queryInt(c, limitRange), Offset: queryInt(c, offsetRange),
	}
	if v := c.Query("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeError(c, badField("since", "must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z"))
			return
		}
		q.Since = t
	}
	entries, total, err := g.Audit(c.Request.Context(), q)
	if err != nil {
		g.fail(c, "read audit log", err)
		return
	}
	c.JSON(http.StatusOK, auditList{Entries: entries, Total: total})
}
