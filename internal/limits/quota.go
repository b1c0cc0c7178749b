package limits

import (
	"sync"
	"time"
)

// Period returns the UTC calendar month (monthly) or day containing now.
func Period(monthly bool, now time.Time) (start, end time.Time) {
	y, m, d := now.UTC().Date()
	if monthly {
		start = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0)
	}
	start = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 0, 1)
}

// Quotas holds each quota-limited key's count for its current period. Its
// map is bounded; a dropped entry is re-read by the caller (from the usage
// store), so eviction loses nothing, except without one: then the key
// starts from zero.
type Quotas struct {
	shards   [mapShards]quotaShard
	perShard int
	resync   int64 // nanoseconds between re-reads; 0: never re-read
}

type quotaShard struct {
	mu sync.Mutex
	m  map[string]*quotaState
}

type quotaState struct {
	per        string
	start, end int64 // the period, unix nanoseconds
	count      int64
	read       int64 // when count was last read from the store
	reading    bool  // one request is re-reading it
}

// NewQuotas returns a counter holding about size keys, whose counts are due
// for a re-read every resync (0: never).
func NewQuotas(size int, resync time.Duration) *Quotas {
	q := &Quotas{perShard: max(1, size/mapShards), resync: int64(resync)}
	for i := range q.shards {
		q.shards[i].m = make(map[string]*quotaState)
	}
	return q
}

// Verdict is Take's answer.
type Verdict int

// Take's verdicts.
const (
	Taken     Verdict = iota
	Exhausted         // the period's requests are used up
	Unread            // no count for this period yet: read it first
)

// Take spends one request of the key's quota of limit for the period named
// per. When the count is due for a re-read, it reports so to exactly one
// caller (refresh), who must then call Set or ReadDone; the others go on
// with the count as it is. end is the period's end, unix nanoseconds.
func (q *Quotas) Take(id, per string, limit, now int64) (v Verdict, refresh bool, end int64) {
	s := &q.shards[shardOf(id)%mapShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[id]
	if st == nil || st.per != per || now < st.start || now >= st.end {
		return Unread, false, 0
	}
	if q.resync > 0 && !st.reading && now-st.read >= q.resync {
		st.reading, refresh = true, true
	}
	if st.count >= limit {
		return Exhausted, refresh, st.end
	}
	st.count++
	return Taken, refresh, st.end
}

// Set records a count read at now for the period [start, end). A count
// already held for that period is raised to it, never lowered: it holds
// the takes made while the read was under way (by this request's peers,
// which also found the count unread, or since a re-read began), which the
// read may not see; replacing it would let a burst at a period's start
// through whole.
func (q *Quotas) Set(id, per string, start, end, count, now int64) {
	s := &q.shards[shardOf(id)%mapShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.m[id]; st != nil && st.per == per && st.start == start && st.end == end {
		st.count, st.read, st.reading = max(st.count, count), now, false
		return
	}
	if _, ok := s.m[id]; !ok && len(s.m) >= q.perShard {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
	s.m[id] = &quotaState{per: per, start: start, end: end, count: count, read: now}
}

// ReadDone ends a failed re-read: the old count stays in use.
func (q *Quotas) ReadDone(id string) {
	s := &q.shards[shardOf(id)%mapShards]
	s.mu.Lock()
	if st := s.m[id]; st != nil {
		st.reading = false
	}
	s.mu.Unlock()
}
