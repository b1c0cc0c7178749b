package ginkey

import (
	"context"
	"testing"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

func TestDailyQuotaRefusesWithRetryAfterUntilMidnightUTC(t *testing.T) {
	t.Parallel()
	clock := newFakeClock() // 2026-11-25 12:00 UTC
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := h.createKey(`{"quota":{"requests":3,"per":"day"}}`)
	for i := range 3 {
		if w := h.secure(k.Secret); w.Code != 200 {
			t.Fatalf("request %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	w := h.secure(k.Secret)
	wantError(t, w, 429, "quota_exceeded")
	wantRetryAfter(t, w, 12*time.Hour)
	clock.Advance(12*time.Hour - time.Second)
	wantError(t, h.secure(k.Secret), 429, "quota_exceeded")
	clock.Advance(time.Second) // a new UTC day
	for range 3 {
		if w := h.secure(k.Secret); w.Code != 200 {
			t.Fatalf("next day: %d", w.Code)
		}
	}
	wantError(t, h.secure(k.Secret), 429, "quota_exceeded")
}

func TestMonthlyQuotaRunsToTheFirstOfNextMonth(t *testing.T) {
	t.Parallel()
	clock := newFakeClock() // 2026-11-25 12:00 UTC
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := h.createKey(`{"quota":{"requests":2,"per":"month"},"never_expires":true}`)
	h.secure(k.Secret)
	clock.Advance(24 * time.Hour) // counts of earlier days count
	h.secure(k.Secret)
	w := h.secure(k.Secret)
	wantError(t, w, 429, "quota_exceeded")
	wantRetryAfter(t, w, 4*24*time.Hour+12*time.Hour) // to 2026-12-01 00:00
	clock.Advance(4*24*time.Hour + 12*time.Hour)
	if w := h.secure(k.Secret); w.Code != 200 {
		t.Fatalf("new month: %d", w.Code)
	}
}

func TestQuotaCountsUnflushedAndEarlierUsage(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.FlushInterval = time.Hour })
	k := h.createKey(`{}`)
	for range 2 {
		h.secure(k.Secret)
	}
	if err := h.guard.Flush(context.Background()); err != nil { // 2 in the usage table
		t.Fatal(err)
	}
	for range 2 {
		h.secure(k.Secret) // 2 pending in memory
	}
	if w := h.admin("PATCH", "/keys/"+k.ID, `{"quota":{"requests":5,"per":"day"}}`); w.Code != 200 {
		t.Fatalf("PATCH: %d %s", w.Code, w.Body)
	}
	if w := h.secure(k.Secret); w.Code != 200 {
		t.Fatalf("5th request of the day: %d", w.Code)
	}
	wantError(t, h.secure(k.Secret), 429, "quota_exceeded")
	// Lifting the quota applies on the next request.
	h.admin("PATCH", "/keys/"+k.ID, `{"quota":null}`)
	if w := h.secure(k.Secret); w.Code != 200 {
		t.Fatalf("after lifting the quota: %d", w.Code)
	}
}

func TestQuotaSurvivesARestart(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := h.createKey(`{"quota":{"requests":4,"per":"day"}}`)
	for range 3 {
		wantOK(t, h.secure(k.Secret), k.ID)
	}
	if err := h.guard.Close(); err != nil {
		t.Fatal(err)
	}
	h.start(Config{DBPath: h.dbPath, AdminSecret: testSecret, LookupEnv: noEnv, Logger: slogDiscard(), Now: clock.Now})
	if w := h.secure(k.Secret); w.Code != 200 {
		t.Fatalf("4th request, after restart: %d", w.Code)
	}
	wantError(t, h.secure(k.Secret), 429, "quota_exceeded")
}

func TestQuotaSeesAnotherInstancesFlushedUsageWithinCacheTTL(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	a := newHarness(t, func(c *Config) { c.Now = clock.Now; c.FlushInterval = time.Hour })
	b := newHarness(t, func(c *Config) {
		c.DBPath = a.dbPath
		c.Now = clock.Now
		c.FlushInterval = time.Hour
	})
	k := a.createKey(`{"quota":{"requests":10,"per":"day"}}`)
	for range 4 {
		if w := b.secure(k.Secret); w.Code != 200 {
			t.Fatalf("b: %d", w.Code)
		}
	}
	for range 4 {
		if w := a.secure(k.Secret); w.Code != 200 {
			t.Fatalf("a: %d", w.Code)
		}
	}
	if err := a.guard.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.guard.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// b counted 4 of its own; once its count is due for a re-read it sees a's 4 too.
	clock.Advance(defaultCacheTTL)
	b.secure(k.Secret) // 9
	b.secure(k.Secret) // 10
	wantError(t, b.secure(k.Secret), 429, "quota_exceeded")
}

func TestRefusedRequestsDoNotCountAgainstTheQuota(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	h.route("GET", "/items", h.guard.Require("items:read"))
	k := h.createKey(`{"quota":{"requests":2,"per":"day"},"rate_limit":{"requests":1,"per":"1s"}}`)
	for range 5 {
		wantError(t, h.get("192.0.2.1:1", "/items", k.Secret), 403, "insufficient_scope")
	}
	h.secure(k.Secret)
	wantError(t, h.secure(k.Secret), 429, "rate_limited")
	clock.Advance(time.Second)
	if w := h.secure(k.Secret); w.Code != 200 {
		t.Fatalf("2nd counted request: %d %s", w.Code, w.Body)
	}
	clock.Advance(time.Second)
	wantError(t, h.secure(k.Secret), 429, "quota_exceeded")
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
		if w := h.secure(k.Secret); w.Code == 200 {
			admitted++
		} else {
			wantError(t, w, 429, "quota_exceeded")
		}
		clock.Advance(defaultCacheTTL)
	}
	if admitted != 3 {
		t.Fatalf("%d requests admitted within a day under a quota of 3/day", admitted)
	}
}
