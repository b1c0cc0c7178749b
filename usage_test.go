package ginkey

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Found by the Swagger UI browser test under -race: a drain that met an
// empty shard ranged over the shard's live map after unlocking it.
func TestDrainRacesWithRecordOnEmptyShards(t *testing.T) {
	t.Parallel()
	r := &usageRecorder{}
	r.init(1 << 20)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range 2000 {
			r.record("k", int64(i))
		}
	}()
	total := int64(0)
	go func() {
		defer wg.Done()
		for range 2000 {
			for _, d := range r.drain() {
				total += d.Requests
			}
		}
	}()
	wg.Wait()
	for _, d := range r.drain() {
		total += d.Requests
	}
	if total != 2000 {
		t.Fatalf("counted %d requests, want 2000", total)
	}
}

// failingUsage is a store whose usage writes always fail.
type failingUsage struct {
	*gormStore
	calls atomic.Int64
}

func (f *failingUsage) AddUsage(context.Context, []UsageDelta) error {
	f.calls.Add(1)
	return errors.New("usage table unavailable")
}

func (f *failingUsage) AddUsageOnce(ctx context.Context, _ string, _ int64, batch []UsageDelta) error {
	return f.AddUsage(ctx, batch)
}

// While the store fails, a full recorder must not turn every request into a
// flush attempt (and an error log line): retries wait for the ticker.
func TestFailingFlushesRetryOnTheTickerNotOnEveryKick(t *testing.T) {
	t.Parallel()
	st := &failingUsage{gormStore: newTestGormStore(t)}
	h := newHarness(t, func(c *Config) { c.Store = st; c.FlushInterval = time.Hour; c.StoreTimeout = 100 * time.Millisecond })
	k := h.createKey(`{}`)
	h.secure(k.Secret)
	kick := func() {
		select {
		case h.guard.usage.kick <- struct{}{}:
		default:
		}
	}
	kick()
	deadline := time.Now().Add(5 * time.Second)
	for st.calls.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the kick did not start a flush")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 50 {
		kick()
		time.Sleep(4 * time.Millisecond)
	}
	if n := st.calls.Load(); n != 1 {
		t.Fatalf("%d flush attempts after a failure within one FlushInterval, want 1", n)
	}
	if err := h.guard.Close(); err == nil { // its final flush fails too, and says so
		t.Fatal("Close hid the failed flush")
	}
	// Close retries for 5 x StoreTimeout, half a second apart at most.
	if n := st.calls.Load() - 1; n < 2 || n > 5 {
		t.Fatalf("Close made %d attempts, want a bounded retry (2 to 5 in 500 ms)", n)
	}
}

// The conformance of OnceUsageStore on every dialect: a batch sent again
// under its sequence number is not counted again; later ones are, and each
// instance has its own numbers.
func TestUsageBatchesAreAppliedOncePerInstanceAndSequence(t *testing.T) {
	t.Parallel()
	forEachStore(t, batchesApplyOnce)
}

// MySQL counts an unchanged row as affected when the DSN asks for found
// rows; the mark must not depend on it.
func TestUsageBatchesAreAppliedOnceOnMySQLCountingFoundRows(t *testing.T) {
	t.Parallel()
	db, err := gorm.Open(mysql.Open(mysqlDSN(t)+"&clientFoundRows=true"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("MySQL: %v", err)
	}
	prefix := uniquePrefix(t)
	t.Cleanup(func() { dropAndClose(db, prefix) })
	s, err := newGormStore(context.Background(), db, prefix)
	if err != nil {
		t.Fatal(err)
	}
	batchesApplyOnce(t, s)
}

func batchesApplyOnce(t *testing.T, s *gormStore) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if err := s.Insert(ctx, testRecord(t, "once", now, nil)); err != nil {
		t.Fatal(err)
	}
	batch := func(n int64) []UsageDelta {
		return []UsageDelta{{KeyID: "once", Day: "2026-11-25", Requests: n, LastUsed: now}}
	}
	for _, step := range []struct {
		instance string
		seq, n   int64
	}{
		{"a", 1, 10}, {"a", 1, 10}, // the same batch again: a no-op
		{"a", 2, 5}, {"a", 1, 10}, {"a", 2, 5}, // older numbers too
		{"b", 1, 7}, // another instance's own numbering
	} {
		if err := s.AddUsageOnce(ctx, step.instance, step.seq, batch(step.n)); err != nil {
			t.Fatal(err)
		}
	}
	total, _, err := s.Usage(ctx, "once", "2026-11-01")
	if err != nil || total != 22 {
		t.Fatalf("total %d (%v), want 10+5+7 = 22", total, err)
	}
}
