package ginkey

import (
	"sync"
	"time"
)

const usageShards = 32

// usageRecorder counts successful requests in memory; the guard's flusher
// writes the counts to the store in batches, so the request path never
// writes to the database.
type usageRecorder struct {
	shards   [usageShards]usageShard
	perShard int           // pending (key, day) pairs a shard holds before it asks for an early flush
	kick     chan struct{} // capacity 1: wakes the flusher early
}

type usageShard struct {
	mu sync.Mutex
	m  map[usageKey]usageCount
}

type usageKey struct {
	id  string
	day int64 // days since the Unix epoch, UTC
}

type usageCount struct {
	n    int64
	last int64 // unix nanoseconds of the latest request
}

func newUsageRecorder(maxPending int) *usageRecorder {
	r := &usageRecorder{perShard: max(1, maxPending/usageShards), kick: make(chan struct{}, 1)}
	for i := range r.shards {
		r.shards[i].m = make(map[usageKey]usageCount)
	}
	return r
}

// record counts one request made with key id at now (unix nanoseconds).
func (r *usageRecorder) record(id string, now int64) {
	k := usageKey{id: id, day: now / int64(24*time.Hour)}
	s := &r.shards[hashString(id)%usageShards]
	s.mu.Lock()
	c := s.m[k]
	c.n++
	if now > c.last {
		c.last = now
	}
	s.m[k] = c
	full := len(s.m) >= r.perShard
	s.mu.Unlock()
	if full {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// drain takes every pending count out of the recorder.
func (r *usageRecorder) drain() []UsageDelta {
	var out []UsageDelta
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		m := s.m
		if len(m) == 0 {
			// The map stays in use: ranging over it unlocked would race
			// with record, even while it is empty.
			s.mu.Unlock()
			continue
		}
		s.m = make(map[usageKey]usageCount, len(m))
		s.mu.Unlock()
		for k, c := range m {
			out = append(out, UsageDelta{
				KeyID:    k.id,
				Day:      time.Unix(k.day*86400, 0).UTC().Format(time.DateOnly),
				Requests: c.n,
				LastUsed: time.Unix(0, c.last).UTC(),
			})
		}
	}
	return out
}

// restore puts back counts a failed flush could not write, so a store outage
// delays usage rather than losing it.
func (r *usageRecorder) restore(batch []UsageDelta) {
	for _, d := range batch {
		day, err := time.Parse(time.DateOnly, d.Day)
		if err != nil {
			continue
		}
		k := usageKey{id: d.KeyID, day: day.Unix() / 86400}
		s := &r.shards[hashString(d.KeyID)%usageShards]
		s.mu.Lock()
		c := s.m[k]
		c.n += d.Requests
		c.last = max(c.last, d.LastUsed.UnixNano())
		s.m[k] = c
		s.mu.Unlock()
	}
}

// hashString picks a shard; one (key, day) pair always lands in the same
// shard, so a drained batch never holds it twice.
func hashString(s string) byte {
	var h byte
	for i := 0; i < len(s); i++ {
		h = h*31 + s[i]
	}
	return h
}
