package ginkey

// Outcomes counts a key's verifications by outcome, one field per outcome
// code (observe.KeyOutcomes lists the codes, in this order): Valid were
// admitted, every other field counts one reason the key was refused. Every
// usage report (a key's, a day's, a summary row) uses this one shape, zeros
// included.
type Outcomes struct {
	Valid             int64 `json:"valid" example:"40" minimum:"0"`             // admitted
	Expired           int64 `json:"expired" example:"0" minimum:"0"`            // refused: key_expired
	Revoked           int64 `json:"revoked" example:"0" minimum:"0"`            // refused: key_revoked
	InsufficientScope int64 `json:"insufficient_scope" example:"2" minimum:"0"` // refused: insufficient_scope
	IPNotAllowed      int64 `json:"ip_not_allowed" example:"0" minimum:"0"`     // refused: ip_not_allowed
	RateLimited       int64 `json:"rate_limited" example:"1" minimum:"0"`       // refused: rate_limited
	QuotaExceeded     int64 `json:"quota_exceeded" example:"0" minimum:"0"`     // refused: quota_exceeded
}

// Refused is the number of refused verifications: every outcome but Valid.
func (o Outcomes) Refused() int64 {
	return o.Expired + o.Revoked + o.InsufficientScope + o.IPNotAllowed + o.RateLimited + o.QuotaExceeded
}

// Count returns the count of the outcome code (e.g. "rate_limited"), or 0
// for a code that is not one of observe.KeyOutcomes.
func (o Outcomes) Count(code string) int64 {
	for i, name := range outcomeNames[:keyOutcomes] {
		if name == code {
			return *o.fields()[i]
		}
	}
	return 0
}

// fields are o's counters indexed by verdict, oValid first.
func (o *Outcomes) fields() [keyOutcomes]*int64 {
	return [keyOutcomes]*int64{&o.Valid, &o.Expired, &o.Revoked, &o.InsufficientScope, &o.IPNotAllowed, &o.RateLimited, &o.QuotaExceeded}
}

// outcomesOf is the Outcomes of valid admitted verifications and the
// refusals a store reports by outcome name.
func outcomesOf(valid int64, refused map[string]int64) Outcomes {
	var o Outcomes
	f := o.fields()
	*f[oValid] = valid
	for i := 1; i < keyOutcomes; i++ {
		*f[i] = refused[outcomeNames[i]]
	}
	return o
}
