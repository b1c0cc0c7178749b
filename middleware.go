package ginkey

import (
	"time"

	"github.com/gin-gonic/gin"
)

// Handler returns the middleware that admits only requests carrying a valid,
// unexpired, unrevoked key that may be used from the client's address and is
// within its rate limit and quota. Rejections carry a JSON error body:
// 401 key_missing, key_invalid, key_expired or key_revoked (with a
// WWW-Authenticate header); 403 ip_not_allowed; 429 rate_limited,
// quota_exceeded, too_many_failures or too_many_lookups (with Retry-After);
// 503 unavailable when the store cannot be read, lookups_busy when
// Config.MaxLookups lookups are in flight. On success the key is available to later
// handlers through KeyFrom. Requests for which Config.Skipper reports true
// pass unchecked.
func (g *Guard) Handler() gin.HandlerFunc {
	return g.middleware(g.plain)
}

// Optional returns a middleware like Handler that also lets requests without
// any key through, as anonymous: KeyFrom then reports false. A key that is
// presented must be good; a bad one is rejected as by Handler.
func (g *Guard) Optional() gin.HandlerFunc {
	return g.middleware(g.newRequirement(nil, false, true))
}

// Authenticate implements Authenticator with Handler's checks, for use in
// AnyOf and AllOf.
func (g *Guard) Authenticate(c *gin.Context) error { return g.authenticate(c, g.plain) }

// Challenge returns the guard's WWW-Authenticate challenge, which AnyOf
// and AllOf send with their 401 (see Authenticator).
func (g *Guard) Challenge() string { return g.challenges.of(ErrKeyMissing)[0] }

func (g *Guard) middleware(r *requirement) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := g.authenticate(c, r); err != nil {
			g.reject(c, err)
			return
		}
		c.Next()
	}
}

// authenticate checks c against r, unless the Skipper lets it through (never
// on the way into the admin API), and stores the key it was admitted with
// for KeyFrom.
func (g *Guard) authenticate(c *gin.Context, r *requirement) error {
	if g.skip != nil && !adminGated(c) && g.skip(c) {
		return nil
	}
	if rec := g.admitted(c); rec != nil {
		// Checked and counted once already (a Handler on the group, Require
		// on the route): only r's scopes are left, and only a refusal counts.
		if err := r.checkIn(c, &rec.policy.scopes); err != nil {
			g.count(c, rec, err)
			return err
		}
		return nil
	}
	rec, err := g.authorize(c, r)
	if err != nil {
		g.count(c, rec, err)
		return err
	}
	if rec != nil { // nil: an anonymous request Optional lets through
		c.Set(contextKey, rec)
		g.counters.of(c).outcomes[oValid].Add(1)
	}
	return nil
}

// count adds a refusal to the guard's outcomes and, when the key was
// identified (rec is not nil), to the key's.
func (g *Guard) count(c *gin.Context, rec *keyRecord, err error) {
	o := outcomeOf(err)
	g.counters.of(c).outcomes[o].Add(1)
	if rec != nil && int(o) < keyOutcomes && g.usage != nil {
		g.usage.refuse(rec.ID, o, g.now().UnixNano())
	}
}

// authorize runs the request path: extract, parse (no I/O), cache, store,
// checks (revoked, expired, scopes, IP, limits), usage. It returns nil and no error for an anonymous
// request that r lets through, and the key's record with the error when an
// identified key is refused.
func (g *Guard) authorize(c *gin.Context, r *requirement) (*keyRecord, error) {
	raw := extractKey(c.Request, g.lookups)
	if raw == "" {
		if r.optional {
			return nil, nil
		}
		return nil, ErrKeyMissing
	}
	if !g.format.valid(raw) { // before reading the clock: a malformed key costs nothing more
		return nil, ErrKeyInvalid
	}
	now := g.now()
	rec, err := g.identify(c, raw, now)
	if err != nil {
		return nil, err
	}
	if err := checkUsable(&rec.Key, now); err != nil {
		return rec, err
	}
	if err := r.checkIn(c, &rec.policy.scopes); err != nil {
		return rec, err
	}
	if err := checkIP(c, rec.policy); err != nil {
		return rec, err
	}
	if err := g.limits.checkRate(c, rec, now.UnixNano()); err != nil {
		return rec, err
	}
	if err := g.checkQuota(c.Request.Context(), rec, now); err != nil {
		return rec, err
	}
	if g.usage != nil {
		g.usage.record(rec.ID, now.UnixNano())
	}
	return rec, nil
}

// admitted returns the record this guard stored in c, if any.
func (g *Guard) admitted(c *gin.Context) *keyRecord {
	v, ok := c.Get(contextKey)
	if !ok {
		return nil
	}
	rec, ok := v.(*keyRecord)
	if !ok || rec.policy == nil || rec.policy.owner != g {
		return nil
	}
	return rec
}

