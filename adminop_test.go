package ginkey

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
)

// While PostgreSQL is frozen (a proxy the test owns stops forwarding), every
// admin operation answers 503 within the admin deadline, five
// StoreTimeouts: the audit entry of a failed operation does not add its
// own wait, and a usage read does not queue behind other flushes past its
// deadline. The entries are written later, or logged as not written.
func TestEveryAdminOperationAnswersWithinTheAdminDeadlineWhileTheDatabaseIsFrozen(t *testing.T) {
	t.Parallel()
	const storeTimeout = 500 * time.Millisecond
	// The bound guides/operations.md states, plus room for the race detector on shared cores;
	// less than one StoreTimeout, which an audit write of its own would add.
	const bound = 5*storeTimeout + 400*time.Millisecond
	h, proxy, _ := outageHarness(t, func(c *Config) {
		c.StoreTimeout = storeTimeout
		c.FlushInterval = 50 * time.Millisecond // the flusher is writing when the usage reads come
	})
	k := h.createKey(`{}`)
	testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	ops := []struct{ method, path, body string }{
		{http.MethodPost, "/keys", `{}`},
		{http.MethodPatch, "/keys/" + k.ID, `{"name":"n"}`},
		{http.MethodPost, "/keys/" + k.ID + "/revoke", ``},
		{http.MethodPost, "/keys/" + k.ID + "/renew", `{}`},
		{http.MethodPost, "/keys/" + k.ID + "/rotate", `{}`},
		{http.MethodDelete, "/keys/" + k.ID, ``},
		{http.MethodGet, "/keys/" + k.ID, ``},
		{http.MethodGet, "/keys", ``},
		{http.MethodGet, "/keys/" + k.ID + "/usage", ``},
		{http.MethodGet, "/keys/" + k.ID + "/usage", ``},
		{http.MethodGet, "/usage", ``},
		{http.MethodGet, "/usage", ``},
		{http.MethodGet, "/audit", ``},
	}
	const audited = 6 // create, update, revoke, renew, rotate, delete
	for range 3 {
		testkit.WantOK(t, h.Secure(k.Secret), k.ID) // usage pending, for the flushes
	}
	proxy.freeze()
	codes := make([]int, len(ops))
	took := make([]time.Duration, len(ops))
	var wg sync.WaitGroup
	for i, op := range ops {
		wg.Go(func() {
			start := time.Now()
			codes[i] = h.Admin(op.method, op.path, op.body).Code
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	var slow []string
	for i, op := range ops {
		t.Logf("%s %s: %d after %v", op.method, op.path, codes[i], took[i].Round(time.Millisecond))
		if codes[i] != http.StatusServiceUnavailable || took[i] > bound {
			slow = append(slow, op.method+" "+op.path)
		}
	}
	if len(slow) > 0 {
		t.Fatalf("frozen database, StoreTimeout %v: want 503 within %v from each of %s", storeTimeout, bound, strings.Join(slow, ", "))
	}
	// The failed operations' entries went to the background, past the
	// answer; the database still frozen, none is written, and each is
	// counted and logged at ERROR: none disappears silently.
	h.Guard.life.late.calls.Wait()
	proxy.heal()
	notWritten := len(h.Logs.Lines("level=ERROR", "audit entry not written"))
	if notWritten != audited || h.Guard.audits.lost.Load() != audited {
		t.Fatalf("%d failed operations: %d logged at ERROR as not written, %d counted\n%s",
			audited, notWritten, h.Guard.audits.lost.Load(), h.Logs)
	}
}

// A usage read flushes first; behind a flush under way that waits for a
// frozen database, it gives up at its own deadline rather than the other
// flush's.
func TestAUsageReadBehindAStuckFlushAnswersWithinItsDeadline(t *testing.T) {
	t.Parallel()
	const storeTimeout = 200 * time.Millisecond
	h, proxy, _ := outageHarness(t, func(c *Config) { c.StoreTimeout = storeTimeout })
	k := h.createKey(`{}`)
	testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	proxy.freeze()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	flushing := make(chan error, 1)
	go func() { flushing <- h.Guard.Flush(ctx) }() // a flush that waits for the database for 10 s
	for len(h.Guard.usage.run) == 0 {              // until it holds the way
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	testkit.WantError(t, h.Admin(http.MethodGet, "/keys/"+k.ID+"/usage", ""), 503, "unavailable")
	took := time.Since(start)
	t.Logf("usage read behind a stuck flush: 503 after %v", took.Round(time.Millisecond))
	if took > 5*storeTimeout+400*time.Millisecond {
		t.Fatalf("usage read behind a stuck flush answered after %v; the admin deadline is %v", took, 5*storeTimeout)
	}
	select {
	case err := <-flushing:
		t.Fatalf("the flush ended (%v) before the usage read: the read was not behind it", err)
	default:
	}
	proxy.heal()
	t.Logf("the flush that held the way, after the freeze: %v", <-flushing)
}
