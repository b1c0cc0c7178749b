package pgstore

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/keystore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Reconnection of the listener: the first retry comes soon, so that a
// connection killed under a healthy server is back within a few tens of
// milliseconds; then the wait doubles, up to a bound, so that a server that
// is down is not hammered by every instance at once.
const (
	listenRetryMin = 50 * time.Millisecond
	listenRetryMax = 5 * time.Second
)

// listener hears a channel's notifications with LISTEN on a connection of
// its own, opened with the settings of the store's.
type listener struct {
	channel string
	config  *pgx.ConnConfig // the listener's connection; copied for each attempt
	timeout time.Duration   // of a connection attempt and of a ping
	ping    time.Duration   // how long it waits in silence before a ping
}

// Listener returns what hears the notifications sent on channel, on a
// connection of its own opened with the settings of db's connections
// (named "ginkey listener <channel>" in pg_stat_activity). db's driver must
// be pgx, gorm.io/driver/postgres's default.
func (Driver) Listener(ctx context.Context, db *gorm.DB, channel string, timeout, ping time.Duration) (gormstore.Listener, error) {
	cfg, err := pgxConfig(ctx, db)
	if err != nil {
		return nil, err
	}
	// Named, so that an operator can tell it apart in pg_stat_activity.
	cfg.RuntimeParams["application_name"] = "ginkey listener " + channel
	// The copy still delivers notifications to the pool's connection it
	// came from; pgx sets its own when this is nil.
	cfg.OnNotification = nil
	return &listener{channel: channel, config: cfg, timeout: timeout, ping: ping}, nil
}

// Listen hears announcements with LISTEN, reconnecting with backoff.
func (n *listener) Listen(ctx context.Context, s keystore.Subscriber) error {
	wait := listenRetryMin
	for {
		heard, err := n.listen(ctx, s)
		if ctx.Err() != nil {
			return nil
		}
		if heard {
			wait = listenRetryMin
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
		wait = min(2*wait, listenRetryMax)
	}
}

// listen opens a connection, listens on it until it breaks or ctx is done,
// and reports whether it got as far as listening.
func (n *listener) listen(ctx context.Context, s keystore.Subscriber) (bool, error) {
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

// errNotPgx: the *gorm.DB's connections are not pgx's, whose settings the
// listener copies.
var errNotPgx = errors.New("the database's driver is not pgx (gorm.io/driver/postgres's default)")

// pgxConfig returns a copy of the settings of db's connections, for the
// listener's own connection: host, credentials, TLS and runtime parameters
// as the caller configured them, whether db was opened from a URL, a
// key=value DSN or an existing *sql.DB on pgx's stdlib driver.
func pgxConfig(ctx context.Context, db *gorm.DB) (*pgx.ConnConfig, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	var cfg *pgx.ConnConfig
	err = conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(interface{ Conn() *pgx.Conn })
		if !ok {
			return errNotPgx
		}
		cfg = c.Conn().Config().Copy()
		return nil
	})
	return cfg, err
}
