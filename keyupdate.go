package ginkey

import "github.com/ginkey/ginkey/keystore"

// keyChanges are the fields an update sets; nil fields are left alone.
type keyChanges struct {
	Name, Owner        *string
	Scopes, AllowedIPs *[]string
	Metadata           *map[string]any
	RateLimit          *RateLimit // with SetRateLimit; nil then means "the guard's default"
	SetRateLimit       bool
	Quota              *Quota // with SetQuota; nil then means "no quota"
	SetQuota           bool
}

// apply sets ch's fields on r.
func (ch *keyChanges) apply(r *keystore.Record) {
	if ch.Name != nil {
		r.Name = *ch.Name
	}
	if ch.Owner != nil {
		r.Owner = *ch.Owner
	}
	if ch.Scopes != nil {
		r.Scopes = *ch.Scopes
	}
	if ch.Metadata != nil {
		r.Metadata = *ch.Metadata
	}
	if ch.AllowedIPs != nil {
		r.AllowedIPs = *ch.AllowedIPs
	}
	if ch.SetRateLimit {
		r.RateLimit = storedRateLimit(ch.RateLimit)
	}
	if ch.SetQuota {
		r.Quota = storedQuota(ch.Quota)
	}
}

// changes validates u and turns it into keyChanges, with the names of the
// fields it sets.
func (u *KeyUpdate) changes() (keyChanges, []string, *Error) {
	var (
		ch     keyChanges
		fields []string
	)
	if u.Name != nil {
		if e := validateName(*u.Name); e != nil {
			return ch, nil, e
		}
		ch.Name, fields = u.Name, append(fields, "name")
	}
	if u.Owner != nil {
		if e := validateOwner(*u.Owner); e != nil {
			return ch, nil, e
		}
		ch.Owner, fields = u.Owner, append(fields, "owner")
	}
	if u.Scopes != nil {
		scopes, e := validateScopes(*u.Scopes)
		if e != nil {
			return ch, nil, e
		}
		ch.Scopes, fields = &scopes, append(fields, "scopes")
	}
	if u.Metadata != nil {
		m, e := checkMetadata(*u.Metadata)
		if e != nil {
			return ch, nil, e
		}
		if m == nil {
			m = map[string]any{}
		}
		ch.Metadata, fields = &m, append(fields, "metadata")
	}
	switch {
	case u.RateLimit != nil && u.ClearRateLimit:
		return ch, nil, badField("rate_limit", "must be given or cleared, not both")
	case u.Quota != nil && u.ClearQuota:
		return ch, nil, badField("quota", "must be given or cleared, not both")
	}
	var ips []string
	if u.AllowedIPs != nil {
		ips = *u.AllowedIPs
	}
	canon, e := validateLimits(u.RateLimit, ips, u.Quota)
	if e != nil {
		return ch, nil, e
	}
	if u.AllowedIPs != nil {
		ch.AllowedIPs, fields = &canon, append(fields, "allowed_ips")
	}
	if u.RateLimit != nil || u.ClearRateLimit {
		ch.SetRateLimit, ch.RateLimit, fields = true, clone(u.RateLimit), append(fields, "rate_limit")
	}
	if u.Quota != nil || u.ClearQuota {
		ch.SetQuota, ch.Quota, fields = true, clone(u.Quota), append(fields, "quota")
	}
	if len(fields) == 0 {
		return ch, nil, badRequest("give at least one of name, owner, scopes, metadata, rate_limit, allowed_ips, quota")
	}
	return ch, fields, nil
}
