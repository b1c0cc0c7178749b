package pgstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/gormstore/pgstore"
	"github.com/ginkey/ginkey/internal/testkit"
)

// subscriber records what a Notifier's Listen tells it.
type subscriber struct {
	subscribed chan struct{}
	once       sync.Once
	changed    chan string
}

func (s *subscriber) Subscribed()            { s.once.Do(func() { close(s.subscribed) }) }
func (s *subscriber) Changed(keyHash string) { s.changed <- keyHash }
func (s *subscriber) Lost(error)             {}

// A store opened from a postgres:// URL with Driver hears, on its
// listener's own connection, what a store on another pool publishes.
func TestDriverCarriesNotificationsBetweenStores(t *testing.T) {
	t.Parallel()
	url := testkit.PostgresSchemaURL(t, "gkpg_", "")
	prefix := testkit.UniquePrefix(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	open := func() *gormstore.Store {
		s, err := gormstore.Open(ctx, url, prefix, nil, pgstore.Driver{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := open(), open()
	listening, err := b.Notifier(ctx, 5*time.Second)
	if err != nil || listening == nil {
		t.Fatalf("Notifier: %v, %v", listening, err)
	}
	sub := &subscriber{subscribed: make(chan struct{}), changed: make(chan string, 1)}
	done := make(chan error, 1)
	listenCtx, stop := context.WithCancel(ctx)
	go func() { done <- listening.Listen(listenCtx, sub) }()
	select {
	case <-sub.subscribed:
	case <-ctx.Done():
		t.Fatal("the listener never subscribed")
	}
	publishing, err := a.Notifier(ctx, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := publishing.Publish(ctx, "hash-of-a-key"); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-sub.changed:
		if got != "hash-of-a-key" {
			t.Errorf("heard %q", got)
		}
	case <-ctx.Done():
		t.Fatal("the notification never arrived")
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Listen after its context ended: %v", err)
	}
}
