package ginkey

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
	"github.com/ginkey/ginkey/observe"
)

// hub is a keystore.Notifier for guards in one process, delivering each
// announcement before Publish returns: a carrier other than PostgreSQL,
// plugged in through Config.Notifier as a Redis one would be.
type hub struct {
	mu   sync.Mutex
	subs map[keystore.Subscriber]bool
}

var _ keystore.Notifier = (*hub)(nil)

func (h *hub) Publish(_ context.Context, keyHash string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.Changed(keyHash)
	}
	return nil
}

func (h *hub) Listen(ctx context.Context, s keystore.Subscriber) error {
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[keystore.Subscriber]bool{}
	}
	h.subs[s] = true
	h.mu.Unlock()
	s.Subscribed()
	<-ctx.Done()
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
	return nil
}

func TestAConfiguredNotifierCarriesEveryChangeToTheOtherGuards(t *testing.T) {
	t.Parallel()
	n := &hub{}
	st := newTestGormStore(t)
	mod := func(c *Config) { c.Store, c.Notifier, c.CacheTTL = st, n, time.Hour }
	a, b := newHarness(t, mod), newHarness(t, mod)
	waitSubscribed(t, b.Guard, 1)
	k := a.createKey(`{}`)
	for range 2 {
		if w := b.Secure(k.Secret); w.Code != http.StatusOK {
			t.Fatalf("before: %d %s", w.Code, w.Body)
		}
	}
	if w := a.Admin(http.MethodPost, "/keys/"+k.ID+"/revoke", ""); w.Code != http.StatusOK {
		t.Fatalf("revoke: %d", w.Code)
	}
	testkit.WantError(t, b.Secure(k.Secret), http.StatusUnauthorized, "key_revoked")
}

func TestAnAnnouncedChangeVoidsAnotherGuardsReadFromBeforeIt(t *testing.T) {
	t.Parallel()
	n := &hub{}
	st := &readThenWait{Store: newTestGormStore(t), release: make(chan struct{}), reading: make(chan struct{})}
	a := newHarness(t, func(c *Config) { c.Store, c.Notifier = st.Store, n })
	b := newHarness(t, func(c *Config) { c.Store, c.Notifier, c.CacheTTL = st, n, time.Hour })
	waitSubscribed(t, b.Guard, 1)
	k := a.createKey(`{}`)
	st.hold.Store(true)
	before := make(chan int)
	go func() { before <- b.Secure(k.Secret).Code }()
	<-st.reading // B has read the key as active; its answer is held
	if w := a.Admin(http.MethodPost, "/keys/"+k.ID+"/revoke", ""); w.Code != http.StatusOK {
		t.Fatalf("revoke: %d", w.Code)
	}
	close(st.release)
	<-before // concurrent with the revoke: either answer is right
	// The read from before the revoke landed after the announcement: it
	// must not have been cached.
	testkit.WantError(t, b.Secure(k.Secret), http.StatusUnauthorized, "key_revoked")
}

func TestListeningAgainRereadsEveryCachedKeyAndAnOutageIsLoggedOnce(t *testing.T) {
	t.Parallel()
	n := &hub{}
	st := newTestGormStore(t)
	h := newHarness(t, func(c *Config) { c.Store, c.Notifier, c.CacheTTL = st, n, time.Hour })
	waitSubscribed(t, h.Guard, 1)
	k := h.createKey(`{}`)
	if w := h.Secure(k.Secret); w.Code != http.StatusOK {
		t.Fatalf("before: %d", w.Code)
	}
	now := time.Now().UTC()
	if _, err := st.Modify(context.Background(), k.ID, func(r *keystore.Record) (*keystore.Record, error) { r.RevokedAt = &now; return r, nil }); err != nil { // unannounced
		t.Fatal(err)
	}
	if w := h.Secure(k.Secret); w.Code != http.StatusOK {
		t.Fatalf("an unannounced change is seen within CacheTTL, not before: %d", w.Code)
	}
	for range 3 { // three failed reconnection attempts: one outage
		h.Guard.notify.Lost(errors.New("connection refused"))
	}
	h.Guard.notify.Subscribed()
	testkit.WantError(t, h.Secure(k.Secret), http.StatusUnauthorized, "key_revoked")
	logs := h.Logs.String()
	if got := strings.Count(logs, "not hearing key changes"); got != 1 {
		t.Errorf("outage start logged %d times, want once:\n%s", got, logs)
	}
	if got := strings.Count(logs, "hearing key changes from other instances again"); got != 1 {
		t.Errorf("outage end logged %d times, want once:\n%s", got, logs)
	}
}

