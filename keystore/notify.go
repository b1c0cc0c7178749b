package keystore

import (
	"context"
	"time"
)

// Notifier carries word of key changes between guards that share a store,
// so that a key revoked, deleted, renewed or updated through one instance
// (or the CLI) is dropped from every other instance's cache at once, rather
// than within CacheTTL. On PostgreSQL the GORM store provides one (see
// NotifierSource); a Notifier over another channel (Redis pub/sub, say) plugs in
// through ginkey's Config.Notifier.
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

// NotifierSource is a Store that brings its own Notifier (the GORM store on
// PostgreSQL: LISTEN/NOTIFY). Notifier returns nil and no error when the
// store has none; an error means it has one that cannot work (ginkey logs
// it and goes on without). timeout bounds each connection attempt.
type NotifierSource interface {
	Notifier(ctx context.Context, timeout time.Duration) (Notifier, error)
}
