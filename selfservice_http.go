package ginkey

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// The self-service routes: each decodes, calls the request's OwnerKeys
// (put in the context by selfServiceGate) and encodes, as the admin
// handlers do with the Guard.

// selfCreateRequest documents the body of a self-service create; the body
// is decoded as the admin API's, and OwnerKeys.Create refuses the fields the
// policy sets, naming them.
type selfCreateRequest struct { //nolint:unused // swag's schema of the body; the handler decodes createKeyRequest so that the API names each refused field
	Name      string   `json:"name" example:"billing service" maxLength:"200"`
	Scopes    []string `json:"scopes" example:"items:read"`                                  // some of the plan's; default: all of them
	ExpiresAt *string  `json:"expires_at" example:"2099-12-31T23:59:59Z" format:"date-time"` // at most the plan's lifetime ahead; default: that
} //	@name	ginkey.SelfServiceCreateRequest

// selfRenewRequest documents the body of a self-service renew.
type selfRenewRequest struct { //nolint:unused // swag's schema of the body; the handler decodes renewRequest so that the API names never_expires
	ExpiresAt *string `json:"expires_at" example:"2099-12-31T23:59:59Z" format:"date-time"` // at most the plan's lifetime ahead; default: that
} //	@name	ginkey.SelfServiceRenewRequest

// selfListKeys lists the signed-in owner's keys.
//
//	@ID				ginkeySelfListKeys
//	@Summary		List my API keys
//	@Description	Lists the signed-in user's keys, newest first, a page at a time; total counts only theirs. The key itself and its hash are never returned.
//	@Tags			ginkey-self-service
//	@Produce		json
//	@Param			status	query		string		false	"Only keys in this state"	Enums(active, expired, revoked)
//	@Param			prefix	query		string		false	"Only keys with this display prefix (exact), e.g. gk_AbC1x"
//	@Param			name	query		string		false	"Only keys whose name contains this (ignoring case)"
//	@Param			limit	query		int			false	"Page size"		minimum(1)	maximum(500)	default(50)
//	@Param			offset	query		int			false	"Keys to skip"	minimum(0)	default(0)
//	@Success		200		{object}	keyList		"A page of the user's keys and how many they have"
//	@Failure		400		{object}	ErrorBody	"bad_request: a filter, limit or offset is out of range, or owner was given"
//	@Failure		401		{object}	ErrorBody	"credentials_missing: nobody is signed in"
//	@Failure		503		{object}	ErrorBody	"unavailable: the key store could not be read"
//	@Security		OwnerSession
//	@Router			/account/keys [get]
func (g *Guard) selfListKeys(c *gin.Context) {
	if _, given := c.GetQuery("owner"); given {
		writeError(c, notChosen("owner"))
		return
	}
	q := KeyQuery{
		Status: Status(c.Query("status")), Prefix: c.Query("prefix"), Name: c.Query("name"),
		Limit: queryInt(c, limitRange), Offset: queryInt(c, offsetRange),
	}
	keys, total, err := ownerKeys(c).List(c.Request.Context(), q)
	g.answer(c, "list my keys", http.StatusOK, keyList{Keys: keys, Total: total}, err)
}

// selfCreateKey creates a key for the signed-in owner.
//
//	@ID				ginkeySelfCreateKey
//	@Summary		Create an API key
//	@Description	Creates a key for the signed-in user and returns it once, in the "key" field; it cannot be shown again. The user names it and picks some of the plan's scopes and an expiry within the plan's lifetime; rate limit, quota and allowed addresses are the plan's.
//	@Tags			ginkey-self-service
//	@Accept			json
//	@Produce		json
//	@Param			body	body		selfCreateRequest	false	"Key settings (all optional)"
//	@Success		201		{object}	CreatedKey			"The key's record plus the plaintext key, shown only here"
//	@Failure		400		{object}	ErrorBody			"bad_request: the body is not one JSON object, a scope is not the plan's, expires_at is past the plan's lifetime, or a field the plan sets (owner, metadata, never_expires, rate_limit, allowed_ips, quota) was given; the message names the field"
//	@Failure		401		{object}	ErrorBody			"credentials_missing: nobody is signed in"
//	@Failure		403		{object}	ErrorBody			"cross_origin_refused: a browser sent the request from a page of another origin"
//	@Failure		409		{object}	ErrorBody			"too_many_keys: the user has as many active keys as the plan allows"
//	@Failure		413		{object}	ErrorBody			"payload_too_large: the body is larger than MaxBodyBytes (default 64 KiB)"
//	@Failure		415		{object}	ErrorBody			"unsupported_media_type: the body is not sent as Content-Type: application/json"
//	@Failure		429		{object}	ErrorBody			"too_many_creates: too many keys created in the last hour; see Retry-After"
//	@Failure		503		{object}	ErrorBody			"unavailable: the key store could not be written"
//	@Security		OwnerSession
//	@Router			/account/keys [post]
func (g *Guard) selfCreateKey(c *gin.Context) {
	var req createKeyRequest // the admin API's body: the API refuses what the plan sets, naming it
	if e := g.decodeBody(c, &req); e != nil {
		writeError(c, e)
		return
	}
	spec, e := req.spec()
	if e != nil {
		writeError(c, e)
		return
	}
	out, err := ownerKeys(c).Create(c.Request.Context(), spec)
	g.answer(c, "create my key", http.StatusCreated, out, err)
}

