package ginkey

import (
	"context"
	"errors"
	"net/http/httptest"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
)

// Usage through store faults: flushes that fail, whose outcome is unknown,
// or that are slow, and what the usage endpoints, quotas and Close make of
// them.

func TestUsageEndpointsAnswer503WhenPendingCountsCannotBeWritten(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.FlushInterval = time.Hour })
	k := h.createKey(`{}`)
	lift := h.refuseInserts("ginkey_usage")
	for range 5 {
		testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	}
	testkit.WantError(t, h.Admin("GET", "/usage", ""), 503, "unavailable")
	testkit.WantError(t, h.Admin("GET", "/keys/"+k.ID+"/usage", ""), 503, "unavailable")
	lift()
	w := h.Admin("GET", "/keys/"+k.ID+"/usage", "")
	var rep UsageReport
	testkit.Decode(t, w, &rep)
	if w.Code != 200 || rep.TotalRequests != 5 {
		t.Fatalf("after the fault: %d, total %d, want 200 and 5 (kept, not lost)", w.Code, rep.TotalRequests)
	}
}

func TestCloseRetriesAFailingFlushThenLogsWhatItDropped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.FlushInterval = time.Hour; c.StoreTimeout = 100 * time.Millisecond })
	k := h.createKey(`{}`)
	h.refuseInserts("ginkey_usage")
	for range 7 {
		testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	}
	start := time.Now()
	err := h.Guard.Close()
	took := time.Since(start)
	if err == nil {
		t.Fatal("Close reported no error although the usage could not be written")
	}
	if took < 400*time.Millisecond || took > 5*time.Second {
		t.Fatalf("Close gave up after %v; want about 5 x StoreTimeout (500 ms)", took)
	}
	if !regexp.MustCompile(`usage could not be written before closing; dropped" requests=7 `).MatchString(h.Logs.String()) {
		t.Fatalf("the dropped count is not logged:\n%s", h.Logs)
	}
}

// usageOf reads a key's total through the admin API (which flushes first).
func usageOf(t *testing.T, h *harness, id string) int64 {
	t.Helper()
	w := h.Admin("GET", "/keys/"+id+"/usage", "")
	if w.Code != 200 {
		t.Fatalf("usage: %d %s", w.Code, w.Body)
	}
	var rep UsageReport
	testkit.Decode(t, w, &rep)
	return rep.TotalRequests
}

func TestAFlushWhoseCommitReplyIsLostIsStoredOnceOnPostgreSQL(t *testing.T) {
	t.Parallel()
	h, proxy, _ := outageHarness(t, nil)
	k := h.createKey(`{}`)
	for range 1000 {
		testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	}
	proxy.loseNextCommitReply()
	// The batch is sent again at once, under its sequence number, on a
	// live connection: the store finds it written and changes nothing.
	if err := h.Guard.Flush(context.Background()); err != nil {
		t.Fatalf("the flush whose COMMIT reply was lost: %v; want it made again on a new connection", err)
	}
	if proxy.cuts.Load() == 0 {
		t.Fatal("the proxy never saw the flush's COMMIT")
	}
	if got := usageOf(t, h, k.ID); got != 1000 {
		t.Fatalf("1,000 requests served, %d stored", got)
	}
	// The instance's next batches are still written.
	for range 10 {
		testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	}
	if got := usageOf(t, h, k.ID); got != 1010 {
		t.Fatalf("1,010 requests served, %d stored", got)
	}
}

// lostReply is the real SQLite store whose first usage write commits and
// then reports failure, as a lost COMMIT reply would.
type lostReply struct {
	*gormstore.Store
	lost atomic.Bool
}

func (s *lostReply) AddUsageOnce(ctx context.Context, instance string, seq int64, batch []keystore.UsageDelta) error {
	err := s.Store.AddUsageOnce(ctx, instance, seq, batch)
	if err == nil && s.lost.CompareAndSwap(false, true) {
		return errors.New("connection reset after COMMIT")
	}
	return err
}

func TestAFlushWhoseOutcomeIsUnknownIsStoredOnceOnSQLite(t *testing.T) {
	t.Parallel()
	st := &lostReply{Store: newTestGormStore(t)}
	h := newHarness(t, func(c *Config) { c.Store = st; c.FlushInterval = time.Hour })
	k := h.createKey(`{}`)
	for range 1000 {
		testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	}
	if err := h.Guard.Flush(context.Background()); err == nil {
		t.Fatal("the lost reply was not reported")
	}
	for range 5 { // more requests meanwhile
		testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	}
	if got := usageOf(t, h, k.ID); got != 1005 {
		t.Fatalf("1,005 requests served, %d stored", got)
	}
	// Quotas count the same, with nothing left unsent.
	day := time.Now().UTC().Truncate(24 * time.Hour)
	if got, err := h.Guard.usedSince(context.Background(), []string{k.ID}, day, time.Now()); err != nil || got != 1005 {
		t.Fatalf("a quota read after the retry counts %d (%v), want 1005", got, err)
	}
}

// blockingUsage holds usage writes until released.
type blockingUsage struct {
	*gormstore.Store
	writing chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *blockingUsage) AddUsageOnce(ctx context.Context, instance string, seq int64, batch []keystore.UsageDelta) error {
	s.once.Do(func() { close(s.writing) })
	<-s.release
	return s.Store.AddUsageOnce(ctx, instance, seq, batch)
}

func TestAQuotaReadDoesNotWaitForASlowFlush(t *testing.T) {
	t.Parallel()
	st := &blockingUsage{Store: newTestGormStore(t), writing: make(chan struct{}), release: make(chan struct{})}
	h := newHarness(t, func(c *Config) { c.Store = st; c.FlushInterval = time.Hour })
	plain := h.createKey(`{}`)
	quota := h.createKey(`{"quota":{"requests":3,"per":"day"}}`)
	testkit.WantOK(t, h.Secure(plain.Secret), plain.ID)
	flushed := make(chan error)
	go func() { flushed <- h.Guard.Flush(context.Background()) }()
	<-st.writing // a flush is stuck in the store
	answered := make(chan *httptest.ResponseRecorder)
	go func() { answered <- h.Secure(quota.Secret) }()
	select {
	case w := <-answered:
		testkit.WantOK(t, w, quota.ID)
	case <-time.After(3 * time.Second):
		close(st.release)
		t.Fatal("a quota read waited for a flush stuck in the store")
	}
	close(st.release)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	testkit.WantOK(t, h.Secure(quota.Secret), quota.ID)
	testkit.WantOK(t, h.Secure(quota.Secret), quota.ID)
	testkit.WantError(t, h.Secure(quota.Secret), 429, "quota_exceeded")
}
