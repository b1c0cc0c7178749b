// Package memstore is a keystore.Store that keeps keys, usage and the audit
// log in memory: for tests and examples, where a database file is in the
// way. It has every optional power of the SPI, and passes storetest. Its
// contents go with the process.
package memstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

// Store keeps keys in memory. The zero value is not ready: use New. It is
// safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	byID    map[string]*keystore.Record
	byHash  map[string]string                      // hash to id
	usage   map[string]map[string]int64            // id to day to requests
	refused map[string]map[string]map[string]int64 // id to day to outcome to refusals
	marks   map[string]int64                       // instance to the last batch applied
	audit   []keystore.AuditEntry
	auditID int64
}

var (
	_ keystore.Store          = (*Store)(nil)
	_ keystore.Rotator        = (*Store)(nil)
	_ keystore.BulkInserter   = (*Store)(nil)
	_ keystore.UsageStore     = (*Store)(nil)
	_ keystore.OnceUsageStore = (*Store)(nil)
	_ keystore.OutcomeStore   = (*Store)(nil)
	_ keystore.AuditStore     = (*Store)(nil)
	_ keystore.CappedInserter = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{
		byID:    make(map[string]*keystore.Record),
		byHash:  make(map[string]string),
		usage:   make(map[string]map[string]int64),
		refused: make(map[string]map[string]map[string]int64),
		marks:   make(map[string]int64),
	}
}

// Insert adds a copy of r.
func (s *Store) Insert(_ context.Context, r *keystore.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.free(r); err != nil {
		return err
	}
	s.put(r)
	return nil
}

// free fails if r's id or hash is taken.
func (s *Store) free(r *keystore.Record) error {
	if _, ok := s.byID[r.ID]; ok {
		return fmt.Errorf("memstore: duplicate id %s", r.ID)
	}
	if _, ok := s.byHash[r.Hash]; ok {
		return fmt.Errorf("memstore: duplicate hash of key %s", r.ID)
	}
	return nil
}

func (s *Store) put(r *keystore.Record) {
	c := clone(r)
	s.byID[c.ID], s.byHash[c.Hash] = c, c.ID
}

// ByHash returns a copy of the record with hash.
func (s *Store) ByHash(_ context.Context, hash string) (*keystore.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byHash[hash]
	if !ok {
		return nil, keystore.ErrNotFound
	}
	return clone(s.byID[id]), nil
}

// ByID returns a copy of the record with id.
func (s *Store) ByID(_ context.Context, id string) (*keystore.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok {
		return nil, keystore.ErrNotFound
	}
	return clone(r), nil
}

// List returns q's page, newest first, and the number of matches.
func (s *Store) List(_ context.Context, q keystore.ListQuery) ([]keystore.Record, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := strings.ToLower(q.Name)
	var match []*keystore.Record
	for _, r := range s.byID {
		if (q.Status == "" || r.StatusAt(q.Now) == q.Status) &&
			(q.Owner == "" || r.Owner == q.Owner) &&
			(q.Prefix == "" || r.Prefix == q.Prefix) &&
			(name == "" || strings.Contains(strings.ToLower(r.Name), name)) {
			match = append(match, r)
		}
	}
	slices.SortFunc(match, newestFirst)
	out := []keystore.Record{}
	for i := q.Offset; i < len(match) && len(out) < q.Limit; i++ {
		out = append(out, *clone(match[i]))
	}
	return out, int64(len(match)), nil
}

func newestFirst(a, b *keystore.Record) int {
	return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(a.ID, b.ID))
}

// Modify calls fn with a copy of the record with id, under the store's lock,
// and keeps what fn returns.
func (s *Store) Modify(_ context.Context, id string, fn func(*keystore.Record) (*keystore.Record, error)) (*keystore.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.byID[id]
	if !ok {
		return nil, keystore.ErrNotFound
	}
	changed, err := fn(clone(old))
	if err != nil {
		return nil, err
	}
	s.byID[id] = kept(old, changed)
	return clone(s.byID[id]), nil
}

// kept is changed with the fields Modify does not persist taken from old.
func kept(old, changed *keystore.Record) *keystore.Record {
	c := clone(changed)
	c.ID, c.Hash, c.CreatedAt, c.LastUsedAt = old.ID, old.Hash, old.CreatedAt, old.LastUsedAt
	return c
}

// Rotate keeps fn's changed old record and inserts its successor, or
// neither.
func (s *Store) Rotate(_ context.Context, id string, fn func(*keystore.Record) (*keystore.Record, *keystore.Record, error)) (*keystore.Record, *keystore.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.byID[id]
	if !ok {
		return nil, nil, keystore.ErrNotFound
	}
	changed, next, err := fn(clone(old))
	if err != nil {
		return nil, nil, err
	}
	if err := s.free(next); err != nil {
		return nil, nil, err
	}
	s.byID[id] = kept(old, changed)
	s.put(next)
	return clone(s.byID[id]), clone(next), nil
}

// InsertBatch inserts all of records or, if one is a duplicate, none.
func (s *Store) InsertBatch(_ context.Context, records []keystore.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, hashes := map[string]bool{}, map[string]bool{}
	for i := range records {
		r := &records[i]
		if err := s.free(r); err != nil || ids[r.ID] || hashes[r.Hash] {
			return cmp.Or(err, fmt.Errorf("memstore: duplicate key %s in the batch", r.ID))
		}
		ids[r.ID], hashes[r.Hash] = true, true
	}
	for i := range records {
		s.put(&records[i])
	}
	return nil
}

// Delete removes the record with id and its usage.
func (s *Store) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok {
		return keystore.ErrNotFound
	}
	delete(s.byID, id)
	delete(s.byHash, r.Hash)
	delete(s.usage, id)
	delete(s.refused, id)
	return nil
}

// clone is a copy of r that shares nothing with it.
func clone(r *keystore.Record) *keystore.Record {
	c := *r
	c.Scopes = slices.Clone(r.Scopes)
	c.AllowedIPs = slices.Clone(r.AllowedIPs)
	c.Metadata = maps.Clone(r.Metadata)
	c.RateLimit, c.Quota = ptr(r.RateLimit), ptr(r.Quota)
	c.ExpiresAt, c.RevokedAt, c.LastUsedAt = ptr(r.ExpiresAt), ptr(r.RevokedAt), ptr(r.LastUsedAt)
	if c.Scopes == nil {
		c.Scopes = []string{}
	}
	if c.AllowedIPs == nil {
		c.AllowedIPs = []string{}
	}
	if c.Metadata == nil {
		c.Metadata = map[string]any{}
	}
	return &c
}

func ptr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// InsertCapped inserts a copy of r unless its owner has limit or more
// keys that count toward the cap at now.
func (s *Store) InsertCapped(_ context.Context, r *keystore.Record, limit int, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, k := range s.byID {
		if k.Owner == r.Owner && keystore.Capped(k, now) {
			n++
		}
	}
	if n >= limit {
		return keystore.ErrOwnerFull
	}
	if err := s.free(r); err != nil {
		return err
	}
	s.put(r)
	return nil
}
