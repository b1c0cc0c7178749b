package ginkey

import (
	"context"
	"errors"
	"sync/atomic"
	"unsafe"

	"github.com/gin-gonic/gin"
)

// Verification outcomes, as counted by Stats and reported per key by
// KeyUsage. Valid and the refusals of an identified key are kept per key
// and day; the others cannot be attributed to a key and are counted per
// guard only.
const (
	outcomeValid             = "valid"
	outcomeExpired           = "expired"
	outcomeRevoked           = "revoked"
	outcomeInsufficientScope = "insufficient_scope"
	outcomeIPNotAllowed      = "ip_not_allowed"
	outcomeRateLimited       = "rate_limited"
	outcomeQuotaExceeded     = "quota_exceeded"
)

// verdict indexes the counters: first the outcomes kept per key, then the
// other codes of the HTTP contract a verification can end with.
type verdict uint8

const (
	oValid verdict = iota
	oExpired
	oRevoked
	oInsufficientScope
	oIPNotAllowed
	oRateLimited
	oQuotaExceeded
	oKeyMissing
	oKeyInvalid
	oTooManyFailures
	oUnavailable
	oOther // a client that hung up, or an error of a composite's scheme
	numOutcomes
)

// keyOutcomes is the number of outcomes an identified key can have: they
// come first.
const keyOutcomes = int(oKeyMissing)

// outcomeNames are the outcomes' names in Stats: an identified key's as in
// KeyUsage, the others as the HTTP contract's codes.
var outcomeNames = [numOutcomes]string{
	outcomeValid, outcomeExpired, outcomeRevoked, outcomeInsufficientScope,
	outcomeIPNotAllowed, outcomeRateLimited, outcomeQuotaExceeded,
	"key_missing", "key_invalid", "too_many_failures", "unavailable", "other",
}

// KeyOutcomes lists the outcomes kept per key, in a fixed order.
func KeyOutcomes() []string { return append([]string(nil), outcomeNames[:keyOutcomes]...) }

// VerificationOutcomes lists every outcome Stats counts, in a fixed order.
func VerificationOutcomes() []string { return append([]string(nil), outcomeNames[:]...) }

// outcomeOf classifies a verification's error.
func outcomeOf(err error) verdict {
	var e *Error
	switch v := err.(type) { //nolint:errorlint // the guard returns these unwrapped
	case *Error:
		// The request path's sentinels, by identity: cheaper than codes.
		switch v {
		case ErrKeyInvalid:
			return oKeyInvalid
		case ErrKeyMissing:
			return oKeyMissing
		case ErrKeyExpired:
			return oExpired
		case ErrKeyRevoked:
			return oRevoked
		}
		e = v
	case *rejection:
		e = v.err
	default:
		if errors.Is(err, errClientGone) {
			return oOther
		}
		var ok bool
		if e, ok = asError(err); !ok {
			return oOther
		}
	}
	switch e.Code {
	case ErrKeyExpired.Code:
		return oExpired
	case ErrKeyRevoked.Code:
		return oRevoked
	case ErrInsufficientScope.Code:
		return oInsufficientScope
	case ErrIPNotAllowed.Code:
		return oIPNotAllowed
	case ErrRateLimited.Code:
		return oRateLimited
	case ErrQuotaExceeded.Code:
		return oQuotaExceeded
	case ErrKeyMissing.Code:
		return oKeyMissing
	case ErrKeyInvalid.Code:
		return oKeyInvalid
	case ErrTooManyFailures.Code:
		return oTooManyFailures
	case ErrUnavailable.Code:
		return oUnavailable
	}
	return oOther
}

// counterShards spreads the request path's counters over cache lines, so
// that cores counting at once do not contend for one.
const counterShards = 16

// counters are a guard's running totals: atomic adds on sharded lines, no
// lock and no allocation on the request path.
type counters struct {
	shards [counterShards]counterShard
}

type counterShard struct {
	outcomes                      [numOutcomes]atomic.Uint64
	cacheHit, cacheMiss, cacheNeg atomic.Uint64
	_                             [128 - (int(numOutcomes)+3)*8]byte // two cache lines each
}

