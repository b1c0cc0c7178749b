package ginkey

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
)

// patchKeyRequest is the body of PATCH /keys/{id}. Absent or null fields are
// left alone, but for the limits: "clear_rate_limit": true (or
// "rate_limit": null) falls back to the guard's default rate limit,
// "clear_quota": true (or "quota": null) removes the quota, and an empty
// limit object ({}) counts as absent (givenLimit). "allowed_ips": [] lifts
// the allow-list. Scopes and allowed_ips are replaced, not merged.
//
// The booleans exist because generated clients never send a null: they
// drop the fields they were not given. scopes and allowed_ips are marked
// x-omitempty false so that go-swagger's clients can send [] (their nil
// slice goes out as null, which leaves the field alone).
type patchKeyRequest struct {
	Name           *string       `json:"name" example:"billing service" maxLength:"200" extensions:"x-nullable"`
	Owner          *string       `json:"owner" example:"user_42" maxLength:"200" extensions:"x-nullable"`
	Scopes         *[]string     `json:"scopes" example:"items:read,items:write" validate:"max=64" maxLength:"128" extensions:"x-nullable,!x-omitempty"`
	Metadata       *jsonMetadata `json:"metadata" swaggertype:"object" extensions:"x-nullable"`
	RateLimit      *RateLimit    `json:"rate_limit" extensions:"x-nullable"` // null: as clear_rate_limit
	ClearRateLimit bool          `json:"clear_rate_limit" example:"false"`   // true: back to the guard's default; not with rate_limit
	AllowedIPs     *[]string     `json:"allowed_ips" example:"10.0.0.0/8,2001:db8::/32" validate:"max=64" maxLength:"64" extensions:"x-nullable,!x-omitempty"`
	Quota          *Quota        `json:"quota" extensions:"x-nullable"` // null: as clear_quota
	ClearQuota     bool          `json:"clear_quota" example:"false"`   // true: no quota; not with quota

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
//	@Description	Sets the given fields and leaves the others alone; the change applies from the key's next request. Absent and null fields are left alone. Scopes and allowed_ips are replaced as a whole; "allowed_ips": [] allows every address. "clear_rate_limit": true (or "rate_limit": null) reverts to the guard's default rate limit, "clear_quota": true (or "quota": null) removes the quota; an empty rate_limit or quota object ({}) counts as absent. A revoked key cannot be changed, nor a rotated one (change the key that replaced it).
//	@Tags			ginkey
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string			true	"Key id"	extensions(x-example=3uV8rKQ0mZ1bXy7wE2tLp4)
//	@Param			body	body		patchKeyRequest	true	"Fields to change (at least one)"
//	@Success		200		{object}	Key				"The key's record after the change"
//	@Failure		400	{object}	ErrorBody	"bad_request: the body is empty or not one JSON object, a field has the wrong type or is unknown, or a value is invalid (scope, CIDR, rate_limit, quota)"
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

// update is the request as a KeyUpdate: clear_rate_limit or a null
// rate_limit clears it, and likewise for the quota.
func (p *patchKeyRequest) update() KeyUpdate {
	return KeyUpdate{
		Name:           p.Name,
		Owner:          p.Owner,
		Scopes:         p.Scopes,
		Metadata:       (*map[string]any)(p.Metadata),
		AllowedIPs:     p.AllowedIPs,
		RateLimit:      givenLimit(p.RateLimit),
		ClearRateLimit: p.ClearRateLimit || (p.hasRateLimit && p.RateLimit == nil),
		Quota:          givenLimit(p.Quota),
		ClearQuota:     p.ClearQuota || (p.hasQuota && p.Quota == nil),
	}
}
