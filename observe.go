package ginkey

import (
	"context"
	"errors"
	"sync/atomic"
	"unsafe"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/observe"
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

// outcomeNames are the outcomes' names in Stats, indexed by verdict: the
// observe package's list, whose order the verdicts follow (checked by a
// test); the conversion panics at start-up if their numbers differ.
var outcomeNames = [numOutcomes]string(observe.VerificationOutcomes())

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
	case ErrTooManyFailures.Code, errTooManyLookups.Code: // refusals of an address
		return oTooManyFailures
	case ErrUnavailable.Code, errLookupsBusy.Code: // the store cannot take the lookup
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

// Stats returns the guard's counters now. It reads every counter once,
// without stopping the request path, so the totals are each exact but not
// from one instant.
func (g *Guard) Stats() observe.Stats {
	s := observe.Stats{Verifications: make(map[string]uint64, numOutcomes)}
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
	decisions := observe.DegradedDecisions()
	s.Degraded = make(map[string]uint64, len(decisions))
	for _, d := range decisions { // every name, zero or not
		s.Degraded[d] = 0
	}
	s.Down = make(map[string]bool, len(observe.Dependencies()))
	s.Degraded["served_stale"] = g.health.staleTotal.Load()
	s.Down["store"] = g.health.Down()
	g.limits.degraded(&s)
	return s
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
		var out string
		if admin {
			out = outcome(err)
		} else {
			out = storeOutcome(op, err)
		}
		for _, end := range ends {
			if end != nil {
				end(out)
			}
		}
	}
}

func noEnd(error) {}

// storeOutcome is a store operation's outcome: whatever the store failed
// with is the store's failure (storeError), whatever its type.
func storeOutcome(op string, err error) string {
	if err == nil {
		return outcomeOK
	}
	return outcome(storeError(op, err))
}