// of picks the shard of the request c by its context's address: gin's
// contexts are pooled, so requests served at once have distinct ones, and
// picking costs no call.
func (cs *counters) of(c *gin.Context) *counterShard {
	return &cs.shards[uintptr(unsafe.Pointer(c))/contextSpread%counterShards] //nolint:gosec // the address only picks a shard; nothing is read through it
}

// contextSpread is about a gin.Context's size: neighbouring contexts fall
// into neighbouring shards.
const contextSpread = 256

// Stats is a snapshot of a guard's counters since New, for a metrics
// exporter (the ginkeyprom package) to read on each scrape. Every map
// holds every name it can hold, zeros included.
type Stats struct {
	// Verifications counts the requests the guard's middlewares decided,
	// by outcome (see VerificationOutcomes).
	Verifications map[string]uint64
	// CacheHits, CacheMisses and CacheNegative count key lookups answered
	// from the cache, read from the store, and refused from the memory of
	// keys the store did not know.
	CacheHits, CacheMisses, CacheNegative uint64
	// CachedKeys is the number of verified keys in the cache now.
	CachedKeys int
	// UsagePending is the requests counted in memory and not yet written.
	UsagePending int64
	// FlushErrors counts usage flushes that failed.
	FlushErrors uint64
}

// Stats returns the guard's counters now. It reads every counter once,
// without stopping the request path, so the totals are each exact but not
// from one instant.
func (g *Guard) Stats() Stats {
	s := Stats{Verifications: make(map[string]uint64, numOutcomes)}
	var totals [numOutcomes]uint64
	for i := range g.counters.shards {
		sh := &g.counters.shards[i]
		for o := range totals {
			totals[o] += sh.outcomes[o].Load()
		}
		s.CacheHits += sh.cacheHit.Load()
		s.CacheMisses += sh.cacheMiss.Load()
		s.CacheNegative += sh.cacheNeg.Load()
	}
	for o, n := range totals {
		s.Verifications[outcomeNames[o]] = n
	}
	if g.keys.Verified != nil {
		s.CachedKeys = g.keys.Verified.Len()
	}
	if g.usage != nil {
		s.UsagePending = g.usage.total()
		s.FlushErrors = g.usage.errors.Load()
	}
	return s
}

// Observer is told of the guard's store calls and admin operations as they
// happen, to time them (a Prometheus histogram) or trace them (an
// OpenTelemetry span): see the ginkeyprom and ginkeyotel packages. Each
// method is called as the operation starts and returns the context the
// operation runs in and the function to call with its outcome when it
// ends. Implementations must be safe for concurrent use and fast: Store is
// called on every cache miss.
//
// The operations are "lookup" (a key's record read on a cache miss),
// "flush" (a batch of usage), "notify" (a key change announced to the
// other instances, see Notifier), and the admin actions "create",
// "update", "revoke", "renew", "rotate" and "delete", from any caller. The
// outcome is "ok" or an error code of the HTTP contract ("not_found",
// "unavailable", ...). Nothing secret is passed: no key, hash or secret.
type Observer interface {
	Store(ctx context.Context, op string) (context.Context, func(outcome string))
	Admin(ctx context.Context, action string) (context.Context, func(outcome string))
}

// observed starts op on every observer: the store's (admin false) or an
// admin action's. The returned end reports err's outcome; with no
// observers it does nothing and costs no allocation.
func (g *Guard) observed(ctx context.Context, op string, admin bool) (context.Context, func(err error)) {
	if len(g.observers) == 0 {
		return ctx, noEnd
	}
	ends := make([]func(string), len(g.observers))
	for i, o := range g.observers {
		if admin {
			ctx, ends[i] = o.Admin(ctx, op)
		} else {
			ctx, ends[i] = o.Store(ctx, op)
		}
	}
	return ctx, func(err error) {
		out := outcome(err)
		for _, end := range ends {
			if end != nil {
				end(out)
			}
		}
	}
}

func noEnd(error) {}

// adminOp starts an admin action: the observers see it start, and done
// ends it for them and appends it to the audit log.
func (g *Guard) adminOp(ctx context.Context, action string) (context.Context, func(keyID string, fields []string, err error)) {
	ctx, end := g.observed(ctx, action, true)
	return ctx, func(keyID string, fields []string, err error) {
		g.audit(ctx, action, keyID, fields, err) // timed with the action
		end(err)
	}
}
