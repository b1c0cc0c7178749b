package ginkey

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
)

func TestDailyQuotaRefusesWithRetryAfterUntilMidnightUTC(t *testing.T) {
	t.Parallel()
	clock := newFakeClock() // 2026-11-25 12:00 UTC
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := h.createKey(`{"quota":{"requests":3,"per":"day"}}`)
	for i := range 3 {
		if w := h.Secure(k.Secret); w.Code != 200 {
			t.Fatalf("request %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	w := h.Secure(k.Secret)
	testkit.WantError(t, w, 429, "quota_exceeded")
	wantRetryAfter(t, w, 12*time.Hour)
	clock.Advance(12*time.Hour - time.Second)
	testkit.WantError(t, h.Secure(k.Secret), 429, "quota_exceeded")
	clock.Advance(time.Second) // a new UTC day
	for range 3 {
		if w := h.Secure(k.Secret); w.Code != 200 {
			t.Fatalf("next day: %d", w.Code)
		}
	}
	testkit.WantError(t, h.Secure(k.Secret), 429, "quota_exceeded")
}

func TestMonthlyQuotaRunsToTheFirstOfNextMonth(t *testing.T) {
	t.Parallel()
	clock := newFakeClock() // 2026-11-25 12:00 UTC
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := h.createKey(`{"quota":{"requests":2,"per":"month"},"never_expires":true}`)
	h.Secure(k.Secret)
	clock.Advance(24 * time.Hour) // counts of earlier days count
	h.Secure(k.Secret)
	w := h.Secure(k.Secret)
	testkit.WantError(t, w, 429, "quota_exceeded")
	wantRetryAfter(t, w, 4*24*time.Hour+12*time.Hour) // to 2026-12-01 00:00
	clock.Advance(4*24*time.Hour + 12*time.Hour)
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("new month: %d", w.Code)
	}
}

func TestQuotaCountsUnflushedAndEarlierUsage(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.FlushInterval = time.Hour })
	k := h.createKey(`{}`)
	for range 2 {
		h.Secure(k.Secret)
	}
	if err := h.Guard.Flush(context.Background()); err != nil { // 2 in the usage table
		t.Fatal(err)
	}
	for range 2 {
		h.Secure(k.Secret) // 2 pending in memory
	}
	if w := h.Admin("PATCH", "/keys/"+k.ID, `{"quota":{"requests":5,"per":"day"}}`); w.Code != 200 {
		t.Fatalf("PATCH: %d %s", w.Code, w.Body)
	}
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("5th request of the day: %d", w.Code)
	}
	testkit.WantError(t, h.Secure(k.Secret), 429, "quota_exceeded")
	// Lifting the quota applies on the next request.
	h.Admin("PATCH", "/keys/"+k.ID, `{"quota":null}`)
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("after lifting the quota: %d", w.Code)
	}
}

func TestQuotaSurvivesARestart(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := h.createKey(`{"quota":{"requests":4,"per":"day"}}`)
	for range 3 {
		testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	}
	if err := h.Guard.Close(); err != nil {
		t.Fatal(err)
	}
	h.Serve(New(Config{DBPath: h.DBPath, AdminSecret: testSecret, LookupEnv: testkit.NoEnv, Logger: slogDiscard(), Now: clock.Now}))
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("4th request, after restart: %d", w.Code)
	}
	testkit.WantError(t, h.Secure(k.Secret), 429, "quota_exceeded")
}

func TestQuotaSeesAnotherInstancesFlushedUsageWithinCacheTTL(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	a := newHarness(t, func(c *Config) { c.Now = clock.Now; c.FlushInterval = time.Hour })
	b := newHarness(t, func(c *Config) {
		c.DBPath = a.DBPath
		c.Now = clock.Now
		c.FlushInterval = time.Hour
	})
	k := a.createKey(`{"quota":{"requests":10,"per":"day"}}`)
	for range 4 {
		if w := b.Secure(k.Secret); w.Code != 200 {
			t.Fatalf("b: %d", w.Code)
		}
	}
	for range 4 {
		if w := a.Secure(k.Secret); w.Code != 200 {
			t.Fatalf("a: %d", w.Code)
		}
	}
	if err := a.Guard.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Guard.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// b counted 4 of its own; once its count is due for a re-read it sees a's 4 too.
	clock.Advance(defaultCacheTTL)
	b.Secure(k.Secret) // 9
	b.Secure(k.Secret) // 10
	testkit.WantError(t, b.Secure(k.Secret), 429, "quota_exceeded")
}

func TestRefusedRequestsDoNotCountAgainstTheQuota(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	h.Route("GET", "/items", h.Guard.Require("items:read"))
	k := h.createKey(`{"quota":{"requests":2,"per":"day"},"rate_limit":{"requests":1,"per":"1s"}}`)
	for range 5 {
		testkit.WantError(t, h.Get("192.0.2.1:1", "/items", k.Secret), 403, "insufficient_scope")
	}
	h.Secure(k.Secret)
	testkit.WantError(t, h.Secure(k.Secret), 429, "rate_limited")
	clock.Advance(time.Second)
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("2nd counted request: %d %s", w.Code, w.Body)
	}
	clock.Advance(time.Second)
	testkit.WantError(t, h.Secure(k.Secret), 429, "quota_exceeded")
}

// storeOnly hides every optional interface of the store it wraps, UsageStore
// among them.
type storeOnly struct{ keystore.Store }

func TestQuotaWithoutAUsageStoreHoldsAcrossCacheTTL(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	gs := newTestGormStore(t)
	h := newHarness(t, func(c *Config) { c.Store = storeOnly{gs}; c.Now = clock.Now })
	k := h.createKey(`{"quota":{"requests":3,"per":"day"}}`)
	admitted := 0
	for range 30 {
		if w := h.Secure(k.Secret); w.Code == 200 {
			admitted++
		} else {
			testkit.WantError(t, w, 429, "quota_exceeded")
		}
		clock.Advance(defaultCacheTTL)
	}
	if admitted != 3 {
		t.Fatalf("%d requests admitted within a day under a quota of 3/day", admitted)
	}
}

// slowUsage is a store whose usage reads take 50 ms, as a loaded database's.
type slowUsage struct{ *testkit.FailingStore }

func (s slowUsage) Usage(ctx context.Context, id, since string) (int64, []keystore.DayCount, error) {
	time.Sleep(50 * time.Millisecond)
	return s.FailingStore.Usage(ctx, id, since)
}

// TestABurstAtAPeriodsStartGetsNoMoreThanTheQuota: 20 requests at once,
// each finding the key's count for the day unread, each reading the usage:
// one is let through under a quota of 1 (all 20 were, each read setting
// the count back to what the store held).
func TestABurstAtAPeriodsStartGetsNoMoreThanTheQuota(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.Store = slowUsage{newFailingStore(t)} })
	k := h.createKey(`{"quota":{"requests":1,"per":"day"}}`)
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if w := h.Secure(k.Secret); w.Code == 200 {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if n := admitted.Load(); n != 1 {
		t.Fatalf("a quota of 1 let %d of 20 simultaneous first requests through", n)
	}
}