// selfGetKey returns one of the owner's keys.
//
//	@ID				ginkeySelfGetKey
//	@Summary		Get one of my API keys
//	@Description	Returns one of the signed-in user's keys; another user's key is not found, exactly as an unknown id.
//	@Tags			ginkey-self-service
//	@Produce		json
//	@Param			id	path		string		true	"Key id"
//	@Success		200	{object}	Key			"The key's record"
//	@Failure		401	{object}	ErrorBody	"credentials_missing: nobody is signed in"
//	@Failure		404	{object}	ErrorBody	"not_found: the user has no key with that id"
//	@Failure		503	{object}	ErrorBody	"unavailable: the key store could not be read"
//	@Security		OwnerSession
//	@Router			/account/keys/{id} [get]
func (g *Guard) selfGetKey(c *gin.Context) {
	out, err := ownerKeys(c).Get(c.Request.Context(), c.Param("id"))
	g.answer(c, "get my key", http.StatusOK, out, err)
}

// selfRotateKey replaces one of the owner's keys.
//
//	@ID				ginkeySelfRotateKey
//	@Summary		Rotate one of my API keys
//	@Description	Replaces the key by a new one, returned once as on create; the old key keeps working for the grace period, then stops. Rotating a key that replaced another ends that one's grace: a rotation chain has at most two working keys.
//	@Tags			ginkey-self-service
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string			true	"Key id"
//	@Param			body	body		rotateRequest	false	"Grace period (optional)"
//	@Success		201		{object}	CreatedKey		"The new key's record plus the plaintext key, shown only here"
//	@Failure		400		{object}	ErrorBody		"bad_request: grace is not a duration from 0s to 30d (a number with d, h, m or s, e.g. 2d, 1d12h or 90m)"
//	@Failure		401		{object}	ErrorBody		"credentials_missing: nobody is signed in"
//	@Failure		403		{object}	ErrorBody		"cross_origin_refused: a browser sent the request from a page of another origin"
//	@Failure		404		{object}	ErrorBody		"not_found: the user has no key with that id"
//	@Failure		409		{object}	ErrorBody		"key_revoked, key_rotated or key_expired: the key cannot be rotated"
//	@Failure		415		{object}	ErrorBody		"unsupported_media_type: the body is not sent as Content-Type: application/json"
//	@Failure		503		{object}	ErrorBody		"unavailable: the key store could not be written"
//	@Security		OwnerSession
//	@Router			/account/keys/{id}/rotate [post]
func (g *Guard) selfRotateKey(c *gin.Context) {
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
	out, err := ownerKeys(c).Rotate(c.Request.Context(), id, grace)
	g.answer(c, "rotate my key", http.StatusCreated, out, err)
}

// selfRevokeKey revokes one of the owner's keys.
//
//	@ID				ginkeySelfRevokeKey
//	@Summary		Revoke one of my API keys
//	@Description	Revokes the key for good; it stops working on the next request. Revoking a revoked key answers 200 with its record.
//	@Tags			ginkey-self-service
//	@Produce		json
//	@Param			id	path		string		true	"Key id"
//	@Success		200	{object}	Key			"The key's record, status revoked"
//	@Failure		401	{object}	ErrorBody	"credentials_missing: nobody is signed in"
//	@Failure		403	{object}	ErrorBody	"cross_origin_refused: a browser sent the request from a page of another origin"
//	@Failure		404	{object}	ErrorBody	"not_found: the user has no key with that id"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: a body was sent, but not as application/json"
//	@Failure		503	{object}	ErrorBody	"unavailable: the key store could not be written"
//	@Security		OwnerSession
//	@Router			/account/keys/{id}/revoke [post]
func (g *Guard) selfRevokeKey(c *gin.Context) {
	out, err := ownerKeys(c).Revoke(c.Request.Context(), c.Param("id"))
	g.answer(c, "revoke my key", http.StatusOK, out, err)
}

