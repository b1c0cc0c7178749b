package memstore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

// AddUsage adds batch to the counts; counts of unknown keys are dropped.
func (s *Store) AddUsage(_ context.Context, batch []keystore.UsageDelta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUsage(batch)
	return nil
}

// AddUsageOnce is AddUsage that does nothing for a batch whose sequence
// number instance has reached.
func (s *Store) AddUsageOnce(_ context.Context, instance string, seq int64, batch []keystore.UsageDelta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.marks[instance]; ok && last >= seq {
		return nil
	}
	s.marks[instance] = seq
	s.addUsage(batch)
	return nil
}

func (s *Store) addUsage(batch []keystore.UsageDelta) {
	for _, d := range batch {
		r, ok := s.byID[d.KeyID]
		if !ok {
			continue
		}
		if d.Requests > 0 {
			if s.usage[d.KeyID] == nil {
				s.usage[d.KeyID] = make(map[string]int64)
			}
			s.usage[d.KeyID][d.Day] += d.Requests
			at := d.LastUsed.UTC().Truncate(time.Microsecond)
			if r.LastUsedAt == nil || r.LastUsedAt.Before(at) {
				r.LastUsedAt = &at
			}
		}
		for o, n := range d.Refused {
			if n <= 0 {
				continue
			}
			if s.refused[d.KeyID] == nil {
				s.refused[d.KeyID] = make(map[string]map[string]int64)
			}
			if s.refused[d.KeyID][d.Day] == nil {
				s.refused[d.KeyID][d.Day] = make(map[string]int64)
			}
			s.refused[d.KeyID][d.Day][o] += n
		}
	}
}

// Usage returns key id's requests in all and per day from since on.
func (s *Store) Usage(_ context.Context, id string, since string) (int64, []keystore.DayCount, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var total int64
	daily := []keystore.DayCount{}
	for day, n := range s.usage[id] {
		total += n
		if day >= since {
			daily = append(daily, keystore.DayCount{Day: day, Requests: n})
		}
	}
	slices.SortFunc(daily, func(a, b keystore.DayCount) int { return strings.Compare(a.Day, b.Day) })
	return total, daily, nil
}

// UsageSummaries returns a page of every key's requests, newest key first.
func (s *Store) UsageSummaries(_ context.Context, limit, offset int) ([]keystore.KeyUsage, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := make([]*keystore.Record, 0, len(s.byID))
	for _, r := range s.byID {
		recs = append(recs, r)
	}
	slices.SortFunc(recs, newestFirst)
	out := []keystore.KeyUsage{}
	for i := offset; i < len(recs) && len(out) < limit; i++ {
		r := recs[i]
		var total int64
		for _, n := range s.usage[r.ID] {
			total += n
		}
		out = append(out, keystore.KeyUsage{ID: r.ID, Prefix: r.Prefix, Name: r.Name, LastUsedAt: ptr(r.LastUsedAt), Requests: total})
	}
	return out, int64(len(recs)), nil
}

// Outcomes returns key id's refusals by outcome, in all and per day from
// since on.
func (s *Store) Outcomes(_ context.Context, id, since string) (map[string]int64, map[string]map[string]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	totals := make(map[string]int64)
	daily := make(map[string]map[string]int64)
	for day, byOutcome := range s.refused[id] {
		for o, n := range byOutcome {
			totals[o] += n
			if day >= since {
				if daily[day] == nil {
					daily[day] = make(map[string]int64)
				}
				daily[day][o] += n
			}
		}
	}
	return totals, daily, nil
}

// RefusalTotals returns each of ids' refusals in all, by outcome.
func (s *Store) RefusalTotals(_ context.Context, ids []string) (map[string]map[string]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]map[string]int64)
	for _, id := range ids {
		for _, byOutcome := range s.refused[id] {
			for o, n := range byOutcome {
				if out[id] == nil {
					out[id] = make(map[string]int64)
				}
				out[id][o] += n
			}
		}
	}
	return out, nil
}
