package ginkey

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// createKey creates a key.
//
//	@ID				ginkeyCreateKey
//	@Summary		Create an API key
//	@Description	Creates a key and returns it once, in the "key" field; only its SHA-256 hash is stored, so it cannot be shown again.
//	@Description	Without expires_at or never_expires the key expires after the configured TTL (default 15 days). Names are at most 200 characters, scopes at most 64, metadata at most 4 KiB of JSON.
//	@Description	rate_limit, allowed_ips and quota restrict how often and from where the key works.
//	@Tags			ginkey
//	@Accept			json
//	@Produce		json
//	@Param			body	body		createKeyRequest	false	"Key settings (all optional)"
//	@Success		201		{object}	CreatedKey			"The key's record plus the plaintext key, shown only here"
//	@Failure		400	{object}	ErrorBody	"bad_request: the body is not one JSON object, a field has the wrong type or is unknown, expires_at is not RFC 3339 or in the past, both expires_at and never_expires are set, or name, scopes or metadata are too long"
//	@Failure		401	{object}	ErrorBody	"admin_unauthorized: no admin credentials, a wrong X-Admin-Secret header, or a secret in the query string. With Config.AdminAuth or AdminKeyScope also their refusals (key_missing, key_invalid, key_expired, key_revoked, credentials_invalid...), with a WWW-Authenticate challenge"
//	@Failure		403	{object}	ErrorBody	"cross_origin_refused: a browser sent the request from a page of another origin (Sec-Fetch-Site, else Origin against Host) that Config.TrustedOrigins does not list. insufficient_scope: a key let in through Config.AdminKeyScope lacks the scope. ip_not_allowed: its allow-list does not hold the client's address"
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
//	@Router			/auth/keys [post]
func (g *Guard) createKey(c *gin.Context) {
	var req createKeyRequest
	if e := g.decodeBody(c, &req); e != nil {
		writeError(c, e)
		return
	}
	spec, e := req.spec()
	if e != nil {
		writeError(c, e)
		return
	}
	out, err := g.CreateKey(c.Request.Context(), spec)
	if err != nil {
		g.fail(c, "create key", err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

// listKeys lists keys.
//
//	@ID				ginkeyListKeys
//	@Summary		List API keys
//	@Description	Lists keys, newest first, a page at a time. The key itself and its hash are never returned.
//	@Tags			ginkey
//	@Produce		json
//	@Param			status	query		string		false	"Only keys in this state"						Enums(active, expired, revoked)
//	@Param			owner	query		string		false	"Only keys of this owner (exact)"
//	@Param			prefix	query		string		false	"Only keys with this display prefix (exact), e.g. gk_AbC1x"
//	@Param			name	query		string		false	"Only keys whose name contains this (ignoring case)"
//	@Param			limit	query		int			false	"Page size"					minimum(1)	maximum(500)	default(50)
//	@Param			offset	query		int			false	"Keys to skip"				minimum(0)	default(0)
//	@Success		200		{object}	keyList		"A page of keys and the total number matching"
//	@Failure		400	{object}	ErrorBody	"bad_request: status, owner, prefix, name, limit or offset is out of range"
//	@Failure		401	{object}	ErrorBody	"admin_unauthorized: no admin credentials, a wrong X-Admin-Secret header, or a secret in the query string. With Config.AdminAuth or AdminKeyScope also their refusals (key_missing, key_invalid, key_expired, key_revoked, credentials_invalid...), with a WWW-Authenticate challenge"
//	@Failure		403	{object}	ErrorBody	"insufficient_scope: a key let in through Config.AdminKeyScope lacks the scope. ip_not_allowed: its allow-list does not hold the client's address"
//	@Failure		429	{object}	ErrorBody	"too_many_failures: this address sent too many wrong admin credentials (Config.AdminFailureLimit). Through Config.AdminKeyScope also rate_limited, quota_exceeded or too_many_lookups. Retry-After says when to retry"
//	@Failure		503	{object}	ErrorBody	"unavailable: the key store could not be read. lookups_busy: through Config.AdminKeyScope, too many keys are being looked up at once"
//	@Header		401	{string}	WWW-Authenticate	"The challenges of the ways in other than the X-Admin-Secret header (Config.AdminAuth, AdminKeyScope), when there are any"
//	@Header		403	{string}	WWW-Authenticate	"For insufficient_scope of a key let in through Config.AdminKeyScope: the scope it lacks"
//	@Header		429	{integer}	Retry-After	"Seconds to wait before retrying"
//	@Header		all	{integer}	RateLimit-Limit	"Requests per window of a key let in through Config.AdminKeyScope that has a rate limit"
//	@Header		all	{integer}	RateLimit-Remaining	"Requests left in the window (as RateLimit-Limit)"
//	@Header		all	{integer}	RateLimit-Reset	"Seconds until the window is full again (as RateLimit-Limit)"
//	@Security		AdminSecret
//	@Router			/auth/keys [get]
func (g *Guard) listKeys(c *gin.Context) {
	q := KeyQuery{
		Status: Status(c.Query("status")), Owner: c.Query("owner"), Prefix: c.Query("prefix"), Name: c.Query("name"),
		Limit: queryInt(c, limitRange), Offset: queryInt(c, offsetRange),
	}
	keys, total, err := g.ListKeys(c.Request.Context(), q)
	if err != nil {
		g.fail(c, "list keys", err)
		return
	}
	c.JSON(http.StatusOK, keyList{Keys: keys, Total: total})
}

// getKey returns one key.
//
//	@ID				ginkeyGetKey
//	@Summary		Get an API key
//	@Description	Returns one key's record: never the key itself nor its hash.
//	@Tags			ginkey
//	@Produce		json
//	@Param			id	path		string		true	"Key id"	extensions(x-example=3uV8rKQ0mZ1bXy7wE2tLp4)
//	@Success		200	{object}	Key			"The key's record"
//	@Failure		401	{object}	ErrorBody	"admin_unauthorized: no admin credentials, a wrong X-Admin-Secret header, or a secret in the query string. With Config.AdminAuth or AdminKeyScope also their refusals (key_missing, key_invalid, key_expired, key_revoked, credentials_invalid...), with a WWW-Authenticate challenge"
//	@Failure		403	{object}	ErrorBody	"insufficient_scope: a key let in through Config.AdminKeyScope lacks the scope. ip_not_allowed: its allow-list does not hold the client's address"
//	@Failure		404	{object}	ErrorBody	"not_found: no key with that id"
//	@Failure		429	{object}	ErrorBody	"too_many_failures: this address sent too many wrong admin credentials (Config.AdminFailureLimit). Through Config.AdminKeyScope also rate_limited, quota_exceeded or too_many_lookups. Retry-After says when to retry"
//	@Failure		503	{object}	ErrorBody	"unavailable: the key store could not be read. lookups_busy: through Config.AdminKeyScope, too many keys are being looked up at once"
//	@Header		401	{string}	WWW-Authenticate	"The challenges of the ways in other than the X-Admin-Secret header (Config.AdminAuth, AdminKeyScope), when there are any"
//	@Header		403	{string}	WWW-Authenticate	"For insufficient_scope of a key let in through Config.AdminKeyScope: the scope it lacks"
//	@Header		429	{integer}	Retry-After	"Seconds to wait before retrying"
//	@Header		all	{integer}	RateLimit-Limit	"Requests per window of a key let in through Config.AdminKeyScope that has a rate limit"
//	@Header		all	{integer}	RateLimit-Remaining	"Requests left in the window (as RateLimit-Limit)"
//	@Header		all	{integer}	RateLimit-Reset	"Seconds until the window is full again (as RateLimit-Limit)"
//	@Security		AdminSecret
//	@Router			/auth/keys/{id} [get]
func (g *Guard) getKey(c *gin.Context) {
	k, err := g.GetKey(c.Request.Context(), c.Param("id"))
	if err != nil {
		g.fail(c, "read key", err)
		return
	}
	c.JSON(http.StatusOK, k)
}

// deleteKey deletes a key and its usage.
//
//	@ID				ginkeyDeleteKey
//	@Summary		Delete an API key
//	@Description	Deletes the key and its usage history. It stops working on the next request.
//	@Tags			ginkey
//	@Param			id	path	string	true	"Key id"	extensions(x-example=3uV8rKQ0mZ1bXy7wE2tLp4)
//	@Success		204	"Deleted"
//	@Failure		401	{object}	ErrorBody	"admin_unauthorized: no admin credentials, a wrong X-Admin-Secret header, or a secret in the query string. With Config.AdminAuth or AdminKeyScope also their refusals (key_missing, key_invalid, key_expired, key_revoked, credentials_invalid...), with a WWW-Authenticate challenge"
//	@Failure		403	{object}	ErrorBody	"cross_origin_refused: a browser sent the request from a page of another origin (Sec-Fetch-Site, else Origin against Host) that Config.TrustedOrigins does not list. insufficient_scope: a key let in through Config.AdminKeyScope lacks the scope. ip_not_allowed: its allow-list does not hold the client's address"
//	@Failure		404	{object}	ErrorBody	"not_found: no key with that id"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the request has a Content-Type other than application/json, or a body without one (it needs neither)"
//	@Failure		429	{object}	ErrorBody	"too_many_failures: this address sent too many wrong admin credentials (Config.AdminFailureLimit). Through Config.AdminKeyScope also rate_limited, quota_exceeded or too_many_lookups. Retry-After says when to retry"
//	@Failure		503	{object}	ErrorBody	"unavailable: the key store could not be written. lookups_busy: through Config.AdminKeyScope, too many keys are being looked up at once"
//	@Header		401	{string}	WWW-Authenticate	"The challenges of the ways in other than the X-Admin-Secret header (Config.AdminAuth, AdminKeyScope), when there are any"
//	@Header		403	{string}	WWW-Authenticate	"For insufficient_scope of a key let in through Config.AdminKeyScope: the scope it lacks"
//	@Header		429	{integer}	Retry-After	"Seconds to wait before retrying"
//	@Header		all	{integer}	RateLimit-Limit	"Requests per window of a key let in through Config.AdminKeyScope that has a rate limit"
//	@Header		all	{integer}	RateLimit-Remaining	"Requests left in the window (as RateLimit-Limit)"
//	@Header		all	{integer}	RateLimit-Reset	"Seconds until the window is full again (as RateLimit-Limit)"
//	@Security		AdminSecret
//	@Router			/auth/keys/{id} [delete]
func (g *Guard) deleteKey(c *gin.Context) {
	if err := g.DeleteKey(c.Request.Context(), c.Param("id")); err != nil {
		g.fail(c, "delete key", err)
		return
	}
	c.Status(http.StatusNoContent)
}

// revokeKey revokes a key for good.
//
//	@ID				ginkeyRevokeKey
//	@Summary		Revoke an API key
//	@Description	Revokes the key; it stops working on the next request. Revocation is final and idempotent: revoking a revoked key answers 200 with its record. Revoking a rotated key in its grace period ends the grace now.
//	@Tags			ginkey
//	@Produce		json
//	@Param			id	path		string		true	"Key id"	extensions(x-example=3uV8rKQ0mZ1bXy7wE2tLp4)
//	@Success		200	{object}	Key			"The key's record, status revoked"
//	@Failure		401	{object}	ErrorBody	"admin_unauthorized: no admin credentials, a wrong X-Admin-Secret header, or a secret in the query string. With Config.AdminAuth or AdminKeyScope also their refusals (key_missing, key_invalid, key_expired, key_revoked, credentials_invalid...), with a WWW-Authenticate challenge"
//	@Failure		403	{object}	ErrorBody	"cross_origin_refused: a browser sent the request from a page of another origin (Sec-Fetch-Site, else Origin against Host) that Config.TrustedOrigins does not list. insufficient_scope: a key let in through Config.AdminKeyScope lacks the scope. ip_not_allowed: its allow-list does not hold the client's address"
//	@Failure		404	{object}	ErrorBody	"not_found: no key with that id"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the request has a Content-Type other than application/json, or a body without one (it needs neither)"
//	@Failure		429	{object}	ErrorBody	"too_many_failures: this address sent too many wrong admin credentials (Config.AdminFailureLimit). Through Config.AdminKeyScope also rate_limited, quota_exceeded or too_many_lookups. Retry-After says when to retry"
//	@Failure		503	{object}	ErrorBody	"unavailable: the key store could not be written. lookups_busy: through Config.AdminKeyScope, too many keys are being looked up at once"
//	@Header		401	{string}	WWW-Authenticate	"The challenges of the ways in other than the X-Admin-Secret header (Config.AdminAuth, AdminKeyScope), when there are any"
//	@Header		403	{string}	WWW-Authenticate	"For insufficient_scope of a key let in through Config.AdminKeyScope: the scope it lacks"
//	@Header		429	{integer}	Retry-After	"Seconds to wait before retrying"
//	@Header		all	{integer}	RateLimit-Limit	"Requests per window of a key let in through Config.AdminKeyScope that has a rate limit"
//	@Header		all	{integer}	RateLimit-Remaining	"Requests left in the window (as RateLimit-Limit)"
//	@Header		all	{integer}	RateLimit-Reset	"Seconds until the window is full again (as RateLimit-Limit)"
//	@Security		AdminSecret
//	@Router			/auth/keys/{id}/revoke [post]
func (g *Guard) revokeKey(c *gin.Context) {
	k, err := g.RevokeKey(c.Request.Context(), c.Param("id"))
	if err != nil {
		g.fail(c, "revoke key", err)
		return
	}
	c.JSON(http.StatusOK, k)
}

// renewKey extends a key's life.
//
//	@ID				ginkeyRenewKey
//	@Summary		Renew an API key
//	@Description	Sets a new expiry: the given expires_at, none with never_expires, else now plus the configured TTL. A revoked or rotated key cannot be renewed.
//	@Tags			ginkey
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string			true	"Key id"	extensions(x-example=3uV8rKQ0mZ1bXy7wE2tLp4)
//	@Param			body	body		renewRequest	false	"New expiry (optional)"
//	@Success		200		{object}	Key				"The key's record with its new expires_at"
//	@Failure		400	{object}	ErrorBody	"bad_request: the body is not one JSON object, expires_at is not RFC 3339 or in the past, or both expires_at and never_expires are set"
//	@Failure		401	{object}	ErrorBody	"admin_unauthorized: no admin credentials, a wrong X-Admin-Secret header, or a secret in the query string. With Config.AdminAuth or AdminKeyScope also their refusals (key_missing, key_invalid, key_expired, key_revoked, credentials_invalid...), with a WWW-Authenticate challenge"
//	@Failure		403	{object}	ErrorBody	"cross_origin_refused: a browser sent the request from a page of another origin (Sec-Fetch-Site, else Origin against Host) that Config.TrustedOrigins does not list. insufficient_scope: a key let in through Config.AdminKeyScope lacks the scope. ip_not_allowed: its allow-list does not hold the client's address"
//	@Failure		404	{object}	ErrorBody	"not_found: no key with that id"
//	@Failure		409	{object}	ErrorBody	"key_revoked: the key is revoked; revocation is final. key_rotated: the key has been rotated"
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
//	@Router			/auth/keys/{id}/renew [post]
func (g *Guard) renewKey(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var req renewRequest
	if e := g.decodeBody(c, &req); e != nil {
		writeError(c, e)
		return
	}
	r, e := req.renewal()
	if e != nil {
		writeError(c, e)
		return
	}
	k, err := g.RenewKey(c.Request.Context(), id, r)
	if err != nil {
		g.fail(c, "renew key", err)
		return
	}
	c.JSON(http.StatusOK, k)
}

// keyUsage reports one key's usage.
//
//	@ID				ginkeyKeyUsage
//	@Summary		Usage of one API key
//	@Description	Total requests, last use, verifications by outcome (valid, expired, revoked, insufficient_scope, ip_not_allowed, rate_limited, quota_exceeded) and daily counts (UTC) for the last N days. Counts are written in batches about every second; this call flushes the instance's pending counts first, and answers 503 rather than totals that leave them out.
//	@Tags			ginkey
//	@Produce		json
//	@Param			id		path		string		true	"Key id"	extensions(x-example=3uV8rKQ0mZ1bXy7wE2tLp4)
//	@Param			days	query		int			false	"Days of daily counts"	minimum(1)	maximum(366)	default(30)
//	@Success		200		{object}	UsageReport	"The key's totals and daily counts"
//	@Failure		400	{object}	ErrorBody	"bad_request: days is out of range"
//	@Failure		401	{object}	ErrorBody	"admin_unauthorized: no admin credentials, a wrong X-Admin-Secret header, or a secret in the query string. With Config.AdminAuth or AdminKeyScope also their refusals (key_missing, key_invalid, key_expired, key_revoked, credentials_invalid...), with a WWW-Authenticate challenge"
//	@Failure		403	{object}	ErrorBody	"insufficient_scope: a key let in through Config.AdminKeyScope lacks the scope. ip_not_allowed: its allow-list does not hold the client's address"
//	@Failure		404	{object}	ErrorBody	"not_found: no key with that id"
//	@Failure		429	{object}	ErrorBody	"too_many_failures: this address sent too many wrong admin credentials (Config.AdminFailureLimit). Through Config.AdminKeyScope also rate_limited, quota_exceeded or too_many_lookups. Retry-After says when to retry"
//	@Failure		503	{object}	ErrorBody	"unavailable: the key store could not be read or its pending counts written, or it keeps no usage. lookups_busy: through Config.AdminKeyScope, too many keys are being looked up at once"
//	@Header		401	{string}	WWW-Authenticate	"The challenges of the ways in other than the X-Admin-Secret header (Config.AdminAuth, AdminKeyScope), when there are any"
//	@Header		403	{string}	WWW-Authenticate	"For insufficient_scope of a key let in through Config.AdminKeyScope: the scope it lacks"
//	@Header		429	{integer}	Retry-After	"Seconds to wait before retrying"
//	@Header		all	{integer}	RateLimit-Limit	"Requests per window of a key let in through Config.AdminKeyScope that has a rate limit"
//	@Header		all	{integer}	RateLimit-Remaining	"Requests left in the window (as RateLimit-Limit)"
//	@Header		all	{integer}	RateLimit-Reset	"Seconds until the window is full again (as RateLimit-Limit)"
//	@Security		AdminSecret
//	@Router			/auth/keys/{id}/usage [get]
func (g *Guard) keyUsage(c *gin.Context) {
	out, err := g.KeyUsage(c.Request.Context(), c.Param("id"), queryInt(c, daysRange))
	if err != nil {
		g.fail(c, "key usage", err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// usageSummary reports every key's usage.
//
//	@ID				ginkeyUsageSummary
//	@Summary		Usage of all API keys
//	@Description	One row per key, newest key first: total requests, last use and verifications by outcome, in the shape of GET /keys/{id}/usage. This call flushes the instance's pending counts first, and answers 503 rather than totals that leave them out.
//	@Tags			ginkey
//	@Produce		json
//	@Param			limit	query		int					false	"Page size"		minimum(1)	maximum(500)	default(50)
//	@Param			offset	query		int					false	"Rows to skip"	minimum(0)	default(0)
//	@Success		200		{object}	usageSummaryList	"A page of usage rows and the total number of keys"
//	@Failure		400	{object}	ErrorBody	"bad_request: limit or offset is out of range"
//	@Failure		401	{object}	ErrorBody	"admin_unauthorized: no admin credentials, a wrong X-Admin-Secret header, or a secret in the query string. With Config.AdminAuth or AdminKeyScope also their refusals (key_missing, key_invalid, key_expired, key_revoked, credentials_invalid...), with a WWW-Authenticate challenge"
//	@Failure		403	{object}	ErrorBody	"insufficient_scope: a key let in through Config.AdminKeyScope lacks the scope. ip_not_allowed: its allow-list does not hold the client's address"
//	@Failure		429	{object}	ErrorBody	"too_many_failures: this address sent too many wrong admin credentials (Config.AdminFailureLimit). Through Config.AdminKeyScope also rate_limited, quota_exceeded or too_many_lookups. Retry-After says when to retry"
//	@Failure		503	{object}	ErrorBody	"unavailable: the key store could not be read or its pending counts written, or it keeps no usage. lookups_busy: through Config.AdminKeyScope, too many keys are being looked up at once"
//	@Header		401	{string}	WWW-Authenticate	"The challenges of the ways in other than the X-Admin-Secret header (Config.AdminAuth, AdminKeyScope), when there are any"
//	@Header		403	{string}	WWW-Authenticate	"For insufficient_scope of a key let in through Config.AdminKeyScope: the scope it lacks"
//	@Header		429	{integer}	Retry-After	"Seconds to wait before retrying"
//	@Header		all	{integer}	RateLimit-Limit	"Requests per window of a key let in through Config.AdminKeyScope that has a rate limit"
//	@Header		all	{integer}	RateLimit-Remaining	"Requests left in the window (as RateLimit-Limit)"
//	@Header		all	{integer}	RateLimit-Reset	"Seconds until the window is full again (as RateLimit-Limit)"
//	@Security		AdminSecret
//	@Router			/auth/usage [get]
func (g *Guard) usageSummary(c *gin.Context) {
	rows, total, err := g.UsageSummary(c.Request.Context(), queryInt(c, limitRange), queryInt(c, offsetRange))
	if err != nil {
		g.fail(c, "usage summary", err)
		return
	}
	c.JSON(http.StatusOK, usageSummaryList{Usage: rows, Total: total})
}
