package ginkey

import (
	"context"
	"strconv"
	"sync"
	"time"
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
		return BadRequest(`quota must be {"requests": 1-` + strconv.FormatInt(maxQuotaRequests, 10) + `, "per": "day" or "month"}`)
	}
	return nil
}

// quotaPeriod returns the UTC period containing now.
func quotaPeriod(per Period, now time.Time) (start, end time.Time) {
	y, m, d := now.UTC().Date()
	if per == PerMonth {
		start = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0)
	}
	start = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 0, 1)
}

const quotaShards = 32

// quotaCounter holds each quota-limited key's count for its current period.
// Its map is bounded; a dropped entry is re-read from the usage store, so
// eviction loses nothing, except without one: then the key starts from zero.
type quotaCounter struct {
	shards   [quotaShards]quotaShard
	perShard int
	resync   int64 // nanoseconds between re-reads; 0: never re-read
}

type quotaShard struct {
	mu sync.Mutex
	m  map[string]*quotaState
}

type quotaState struct {
	per        Period
	start, end int64 // the period, unix nanoseconds
	count      int64
	read       int64 // when count was last read from the store
	reading    bool  // one request is re-reading it
}

func newQuotaCounter(size int, resync time.Duration) *quotaCounter {
	q := &quotaCounter{perShard: max(1, size/quotaShards), resync: int64(resync)}
	for i := range q.shards {
		q.shards[i].m = make(map[string]*quotaState)
	}
	return q
}

type quotaVerdict int

const (
	quotaTaken quotaVerdict = iota
	quotaExhausted
	quotaUnread // no count for this period yet: read it first
)

