package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const loadClients = 64

// loadDuration is 20 s, or GINKEY_LOAD_SECONDS.
func loadDuration(t *testing.T) time.Duration {
	t.Helper()
	s := os.Getenv("GINKEY_LOAD_SECONDS")
	if s == "" {
		return 20 * time.Second
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 {
		t.Fatalf("GINKEY_LOAD_SECONDS=%q is not a positive number of seconds", s)
	}
	return time.Duration(n * float64(time.Second))
}

// TestMixedLoadHasNoServerErrorsAndLosesNoUsageOnCleanShutdown runs 64
// clients against the example binary (creates, verifies, revokes, usage
// reads), then stops it with SIGTERM, restarts it, and checks that each
// key's stored usage is exactly the number of 200s its clients got.
func TestMixedLoadHasNoServerErrorsAndLosesNoUsageOnCleanShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING the load test under -short: it runs the example binary under 64 clients for GINKEY_LOAD_SECONDS (default 20)")
	}
	d := loadDuration(t)
	dir := t.TempDir()
	db, logPath := filepath.Join(dir, "keys.db"), filepath.Join(dir, "example.log")
	ring := &keyring{}
	client := loadClient(loadClients)
	e := startExample(t, db, freePort(t), logPath)
	tr := newTraffic(client, e.base, ring)

	var (
		stop atomic.Bool
		wg   sync.WaitGroup
	)
	start := time.Now()
	for w := range loadClients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano()))) //nolint:gosec // a load mix, not a secret
			if err := tr.create(); err != nil {
				tr.fail("create: %v", err)
				return
			}
			for !stop.Load() {
				var err error
				switch r := rng.Float64(); {
				case r < 0.03:
					err = tr.create()
				case r < 0.05:
					err = tr.revoke(rng)
				case r < 0.07:
					err = tr.usageAll()
				case r < 0.09:
					if k := tr.ring.pick(rng); k != nil {
						_, err = tr.keyUsage(k)
					}
				default:
					if k := tr.ring.pick(rng); k != nil {
						_, err = tr.verify(k, false)
					}
				}
				if err != nil {
					tr.fail("transport error: %v", err)
					return
				}
			}
		})
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start)
	tr.report(t)
	t.Logf("load: %d clients for %s: %s; %.0f requests/s", loadClients, elapsed.Round(time.Millisecond), tr.summary(), float64(tr.total())/elapsed.Seconds())
	if n := tr.fiveXX.Load(); n > 0 {
		t.Errorf("%d answers were 5xx", n)
	}
	checkLoadMetrics(t, client, e.base, tr, ring)

	stopStart := time.Now()
	e.stop()
	t.Logf("SIGTERM: clean exit in %s", time.Since(stopStart).Round(time.Millisecond))
	if hits := logMentions(t, logPath, "database is locked", "SQLITE_BUSY"); len(hits) > 0 {
		t.Errorf("the example's log mentions a locked database %d times; the first: %s", len(hits), hits[0])
	}

	e = startExample(t, db, freePort(t), logPath)
	after := newTraffic(client, e.base, ring)
	keys := ring.all()
	var (
		next                       atomic.Int64
		expected, stored, mismatch atomic.Int64
		checkers                   sync.WaitGroup
	)
	for range 16 {
		checkers.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(keys)); i = next.Add(1) - 1 {
				k := keys[i]
				got, err := after.keyUsage(k)
				if err != nil {
					after.fail("usage after restart: %v", err)
					return
				}
				want := k.expected.Load()
				expected.Add(want)
				stored.Add(got)
				if got != want {
					mismatch.Add(1)
					after.fail("key %s: stored usage %d, clients saw %d admitted", k.id, got, want)
				}
			}
		})
	}
	checkers.Wait()
	after.report(t)
	e.stop()
	t.Logf("load usage after restart: %d keys, expected total=%d stored total=%d, %d keys differ", len(keys), expected.Load(), stored.Load(), mismatch.Load())
	if hits := logMentions(t, logPath, "database is locked", "SQLITE_BUSY"); len(hits) > 0 {
		t.Errorf("the example's log mentions a locked database %d times; the first: %s", len(hits), hits[0])
	}
}
