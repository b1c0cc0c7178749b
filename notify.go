package ginkey

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/ginkey/ginkey/internal/limits"
	"github.com/ginkey/ginkey/keystore"
)

// notifyState is the guard's notify component, its side of its keystore.Notifier:
// it drops what it hears from the cache, makes the whole cache stale when it
// starts hearing again, and logs each outage of the subscription twice, at
// its start and at its end, whatever the number of reconnection attempts.
type notifyState struct {
	notifier   keystore.Notifier
	keys       *keyCache
	now        func() time.Time
	done       chan struct{} // closed when Listen has returned
	subscribed atomic.Int64  // times Subscribed was called, for tests
	down       *limits.Outage
}

var _ keystore.Subscriber = (*notifyState)(nil)

// startNotify starts listening with n, stopped by Close.
func (g *Guard) startNotify(n keystore.Notifier) {
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

// announce tells the other instances that the key with hash h changed:
// within what is left of the management call's deadline (see adminOp), or,
// when the change used that up, in the background with a StoreTimeout of
// its own, since a revocation the others never hear of lasts CacheTTL. A
// failure is logged, not returned: the change itself is committed, and the
// others see it within CacheTTL.
func (g *Guard) announce(ctx context.Context, h *keyHash) {
	if g.notify == nil {
		return
	}
	g.inTimeOrLater(ctx, func(ctx context.Context) error {
		ctx, end := g.observed(ctx, "notify", false)
		err := g.notify.notifier.Publish(ctx, h.String())
		end(err)
		return err
	}, func(err error) {
		g.log.Warn("ginkey: a key change could not be announced to other instances; they see it within CacheTTL",
			"error", err)
	})
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
