package ginkey

import "time"

// Metadata is a key's free-form JSON object in a create or update body.
// Decoding refuses anything but an object of at most 4096 bytes, measured as
// the client sent it (compacted), and keeps numbers exactly as written, as
// json.Number. It converts to and from map[string]any without a cast.
type Metadata map[string]any

// UnmarshalJSON implements json.Unmarshaler with the rules above; an error
// is a *Error with code bad_request.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	v, e := decodeMetadata(b)
	if e != nil {
		return e
	}
	*m = v
	return nil
}

// CreateKeyRequest is the body of POST /keys; every field is optional.
type CreateKeyRequest struct {
	Name         string     `json:"name" example:"billing service" maxLength:"200"`
	Owner        string     `json:"owner" example:"user_42" maxLength:"200"` // the user, team or tenant it belongs to
	Scopes       []string   `json:"scopes" example:"items:read"`
	Metadata     Metadata   `json:"metadata" swaggertype:"object"`
	ExpiresAt    *string    `json:"expires_at" example:"2099-12-31T23:59:59Z" format:"date-time"`
	NeverExpires bool       `json:"never_expires" example:"false"`
	RateLimit    *RateLimit `json:"rate_limit"`                                 // default: the guard's
	AllowedIPs   []string   `json:"allowed_ips" example:"10.0.0.0/8,127.0.0.1"` // CIDR prefixes or addresses; default: any
	Quota        *Quota     `json:"quota"`                                      // default: none
}

// CreatedKey is a new key's record plus the key itself, returned once.
type CreatedKey struct {
	Key
	// Secret is the plaintext key. It is shown only in this response.
	Secret string `json:"key" example:"gk_zChrl7bMU1rjrRMS25e9IX1zKzQK7HmbPwyMGzyZo2y2UarF3"`
}

// RenewRequest is the optional body of POST /keys/{id}/renew. With neither
// field the key expires one TTL from now.
type RenewRequest struct {
	ExpiresAt    *string `json:"expires_at" example:"2099-12-31T23:59:59Z" format:"date-time"`
	NeverExpires bool    `json:"never_expires" example:"false"`
}

// KeyList is a page of keys.
type KeyList struct {
	Keys  []Key `json:"keys"`
	Total int64 `json:"total" example:"1"`
}

// DailyUsage is one UTC day's request count.
type DailyUsage struct {
	Date     string `json:"date" example:"2026-11-25" format:"date"`
	Requests int64  `json:"requests" example:"42"` // admitted
	// Outcomes counts the day's verifications of the key by outcome:
	// valid (= requests), expired, revoked, insufficient_scope,
	// ip_not_allowed, rate_limited and quota_exceeded, zeros included.
	Outcomes map[string]int64 `json:"outcomes"`
}

// UsageReport is GET /keys/{id}/usage.
type UsageReport struct {
	ID            string     `json:"id"`
	TotalRequests int64      `json:"total_requests" example:"1234"`
	LastUsedAt    *time.Time `json:"last_used_at" format:"date-time"`
	// Outcomes counts all the key's verifications by outcome, as
	// DailyUsage's; valid equals total_requests.
	Outcomes map[string]int64 `json:"outcomes"`
	Daily    []DailyUsage     `json:"daily"`
}

// UsageSummary is one key's line in GET /usage.
type UsageSummary struct {
	ID            string     `json:"id"`
	Prefix        string     `json:"prefix" example:"gk_AbC1x"`
	Name          string     `json:"name"`
	TotalRequests int64      `json:"total_requests" example:"1234"`
	LastUsedAt    *time.Time `json:"last_used_at" format:"date-time"`
	// Refused counts the key's refused verifications in all, by outcome:
	// expired, revoked, insufficient_scope, ip_not_allowed, rate_limited
	// and quota_exceeded, zeros included.
	Refused map[string]int64 `json:"refused"`
}

// UsageSummaryList is GET /usage.
type UsageSummaryList struct {
	Usage []UsageSummary `json:"usage"`
	Total int64          `json:"total" example:"1"`
}

// spec is the request as a KeySpec.
func (r *CreateKeyRequest) spec() (KeySpec, *Error) {
	expires, e := parseExpiresAt(r.ExpiresAt, r.NeverExpires)
	if e != nil {
		return KeySpec{}, e
	}
	return KeySpec{
		Name: r.Name, Owner: r.Owner, Scopes: r.Scopes, Metadata: r.Metadata,
		ExpiresAt: expires, NeverExpires: r.NeverExpires,
		RateLimit: r.RateLimit, AllowedIPs: r.AllowedIPs, Quota: r.Quota,
		metadataChecked: true,
	}, nil
}

// renewal is the request as a Renewal.
func (r *RenewRequest) renewal() (Renewal, *Error) {
	expires, e := parseExpiresAt(r.ExpiresAt, r.NeverExpires)
	return Renewal{ExpiresAt: expires, NeverExpires: r.NeverExpires}, e
}

// parseExpiresAt reads a body's expires_at. Beside never_expires the API
// refuses it whatever it says, so it is not parsed: the client hears of the
// conflict, not of the format.
func parseExpiresAt(s *string, never bool) (*time.Time, *Error) {
	switch {
	case s == nil:
		return nil, nil
	case never:
		return &time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return nil, BadRequest("expires_at must be an RFC 3339 time, e.g. 2030-01-02T15:04:05Z")
	}
	return &t, nil
}