// selfRenewKey extends one of the owner's keys.
//
//	@ID				ginkeySelfRenewKey
//	@Summary		Renew one of my API keys
//	@Description	Sets a new expiry: the given expires_at, at most the plan's lifetime ahead, else that lifetime from now.
//	@Tags			ginkey-self-service
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string				true	"Key id"
//	@Param			body	body		selfRenewRequest	false	"New expiry (optional)"
//	@Success		200		{object}	Key					"The key's record with its new expires_at"
//	@Failure		400		{object}	ErrorBody			"bad_request: expires_at is not RFC 3339, in the past or past the plan's lifetime, or never_expires was given"
//	@Failure		401		{object}	ErrorBody			"credentials_missing: nobody is signed in"
//	@Failure		403		{object}	ErrorBody			"cross_origin_refused: a browser sent the request from a page of another origin"
//	@Failure		404		{object}	ErrorBody			"not_found: the user has no key with that id"
//	@Failure		409		{object}	ErrorBody			"key_revoked or key_rotated: the key cannot be renewed. key_expired: an expired key is not renewed here (it would escape the plan's cap); create a new one"
//	@Failure		415		{object}	ErrorBody			"unsupported_media_type: the body is not sent as Content-Type: application/json"
//	@Failure		503		{object}	ErrorBody			"unavailable: the key store could not be written"
//	@Security		OwnerSession
//	@Router			/account/keys/{id}/renew [post]
func (g *Guard) selfRenewKey(c *gin.Context) {
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
	out, err := ownerKeys(c).Renew(c.Request.Context(), id, r)
	g.answer(c, "renew my key", http.StatusOK, out, err)
}

// selfKeyUsage reports one of the owner's keys' usage.
//
//	@ID				ginkeySelfKeyUsage
//	@Summary		Usage of one of my API keys
//	@Description	Total requests, last use, and daily counts by outcome (UTC) for the last N days.
//	@Tags			ginkey-self-service
//	@Produce		json
//	@Param			id		path		string		true	"Key id"
//	@Param			days	query		int			false	"Days of daily counts"	minimum(1)	maximum(366)	default(30)
//	@Success		200		{object}	UsageReport	"The key's totals and daily counts"
//	@Failure		400		{object}	ErrorBody	"bad_request: days is out of range"
//	@Failure		401		{object}	ErrorBody	"credentials_missing: nobody is signed in"
//	@Failure		404		{object}	ErrorBody	"not_found: the user has no key with that id"
//	@Failure		503		{object}	ErrorBody	"unavailable: the key store could not be read"
//	@Security		OwnerSession
//	@Router			/account/keys/{id}/usage [get]
func (g *Guard) selfKeyUsage(c *gin.Context) {
	out, err := ownerKeys(c).Usage(c.Request.Context(), c.Param("id"), queryInt(c, daysRange))
	g.answer(c, "my key's usage", http.StatusOK, out, err)
}

// selfKeyAudit lists the audit entries of one of the owner's keys.
//
//	@ID				ginkeySelfKeyAudit
//	@Summary		History of one of my API keys
//	@Description	What was done to the key, newest first: create, rotate, revoke, renew..., with the outcome. Actions the user took name the actor "owner:<user>"; others "other".
//	@Tags			ginkey-self-service
//	@Produce		json
//	@Param			id		path		string		true	"Key id"
//	@Param			limit	query		int			false	"Page size"			minimum(1)	maximum(500)	default(50)
//	@Param			offset	query		int			false	"Entries to skip"	minimum(0)	default(0)
//	@Success		200		{object}	auditList	"A page of the key's entries and how many there are"
//	@Failure		400		{object}	ErrorBody	"bad_request: limit or offset is out of range"
//	@Failure		401		{object}	ErrorBody	"credentials_missing: nobody is signed in"
//	@Failure		404		{object}	ErrorBody	"not_found: the user has no key with that id"
//	@Failure		503		{object}	ErrorBody	"unavailable: the store could not be read, or it keeps no audit log"
//	@Security		OwnerSession
//	@Router			/account/keys/{id}/audit [get]
func (g *Guard) selfKeyAudit(c *gin.Context) {
	q := AuditQuery{Limit: queryInt(c, limitRange), Offset: queryInt(c, offsetRange)}
	entries, total, err := ownerKeys(c).Audit(c.Request.Context(), c.Param("id"), q)
	g.answer(c, "my key's audit log", http.StatusOK, auditList{Entries: entries, Total: total}, err)
}

// answer writes out with status, or err as fail does.
func (g *Guard) answer(c *gin.Context, what string, status int, out any, err error) {
	if err != nil {
		g.fail(c, what, err)
		return
	}
	c.JSON(status, out)
}
