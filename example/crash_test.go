package main

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	crashRounds  = 3
	crashWorkers = 8
	// The guard writes usage every FlushInterval (1 s by default); a batch
	// in flight when the process dies adds the time its write takes.
	flushInterval = time.Second
	flushSlack    = 500 * time.Millisecond
)

// TestKillMidLoadKeepsKeysRevocationsAndAllButTheUnflushedUsage kills the
// example with SIGKILL under a mix of creates, revokes and verifies, three
// times on one SQLite file, and checks after each restart that the file is
// intact, every key a client saw created still works unless revoked, no key
// a client saw revoked works, and the usage lost is no more than the
// requests admitted since the last flush.
func TestKillMidLoadKeepsKeysRevocationsAndAllButTheUnflushedUsage(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING the crash test under -short: it runs and kills the example binary for about 20 s")
	}
	start := time.Now()
	dir := t.TempDir()
	db, logPath := filepath.Join(dir, "keys.db"), filepath.Join(dir, "example.log")
	ring := &keyring{}
	client := loadClient(crashWorkers)
	e := startExample(t, db, freePort(t), logPath)

	for round := 1; round <= crashRounds; round++ {
		tr := newTraffic(client, e.base, ring)
		killAt := 2*time.Second + rand.N(time.Second) //nolint:gosec // a random moment in the flush cycle
		admittedAt := crashLoad(t, tr, e, killAt)
		killed := time.Now()
		tr.report(t)

		integrityCheck(t, db)
		e = startExample(t, db, freePort(t), logPath)
		after := newTraffic(client, e.base, ring)
		lost, surplus, expected := reconcileUsage(t, after, ring)
		worked, refused := verifyAll(t, after, ring)
		after.report(t)

		// The loss as time: the lost requests are at most those admitted
		// in the last flush interval before the kill.
		slices.Sort(admittedAt)
		lostMS := 0.0
		if lost > 0 && lost <= int64(len(admittedAt)) {
			lostMS = float64(killed.Sub(time.Unix(0, admittedAt[int64(len(admittedAt))-lost])).Microseconds()) / 1000
		}
		window := int64(len(admittedAt) - countBefore(admittedAt, killed.Add(-flushInterval-flushSlack)))
		t.Logf("crash round %d: killed after %s; created=%d revoked=%d verified=%d (admitted %d) total keys=%d; after restart: integrity ok, %d keys work, %d revoked keys refused; usage lost=%d of %d (%.0f ms of traffic before the kill; %d admitted in the last %s), surplus=%d",
			round, killAt.Round(time.Millisecond), tr.sent[kindCreate].Load(), tr.sent[kindRevoke].Load(), tr.sent[kindVerify].Load(), tr.admitted.Load(), len(ring.all()),
			worked, refused, lost, expected, lostMS, window, flushInterval+flushSlack, surplus)
		if lost > window {
			t.Errorf("round %d: %d requests of usage lost, more than the %d admitted in the last %s before the kill", round, lost, window, flushInterval+flushSlack)
		}
		// A request the server counted whose answer the kill swallowed is
		// stored but not seen: at most one per client.
		if surplus > crashWorkers {
			t.Errorf("round %d: %d requests stored that no client saw admitted (at most %d were in flight)", round, surplus, crashWorkers)
		}
		if t.Failed() {
			return
		}
	}
	e.stop()
	integrityCheck(t, db)
	t.Logf("crash test: %d rounds in %s", crashRounds, time.Since(start).Round(time.Millisecond))
}

// crashLoad runs creates, revokes and verifies from crashWorkers clients,
// kills e after killAt, and returns when every client has stopped, with
// the times of the admitted verifies (unix nanoseconds).
func crashLoad(t *testing.T, tr *traffic, e *example, killAt time.Duration) []int64 {
	t.Helper()
	var (
		dead atomic.Bool
		wg   sync.WaitGroup
		mu   sync.Mutex
		at   []int64
	)
	for w := range crashWorkers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano()))) //nolint:gosec // a load mix, not a secret
			var mine []int64
			defer func() { mu.Lock(); at = append(at, mine...); mu.Unlock() }()
			for {
				var err error
				switch r := rng.Float64(); {
				case r < 0.10:
					err = tr.create()
				case r < 0.15:
					err = tr.revoke(rng)
				default:
					k := tr.ring.pick(rng)
					if k == nil {
						err = tr.create()
						break
					}
					var ok bool
					if ok, err = tr.verify(k, false); ok {
						mine = append(mine, time.Now().UnixNano())
					}
				}
				if err != nil {
					if !dead.Load() {
						tr.fail("before the kill: %v", err)
					}
					return
				}
				if dead.Load() {
					return
				}
			}
		})
	}
	time.Sleep(killAt)
	dead.Store(true)
	e.kill()
	wg.Wait()
	return at
}

// reconcileUsage compares the usage stored for each key with what its
// clients saw admitted, and takes the stored figure as the new expectation.
func reconcileUsage(t *testing.T, tr *traffic, ring *keyring) (lost, surplus, expected int64) {
	t.Helper()
	stored := storedUsage(t, tr.client, tr.base)
	for _, k := range ring.all() {
		want, got := k.expected.Load(), stored[k.id]
		expected += want
		lost += max(0, want-got)
		surplus += max(0, got-want)
		k.expected.Store(got)
	}
	return lost, surplus, expected
}

// verifyAll calls /secure once with every key, from 8 clients (no more
// than one address's share of MaxLookups, nor than the failure throttle's
// allowance, both of which count uncached lookups in flight), and settles
// the keys whose revoke was cut short.
func verifyAll(t *testing.T, tr *traffic, ring *keyring) (worked, refused int64) {
	t.Helper()
	keys := ring.all()
	var (
		next atomic.Int64
		ok   atomic.Int64
		wg   sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(keys)); i = next.Add(1) - 1 {
				admitted, err := tr.verify(keys[i], true)
				if err != nil {
					tr.fail("verify after restart: %v", err)
					return
				}
				if admitted {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := tr.throttled.Load(); n > 0 {
		t.Errorf("%d verifies after restart were throttled", n)
	}
	return ok.Load(), int64(len(keys)) - ok.Load() - tr.throttled.Load()
}

// countBefore counts the sorted times before t.
func countBefore(sorted []int64, t time.Time) int {
	i, _ := slices.BinarySearch(sorted, t.UnixNano())
	return i
}
