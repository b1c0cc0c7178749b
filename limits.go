package ginkey

import (
	"log/slog"
	"sync"
	"time"

	"github.com/ginkey/ginkey/internal/limits"
	"github.com/ginkey/ginkey/limiter"
	"github.com/ginkey/ginkey/observe"
)

// limiting is the guard's limits component: the rate limiter, the quota
// counter, the two failure throttles, the bound on store lookups in
// flight, and the outages of the shared counters that may stand in for
// them.
type limiting struct {
	rateLimit    RateLimit             // Config.RateLimit
	limiter      limiter.Limiter       // Config.Limiter, else own
	own          *limits.MemoryLimiter // the default limiter, when Config.Limiter is nil
	limiterDown  *limits.Outage
	failClosed   bool
	failuresDown *limits.Outage // the failure counter's, shared by both throttles

	throttle   *throttle        // unknown keys; nil: off
	admin      *throttle        // wrong admin secrets; nil: off
	noAddrOnce sync.Once        // warns of clients without an IP address once
	inFlight   *limits.InFlight // store lookups of keys not in the cache; nil: no bound

	quotas     *limits.Quotas
	shared     limiter.QuotaCounter // Config.QuotaCounter; nil: quotas, in memory
	quotasDown *limits.Outage
	raiser     limiter.QuotaRaiser // shared, if it can catch up; nil: it cannot
	uncounted  *limits.Uncounted   // keys let through while shared was down
}

// newLimiting sets up cfg's limits; quotaResync is how often an in-memory
// quota count is read again from the usage store (0: never).
func newLimiting(cfg *Config, quotaResync time.Duration) *limiting {
	l := &limiting{rateLimit: cfg.RateLimit, limiter: cfg.Limiter, failClosed: cfg.FailClosed, shared: cfg.QuotaCounter}
	if l.limiter == nil {
		l.own = limiter.NewMemoryLimiter(cfg.CacheSize, cfg.Now)
		l.limiter = l.own
	}
	l.limiterDown = counterOutage("rate limiter", cfg.Logger, cfg.Now, cfg.FailClosed)
	failuresDown := limits.NewOutage(cfg.Logger, cfg.Now, limits.OutageLog{
		Start:   "ginkey: the failure counter failed; the failure throttles count on this instance alone until it answers again",
		End:     "ginkey: the failure counter answers again",
		Counted: "checks_made_locally",
		Lasted:  "outage",
	})
	l.failuresDown = failuresDown
	l.throttle, l.admin = newThrottles(cfg, failuresDown)
	l.inFlight = newLookups(cfg)
	l.quotasDown = counterOutage("quota counter", cfg.Logger, cfg.Now, cfg.FailClosed)
	l.quotas = limits.NewQuotas(max(cfg.CacheSize, defaultCacheSize), quotaResync)
	if r, ok := l.shared.(limiter.QuotaRaiser); ok {
		l.raiser = r
		l.uncounted = limits.NewUncounted(max(cfg.CacheSize, defaultCacheSize))
	}
	return l
}

// counterOutage is the outage log of a shared counter whose failures let
// requests through, or with failClosed refuse them.
func counterOutage(what string, log *slog.Logger, now func() time.Time, failClosed bool) *limits.Outage {
	meanwhile, decided := "requests pass unchecked by it until it answers again", "requests_let_through"
	if failClosed {
		meanwhile = "requests that need it get 503 unavailable until it answers again (FailClosed)"
		decided = "requests_refused"
	}
	return limits.NewOutage(log, now, limits.OutageLog{
		Start:   "ginkey: the " + what + " failed; " + meanwhile,
		End:     "ginkey: the " + what + " answers again",
		Counted: decided,
		Lasted:  "outage",
	})
}

// failed notes a failed decision of the limiter or the quota counter and
// returns the error to answer with: nil (fail open) or errLimitsUnavailable.
func (l *limiting) failed(o *limits.Outage, err error) error {
	o.Failed(err, true)
	return l.withoutCounter()
}

// skipped notes a decision made without the limiter or the quota counter,
// which is known to be down (its breaker, o.Call, held the call back), and
// returns the error to answer with, as failed does.
func (l *limiting) skipped(o *limits.Outage) error {
	o.Skipped(true)
	return l.withoutCounter()
}

func (l *limiting) withoutCounter() error {
	if l.failClosed {
		return errLimitsUnavailable
	}
	return nil
}

// degraded adds to s what the limits decided without their shared
// counters, and which of them are down now.
func (l *limiting) degraded(s *observe.Stats) {
	without := uint64(l.limiterDown.Decided() + l.quotasDown.Decided()) //nolint:gosec // counts, never negative
	if l.failClosed {
		s.Degraded["limits_fail_closed"] = without
	} else {
		s.Degraded["limits_fail_open"] = without
	}
	s.Degraded["throttle_local"] = uint64(l.failuresDown.Decided()) //nolint:gosec // as above
	if l.uncounted != nil {
		s.Degraded["quota_never_charged"] = uint64(l.uncounted.Dropped()) //nolint:gosec // as above
	}
	s.Down["rate_limiter"] = l.limiterDown.Down()
	s.Down["quota_counter"] = l.quotasDown.Down()
	s.Down["failure_counter"] = l.failuresDown.Down()
}
