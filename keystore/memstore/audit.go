package memstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

// AddAudit appends entries, numbering them.
func (s *Store) AddAudit(_ context.Context, entries []keystore.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		s.auditID++
		e.ID, e.Time = s.auditID, e.Time.UTC().Truncate(time.Microsecond)
		e.Fields = slices.Clone(e.Fields)
		if e.Fields == nil {
			e.Fields = []string{}
		}
		s.audit = append(s.audit, e)
	}
	return nil
}

// Audit returns the entries matching q, newest first, and how many match.
func (s *Store) Audit(_ context.Context, q keystore.AuditQuery) ([]keystore.AuditEntry, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []keystore.AuditEntry
	for _, e := range s.audit {
		if (q.KeyID == "" || e.KeyID == q.KeyID) && (q.Action == "" || e.Action == q.Action) && !e.Time.Before(q.Since) {
			match = append(match, e)
		}
	}
	slices.SortFunc(match, func(a, b keystore.AuditEntry) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(b.ID, a.ID))
	})
	out := []keystore.AuditEntry{}
	for i := q.Offset; i < len(match) && len(out) < q.Limit; i++ {
		e := match[i]
		e.Fields = slices.Clone(e.Fields)
		out = append(out, e)
	}
	return out, int64(len(match)), nil
}

// PruneAudit deletes at most limit entries older than before, oldest first.
func (s *Store) PruneAudit(_ context.Context, before time.Time, limit int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	slices.SortStableFunc(s.audit, func(a, b keystore.AuditEntry) int { return a.Time.Compare(b.Time) })
	var n int64
	s.audit = slices.DeleteFunc(s.audit, func(e keystore.AuditEntry) bool {
		if n < int64(limit) && e.Time.Before(before) {
			n++
			return true
		}
		return false
	})
	return n, nil
}