// identify finds the record of a well-formed key: in the cache, or else in
// the store, unless the client's address has had too many unknown keys of
// late. A key the store did not know a moment ago is refused without being
// hashed.
func (g *Guard) identify(c *gin.Context, raw string, now time.Time) (*keyRecord, error) {
	var (
		e       *cacheEntry
		h       keyHash
		tag     uint64
		unknown bool // the store did not know raw less than CacheTTL ago
	)
	ns := now.UnixNano()
	if g.keys.Unknown != nil {
		tag = g.keys.Unknown.Tag(raw)
		unknown = g.keys.Unknown.Has(tag, ns)
	}
	if !unknown {
		h = hashKey(raw)
		if g.keys.Verified != nil {
			var fresh bool
			if e, fresh, _ = g.keys.Verified.Get(hashOf(&h), ns); fresh {
				g.counters.of(c).cacheHit.Add(1)
				return e.Val, nil
			}
		}
	}
	if unknown {
		g.counters.of(c).cacheNeg.Add(1)
	} else {
		g.counters.of(c).cacheMiss.Add(1)
	}
	// A key this guard verified before, whose entry merely went stale, is no
	// guess: it skips the throttle, so a neighbour's failures behind the same
	// address cannot lock it out.
	if e != nil {
		return g.revalidate(c, e, &h, tag, now)
	}
	// The throttle first: a throttled client must not use up the probes of
	// a store that is down. The attempt is reserved before the lookup, so
	// that concurrent requests cannot slip past the allowance together; it
	// is given back unless the key turns out unknown.
	var (
		who       requester
		throttled bool
		held      hold
	)
	if g.limits.throttle != nil || !unknown { // a key known to be unknown with the throttle off needs no address
		who = requesterOf(c)
		throttled = g.throttles(who)
	}
	if throttled {
		var wait time.Duration
		if wait, held = g.limits.throttle.acquire(c.Request.Context(), who, ns); wait > 0 {
			return nil, retryLater(ErrTooManyFailures, wait)
		}
	}
	if unknown { // the attempt reserved is its charge
		return nil, ErrKeyInvalid
	}
	if !g.health.allow(ns) { // the store is down: say so at once, charging nothing
		if throttled {
			g.limits.throttle.refund(c.Request.Context(), who, held)
		}
		g.health.unavailable()
		return nil, ErrUnavailable
	}
	fl, lead := g.keys.Flights.Join(hashOf(&h))
	if !lead && throttled {
		// Another request is reading this key: waiting for it costs the
		// store nothing, and is charged only if the key is unknown.
		g.limits.throttle.refund(c.Request.Context(), who, held)
	}
	rec, err := g.lookUp(c, fl, lead, who.addr, &h, tag, now)
	if err == ErrUnavailable { //nolint:errorlint // fetch returns the sentinel itself
		g.health.unavailable()
	}
	// An unknown key is charged even if its client hung up meanwhile.
	if throttled {
		switch unknown := landedUnknown(fl); {
		case lead && !unknown:
			g.limits.throttle.refund(c.Request.Context(), who, held)
		case !lead && unknown:
			g.limits.throttle.charge(c.Request.Context(), who, ns)
		}
	}
	return rec, err
}

// landedUnknown reports whether fl's read is over and found no such key.
func landedUnknown(fl *flight) bool {
	select {
	case <-fl.Done():
		return fl.Err == ErrKeyInvalid //nolint:errorlint // fetch returns the sentinel itself
	default:
		return false
	}
}

// throttles reports whether the unknown-key throttle counts who's
// attempts: not when it is off, nor when gin reports no IP address for the
// client (e.g. a peer on a unix socket), where one shared bucket would let
// any client lock out every other.
func (g *Guard) throttles(who requester) bool {
	if g.limits.throttle == nil {
		return false
	}
	if !who.addr.IsValid() {
		g.limits.noAddrOnce.Do(func() {
			g.log.Warn("ginkey: a client has no IP address (e.g. a unix socket peer); its unknown keys are not throttled")
		})
		return false
	}
	return true
}

// checkUsable is evaluated against the clock on every request: the cache
// holds records, never verdicts.
func checkUsable(k *Key, now time.Time) error {
	switch statusAt(k, now) {
	case StatusRevoked:
		return ErrKeyRevoked
	case StatusExpired:
		return ErrKeyExpired
	}
	return nil
}

// reject writes err as the response. A sentinel *Error, the common case, is
// written from pre-rendered header values without allocating; a rejection
// with headers of its own goes through WriteError. Internal errors reach
// the client only as their stable code.
func (g *Guard) reject(c *gin.Context, err error) {
	e, sentinel := err.(*Error) //nolint:errorlint // only an unwrapped sentinel takes the fast path
	if !sentinel {
		e, _ = asError(err)
	}
	if v := g.challenges.of(e); v != nil {
		c.Writer.Header()["Www-Authenticate"] = v
	}
	if sentinel {
		writeError(c, e)
		return
	}
	WriteError(c, err)
}

// challenges holds the WWW-Authenticate value of each 401 key error. Four
// pointer comparisons find one faster than a map lookup would.
type challenges [4]struct {
	err   *Error
	value []string
}

func (cs *challenges) of(e *Error) []string {
	for i := range cs {
		if cs[i].err == e {
			return cs[i].value
		}
	}
	return nil
}

// wwwAuthenticate pre-renders the challenge for each 401 key error (RFC 6750
// style, since a bearer token is one accepted source), as header values ready
// to be set without allocating.
func wwwAuthenticate(realm string) *challenges {
	base := `Bearer realm="` + realm + `"`
	cs := &challenges{}
	cs[0].err, cs[0].value = ErrKeyMissing, []string{base}
	for i, e := range []*Error{ErrKeyInvalid, ErrKeyExpired, ErrKeyRevoked} {
		cs[i+1].err = e
		cs[i+1].value = []string{base + `, error="invalid_token", error_description="` + e.Code + `"`}
	}
	return cs
}
