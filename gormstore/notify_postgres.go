package gormstore

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/ginkey/ginkey/keystore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Reconnection of the PostgreSQL listener: the first retry comes soon, so
// that a connection killed under a healthy server is back within a few
// tens of milliseconds; then the wait doubles, up to a bound, so that a
// server that is down is not hammered by every instance at once.
const (
	pgListenRetryMin = 50 * time.Millisecond
	pgListenRetryMax = 5 * time.Second
	// pgListenPing is how long the listener waits for a notification before
	// it checks its connection is alive: a peer gone without a word (a
	// failover, a dropped route) would otherwise leave it waiting for ever.
	pgListenPing = 15 * time.Second
)

// pgNotifier announces key changes with NOTIFY on the store's own
// connections, and hears them with LISTEN on a connection of its own,
// opened with the settings of the store's.
type pgNotifier struct {
	db      *gorm.DB
	channel string
	config  *pgx.ConnConfig // the listener's connection; copied for each attempt
	timeout time.Duration   // of a connection attempt and of a ping
	ping    time.Duration   // pgListenPing; shorter in tests
}

var _ keystore.Notifier = (*pgNotifier)(nil)

// pgChannel names the notification channel of the tables under prefix, so
// that two sets of tables in one database do not hear each other.
func pgChannel(prefix string) string { return prefix + "keys_changed" }

// newPgNotifier returns the Notifier of a PostgreSQL store on db, whose
// tables are named with prefix.
func newPgNotifier(ctx context.Context, db *gorm.DB, prefix string, timeout time.Duration) (*pgNotifier, error) {
	cfg, err := pgxConfig(ctx, db)
	if err != nil {
		return nil, err
	}
	channel := pgChannel(prefix)
	// Named, so that an operator can tell it apart in pg_stat_activity.
	cfg.RuntimeParams["application_name"] = "ginkey listener " + channel
	// The copy still delivers notifications to the pool's connection it
	// came from; pgx sets its own when this is nil.
	cfg.OnNotification = nil
	return &pgNotifier{db: db, channel: channel, config: cfg, timeout: timeout, ping: pgListenPing}, nil
}

// Publish announces keyHash with NOTIFY.
func (n *pgNotifier) Publish(ctx context.Context, keyHash string) error {
	// A notification heard twice drops a cache entry twice: made again
	// after a lost connection whatever became of the first.
	return retried(ctx, n.db, func(db *gorm.DB) error {
		return db.Exec("SELECT pg_notify(?, ?)", n.channel, keyHash).Error
	}, nil)
}

// Listen hears announcements with LISTEN, reconnecting with backoff.
func (n *pgNotifier) Listen(ctx context.Context, s keystore.Subscriber) error {
	wait := pgListenRetryMin
	for {
		heard, err := n.listen(ctx, s)
		if ctx.Err() != nil {
			return nil
		}
		if heard {
			wait = pgListenRetryMin
		}
		s.Lost(err)
		// Full jitter over the upper half: instances that lost the server
		// together do not all come back in the same instant.
		t := time.NewTimer(wait/2 + rand.N(wait/2+1)) //nolint:gosec // spreading retries needs no secure randomness
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, pgListenRetryMax)
	}
}

// listen opens a connection, listens on it until it breaks or ctx is done,
// and reports whether it got as far as listening.
func (n *pgNotifier) listen(ctx context.Context, s keystore.Subscriber) (bool, error) {
	connectCtx, cancel := context.WithTimeout(ctx, n.timeout)
	conn, err := pgx.ConnectConfig(connectCtx, n.config.Copy())
	cancel()
	if err != nil {
		return false, err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = conn.Close(closeCtx) // the connection is being given up, broken or not
		cancel()
	}()
	listenCtx, cancel := context.WithTimeout(ctx, n.timeout)
	_, err = conn.Exec(listenCtx, "LISTEN "+pgx.Identifier{n.channel}.Sanitize())
	cancel()
	if err != nil {
		return false, err
	}
	s.Subscribed()
	for {
		waitCtx, cancel := context.WithTimeout(ctx, n.ping)
		note, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil && note != nil:
			s.Changed(note.Payload)
		case err == nil:
		case ctx.Err() != nil:
			return true, nil
		case pgconn.Timeout(err):
			pingCtx, cancel := context.WithTimeout(ctx, n.timeout)
			err = conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return true, err
			}
		default:
			return true, err
		}
	}
}

// Notifier is the PostgreSQL store's LISTEN/NOTIFY channel, named for its
// table prefix, on a connection opened with the settings of the store's; nil
// on other dialects. timeout bounds each connection attempt and ping.
func (s *Store) Notifier(ctx context.Context, timeout time.Duration) (keystore.Notifier, error) {
	return s.PostgresNotifier(ctx, timeout, pgListenPing)
}

// PostgresNotifier is Notifier with the time the listener waits in silence
// before it pings its connection (Notifier's: 15 s): a peer gone without a
// word is noticed within ping plus timeout.
func (s *Store) PostgresNotifier(ctx context.Context, timeout, ping time.Duration) (keystore.Notifier, error) {
	if s.db.Name() != "postgres" {
		return nil, nil
	}
	n, err := newPgNotifier(ctx, s.db, s.prefix, timeout)
	if err != nil {
		return nil, err
	}
	n.ping = ping
	return n, nil
}
