package testkit

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

// Backend is a store with every optional power but NotifierSource: the GORM
// store and memstore are both one.
type Backend interface {
	keystore.Store
	keystore.Rotator
	keystore.BulkInserter
	keystore.UsageStore
	keystore.OnceUsageStore
	keystore.OutcomeStore
	keystore.AuditStore
}

// Op names an operation of a store: a method of keystore.Store or of one of
// its optional powers (OpAddUsage is AddUsage and AddUsageOnce).
type Op string

// The operations a FailingStore can fail.
const (
	OpInsert         Op = "Insert"
	OpByHash         Op = "ByHash"
	OpByID           Op = "ByID"
	OpList           Op = "List"
	OpModify         Op = "Modify"
	OpDelete         Op = "Delete"
	OpRotate         Op = "Rotate"
	OpInsertBatch    Op = "InsertBatch"
	OpAddUsage       Op = "AddUsage"
	OpUsage          Op = "Usage"
	OpUsageSummaries Op = "UsageSummaries"
	OpOutcomes       Op = "Outcomes"
	OpRefusalTotals  Op = "RefusalTotals"
	OpAddAudit       Op = "AddAudit"
	OpAudit          Op = "Audit"
	OpPruneAudit     Op = "PruneAudit"
)

var allOps = []Op{OpInsert, OpByHash, OpByID, OpList, OpModify, OpDelete, OpRotate, OpInsertBatch,
	OpAddUsage, OpUsage, OpUsageSummaries, OpOutcomes, OpRefusalTotals, OpAddAudit, OpAudit, OpPruneAudit}

// FailingStore is a store that fails the operations a test chooses, as an
// unreachable database would, and passes every other call to the store it
// wraps. It counts the calls of each operation, so that a test can also
// prove a request never reached the store. It has every optional power of
// keystore, NotifierSource passed on when the wrapped store has it.
type FailingStore struct {
	store Backend

	mu    sync.Mutex
	fail  map[Op]error
	calls map[Op]int64
}

var (
	_ Backend                 = (*FailingStore)(nil)
	_ keystore.NotifierSource = (*FailingStore)(nil)
)

// ErrDown is what a FailingStore's failing operations return unless the
// test chose another error (FailWith).
var ErrDown = errors.New("testkit: the store is down")

// NewFailingStore wraps store; nothing fails until Fail.
func NewFailingStore(store Backend) *FailingStore {
	return &FailingStore{store: store, fail: map[Op]error{}, calls: map[Op]int64{}}
}

// Fail makes ops (none: every operation) return ErrDown until Heal.
func (s *FailingStore) Fail(ops ...Op) { s.FailWith(ErrDown, ops...) }