// take spends one request of the key's quota. When the count is due for a
// re-read, it reports so to exactly one caller (refresh); the others go on
// with the count as it is.
func (q *quotaCounter) take(id string, per Period, limit, now int64) (v quotaVerdict, refresh bool, end int64) {
	s := &q.shards[hashString(id)%quotaShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[id]
	if st == nil || st.per != per || now < st.start || now >= st.end {
		return quotaUnread, false, 0
	}
	if q.resync > 0 && !st.reading && now-st.read >= q.resync {
		st.reading, refresh = true, true
	}
	if st.count >= limit {
		return quotaExhausted, refresh, st.end
	}
	st.count++
	return quotaTaken, refresh, st.end
}

// set records a count read from the store for the period [start, end).
func (q *quotaCounter) set(id string, per Period, start, end, count, now int64) {
	s := &q.shards[hashString(id)%quotaShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; !ok && len(s.m) >= q.perShard {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
	s.m[id] = &quotaState{per: per, start: start, end: end, count: count, read: now}
}

// readDone ends a failed re-read: the old count stays in use.
func (q *quotaCounter) readDone(id string) {
	s := &q.shards[hashString(id)%quotaShards]
	s.mu.Lock()
	if st := s.m[id]; st != nil {
		st.reading = false
	}
	s.mu.Unlock()
}

// checkQuota spends one request of the key's quota, reading the period's
// count from the store when this instance has none or it is due.
func (g *Guard) checkQuota(ctx context.Context, rec *Record, now time.Time) error {
	p := rec.policy
	if p.quota == 0 {
		return nil
	}
	if g.sharedQuotas != nil {
		return g.takeShared(ctx, rec, now)
	}
	ns := now.UnixNano()
	v, refresh, end := g.quotas.take(rec.ID, p.quotaPer, p.quota, ns)
	if (v == quotaUnread || refresh) && g.usageStore != nil && g.health.down.Load() { // known to fail: don't wait for it
		if v == quotaUnread { // no count to go on
			return ErrUnavailable
		}
		g.quotas.readDone(rec.ID)
		refresh = false
	}
	if v == quotaUnread || refresh {
		start, periodEnd := quotaPeriod(p.quotaPer, now)
		readCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.storeTimeout)
		used, err := g.usedSince(readCtx, rec.ID, start, now)
		cancel()
		switch {
		case err != nil && v == quotaUnread:
			g.log.Error("ginkey: reading usage for a quota failed", "key_id", rec.ID, "error", err)
			return ErrUnavailable
		case err != nil:
			g.log.Warn("ginkey: re-reading usage for a quota failed; counting on", "key_id", rec.ID, "error", err)
			g.quotas.readDone(rec.ID)
		default:
			if v == quotaTaken {
				used++ // this request: taken from the old count, not yet in usage
			}
			g.quotas.set(rec.ID, p.quotaPer, start.UnixNano(), periodEnd.UnixNano(), used, ns)
		}
		if v == quotaUnread {
			v, _, end = g.quotas.take(rec.ID, p.quotaPer, p.quota, ns)
		}
	}
	if v == quotaExhausted {
		return retryLater(ErrQuotaExceeded, time.Duration(end-ns))
	}
	return nil // taken, or (evicted in between) let through
}

// takeShared spends one request of the key's quota through
// Config.QuotaCounter, which seeds a period's count from usedSince.
func (g *Guard) takeShared(ctx context.Context, rec *Record, now time.Time) error {
	p := rec.policy
	start, end := quotaPeriod(p.quotaPer, now)
	var seedErr error
	seed := func(ctx context.Context) (int64, error) {
		seedErr = nil                                    // of this call: a counter may retry a failed seed
		if g.usageStore != nil && g.health.down.Load() { // known to fail: don't wait for it
			seedErr = ErrUnavailable
			return 0, seedErr
		}
		readCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.storeTimeout)
		defer cancel()
		var n int64
		n, seedErr = g.usedSince(readCtx, rec.ID, start, now)
		return n, seedErr
	}
	taken, err := g.sharedQuotas.Take(ctx, rec.ID, start, end, p.quota, seed)
	switch {
	case seedErr != nil: // the usage store failed, not the counter: as for the in-memory count
		if seedErr != ErrUnavailable { //nolint:errorlint // our own sentinel, set above
			g.log.Error("ginkey: reading usage for a quota failed", "key_id", rec.ID, "error", seedErr)
		}
		return ErrUnavailable
	case err != nil:
		return g.quotasDown.failed(err, true)
	}
	g.quotasDown.ok()
	if !taken {
		return retryLater(ErrQuotaExceeded, end.Sub(now))
	}
	return nil
}

// usedSince counts the key's requests from start (a UTC midnight) to now:
// what the store holds plus what this instance has not written yet, pending
// or in a batch being written. It holds no lock across the store's read, so
// it never waits for a flush; if a batch was written meanwhile, the two
// parts may overlap, and it reads again (up to three times, then errs on
// the high side: a quota may refuse a moment early, never admit late).
func (g *Guard) usedSince(ctx context.Context, id string, start, now time.Time) (int64, error) {
	from, to := start.UTC().Format(time.DateOnly), now.UTC().Format(time.DateOnly)
	var n int64
	for range 3 {
		var unwritten int64
		g.flushMu.RLock()
		if g.usage != nil {
			unwritten = g.usage.pending(id, start.Unix()/86400, now.Unix()/86400) + g.unsent.count(id, from, to)
		}
		gen := g.flushed.Load()
		g.flushMu.RUnlock()
		n = unwritten
		if g.usageStore != nil {
			_, daily, err := g.usageStore.Usage(ctx, id, from)
			if err != nil {
				return 0, err
			}
			for _, d := range daily {
				n += d.Requests
			}
		}
		if g.flushed.Load() == gen {
			break
		}
	}
	return n, nil
}

// pending counts key id's requests on UTC days from..to (days since the
// epoch) that are still waiting for a flush. One key's requests are spread
// over every shard; this runs only when a quota's count is re-read.
func (r *usageRecorder) pending(id string, from, to int64) int64 {
	var n int64
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for day := from; day <= to; day++ {
			if c := s.m[usageKey{id: id, day: day}]; c != nil {
				n += c.n
			}
		}
		s.mu.Unlock()
	}
	return n
}
