package ginkey

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Notifier carries word of key changes between guards that share a store,
// so that a key revoked, deleted, renewed or updated through one instance
// (or the CLI) is dropped from every other instance's cache at once, rather
// than within CacheTTL. On PostgreSQL the guard uses LISTEN/NOTIFY by
// itself; a Notifier over another channel (Redis pub/sub, say) plugs in
// through Config.Notifier.
//
// A change is named by the SHA-256 hash of its key, in hex, as the store
// keeps it: what the cache is indexed by. It is no secret (the key cannot be
// derived from it) and never the key itself.
type Notifier interface {
	// Publish announces that the key with hash keyHash changed. The guard
	// calls it after each write to the store has committed.
	Publish(ctx context.Context, keyHash string) error

	// Listen delivers announcements, this guard's own included, to s until
	// ctx is done, and then returns nil; any other error it returns means
	// it cannot listen at all. It reconnects by itself, with backoff, when
	// its connection breaks, and tells s: Lost when it stops hearing,
	// Subscribed each time it hears again (the first time too).
	Listen(ctx context.Context, s Subscriber) error
}

// Subscriber receives what a Notifier's Listen hears. The guard implements
// it; its methods return at once.
type Subscriber interface {
	// Subscribed reports that announcements are heard from now on. Those
	// made before may have been missed: the guard reads every key it has
	// cached again at its next request.
	Subscribed()
	// Changed reports an announcement: the guard drops the key's record.
	Changed(keyHash string)
	// Lost reports that announcements are not heard for now, and why.
	// Records then go stale within CacheTTL, as without a Notifier.
	Lost(err error)
}

// notifyState is the guard's side of its Notifier: it drops what it hears
// from the cache, makes the whole cache stale when it starts hearing again, and logs each outage of the subscription twice, at its
// start and at its end, whatever the number of reconnection attempts.
type notifyState struct {
	g          *Guard
	done       chan struct{} // closed when Listen has returned
	subscribed atomic.Int64  // times Subscribed was called, for tests

	mu    sync.Mutex
	down  bool
	since time.Time
}

var _ Subscriber = (*notifyState)(nil)

// startNotify starts listening with n, stopped by Close.
func (g *Guard) startNotify(n Notifier) {
	g.notifier = n
	g.notify = &notifyState{g: g, done: make(chan struct{})}
	go func() {
		defer close(g.notify.done)
		if err := n.Listen(g.stopCtx, g.notify); err != nil {
			g.log.Error("ginkey: cannot listen for key changes from other instances; they are seen within CacheTTL",
				"error", err)
		}
	}()
}

// stopNotify waits for the listener that Close has cancelled.
func (g *Guard) stopNotify() {
	if g.notify != nil {
		<-g.notify.done
	}
}

// announce tells the other instances that the key with hash h changed. A
// failure is logged, not returned: the change itself is committed, and the
// others see it within CacheTTL.
func (g *Guard) announce(h *keyHash) {
	if g.notifier == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.adminTimeout())
	defer cancel()
	ctx, end := g.observed(ctx, "notify", false)
	err := g.notifier.Publish(ctx, h.String())
	end(err)
	if err != nil {
		g.log.Warn("ginkey: a key change could not be announced to other instances; they see it within CacheTTL",
			"error", err)
	}
}

func (s *notifyState) Changed(keyHash string) {
	if h, ok := parseKeyHash(keyHash); ok {
		s.g.drop(&h)
	}
}

func (s *notifyState) Subscribed() {
	s.g.expireAll()
	s.subscribed.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.down {
		return
	}
	s.down = false
	s.g.log.Info("ginkey: hearing key changes from other instances again; every cached key is read again, since some may have been missed",
		"down_for", s.g.now().Sub(s.since).Round(time.Millisecond).String())
}

func (s *notifyState) Lost(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return
	}
	s.down, s.since = true, s.g.now()
	s.g.log.Warn("ginkey: not hearing key changes from other instances; until this is over, they are seen within CacheTTL",
		"error", err, "cache_ttl", s.g.cacheTTL.String())
}
