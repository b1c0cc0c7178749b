package ginkey

import (
	"context"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

const usageShards = 32

// usageRecorder counts successful requests in memory; the guard's flusher
// writes the counts to the store in batches, so the request path never
// writes to the database.
//
// A request lands in a random shard, not in one chosen by its key: a single
// busy key then spreads over every shard instead of serializing its requests
// on one lock. drain merges what the shards hold.
type usageRecorder struct {
	shards   [usageShards]usageShard
	perShard int           // pending counts a shard holds before it asks for an early flush
	kick     chan struct{} // capacity 1: wakes the flusher early
}

type usageShard struct {
	mu sync.Mutex
	m  map[usageKey]*usageCount
	_  [64 - 16]byte // one cache line per shard, so cores do not share locks' lines
}

type usageKey struct {
	id  string
	day int64 // days since the Unix epoch, UTC
}

type usageCount struct {
	n       int64
	last    int64                  // unix nanoseconds of the latest admitted request
	refused [keyOutcomes - 1]int64 // by outcome, oExpired first
}

// init readies r to hold up to about maxPending counts before it asks for
// an early flush.
func (r *usageRecorder) init(maxPending int) {
	r.perShard, r.kick = max(1, maxPending/usageShards), make(chan struct{}, 1)
	for i := range r.shards {
		r.shards[i].m = make(map[usageKey]*usageCount)
	}
}

func (r *usageRecorder) shard() *usageShard {
	return &r.shards[rand.Uint32()%usageShards] //nolint:gosec // spreads load over shards; nothing secret depends on it
}

// record counts one request made with key id at now (unix nanoseconds).
func (r *usageRecorder) record(id string, now int64) {
	if r.add(usageKey{id: id, day: now / int64(24*time.Hour)}, 1, now) {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// refuse counts one refused verification of key id at now (unix
// nanoseconds) with outcome o, one of an identified key's refusals.
func (r *usageRecorder) refuse(id string, o verdict, now int64) {
	var c usageCount
	c.refused[o-1] = 1
	if r.addCount(usageKey{id: id, day: now / int64(24*time.Hour)}, &c) {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// add reports whether the shard is full enough to ask for an early flush.
func (r *usageRecorder) add(k usageKey, n, last int64) (full bool) {
	return r.addCount(k, &usageCount{n: n, last: last})
}

func (r *usageRecorder) addCount(k usageKey, d *usageCount) (full bool) {
	s := r.shard()
	s.mu.Lock()
	c := s.m[k]
	if c == nil {
		c = &usageCount{}
		s.m[k] = c
	}
	c.merge(d)
	full = len(s.m) >= r.perShard
	s.mu.Unlock()
	return full
}

func (c *usageCount) merge(d *usageCount) {
	c.n += d.n
	c.last = max(c.last, d.last)
	for i, n := range d.refused {
		c.refused[i] += n
	}
}

// pendingTotal is the number of requests counted and not yet drained.
func (r *usageRecorder) pendingTotal() int64 {
	var n int64
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for _, c := range s.m {
			n += c.n
		}
		s.mu.Unlock()
	}
	return n
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

// drain takes every pending count out of the recorder, one delta per key and
// day.
func (r *usageRecorder) drain() []keystore.UsageDelta {
	merged := make(map[usageKey]usageCount)
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		m := s.m
		if len(m) == 0 {
			// m is still the shard's live map: reading it (even to range
			// over nothing) after Unlock would race with record.
			s.mu.Unlock()
			continue
		}
		s.m = make(map[usageKey]*usageCount, len(m))
		s.mu.Unlock()
		for k, c := range m {
			t := merged[k]
			t.merge(c)
			merged[k] = t
		}
	}
	out := make([]keystore.UsageDelta, 0, len(merged))
	for k, c := range merged {
		d := keystore.UsageDelta{
			KeyID:    k.id,
			Day:      time.Unix(k.day*86400, 0).UTC().Format(time.DateOnly),
			Requests: c.n,
		}
		if c.n > 0 {
			d.LastUsed = time.Unix(0, c.last).UTC()
		}
		for i, n := range c.refused {
			if n > 0 {
				if d.Refused == nil {
					d.Refused = make(map[string]int64)
				}
				d.Refused[outcomeNames[i+1]] = n
			}
		}
		out = append(out, d)
	}
	return out
}

// restore puts back counts a failed flush could not write, so a store outage
// delays usage rather than losing it. It never kicks the flusher: a failing
// store is retried on the next tick, not in a loop.
func (r *usageRecorder) restore(batch []keystore.UsageDelta) {
	for _, d := range batch {
		day, err := time.Parse(time.DateOnly, d.Day)
		if err != nil {
			continue
		}
		c := usageCount{n: d.Requests}
		if d.Requests > 0 {
			c.last = d.LastUsed.UnixNano()
		}
		for i := range c.refused {
			c.refused[i] = d.Refused[outcomeNames[i+1]]
		}
		_ = r.addCount(usageKey{id: d.KeyID, day: day.Unix() / 86400}, &c)
	}
}

// KeyUsage reports the requests made with the key with id: in all, and per
// UTC day for the last days days (1 to 366; 0 means 30). It writes this
// instance's pending counts first, and fails rather than leave them out. A
// store that keeps no usage is ErrUnavailable; an unknown id ErrNotFound.
func (g *Guard) KeyUsage(ctx context.Context, id string, days int) (UsageReport, error) {
	if e := checkID(id); e != nil { // before any I/O
		return UsageReport{}, e
	}
	days, e := daysRange.value(days)
	if e != nil {
		return UsageReport{}, e
	}
	ctx, cancel := g.adminRead(ctx)
	defer cancel()
	if err := g.flushForRead(ctx); err != nil {
		return UsageReport{}, err
	}
	rec, err := g.store.ByID(ctx, id) // after the flush: its last_used_at includes pending requests
	if err != nil {
		return UsageReport{}, storeError("read key", err)
	}
	since := g.now().UTC().AddDate(0, 0, -(days - 1)).Format(time.DateOnly)
	total, daily, err := g.usageStore.Usage(ctx, rec.ID, since)
	if err != nil {
		return UsageReport{}, storeError("read usage", err)
	}
	var (
		refused      map[string]int64
		refusedDaily map[string]map[string]int64
	)
	if ost, ok := g.usageStore.(keystore.OutcomeStore); ok {
		if refused, refusedDaily, err = ost.Outcomes(ctx, rec.ID, since); err != nil {
			return UsageReport{}, storeError("read outcomes", err)
		}
	}
	out := UsageReport{ID: rec.ID, TotalRequests: total, LastUsedAt: rec.LastUsedAt, Outcomes: outcomesOf(total, refused)}
	// A day with refusals only has no usage row: merge both, in date order.
	byDay := make(map[string]int64, len(daily))
	for _, d := range daily {
		byDay[d.Day] = d.Requests
	}
	for day := range refusedDaily {
		if _, ok := byDay[day]; !ok {
			byDay[day] = 0
		}
	}
	for _, day := range slices.Sorted(maps.Keys(byDay)) {
		out.Daily = append(out.Daily, dailyUsage{Date: day, Requests: byDay[day], Outcomes: outcomesOf(byDay[day], refusedDaily[day])})
	}
	if out.Daily == nil {
		out.Daily = []dailyUsage{}
	}
	return out, nil
}

// UsageSummary reports every key's requests in all, last use and
// verifications by outcome (as KeyUsage's), newest key first, a page of limit rows (1 to 500; 0 means 50) after offset, and the
// number of keys. Pending counts and errors are as for KeyUsage.
func (g *Guard) UsageSummary(ctx context.Context, limit, offset int) ([]UsageSummary, int64, error) {
	limit, e := limitRange.value(limit)
	if e != nil {
		return nil, 0, e
	}
	if offset, e = offsetRange.value(offset); e != nil {
		return nil, 0, e
	}
	ctx, cancel := g.adminRead(ctx)
	defer cancel()
	if err := g.flushForRead(ctx); err != nil {
		return nil, 0, err
	}
	stored, total, err := g.usageStore.UsageSummaries(ctx, limit, offset)
	if err != nil {
		return nil, 0, storeError("read usage", err)
	}
	rows := make([]UsageSummary, len(stored))
	for i, u := range stored {
		rows[i] = UsageSummary{ID: u.ID, Prefix: u.Prefix, Name: u.Name, TotalRequests: u.Requests, LastUsedAt: u.LastUsedAt}
	}
	var refused map[string]map[string]int64
	if ost, ok := g.usageStore.(keystore.OutcomeStore); ok && len(rows) > 0 {
		ids := make([]string, len(rows))
		for i := range rows {
			ids[i] = rows[i].ID
		}
		if refused, err = ost.RefusalTotals(ctx, ids); err != nil {
			return nil, 0, storeError("read outcomes", err)
		}
	}
	for i := range rows {
		rows[i].Outcomes = outcomesOf(rows[i].TotalRequests, refused[rows[i].ID])
	}
	return rows, total, nil
}

// flushForRead makes this instance's pending counts visible before a usage
// read. It fails when the store keeps no usage, or when the flush fails: the
// totals would silently leave out what is pending.
func (g *Guard) flushForRead(ctx context.Context) error {
	if g.usageStore == nil {
		return ErrUnavailable
	}
	if err := g.Flush(ctx); err != nil {
		return storeError("flush usage before a usage read", err)
	}
	return nil
}
