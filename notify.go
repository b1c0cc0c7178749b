package ginkey

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/ginkey/ginkey/internal/limits"
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

// notifyState is the guard's notify component, its side of its Notifier:
// it drops what it hears from the cache, makes the whole cache stale when it
// starts hearing again, and logs each outage of the subscription twice, at
// its start and at its end, whatever the number of reconnection attempts.
type notifyState struct {
	notifier   Notifier
	keys       *keyCache
	now        func() time.Time
	done       chan struct{} // closed when Listen has returned
	subscribed atomic.Int64  // times Subscribed was called, for tests
	down       *limits.Outage
}

var _ Subscriber = (*notifyState)(nil)

// startNotify starts listening with n, stopped by Close.
func (g *Guard) startNotify(n Notifier) {
	s := &notifyState{notifier: n, keys: &g.keys, now: g.now, done: make(chan struct{})}
	s.down = limits.NewOutage(g.log, g.now, limits.OutageLog{
		Start:      "ginkey: not hearing key changes from other instances; until this is over, they are seen within CacheTTL",
		StartAttrs: []any{"cache_ttl", g.keys.ttl.String()},
		End:        "ginkey: hearing key changes from other instances again; every cached key is read again, since some may have been missed",
		Lasted:     "down_for",
	})
	g.notify = s
	go func() {
		defer close(s.done)
		if err := n.Listen(g.life.ctx, s); err != nil {
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
	if g.notify == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.adminTimeout())
	defer cancel()
	ctx, end := g.observed(ctx, "notify", false)
	err := g.notify.notifier.Publish(ctx, h.String())
	end(err)
	if err != nil {
		g.log.Warn("ginkey: a key change could not be announced to other instances; they see it within CacheTTL",
			"error", err)
	}
}

func (s *notifyState) Changed(keyHash string) {
	if h, ok := parseKeyHash(keyHash); ok {
		s.keys.Drop(hashOf(&h))
	}
}

func (s *notifyState) Subscribed() {
	s.keys.ExpireAll(s.now().UnixNano())
	s.subscribed.Add(1)
	s.down.OK()
}

func (s *notifyState) Lost(err error) { s.down.Failed(err, false) }
