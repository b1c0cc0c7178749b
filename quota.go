package ginkey

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/ginkey/ginkey/internal/limits"
	"github.com/ginkey/ginkey/keystore"
)

const maxQuotaRequests = 1 << 40

// Quota caps how many requests one key may make per UTC day or calendar
// month (Per: PerDay or PerMonth). Requests refused for any reason do not count, with one
// exception: behind a Handler on the group, a route's Require checks only its scopes, and a
// request it refuses was counted by the Handler (quota, rate limit and usage); put the scopes
// on the Handler's group, or Require without a Handler, for such refusals to cost nothing. A key rotated in
// (RotateKey) shares its predecessors' count: the keys of a rotation chain
// are counted as one, as they are for a RateLimit.
//
// Counting: each instance keeps the key's count for the current period in
// memory, read from the usage table plus this instance's unflushed counts
// when the key is first used in the period, and again every CacheTTL. On one
// instance the quota is exact. With several instances sharing a database a
// key can overshoot by what the other instances served and had not yet
// flushed (FlushInterval) or this instance had not yet re-read (CacheTTL).
// With a Store that keeps no usage (no UsageStore), counts live only in
// memory and are never re-read: they start from zero when the process does,
// and when a key's count is dropped to keep the map within CacheSize. With
// Config.QuotaCounter (e.g. ginkeyredis), the counter keeps the count,
// started once per period from the usage table, and is exact across
// instances while it answers; requests let through while it was down are
// counted once it answers again, if it is a limiter.QuotaRaiser.
type Quota struct {
	Requests int64  `json:"requests" example:"10000" minimum:"1" maximum:"1099511627776" validate:"required"`
	Per      string `json:"per" enums:"day,month" swaggertype:"string" example:"day" validate:"required"`
}

func validateQuota(q *Quota) *Error {
	if q == nil {
		return nil
	}
	if q.Requests < 1 || q.Requests > maxQuotaRequests || (q.Per != PerDay && q.Per != PerMonth) {
		return badField("quota", `must be {"requests": 1-`+strconv.FormatInt(maxQuotaRequests, 10)+`, "per": "day" or "month"}`)
	}
	return nil
}

// quotaPeriod returns the UTC period containing now.
func quotaPeriod(per string, now time.Time) (start, end time.Time) {
	return limits.Period(per == PerMonth, now)
}

// checkQuota spends one request of the quota of the key's rotation chain,
// reading the period's count from the store when this instance has none or
// it is due.
func (g *Guard) checkQuota(ctx context.Context, rec *keyRecord, now time.Time) error {
	p := rec.policy
	if p.quota == 0 {
		return nil
	}
	if g.limits.shared != nil {
		return g.takeShared(ctx, rec, now)
	}
	q, id, per, ns := g.limits.quotas, p.limitID, string(p.quotaPer), now.UnixNano()
	v, refresh, end := q.Take(id, per, p.quota, ns)
	if v == limits.Unread || refresh {
		start, periodEnd := quotaPeriod(p.quotaPer, now)
		used, err := g.quotaSeed(ctx, rec, start, now)
		switch {
		case err == ErrUnavailable && v == limits.Unread: //nolint:errorlint // quotaSeed's own sentinel: the store is known to be down
			return ErrUnavailable // no count to go on
		case err == ErrUnavailable: //nolint:errorlint // as above
			q.ReadDone(id)
		case err != nil && v == limits.Unread:
			g.log.Error("ginkey: reading usage for a quota failed", "key_id", rec.ID, "error", err)
			return ErrUnavailable
		case err != nil:
			g.log.Warn("ginkey: re-reading usage for a quota failed; counting on", "key_id", rec.ID, "error", err)
			q.ReadDone(id)
		default:
			if v == limits.Taken {
				used++ // this request: taken from the old count, not yet in usage
			}
			q.Set(id, per, start.UnixNano(), periodEnd.UnixNano(), used, ns)
		}
		if v == limits.Unread {
			v, _, end = q.Take(id, per, p.quota, ns)
		}
	}
	if v == limits.Exhausted {
		return retryLater(ErrQuotaExceeded, time.Duration(end-ns))
	}
	return nil // taken, or (evicted in between) let through
}

// takeShared spends one request of the quota of the key's rotation chain
// through Config.QuotaCounter, which seeds a period's count from quotaSeed.
func (g *Guard) takeShared(ctx context.Context, rec *keyRecord, now time.Time) error {
	p := rec.policy
	start, end := quotaPeriod(p.quotaPer, now)
	if !g.limits.quotasDown.Call() { // down: decided at once, one probe a second
		return g.uncounted(p.limitID, start, g.limits.skipped(g.limits.quotasDown))
	}
	if !g.catchUp(ctx, rec, start, end, now) {
		return g.uncounted(p.limitID, start, g.limits.withoutCounter())
	}
	var seedErr error
	seed := func(ctx context.Context) (int64, error) {
		var n int64
		n, seedErr = g.quotaSeed(ctx, rec, start, now) // of this call: a counter may retry a failed seed
		return n, seedErr
	}
	// Not cancelled with the request, as in checkRate: a client gone is not
	// the counter failing.
	taken, err := g.limits.shared.Take(context.WithoutCancel(ctx), p.limitID, start, end, p.quota, seed)
	switch {
	case seedErr != nil: // the usage store failed, not the counter: as for the in-memory count
		if seedErr != ErrUnavailable { //nolint:errorlint // quotaSeed's own sentinel
			g.log.Error("ginkey: reading usage for a quota failed", "key_id", rec.ID, "error", seedErr)
		}
		return ErrUnavailable
	case err != nil:
		return g.uncounted(p.limitID, start, g.limits.failed(g.limits.quotasDown, err))
	}
	g.limits.quotasDown.OK()
	if !taken {
		return retryLater(ErrQuotaExceeded, end.Sub(now))
	}
	return nil
}

