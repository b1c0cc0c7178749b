package ginkey

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
)

// patchKeyRequest is the body of PATCH /keys/{id}. Absent fields are left
// alone; "rate_limit": null falls back to the guard's default rate limit,
// "quota": null removes the quota and "allowed_ips": [] lifts the
// allow-list. Scopes and allowed_ips are replaced, not merged.
type patchKeyRequest struct {
	Name       *string       `json:"name" example:"billing service" maxLength:"200"`
	Owner      *string       `json:"owner" example:"user_42" maxLength:"200"`
	Scopes     *[]string     `json:"scopes" example:"items:read,items:write"`
	Metadata   *jsonMetadata `json:"metadata" swaggertype:"object"`
	RateLimit  *RateLimit    `json:"rate_limit"`
	AllowedIPs *[]string     `json:"allowed_ips" example:"10.0.0.0/8,2001:db8::/32"`
	Quota      *Quota        `json:"quota"`

	// whether the body named them at all, so that null can clear them
	hasRateLimit, hasQuota bool
} //	@name	ginkey.PatchKeyRequest

// UnmarshalJSON decodes the body as the admin API does (field names are
// exact; an error is a *Error with code bad_request) and notes which nullable
// fields were present.
func (p *patchKeyRequest) UnmarshalJSON(b []byte) error {
	type plain patchKeyRequest
	if e := decodeJSON(b, (*plain)(p)); e != nil {
		return e
	}
	var present map[string]json.RawMessage
	if err := json.Unmarshal(b, &present); err != nil {
		return err
	}
	_, p.hasRateLimit = present["rate_limit"]
	_, p.hasQuota = present["quota"]
	return nil
}

// patchKey changes a key's name, owner, scopes, metadata, rate limit, allow-list or
// quota.
//
//	@ID				ginkeyUpdateKey
//	@Summary		Update an API key
//	@Description	Sets the given fields and leaves the others alone; the change applies from the key's next request. Scopes and allowed_ips are replaced as a whole; "rate_limit": null reverts to the guard's default, "quota": null removes the quota, "allowed_ips": [] allows every address. A revoked key cannot be changed, nor a rotated one (change the key that replaced it).
//	@Tags			ginkey
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string			true	"Key id"
//	@Param			body	body		patchKeyRequest	true	"Fields to change (at least one)"
//	@Success		200		{object}	Key				"The key's record after the change"
//	@Failure		400		{object}	ErrorBody		"bad_request: the body is empty or not one JSON object, a field has the wrong type or is unknown, or a value is invalid (scope, CIDR, rate_limit, quota)"
//	@Failure		401		{object}	ErrorBody		"admin_unauthorized: the X-Admin-Secret header is missing or wrong, or a secret was sent in the query string"
//	@Failure		403		{object}	ErrorBody		"cross_origin_refused: a browser sent the request from a page of another origin (Sec-Fetch-Site, else Origin against Host) that Config.TrustedOrigins does not list"
//	@Failure		404		{object}	ErrorBody		"not_found: no key with that id"
//	@Failure		409		{object}	ErrorBody		"key_revoked: the key is revoked; revocation is final. key_rotated: the key has been rotated"
//	@Failure		413		{object}	ErrorBody		"payload_too_large: the body is larger than MaxBodyBytes (default 64 KiB)"
//	@Failure		415		{object}	ErrorBody		"unsupported_media_type: the body is not sent as Content-Type: application/json (a form, multipart or text/plain body, or a body without a Content-Type)"
//	@Failure		503		{object}	ErrorBody		"unavailable: the key store could not be written"
//	@Security		AdminSecret
//	@Router			/auth/keys/{id} [patch]
func (g *Guard) patchKey(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var req patchKeyRequest
	if e := g.decodeBody(c, &req); e != nil {
		writeError(c, e)
		return
	}
	k, err := g.UpdateKey(c.Request.Context(), id, req.update())
	if err != nil {
		g.fail(c, "update key", err)
		return
	}
	c.JSON(http.StatusOK, k)
}

// update is the request as a KeyUpdate: a null rate_limit or quota clears it.
func (p *patchKeyRequest) update() KeyUpdate {
	return KeyUpdate{
		Name:           p.Name,
		Owner:          p.Owner,
		Scopes:         p.Scopes,
		Metadata:       (*map[string]any)(p.Metadata),
		AllowedIPs:     p.AllowedIPs,
		RateLimit:      p.RateLimit,
		ClearRateLimit: p.hasRateLimit && p.RateLimit == nil,
		Quota:          p.Quota,
		ClearQuota:     p.hasQuota && p.Quota == nil,
	}
}
