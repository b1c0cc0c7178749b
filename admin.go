package ginkey

import (
	"net/http"
	"time"

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
//	@Param			body	body		CreateKeyRequest	false	"Key settings (all optional)"
//	@Success		201		{object}	CreatedKey			"The key's record plus the plaintext key, shown only here"
//	@Failure		400		{object}	ErrorBody			"bad_request: the body is not one JSON object, a field has the wrong type or is unknown, expires_at is not RFC 3339 or in the past, both expires_at and never_expires are set, or name, scopes or metadata are too long"
//	@Failure		401		{object}	ErrorBody			"admin_unauthorized: the X-Admin-Secret header is missing or wrong, or a secret was sent in the query string"
//	@Failure		413		{object}	ErrorBody			"payload_too_large: the body is larger than MaxBodyBytes (default 64 KiB)"
//	@Failure		503		{object}	ErrorBody			"unavailable: the key store could not be written"
//	@Security		AdminSecret
//	@Router			/auth/keys [post]
func (g *Guard) createKey(c *gin.Context) {
	var req CreateKeyRequest
	if e := g.decodeBody(c, &req); e != nil {
		writeError(c, e)
		return
	}
	now := g.now().UTC().Truncate(time.Microsecond)
	expires, e := g.expiryFrom(req.ExpiresAt, req.NeverExpires, now)
	if e != nil {
		writeError(c, e)
		return
	}
	if e := validateName(req.Name); e != nil {
		writeError(c, e)
		return
	}
	scopes, e := validateScopes(req.Scopes)
	if e != nil {
		writeError(c, e)
		return
	}
	ips, e := validateLimits(req.RateLimit, req.AllowedIPs, req.Quota)
	if e != nil {
		writeError(c, e)
		return
	}
	plaintext, display, err := g.format.generate()
	if err != nil {
		g.fail(c, "generate key", err)
		return
	}
	id, err := randomBase62(22)
	if err != nil {
		g.fail(c, "generate key id", err)
		return
	}
	h := hashKey(plaintext)
	rec := &Record{Hash: h.String(), Key: Key{
		ID: id, Prefix: display, Name: req.Name, Scopes: scopes, Metadata: req.Metadata,
		RateLimit: req.RateLimit, AllowedIPs: ips, Quota: req.Quota,
		CreatedAt: now, ExpiresAt: expires,
	}}
	if rec.Metadata == nil {
		rec.Metadata = map[string]any{}
	}
	if err := g.store.Insert(c.Request.Context(), rec); err != nil {
		g.fail(c, "insert key", err)
		return
	}
	g.invalidate(&h)
	g.log.Info("ginkey: key created", "key_id", id, "prefix", display)
	out := CreatedKey{Key: rec.Key, Secret: plaintext}
	out.Status = statusAt(&out.Key, now)
	c.JSON(http.StatusCreated, out)
}

// listKeys lists keys.
//
//	@ID				ginkeyListKeys
//	@Summary		List API keys
//	@Description	Lists keys, newest first, a page at a time. The key itself and its hash are never returned.
//	@Tags			ginkey
//	@Produce		json
//	@Param			status	query		string		false	"Only keys in this state"	Enums(active, expired, revoked)
//	@Param			limit	query		int			false	"Page size"					minimum(1)	maximum(500)	default(50)
//	@Param			offset	query		int			false	"Keys to skip"				minimum(0)	default(0)
//	@Success		200		{object}	KeyList		"A page of keys and the total number matching"
//	@Failure		400		{object}	ErrorBody	"bad_request: status, limit or offset is out of range"
//	@Failure		401		{object}	ErrorBody	"admin_unauthorized: the X-Admin-Secret header is missing or wrong, or a secret was sent in the query string"
//	@Failure		503		{object}	ErrorBody	"unavailable: the key store could not be read"
//	@Security		AdminSecret
//	@Router			/auth/keys [get]
func (g *Guard) listKeys(c *gin.Context) {
	status := Status(c.Query("status"))
	switch status {
	case "", StatusActive, StatusExpired, StatusRevoked:
	default:
		writeError(c, BadRequest("status must be active, expired or revoked"))
		return
	}
	limit, offset, e := pageParams(c)
	if e != nil {
		writeError(c, e)
		return
	}
	now := g.now().UTC()
	recs, total, err := g.store.List(c.Request.Context(), ListQuery{Status: status, Now: now, Limit: limit, Offset: offset})
	if err != nil {
		g.fail(c, "list keys", err)
		return
	}
	out := KeyList{Keys: make([]Key, len(recs)), Total: total}
	for i := range recs {
		out.Keys[i] = recs[i].Key
		out.Keys[i].Status = statusAt(&recs[i].Key, now)
	}
	c.JSON(http.StatusOK, out)
}

// getKey returns one key.
//
//	@ID				ginkeyGetKey
//	@Summary		Get an API key
//	@Description	Returns one key's record: never the key itself nor its hash.
//	@Tags			ginkey
//	@Produce		json
//	@Param			id	path		string		true	"Key id"
//	@Success		200	{object}	Key			"The key's record"
//	@Failure		401	{object}	ErrorBody	"admin_unauthorized: the X-Admin-Secret header is missing or wrong, or a secret was sent in the query string"
//	@Failure		404	{object}	ErrorBody	"not_found: no key with that id"
//	@Failure		503	{object}	ErrorBody	"unavailable: the key store could not be read"
//	@Security		AdminSecret
//	@Router			/auth/keys/{id} [get]
func (g *Guard) getKey(c *gin.Context) {
	rec, ok := g.keyByParam(c)
	if !ok {
		return
	}
	g.respondKey(c, http.StatusOK, rec)
}

// deleteKey deletes a key and its usage.
//
//	@ID				ginkeyDeleteKey
//	@Summary		Delete an API key
//	@Description	Deletes the key and its usage history. It stops working on the next request.
//	@Tags			ginkey
//	@Produce		json
//	@Param			id	path	string	true	"Key id"
//	@Success		204	"Deleted"
//	@Failure		401	{object}	ErrorBody	"admin_unauthorized: the X-Admin-Secret header is missing or wrong, or a secret was sent in the query string"
//	@Failure		404	{object}	ErrorBody	"not_found: no key with that id"
//	@Failure		503	{object}	ErrorBody	"unavailable: the key store could not be written"
//	@Security		AdminSecret
//	@Router			/auth/keys/{id} [delete]
func (g *Guard) deleteKey(c *gin.Context) {
	rec, ok := g.keyByParam(c)
	if !ok {
		return
	}
	if err := g.store.Delete(c.Request.Context(), rec.ID); err != nil {
		g.fail(c, "delete key", err)
		return
	}
	g.invalidateHex(rec.Hash)
	g.log.Info("ginkey: key deleted", "key_id", rec.ID)
	c.Status(http.StatusNoContent)
}

// revokeKey revokes a key for good.
//
//	@ID				ginkeyRevokeKey
//	@Summary		Revoke an API key
//	@Description	Revokes the key; it stops working on the next request. Revocation is final and idempotent: revoking a revoked key answers 200 with its record.
//	@Tags			ginkey
//	@Produce		json
//	@Param			id	path		string		true	"Key id"
//	@Success		200	{object}	Key			"The key's record, status revoked"
//	@Failure		401	{object}	ErrorBody	"admin_unauthorized: the X-Admin-Secret header is missing or wrong, or a secret was sent in the query string"
//	@Failure		404	{object}	ErrorBody	"not_found: no key with that id"
//	@Failure		503	{object}	ErrorBody	"unavailable: the key store could not be written"
//	@Security		AdminSecret
//	@Router			/auth/keys/{id}/revoke [post]
func (g *Guard) revokeKey(c *gin.Context) {
	id, ok := g.idParam(c)
	if !ok {
		return
	}
	now := g.now().UTC().Truncate(time.Microsecond)
	rec, err := g.store.Update(c.Request.Context(), id, Changes{RevokedAt: &now})
	if isRevokedConflict(err) { // already revoked: answer with the record as it is
		rec, err = g.store.ByID(c.Request.Context(), id)
	}
	if err != nil {
		g.fail(c, "revoke key", err)
		return
	}
	g.invalidateHex(rec.Hash)
	g.log.Info("ginkey: key revoked", "key_id", id)
	g.respondKey(c, http.StatusOK, rec)
}

// renewKey extends a key's life.
//
//	@ID				ginkeyRenewKey
//	@Summary		Renew an API key
//	@Description	Sets a new expiry: the given expires_at, none with never_expires, else now plus the configured TTL. A revoked key cannot be renewed.
//	@Tags			ginkey
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string			true	"Key id"
//	@Param			body	body		RenewRequest	false	"New expiry (optional)"
//	@Success		200		{object}	Key				"The key's record with its new expires_at"
//	@Failure		400		{object}	ErrorBody		"bad_request: the body is not one JSON object, expires_at is not RFC 3339 or in the past, or both expires_at and never_expires are set"
//	@Failure		401		{object}	ErrorBody		"admin_unauthorized: the X-Admin-Secret header is missing or wrong, or a secret was sent in the query string"
//	@Failure		404		{object}	ErrorBody		"not_found: no key with that id"
//	@Failure		409		{object}	ErrorBody		"key_revoked: the key is revoked; revocation is final"
//	@Failure		413		{object}	ErrorBody		"payload_too_large: the body is larger than MaxBodyBytes (default 64 KiB)"
//	@Failure		503		{object}	ErrorBody		"unavailable: the key store could not be written"
//	@Security		AdminSecret
//	@Router			/auth/keys/{id}/renew [post]
func (g *Guard) renewKey(c *gin.Context) {
	id, ok := g.idParam(c)
	if !ok {
		return
	}
	var req RenewRequest
	if e := g.decodeBody(c, &req); e != nil {
		writeError(c, e)
		return
	}
	now := g.now().UTC().Truncate(time.Microsecond)
	expires, e := g.expiryFrom(req.ExpiresAt, req.NeverExpires, now)
	if e != nil {
		writeError(c, e)
		return
	}
	rec, err := g.store.Update(c.Request.Context(), id, Changes{SetExpiry: true, ExpiresAt: expires})
	if err != nil {
		g.fail(c, "renew key", err)
		return
	}
	g.invalidateHex(rec.Hash)
	g.log.Info("ginkey: key renewed", "key_id", id)
	g.respondKey(c, http.StatusOK, rec)
}

// keyUsage reports one key's usage.
//
//	@ID				ginkeyKeyUsage
//	@Summary		Usage of one API key
//	@Description	Total requests, last use and daily counts (UTC) for the last N days. Counts are written in batches about every second; this call flushes the instance's pending counts first, and answers 503 rather than totals that leave them out.
//	@Tags			ginkey
//	@Produce		json
//	@Param			id		path		string		true	"Key id"
//	@Param			days	query		int			false	"Days of daily counts"	minimum(1)	maximum(366)	default(30)
//	@Success		200		{object}	UsageReport	"The key's totals and daily counts"
//	@Failure		400		{object}	ErrorBody	"bad_request: days is out of range"
//	@Failure		401		{object}	ErrorBody	"admin_unauthorized: the X-Admin-Secret header is missing or wrong, or a secret was sent in the query string"
//	@Failure		404		{object}	ErrorBody	"not_found: no key with that id"
//	@Failure		503		{object}	ErrorBody	"unavailable: the key store could not be read or its pending counts written, or it keeps no usage"
//	@Security		AdminSecret
//	@Router			/auth/keys/{id}/usage [get]
func (g *Guard) keyUsage(c *gin.Context) {
	days, e := intParam(c, "days", 30, 1, 366)
	if e != nil {
		writeError(c, e)
		return
	}
	if !g.flushForRead(c) {
		return
	}
	rec, ok := g.keyByParam(c) // after the flush: its last_used_at must include pending requests
	if !ok {
		return
	}
	since := g.now().UTC().AddDate(0, 0, -(days - 1)).Format(time.DateOnly)
	total, daily, err := g.usageStore.Usage(c.Request.Context(), rec.ID, since)
	if err != nil {
		g.fail(c, "read usage", err)
		return
	}
	c.JSON(http.StatusOK, UsageReport{ID: rec.ID, TotalRequests: total, LastUsedAt: rec.LastUsedAt, Daily: daily})
}

// usageSummary reports every key's usage.
//
//	@ID				ginkeyUsageSummary
//	@Summary		Usage of all API keys
//	@Description	One row per key, newest key first: total requests and last use. This call flushes the instance's pending counts first, and answers 503 rather than totals that leave them out.
//	@Tags			ginkey
//	@Produce		json
//	@Param			limit	query		int					false	"Page size"		minimum(1)	maximum(500)	default(50)
//	@Param			offset	query		int					false	"Rows to skip"	minimum(0)	default(0)
//	@Success		200		{object}	UsageSummaryList	"A page of usage rows and the total number of keys"
//	@Failure		400		{object}	ErrorBody			"bad_request: limit or offset is out of range"
//	@Failure		401		{object}	ErrorBody			"admin_unauthorized: the X-Admin-Secret header is missing or wrong, or a secret was sent in the query string"
//	@Failure		503		{object}	ErrorBody			"unavailable: the key store could not be read or its pending counts written, or it keeps no usage"
//	@Security		AdminSecret
//	@Router			/auth/usage [get]
func (g *Guard) usageSummary(c *gin.Context) {
	limit, offset, e := pageParams(c)
	if e != nil {
		writeError(c, e)
		return
	}
	if !g.flushForRead(c) {
		return
	}
	rows, total, err := g.usageStore.UsageSummaries(c.Request.Context(), limit, offset)
	if err != nil {
		g.fail(c, "read usage", err)
		return
	}
	c.JSON(http.StatusOK, UsageSummaryList{Usage: rows, Total: total})
}

// flushForRead makes this instance's pending counts visible before a usage
// read. It answers 503 when the store keeps no usage, or when the flush
// fails: the totals would silently leave out what is pending.
func (g *Guard) flushForRead(c *gin.Context) bool {
	if g.usageStore == nil {
		writeError(c, ErrUnavailable)
		return false
	}
	if err := g.Flush(c.Request.Context()); err != nil {
		g.fail(c, "flush usage before a usage read", err)
		return false
	}
	return true
}