// uncounted notes, when decision lets a request through (nil), that the
// quota counter did not count it, so that catchUp can tell it later.
func (g *Guard) uncounted(id string, start time.Time, decision error) error {
	if decision == nil && g.limits.uncounted != nil {
		g.limits.uncounted.Add(id, start.UnixNano())
	}
	return decision
}

// catchUp tells the quota counter, before a quota's first Take after an
// outage of the counter, what the key was let through meanwhile: the
// counter's count is raised to what the usage table and this instance's
// unwritten counts hold for the period. It reports false when the counter
// failed (the outage goes on); when the usage store fails, the key stays
// owed and the request is counted as usual.
func (g *Guard) catchUp(ctx context.Context, rec *keyRecord, start, end, now time.Time) bool {
	l, id := g.limits, rec.policy.limitID
	if l.uncounted == nil {
		return true
	}
	period, ok := l.uncounted.Take(id)
	if !ok || period != start.UnixNano() { // none owed, or in a period now over
		return true
	}
	used, err := g.quotaSeed(ctx, rec, start, now)
	if err != nil {
		l.uncounted.Add(id, period)
		return true
	}
	if err := l.raiser.Raise(context.WithoutCancel(ctx), id, start, end, used); err != nil {
		l.quotasDown.Failed(err, true)
		return false
	}
	return true
}

// quotaSeed reads the count of the quota of rec's rotation chain for the
// period from start to now, within StoreTimeout even if the client hangs
// up. While the usage store is known to fail it does not wait for it:
// ErrUnavailable, itself.
func (g *Guard) quotaSeed(ctx context.Context, rec *keyRecord, start, now time.Time) (int64, error) {
	if g.usageStore != nil && g.health.Down() {
		return 0, ErrUnavailable
	}
	readCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.storeTimeout)
	defer cancel()
	ids, err := g.chainKeys(readCtx, rec, start)
	if err != nil {
		return 0, err
	}
	return g.usedSince(readCtx, ids, start, now)
}

// chainKeys returns the ids of the keys whose requests since start count
// against rec's quota: rec's own and its predecessors' in its rotation
// chain (rec.policy.limitID), newest first. Usage is kept per key, so a
// rotated-in key's count is found by walking RotatedFrom; a key that no
// rotation created costs no read. The walk stops at a predecessor deleted
// (its usage went with it) or of another chain (rotated before chains were
// recorded: it keeps its own count), after maxPredecessors, and before a key
// rotated out longer than the longest grace before start, which could not
// have served a request since.
func (g *Guard) chainKeys(ctx context.Context, rec *keyRecord, start time.Time) ([]string, error) {
	ids := []string{rec.ID}
	from, rotatedAt := rec.RotatedFrom, rec.CreatedAt // a successor is created as its predecessor is rotated
	for i := 0; from != "" && i < maxPredecessors && rotatedAt.Add(maxRotationGrace).After(start); i++ {
		p, err := g.store.ByID(ctx, from)
		switch {
		case errors.Is(err, keystore.ErrNotFound):
			return ids, nil
		case err != nil:
			return nil, err
		case p.Chain() != rec.policy.limitID:
			return ids, nil
		}
		ids = append(ids, p.ID)
		from, rotatedAt = p.RotatedFrom, p.CreatedAt
	}
	return ids, nil
}

// usedSince counts the requests of the keys ids from start (a UTC midnight)
// to now: what the store holds plus what this instance has not written yet,
// pending or in a batch being written. It holds no lock across the store's
// reads, so it never waits for a flush; if a batch was written meanwhile,
// the two parts may overlap, and it reads again (up to three times, then
// errs on the high side: a quota may refuse a moment early, never admit
// late).
func (g *Guard) usedSince(ctx context.Context, ids []string, start, now time.Time) (int64, error) {
	from := start.UTC().Format(time.DateOnly)
	var n int64
	for range 3 {
		var gen uint64
		n = 0
		for i, id := range ids {
			if g.usage != nil {
				m, idGen := g.usage.unwritten(id, start, now)
				if i == 0 {
					gen = idGen // a batch written after it makes the whole read suspect
				}
				n += m
			}
			if g.usageStore != nil {
				_, daily, err := g.usageStore.Usage(ctx, id, from)
				if err != nil {
					return 0, err
				}
				for _, d := range daily {
					n += d.Requests
				}
			}
		}
		if g.usage == nil || g.usage.generation() == gen {
			break
		}
	}
	return n, nil
}
