package ginkey

import (
	"context"
	"strconv"
	"time"

	"github.com/ginkey/ginkey/internal/limits"
)

const maxQuotaRequests = 1 << 40

// Quota caps how many requests one key may make per UTC day or calendar
// month. Requests refused for any reason do not count.
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
// instances.
type Quota struct {
	Requests int64  `json:"requests" example:"10000" minimum:"1"`
	Per      Period `json:"per" enums:"day,month" swaggertype:"string" example:"day"`
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
func quotaPeriod(per Period, now time.Time) (start, end time.Time) {
	return limits.Period(per == PerMonth, now)
}

// checkQuota spends one request of the key's quota, reading the period's
// count from the store when this instance has none or it is due.
func (g *Guard) checkQuota(ctx context.Context, rec *keyRecord, now time.Time) error {
	p := rec.policy
	if p.quota == 0 {
		return nil
	}
	if g.limits.shared != nil {
		return g.takeShared(ctx, rec, now)
	}
	q, per, ns := g.limits.quotas, string(p.quotaPer), now.UnixNano()
	v, refresh, end := q.Take(rec.ID, per, p.quota, ns)
	if v == limits.Unread || refresh {
		start, periodEnd := quotaPeriod(p.quotaPer, now)
		used, err := g.quotaSeed(ctx, rec.ID, start, now)
		switch {
		case err == ErrUnavailable && v == limits.Unread: //nolint:errorlint // quotaSeed's own sentinel: the store is known to be down
			return ErrUnavailable // no count to go on
		case err == ErrUnavailable: //nolint:errorlint // as above
			q.ReadDone(rec.ID)
		case err != nil && v == limits.Unread:
			g.log.Error("ginkey: reading usage for a quota failed", "key_id", rec.ID, "error", err)
			return ErrUnavailable
		case err != nil:
			g.log.Warn("ginkey: re-reading usage for a quota failed; counting on", "key_id", rec.ID, "error", err)
			q.ReadDone(rec.ID)
		default:
			if v == limits.Taken {
				used++ // this request: taken from the old count, not yet in usage
			}
			q.Set(rec.ID, per, start.UnixNano(), periodEnd.UnixNano(), used, ns)
		}
		if v == limits.Unread {
			v, _, end = q.Take(rec.ID, per, p.quota, ns)
		}
	}
	if v == limits.Exhausted {
		return retryLater(ErrQuotaExceeded, time.Duration(end-ns))
	}
	return nil // taken, or (evicted in between) let through
}

// takeShared spends one request of the key's quota through
// Config.QuotaCounter, which seeds a period's count from quotaSeed.
func (g *Guard) takeShared(ctx context.Context, rec *keyRecord, now time.Time) error {
	if !g.limits.quotasDown.Call() { // down: decided at once, one probe a second
		return g.limits.skipped(g.limits.quotasDown)
	}
	p := rec.policy
	start, end := quotaPeriod(p.quotaPer, now)
	var seedErr error
	seed := func(ctx context.Context) (int64, error) {
		var n int64
		n, seedErr = g.quotaSeed(ctx, rec.ID, start, now) // of this call: a counter may retry a failed seed
		return n, seedErr
	}
	taken, err := g.limits.shared.Take(ctx, rec.ID, start, end, p.quota, seed)
	switch {
	case seedErr != nil: // the usage store failed, not the counter: as for the in-memory count
		if seedErr != ErrUnavailable { //nolint:errorlint // quotaSeed's own sentinel
			g.log.Error("ginkey: reading usage for a quota failed", "key_id", rec.ID, "error", seedErr)
		}
		return ErrUnavailable
	case err != nil:
		return g.limits.failed(g.limits.quotasDown, err)
	}
	g.limits.quotasDown.OK()
	if !taken {
		return retryLater(ErrQuotaExceeded, end.Sub(now))
	}
	return nil
}

// quotaSeed reads a quota's count for the period from start to now, within
// StoreTimeout even if the client hangs up. While the usage store is known
// to fail it does not wait for it: ErrUnavailable, itself.
func (g *Guard) quotaSeed(ctx context.Context, id string, start, now time.Time) (int64, error) {
	if g.usageStore != nil && g.health.down.Load() {
		return 0, ErrUnavailable
	}
	readCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.storeTimeout)
	defer cancel()
	return g.usedSince(readCtx, id, start, now)
}

// usedSince counts the key's requests from start (a UTC midnight) to now:
// what the store holds plus what this instance has not written yet, pending
// or in a batch being written. It holds no lock across the store's read, so
// it never waits for a flush; if a batch was written meanwhile, the two
// parts may overlap, and it reads again (up to three times, then errs on
// the high side: a quota may refuse a moment early, never admit late).
func (g *Guard) usedSince(ctx context.Context, id string, start, now time.Time) (int64, error) {
	from := start.UTC().Format(time.DateOnly)
	var n int64
	for range 3 {
		var gen uint64
		n = 0
		if g.usage != nil {
			n, gen = g.usage.unwritten(id, start, now)
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
		if g.usage == nil || g.usage.generation() == gen {
			break
		}
	}
	return n, nil
}
