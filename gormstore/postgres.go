package gormstore

import (
	"context"
	"errors"
	"time"

	"github.com/ginkey/ginkey/keystore"
	"gorm.io/gorm"
)

// Postgres is PostgreSQL's driver as the store uses it: it opens a
// postgres:// URL and hears the notifications of other instances. Package
// github.com/ginkey/ginkey/gormstore/pgstore provides it (pgstore.Driver{}),
// apart, so that only the programs that name PostgreSQL compile pgx.
type Postgres interface {
	// OpenURL opens the database at the PostgreSQL URL url. Its errors
	// name the database as shown, url without its password.
	OpenURL(url, shown string) (*gorm.DB, error)

	// Listener returns what hears the notifications sent on channel, on a
	// connection of its own opened with the settings of db's; timeout
	// bounds each connection attempt and ping, and ping is how long it
	// waits in silence before it checks its connection.
	Listener(ctx context.Context, db *gorm.DB, channel string, timeout, ping time.Duration) (Listener, error)
}

// Listener hears the notifications of a PostgreSQL channel: the Listen half
// of a keystore.Notifier, whose Publish the store does itself.
type Listener interface {
	Listen(ctx context.Context, s keystore.Subscriber) error
}

// ErrNoPostgres is the error of Open and OpenExisting for a PostgreSQL URL,
// and of Store.Notifier for a store on PostgreSQL, when they were given no
// Postgres: a guard would otherwise miss the key changes other instances
// make until CacheTTL has passed.
var ErrNoPostgres = errors.New("ginkey: PostgreSQL support is not enabled: import github.com/ginkey/ginkey/gormstore/pgstore " +
	"and set ginkey's Config.Postgres to pgstore.Driver{} (gormstore's Open, OpenExisting and New take it as their last argument)")

// pgListenPing is how long the listener waits for a notification before it
// checks its connection is alive: a peer gone without a word (a failover, a
// dropped route) would otherwise leave it waiting for ever.
const pgListenPing = 15 * time.Second

// pgNotifier announces key changes with NOTIFY on the store's own
// connections, and hears them through the Postgres driver's Listener.
type pgNotifier struct {
	Listener
	db      *gorm.DB
	channel string
}

var _ keystore.Notifier = (*pgNotifier)(nil)

// pgChannel names the notification channel of the tables under prefix, so
// that two sets of tables in one database do not hear each other.
func pgChannel(prefix string) string { return prefix + "keys_changed" }

// Publish announces keyHash with NOTIFY.
func (n *pgNotifier) Publish(ctx context.Context, keyHash string) error {
	// A notification heard twice drops a cache entry twice: made again
	// after a lost connection whatever became of the first.
	return retried(ctx, n.db, func(db *gorm.DB) error {
		return db.Exec("SELECT pg_notify(?, ?)", n.channel, keyHash).Error
	}, nil)
}

// Notifier is the PostgreSQL store's LISTEN/NOTIFY channel, named for its
// table prefix, on a connection opened with the settings of the store's; nil
// on other dialects. timeout bounds each connection attempt and ping. On
// PostgreSQL without a Postgres (see New) it is an error wrapping
// ErrNoPostgres.
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
	if s.pg == nil {
		return nil, ErrNoPostgres
	}
	channel := pgChannel(s.prefix)
	l, err := s.pg.Listener(ctx, s.db, channel, timeout, ping)
	if err != nil {
		return nil, err
	}
	return &pgNotifier{Listener: l, db: s.db, channel: channel}, nil
}
