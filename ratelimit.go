package ginkey

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/internal/limits"
	"github.com/ginkey/ginkey/limiter"
)

// The periods a RateLimit's or a Quota's Per may name: a rate-limit window
// ("1s", "1m", "1h") or a quota period ("day", "month").
const (
	PerSecond = "1s"
	PerMinute = "1m"
	PerHour   = "1h"
	PerDay    = "day"   // a UTC calendar day (quotas only)
	PerMonth  = "month" // a UTC calendar month (quotas only)
)

const maxRateRequests = 1_000_000

// RateLimit caps how fast one key may be used: Requests per Per (PerSecond,
// PerMinute or PerHour), spread evenly (GCRA). A key may spend its whole
// allowance at once and then gets one request back every Per/Requests. A key rotated in (RotateKey) shares
// its predecessors' state: the keys of a rotation chain are limited as one.
type RateLimit struct {
	Requests int64  `json:"requests" example:"100" minimum:"1" maximum:"1000000" validate:"required"`
	Per      string `json:"per" enums:"1s,1m,1h" swaggertype:"string" example:"1m" validate:"required"`
}

// window is the rate's period, or 0 when rl is not a valid rate limit.
func (rl RateLimit) window() time.Duration {
	switch rl.Per {
	case PerSecond:
		return time.Second
	case PerMinute:
		return time.Minute
	case PerHour:
		return time.Hour
	}
	return 0
}

func validateRateLimit(rl *RateLimit) *Error {
	if rl == nil {
		return nil
	}
	if rl.Requests < 1 || rl.Requests > maxRateRequests || rl.window() == 0 {
		return badField("rate_limit", `must be {"requests": 1-`+strconv.Itoa(maxRateRequests)+`, "per": "1s", "1m" or "1h"}`)
	}
	return nil
}

// rateChanged applies a key's new rate limit rl (nil: the guard's default)
// from now: whatever the key's rotation chain (limitID) owed under its old
// rate is capped at one window of the new one, so raising a limit is not
// held back by debt run up at the old, slower rate.
func (l *limiting) rateChanged(limitID string, rl *RateLimit, now time.Time) {
	if l.own == nil {
		return
	}
	r := l.rateLimit
	if rl != nil {
		r = *rl
	}
	w := r.window()
	if w == 0 || r.Requests <= 0 {
		return
	}
	_, window := limits.Steps(r.Requests, int64(w))
	l.own.CapDebt(limitID, now.UnixNano(), window)
}

// Response headers of a rate-limited key, in canonical form so that setting
// them costs no canonicalization.
const (
	hdrRateLimit     = "Ratelimit-Limit"
	hdrRateRemaining = "Ratelimit-Remaining"
	hdrRateReset     = "Ratelimit-Reset"
)

// checkRate spends one request of the key's rate limit and describes what is
// left in the RateLimit-* headers, on success and refusal alike.
func (l *limiting) checkRate(c *gin.Context, rec *keyRecord, now int64) error {
	p := rec.policy
	if p.rateLimit == 0 {
		return nil
	}
	var d limiter.Decision
	if p.rateCell != nil { // the guard's own limiter: straight to the key's cell
		d = p.rateCell.Allow(p.rateLimit, p.rateInterval, p.rateWindow, now)
	} else {
		if !l.limiterDown.Call() { // down: decided at once, one probe a second
			return l.skipped(l.limiterDown)
		}
		var err error
		// Not cancelled with the request: a client that hung up must not
		// read as the limiter failing, which would open its breaker (and
		// switch the shared limits off, or fail closed) for everyone.
		d, err = l.limiter.Allow(context.WithoutCancel(c.Request.Context()), p.limitID, p.rateLimit, p.ratePer)
		if err != nil {
			return l.failed(l.limiterDown, err)
		}
		l.limiterDown.OK()
	}
	setRateHeaders(c.Writer.Header(), p.rateLimitHeader, d)
	if !d.Allowed {
		return retryLater(ErrRateLimited, d.RetryAfter)
	}
	return nil
}

func setRateHeaders(h http.Header, limit string, d limiter.Decision) {
	// One allocation for the three values; full slice expressions keep a
	// later Header.Add from writing into a neighbour.
	v := make([]string, 3)
	v[0] = limit
	v[1] = strconv.FormatInt(d.Remaining, 10)
	v[2] = strconv.FormatInt(ceilSeconds(d.Reset), 10)
	h[hdrRateLimit] = v[0:1:1]
	h[hdrRateRemaining] = v[1:2:2]
	h[hdrRateReset] = v[2:3:3]
}

// rateChanged applies a key's new rate limit rl (nil: the guard's default)
// from now; see limiting.rateChanged.
func (g *Guard) rateChanged(limitID string, rl *RateLimit) {
	g.limits.rateChanged(limitID, rl, g.now())
}
