package ginkey

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/ginkey/ginkey/internal/limits"
	"github.com/ginkey/ginkey/keystore"
)

// keyPolicy is what the request path needs of a key's authorization fields,
// prepared once when the record enters the cache: a cache hit parses nothing.
type keyPolicy struct {
	owner  *Guard // the guard that prepared it: Require trusts only its own
	scopes scopeSet

	ipRestricted bool           // the key has an allow-list
	nets         []netip.Prefix // the allow-list; empty with ipRestricted: nothing is allowed

	rateLimit                int64 // requests per ratePer; 0: no rate limit
	ratePer                  time.Duration
	rateInterval, rateWindow int64        // GCRA steps, for the guard's own limiter
	rateCell                 *limits.Cell // the key's state in the guard's own limiter
	rateLimitHeader          string       // RateLimit-Limit value

	quota    int64 // requests per quotaPer; 0: no quota
	quotaPer string

	// limitID names the key's rate-limit state and quota count: its rotation
	// chain's, so that a rotated-in key goes on from its predecessor's
	// counts, and the two share one allowance during the grace period.
	limitID string
}

// prepare returns rec as the request path holds it: converted to a Key,
// once, and carrying its policy. rec itself may be shared by the Store and
// is not written to.
func (g *Guard) prepare(rec *keystore.Record) *keyRecord {
	out := keyRecord{Key: keyOf(rec), Hash: rec.Hash}
	p := &keyPolicy{owner: g, scopes: newScopeSet(rec.Scopes), limitID: rec.Chain()}
	if len(rec.AllowedIPs) > 0 {
		p.ipRestricted = true
		_, nets, e := parseAllowedIPs(rec.AllowedIPs)
		if e != nil {
			// Written by something other than the admin API: fail closed.
			g.log.Error("ginkey: stored allowed_ips are invalid; the key is refused everywhere", "key_id", rec.ID)
		}
		p.nets = nets
	}
	rl := g.limits.rateLimit
	if out.RateLimit != nil {
		if validateRateLimit(out.RateLimit) == nil {
			rl = *out.RateLimit
		} else {
			g.log.Error("ginkey: stored rate_limit is invalid; the guard's default applies", "key_id", rec.ID)
		}
	}
	if w := rl.window(); w > 0 && rl.Requests > 0 {
		p.rateLimit, p.ratePer = rl.Requests, w
		p.rateLimitHeader = strconv.FormatInt(rl.Requests, 10)
		if g.limits.own != nil {
			p.rateInterval, p.rateWindow = limits.Steps(rl.Requests, int64(w))
			p.rateCell = g.limits.own.Cell(p.limitID, g.now().UnixNano())
		}
	}
	if q := out.Quota; q != nil {
		if validateQuota(q) == nil {
			p.quota, p.quotaPer = q.Requests, q.Per
		} else {
			g.log.Error("ginkey: stored quota is invalid; it is ignored", "key_id", rec.ID)
		}
	}
	out.policy = p
	return &out
}
