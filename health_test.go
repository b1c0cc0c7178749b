package ginkey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
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
	if h.Down() {
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

// A pooled PostgreSQL connection that dies while the database is healthy
// (a failover, a pooler's restart, pg_terminate_backend) costs no request:
// the statement that finds it dead runs again on a live connection, and
// the store is not counted as down.
func TestADroppedPostgresConnectionIsRetriedAndNeverCountsAsAnOutage(t *testing.T) {
	t.Parallel()
	t.Run("pg_terminate_backend", func(t *testing.T) {
		t.Parallel()
		dsn := testkit.PostgresDSN(t)
		direct, prefix := testkit.OpenPostgres(t) // the test's own connection, not the guard's
		app := "ginkey_test_" + prefix            // how the guard's connections are told apart
		db, err := gorm.Open(postgres.Open(dsn+" application_name="+app), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			t.Fatal(err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sqlDB.Close() })
		dropConnectionsUnderFirstUses(t, db, prefix, func() int {
			var killed int
			err := direct.Raw("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"+
				" WHERE application_name = ? AND pid <> pg_backend_pid()", app).Scan(&killed).Error
			if err != nil {
				t.Fatal(err)
			}
			for range 400 { // until the server has ended them: a few milliseconds
				var left int
				if err := direct.Raw("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?", app).Scan(&left).Error; err != nil {
					t.Fatal(err)
				}
				if left == 0 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			return killed
		})
	})
	t.Run("proxy cuts every connection", func(t *testing.T) {
		t.Parallel()
		db, prefix, proxy := proxiedPostgres(t)
		dropConnectionsUnderFirstUses(t, db, prefix, proxy.cut)
	})
}

// dropConnectionsUnderFirstUses serves a guard on db and, five times, fills
// its pool with connections used a moment ago, drops them all, then sends
// 16 keys' first uses and an admin create at once: each must succeed.
func dropConnectionsUnderFirstUses(t *testing.T, db *gorm.DB, prefix string, drop func() int) {
	t.Helper()
	const rounds, burst = 5, 16
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(8) // as the pool of a GINKEY_DB URL on two cores
	sqlDB.SetMaxIdleConns(8)
	h := newHarness(t, func(c *Config) {
		c.DB, c.TablePrefix, c.FlushInterval = db, prefix, time.Hour
		// What fails without the retry fails at once; a long timeout keeps
		// new connections on a loaded machine from failing for slowness.
		c.StoreTimeout = 10 * time.Second
	})
	keys := make([]CreatedKey, rounds*burst)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(keys); i += 8 {
				keys[i] = h.createKey(`{}`) // never used: each first use reads the store
			}
		})
	}
	wg.Wait()
	var failed []string
	for round := range rounds {
		// Eight connections, each used in the last second: the pool hands
		// them out again without a ping.
		for range 8 {
			wg.Go(func() { _ = db.Exec("SELECT pg_sleep(0.05)") }) // may meet a connection the last round dropped
		}
		wg.Wait()
		dropped := drop()
		codes := make([]int, burst+1)
		for i := range burst { // each from its own address: one may have only half of MaxLookups in flight
			wg.Go(func() {
				codes[i] = h.Get("192.0.2."+strconv.Itoa(i+1)+":1", "/secure", keys[round*burst+i].Secret).Code
			})
		}
		wg.Go(func() { codes[burst] = h.Admin(http.MethodPost, "/keys", `{}`).Code })
		wg.Wait()
		bad := 0
		for i, code := range codes {
			if want := map[bool]int{true: 201, false: 200}[i == burst]; code != want {
				bad++
			}
		}
		t.Logf("round %d: %d connections dropped; %d of %d requests failed", round+1, dropped, bad, len(codes))
		if bad > 0 {
			failed = append(failed, fmt.Sprintf("round %d: %v", round+1, codes))
		}
	}
	if len(failed) > 0 || h.Guard.health.Down() {
		t.Fatalf("after dropped connections (codes: 16 first uses, then the admin create), store marked down: %v\n%s\n%s",
			h.Guard.health.Down(), strings.Join(failed, "\n"), strings.Join(h.Logs.Lines("level=ERROR"), "\n"))
	}
	if strings.Contains(h.Logs.String(), "key store unreachable") {
		t.Fatalf("a dropped connection was logged as an outage:\n%s", h.Logs)
	}
}

// A write whose COMMIT may have happened is not made again: a create whose
// COMMIT reply was lost answers 503 and leaves one key, not two.
func TestAWriteWhoseCommitReplyIsLostIsNotMadeTwice(t *testing.T) {
	t.Parallel()
	h, proxy, _ := outageHarness(t, nil)
	proxy.loseNextCommitReply()
	testkit.WantError(t, h.Admin(http.MethodPost, "/keys", `{"name":"once"}`), 503, "unavailable")
	if proxy.cuts.Load() == 0 {
		t.Fatal("the proxy never saw the create's COMMIT")
	}
	list, err := keysPage(h.Guard.ListKeys(context.Background(), KeyQuery{Name: "once"}))
	if err != nil {
		t.Fatal(err)
	}
	if list.Total != 1 {
		t.Fatalf("%d keys named once after one create whose COMMIT reply was lost; want 1", list.Total)
	}
}