// FailWith makes ops (none: every operation) return err until Heal.
func (s *FailingStore) FailWith(err error, ops ...Op) {
	if len(ops) == 0 {
		ops = allOps
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range ops {
		s.fail[op] = err
	}
}

// Heal makes ops (none: every operation) work again.
func (s *FailingStore) Heal(ops ...Op) {
	if len(ops) == 0 {
		ops = allOps
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range ops {
		delete(s.fail, op)
	}
}

// Calls returns how many calls of op the store had, failed ones included.
func (s *FailingStore) Calls(op Op) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// call counts a call of op and returns its error, if op is failing.
func (s *FailingStore) call(op Op) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	return s.fail[op]
}

// Insert is keystore.Store's.
func (s *FailingStore) Insert(ctx context.Context, r *keystore.Record) error {
	if err := s.call(OpInsert); err != nil {
		return err
	}
	return s.store.Insert(ctx, r)
}

// ByHash is keystore.Store's.
func (s *FailingStore) ByHash(ctx context.Context, hash string) (*keystore.Record, error) {
	if err := s.call(OpByHash); err != nil {
		return nil, err
	}
	return s.store.ByHash(ctx, hash)
}

// ByID is keystore.Store's.
func (s *FailingStore) ByID(ctx context.Context, id string) (*keystore.Record, error) {
	if err := s.call(OpByID); err != nil {
		return nil, err
	}
	return s.store.ByID(ctx, id)
}

// List is keystore.Store's.
func (s *FailingStore) List(ctx context.Context, q keystore.ListQuery) ([]keystore.Record, int64, error) {
	if err := s.call(OpList); err != nil {
		return nil, 0, err
	}
	return s.store.List(ctx, q)
}

// Modify is keystore.Store's.
func (s *FailingStore) Modify(ctx context.Context, id string, fn func(*keystore.Record) (*keystore.Record, error)) (*keystore.Record, error) {
	if err := s.call(OpModify); err != nil {
		return nil, err
	}
	return s.store.Modify(ctx, id, fn)
}

// Delete is keystore.Store's.
func (s *FailingStore) Delete(ctx context.Context, id string) error {
	if err := s.call(OpDelete); err != nil {
		return err
	}
	return s.store.Delete(ctx, id)
}

// Rotate is keystore.Rotator's.
func (s *FailingStore) Rotate(ctx context.Context, id string, fn func(old *keystore.Record) (changed, next *keystore.Record, err error)) (old, next *keystore.Record, err error) {
	if err := s.call(OpRotate); err != nil {
		return nil, nil, err
	}
	return s.store.Rotate(ctx, id, fn)
}

// InsertBatch is keystore.BulkInserter's.
func (s *FailingStore) InsertBatch(ctx context.Context, records []keystore.Record) error {
	if err := s.call(OpInsertBatch); err != nil {
		return err
	}
	return s.store.InsertBatch(ctx, records)
}

// AddUsage is keystore.UsageStore's.
func (s *FailingStore) AddUsage(ctx context.Context, batch []keystore.UsageDelta) error {
	if err := s.call(OpAddUsage); err != nil {
		return err
	}
	return s.store.AddUsage(ctx, batch)
}

// AddUsageOnce is keystore.OnceUsageStore's; it is OpAddUsage too.
func (s *FailingStore) AddUsageOnce(ctx context.Context, instance string, seq int64, batch []keystore.UsageDelta) error {
	if err := s.call(OpAddUsage); err != nil {
		return err
	}
	return s.store.AddUsageOnce(ctx, instance, seq, batch)
}

// Usage is keystore.UsageStore's.
func (s *FailingStore) Usage(ctx context.Context, id string, since string) (int64, []keystore.DayCount, error) {
	if err := s.call(OpUsage); err != nil {
		return 0, nil, err
	}
	return s.store.Usage(ctx, id, since)
}

// UsageSummaries is keystore.UsageStore's.
func (s *FailingStore) UsageSummaries(ctx context.Context, limit, offset int) ([]keystore.KeyUsage, int64, error) {
	if err := s.call(OpUsageSummaries); err != nil {
		return nil, 0, err
	}
	return s.store.UsageSummaries(ctx, limit, offset)
}

// Outcomes is keystore.OutcomeStore's.
func (s *FailingStore) Outcomes(ctx context.Context, id, since string) (map[string]int64, map[string]map[string]int64, error) {
	if err := s.call(OpOutcomes); err != nil {
		return nil, nil, err
	}
	return s.store.Outcomes(ctx, id, since)
}

// RefusalTotals is keystore.OutcomeStore's.
func (s *FailingStore) RefusalTotals(ctx context.Context, ids []string) (map[string]map[string]int64, error) {
	if err := s.call(OpRefusalTotals); err != nil {
		return nil, err
	}
	return s.store.RefusalTotals(ctx, ids)
}

// AddAudit is keystore.AuditStore's.
func (s *FailingStore) AddAudit(ctx context.Context, entries []keystore.AuditEntry) error {
	if err := s.call(OpAddAudit); err != nil {
		return err
	}
	return s.store.AddAudit(ctx, entries)
}

// Audit is keystore.AuditStore's.
func (s *FailingStore) Audit(ctx context.Context, q keystore.AuditQuery) ([]keystore.AuditEntry, int64, error) {
	if err := s.call(OpAudit); err != nil {
		return nil, 0, err
	}
	return s.store.Audit(ctx, q)
}

// PruneAudit is keystore.AuditStore's.
func (s *FailingStore) PruneAudit(ctx context.Context, before time.Time, limit int) (int64, error) {
	if err := s.call(OpPruneAudit); err != nil {
		return 0, err
	}
	return s.store.PruneAudit(ctx, before, limit)
}

// Notifier is the wrapped store's, or none.
func (s *FailingStore) Notifier(ctx context.Context, timeout time.Duration) (keystore.Notifier, error) {
	if src, ok := s.store.(keystore.NotifierSource); ok {
		return src.Notifier(ctx, timeout)
	}
	return nil, nil // NotifierSource's "no notifier"
}
