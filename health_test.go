package ginkey

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
)

// errRefused is an unreachable database's error.
var errRefused = errors.New("connection refused")

// A clock set back makes a record look younger than it is: it must not
// vouch for its key through an outage.
func TestAClockSetBackServesNothingStale(t *testing.T) {
	t.Parallel()
	st := newFailingStore(t)
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Store = st; c.Now = clock.Now })
	k := h.createKey(`{"never_expires":true}`)
	testkit.WantOK(t, h.Secure(k.Secret), k.ID) // read at t0
	st.FailWith(errRefused, testkit.OpByHash)
	clock.Advance(-time.Hour) // the record now seems read an hour from now
	testkit.WantError(t, h.Secure(k.Secret), 503, "unavailable")
}

// While the store is down one request a second may try it. A client
// refused by the failure throttle must not use that try up.
func TestAThrottledClientDoesNotUseUpTheStoreProbe(t *testing.T) {
	t.Parallel()
	st := newFailingStore(t)
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Store = st; c.Now = clock.Now; c.FailureLimit = 1 })
	if err := h.Engine.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	good := h.createKey(`{}`)
	const guesser, client = "203.0.113.9:1", "198.51.100.3:1"
	testkit.WantError(t, h.Get(guesser, "/secure", unknownKey(t, h)), 401, "key_invalid") // its allowance spent
	st.FailWith(errRefused, testkit.OpByHash)
	testkit.WantError(t, h.Get(client, "/secure", unknownKey(t, h)), 503, "unavailable") // the store is found down
	st.Heal()
	clock.Advance(2 * time.Second) // a probe is due
	testkit.WantError(t, h.Get(guesser, "/secure", unknownKey(t, h)), 429, "too_many_failures")
	testkit.WantOK(t, h.Get(client, "/secure", good.Secret), good.ID) // the probe, not a 503
}

// Only a failed store call starts an outage: a request answered 503 just
// after the store came back must not declare it down again.
func TestA503NeverStartsAnOutage(t *testing.T) {
	t.Parallel()
	h := storeHealth{log: slog.New(slog.DiscardHandler)}
	h.unavailable()
	h.servedStale()
	if h.down.Load() {
		t.Fatal("a 503 marked the store down")
	}
	if !h.allow(time.Now().UnixNano()) {
		t.Fatal("the store is up, yet a request may not try it")
	}
}

// usageSeen holds the first usage write until its context ends, and says
// how it ended; later writes fail at once.
type usageSeen struct {
	*gormstore.Store
	ended chan error
	first atomic.Bool
}

func (s *usageSeen) AddUsageOnce(ctx context.Context, _ string, _ int64, _ []keystore.UsageDelta) error {
	if !s.first.CompareAndSwap(false, true) {
		return errors.New("usage table unavailable")
	}
	<-ctx.Done()
	s.ended <- ctx.Err()
	return ctx.Err()
}

// Close cancels the flusher's write instead of waiting for its timeout and
// then making its own attempt: Close's bound is its own retry's, no more.
func TestCloseCancelsAFlushUnderWay(t *testing.T) {
	t.Parallel()
	st := &usageSeen{Store: newTestGormStore(t), ended: make(chan error, 1)}
	// The flusher's write may take 5 x StoreTimeout = 2.5 s; Close comes
	// after 200 ms and must cut it short.
	h := newHarness(t, func(c *Config) {
		c.Store = st
		c.FlushInterval = 20 * time.Millisecond
		c.StoreTimeout = 500 * time.Millisecond
	})
	k := h.createKey(`{}`)
	if w := h.Secure(k.Secret); w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	time.Sleep(200 * time.Millisecond) // the flusher is inside a write
	go func() { _ = h.Guard.Close() }()
	select {
	case err := <-st.ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the flusher's write ended with %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close left the flusher's write running")
	}
}
