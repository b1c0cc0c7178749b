package ginkey

import "time"

// jsonMetadata is a key's free-form JSON object in a create or update body.
// Decoding refuses anything but an object and keeps numbers exactly as
// written, as json.Number; its size is the management API's to check. It
// converts to and from map[string]any without a cast.
type jsonMetadata map[string]any

// UnmarshalJSON implements json.Unmarshaler; an error is a *Error with code
// bad_request.
func (m *jsonMetadata) UnmarshalJSON(b []byte) error {
	var v map[string]any
	if unmarshalExact(b, &v) != nil {
		return errMetadata
	}
	*m = v
	return nil
}

// createKeyRequest is the body of POST /keys; every field is optional. A
// generated client sends the zero values of fields it was not given: see
// parseExpiresAt and givenLimit for what they mean. Absent or null,
// rate_limit is the guard's and quota none. Those two carry no comment and
// no tag, so that swag writes a plain $ref, which go-swagger's clients make
// a pointer and leave out when unset (an allOf wrapper would be a struct,
// always sent).
type createKeyRequest struct {
	Name         string       `json:"name" example:"billing service" maxLength:"200"`
	Owner        string       `json:"owner" example:"user_42" maxLength:"200"` // the user, team or tenant it belongs to
	Scopes       []string     `json:"scopes" example:"items:read" validate:"max=64" maxLength:"128"`
	Metadata     jsonMetadata `json:"metadata" swaggertype:"object"`
	ExpiresAt    *string      `json:"expires_at" example:"2099-12-31T23:59:59Z" format:"date-time" extensions:"x-nullable"` // null or absent: one TTL from now
	NeverExpires bool         `json:"never_expires" example:"false"`                                                        // true: no expiry; not with expires_at
	RateLimit    *RateLimit   `json:"rate_limit"`
	AllowedIPs   []string     `json:"allowed_ips" example:"10.0.0.0/8,127.0.0.1" validate:"max=64" maxLength:"64"` // CIDR prefixes or addresses; default: any
	Quota        *Quota       `json:"quota"`
} //	@name	ginkey.CreateKeyRequest

// CreatedKey is a new key's record plus the key itself, returned once.
type CreatedKey struct {
	Key
	// Secret is the plaintext key. It is shown only in this response.
	Secret string `json:"key" example:"gk_zChrl7bMU1rjrRMS25e9IX1zKzQK7HmbPwyMGzyZo2y2UarF3"`
}

// renewRequest is the optional body of POST /keys/{id}/renew. With neither
// field the key expires one TTL from now.
type renewRequest struct {
	ExpiresAt    *string `json:"expires_at" example:"2099-12-31T23:59:59Z" format:"date-time" extensions:"x-nullable"` // null or absent: one TTL from now
	NeverExpires bool    `json:"never_expires" example:"false"`                                                        // true: no expiry; not with expires_at
} //	@name	ginkey.RenewRequest

// keyList is GET /keys: a page of keys and the number matching the query.
type keyList struct {
	Keys  []Key `json:"keys"`
	Total int64 `json:"total" example:"1"`
} //	@name	ginkey.KeyList

// dailyUsage is one UTC day of a UsageReport.
type dailyUsage struct {
	Date     string `json:"date" example:"2026-11-25" format:"date"`
	Requests int64  `json:"requests" example:"42"` // admitted
	// Outcomes counts the day's verifications of the key by outcome;
	// valid equals requests.
	Outcomes Outcomes `json:"outcomes"`
} //	@name	ginkey.DailyUsage

// UsageReport is GET /keys/{id}/usage. Daily holds one row per UTC day with
// requests: its Date (YYYY-MM-DD), Requests (admitted) and Outcomes (the
// day's verifications by outcome; Valid equals Requests).
type UsageReport struct {
	ID            string     `json:"id"`
	TotalRequests int64      `json:"total_requests" example:"1234"`
	LastUsedAt    *time.Time `json:"last_used_at" format:"date-time" extensions:"x-nullable"` // null: never used
	// Outcomes counts all the key's verifications by outcome; valid
	// equals total_requests.
	Outcomes Outcomes     `json:"outcomes"`
	Daily    []dailyUsage `json:"daily"`
}

// UsageSummary is one key's line in GET /usage.
type UsageSummary struct {
	ID            string     `json:"id"`
	Prefix        string     `json:"prefix" example:"gk_AbC1x"`
	Name          string     `json:"name"`
	TotalRequests int64      `json:"total_requests" example:"1234"`
	LastUsedAt    *time.Time `json:"last_used_at" format:"date-time" extensions:"x-nullable"` // null: never used
	// Outcomes counts all the key's verifications by outcome, as
	// UsageReport's; valid equals total_requests.
	Outcomes Outcomes `json:"outcomes"`
}

// usageSummaryList is GET /usage.
type usageSummaryList struct {
	Usage []UsageSummary `json:"usage"`
	Total int64          `json:"total" example:"1"`
} //	@name	ginkey.UsageSummaryList

// spec is the request as a KeySpec.
func (r *createKeyRequest) spec() (KeySpec, *Error) {
	expires, e := parseExpiresAt(r.ExpiresAt)
	if e != nil {
		return KeySpec{}, e
	}
	return KeySpec{
		Name: r.Name, Owner: r.Owner, Scopes: r.Scopes, Metadata: r.Metadata,
		ExpiresAt: expires, NeverExpires: r.NeverExpires,
		RateLimit: givenLimit(r.RateLimit), AllowedIPs: r.AllowedIPs, Quota: givenLimit(r.Quota),
	}, nil
}

// renewal is the request as a Renewal.
func (r *renewRequest) renewal() (Renewal, *Error) {
	expires, e := parseExpiresAt(r.ExpiresAt)
	return Renewal{ExpiresAt: expires, NeverExpires: r.NeverExpires}, e
}

// parseExpiresAt reads a body's expires_at. Whether it may be given at all
// (not beside never_expires) is the API's rule: the time goes to it as read.
// The zero instant (0001-01-01T00:00:00Z) is what a generated client sends
// for a time it was not given, so it counts as absent.
func parseExpiresAt(s *string) (*time.Time, *Error) {
	if s == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return nil, badField("expires_at", "must be an RFC 3339 time, e.g. 2030-01-02T15:04:05Z")
	}
	if t.IsZero() {
		return nil, nil
	}
	return &t, nil
}

// givenLimit is a body's rate_limit or quota as the API takes it: an empty
// object ({}, every field its zero value) is what a generated client sends
// for a limit it was not given, so it counts as absent; a limit with only
// some fields set is the API's to refuse.
func givenLimit[L RateLimit | Quota](l *L) *L {
	if l == nil || *l == *new(L) {
		return nil
	}
	return l
}