func TestAFailedAnnouncementIsLoggedAndTheChangeStands(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.Notifier = failingNotifier{} })
	k := h.createKey(`{}`)
	if w := h.Admin(http.MethodPost, "/keys/"+k.ID+"/revoke", ""); w.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	testkit.WantError(t, h.Secure(k.Secret), http.StatusUnauthorized, "key_revoked")
	if !strings.Contains(h.Logs.String(), "could not be announced") {
		t.Fatalf("no warning:\n%s", h.Logs)
	}
}

type failingNotifier struct{}

func (failingNotifier) Publish(context.Context, string) error { return errors.New("carrier down") }
func (failingNotifier) Listen(ctx context.Context, s keystore.Subscriber) error {
	s.Subscribed()
	<-ctx.Done()
	return nil
}

// opRecorder is an observe.Observer that notes the store operations it is told of.
type opRecorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *opRecorder) Store(ctx context.Context, op string) (context.Context, func(string)) {
	return ctx, func(outcome string) {
		r.mu.Lock()
		r.ops = append(r.ops, op+":"+outcome)
		r.mu.Unlock()
	}
}

func (r *opRecorder) Admin(ctx context.Context, _ string) (context.Context, func(string)) {
	return ctx, nil
}

func TestAnnouncementsAreObservedAsStoreOperations(t *testing.T) {
	t.Parallel()
	rec := &opRecorder{}
	h := newHarness(t, func(c *Config) { c.Notifier, c.Observers = &hub{}, []observe.Observer{rec} })
	k := h.createKey(`{}`)
	if w := h.Admin(http.MethodPost, "/keys/"+k.ID+"/revoke", ""); w.Code != http.StatusOK {
		t.Fatalf("revoke: %d", w.Code)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !strings.Contains(strings.Join(rec.ops, " "), "notify:ok") {
		t.Fatalf("observed %v, want notify:ok", rec.ops)
	}
}

// lateCommits is a store whose changes commit just before the management
// call's deadline, as on a database that answers slowly: the call leaves
// almost nothing of its deadline to announce them.
type lateCommits struct {
	*gormstore.Store
	left time.Duration // of the deadline when the change commits
}

func (s *lateCommits) Modify(ctx context.Context, id string, fn func(*keystore.Record) (*keystore.Record, error)) (*keystore.Record, error) {
	if d, ok := ctx.Deadline(); ok {
		time.Sleep(time.Until(d) - s.left)
	}
	return s.Store.Modify(context.WithoutCancel(ctx), id, fn)
}

// slowHub is a hub whose announcements take a round trip, and honour the
// caller's deadline as a network carrier does.
type slowHub struct {
	hub
	trip time.Duration
}

func (h *slowHub) Publish(ctx context.Context, keyHash string) error {
	select {
	case <-time.After(h.trip):
		return h.hub.Publish(ctx, keyHash)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestAChangeCommittedAtTheEndOfItsDeadlineIsStillAnnounced(t *testing.T) {
	t.Parallel()
	n := &slowHub{trip: 50 * time.Millisecond}
	st := &lateCommits{Store: newTestGormStore(t), left: 10 * time.Millisecond}
	a := newHarness(t, func(c *Config) { c.Store, c.Notifier, c.StoreTimeout = st, n, 100*time.Millisecond })
	b := newHarness(t, func(c *Config) { c.Store, c.Notifier, c.CacheTTL = st.Store, n, time.Hour })
	waitSubscribed(t, b.Guard, 1)
	k := a.createKey(`{}`)
	if w := b.Secure(k.Secret); w.Code != http.StatusOK {
		t.Fatalf("before: %d %s", w.Code, w.Body)
	}
	if w := a.Admin(http.MethodPost, "/keys/"+k.ID+"/revoke", ""); w.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	// The announcement, sent in the background once the call's deadline
	// has run out, reaches b within a round trip; b's cache would keep the
	// key for an hour.
	deadline := time.Now().Add(2 * time.Second)
	for b.Secure(k.Secret).Code == http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("another instance still admits the key revoked 2s ago: its announcement was lost\n%s",
				strings.Join(a.Logs.Lines("announced"), "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	testkit.WantError(t, b.Secure(k.Secret), http.StatusUnauthorized, "key_revoked")
}
