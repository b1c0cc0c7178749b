package ginkey

import (
	"cmp"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
)

// unknownKey returns a well-formed key the store does not hold.
func unknownKey(t *testing.T, h *harness) string {
	t.Helper()
	k, _, err := h.Guard.format.generate()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestFailedKeyChecksThrottleOnlyTheirClientAddress(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h, st := newCountingHarness(t, func(c *Config) { c.Now = clock.Now })
	if err := h.Engine.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	good := h.createKey(`{}`)
	fresh := h.createKey(`{}`) // never used: not in the cache
	const attacker, other = "203.0.113.7:5555", "198.51.100.1:80"
	testkit.WantOK(t, h.Get(attacker, "/secure", good.Secret), good.ID) // cached before the attack

	// Fresh keys miss the cache, a repeated one is found among the unknown keys:
	// both count.
	repeated := unknownKey(t, h)
	for i := range defaultFailureLimit {
		key := repeated
		if i%2 == 0 {
			key = unknownKey(t, h)
		}
		testkit.WantError(t, h.Get(attacker, "/secure", key), 401, "key_invalid")
	}
	lookups := st.Calls(testkit.OpByHash)
	w := h.Get(attacker, "/secure", unknownKey(t, h))
	testkit.WantError(t, w, 429, "too_many_failures")
	testkit.WantHeader(t, w, "Retry-After", "2") // 30 per minute: one attempt back every 2s
	testkit.WantError(t, h.Get(attacker, "/secure", fresh.Secret), 429, "too_many_failures")
	if n := st.Calls(testkit.OpByHash); n != lookups {
		t.Fatalf("a throttled address reached the store %d times", n-lookups)
	}
	// The same address keeps working with a key already in the cache, and
	// other addresses are not locked out at all.
	testkit.WantOK(t, h.Get(attacker, "/secure", good.Secret), good.ID)
	testkit.WantOK(t, h.Get(other, "/secure", fresh.Secret), fresh.ID)
	testkit.WantError(t, h.Get(other, "/secure", unknownKey(t, h)), 401, "key_invalid")

	clock.Advance(2 * time.Second) // one attempt is back, and only one
	testkit.WantError(t, h.Get(attacker, "/secure", unknownKey(t, h)), 401, "key_invalid")
	testkit.WantError(t, h.Get(attacker, "/secure", unknownKey(t, h)), 429, "too_many_failures")
	clock.Advance(time.Minute)
	for range defaultFailureLimit {
		testkit.WantError(t, h.Get(attacker, "/secure", unknownKey(t, h)), 401, "key_invalid")
	}
}

func TestMalformedKeysAndMissingKeysAreNotCountedAsFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.FailureLimit = 3 })
	const ip = "203.0.113.7:1"
	for range 20 {
		testkit.WantError(t, h.Get(ip, "/secure", "eyJhbGciOiJIUzI1NiJ9.e30.sig"), 401, "key_invalid") // e.g. a JWT under AnyOf
		testkit.WantError(t, h.Get(ip, "/secure", ""), 401, "key_missing")
	}
	for range 3 {
		testkit.WantError(t, h.Get(ip, "/secure", unknownKey(t, h)), 401, "key_invalid")
	}
	testkit.WantError(t, h.Get(ip, "/secure", unknownKey(t, h)), 429, "too_many_failures")
	testkit.WantError(t, h.Get(ip, "/secure", "gk_short"), 401, "key_invalid") // costs nothing, so not refused either
}

func TestFailureThrottleGroupsIPv6ByPrefix64(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.FailureLimit = 2 })
	if err := h.Engine.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	good := h.createKey(`{}`)
	h.Get("[2001:db8:1:2::1]:1", "/secure", unknownKey(t, h))
	h.Get("[2001:db8:1:2::2]:1", "/secure", unknownKey(t, h))
	testkit.WantError(t, h.Get("[2001:db8:1:2:ffff::9]:1", "/secure", unknownKey(t, h)), 429, "too_many_failures")
	testkit.WantOK(t, h.Get("[2001:db8:1:3::1]:1", "/secure", good.Secret), good.ID) // the next /64
	testkit.WantError(t, h.Get("[2001:db8:1:3::1]:1", "/secure", unknownKey(t, h)), 401, "key_invalid")
}

func TestNegativeFailureLimitTurnsTheThrottleOff(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.FailureLimit = -1 })
	for range 2 * defaultFailureLimit {
		testkit.WantError(t, h.Get("203.0.113.7:1", "/secure", unknownKey(t, h)), 401, "key_invalid")
	}
}

// slowStore is a store counting calls whose lookups take delay (50 ms if
// zero), so that concurrent requests overlap in the store, as on a loaded
// database.
type slowStore struct {
	*testkit.FailingStore
	delay time.Duration
}

func (s *slowStore) ByHash(ctx context.Context, hash string) (*keystore.Record, error) {
	time.Sleep(cmp.Or(s.delay, 50*time.Millisecond))
	return s.FailingStore.ByHash(ctx, hash)
}

// Lookups in flight hold nothing: good keys sent beside a burst of unknown
// ones are never refused for it, and the burst is charged in full when it
// lands, locking its address out for as long as it went over.
func TestABurstOfUnknownKeysIsChargedInFullAndNeverRefusesGoodKeysInFlight(t *testing.T) {
	t.Parallel()
	st := &slowStore{FailingStore: newFailingStore(t)}
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Store = st; c.FailureLimit = 3; c.Now = clock.Now; c.CacheSize = -1 })
	if err := h.Engine.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	good := make([]CreatedKey, 10)
	for i := range good {
		good[i] = h.createKey(`{}`)
	}
	unknown := make([]string, 50)
	for i := range unknown {
		unknown[i] = unknownKey(t, h)
	}
	const addr = "203.0.113.7:1"
	goodCodes, unknownCodes := make([]int, len(good)), make([]int, len(unknown))
	var wg sync.WaitGroup
	for i, k := range unknown {
		wg.Go(func() { unknownCodes[i] = h.Get(addr, "/secure", k).Code })
	}
	for i, k := range good {
		wg.Go(func() { goodCodes[i] = h.Get(addr, "/secure", k.Secret).Code })
	}
	wg.Wait()
	for i, c := range goodCodes {
		if c != http.StatusOK {
			t.Fatalf("good key %d sent beside the burst: %d, want 200", i, c)
		}
	}
	charged := 0
	for _, c := range unknownCodes {
		switch c {
		case http.StatusUnauthorized:
			charged++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("unknown key answered %d", c)
		}
	}
	if charged < 3 {
		t.Fatalf("only %d unknown keys reached the store", charged)
	}
	// Each charged key costs a minute/3; the allowance is a minute.
	w := h.Get(addr, "/secure", unknownKey(t, h))
	testkit.WantError(t, w, 429, "too_many_failures")
	wantRetryAfter(t, w, time.Duration(charged)*20*time.Second-time.Minute+20*time.Second)

	// An address's known keys cost nothing; its unknown ones one attempt each.
	other := "198.51.100.1:1"
	h.Get(other, "/secure", unknownKey(t, h))
	h.Get(other, "/secure", unknownKey(t, h))
	testkit.WantOK(t, h.Get(other, "/secure", good[0].Secret), good[0].ID)
	testkit.WantError(t, h.Get(other, "/secure", unknownKey(t, h)), 401, "key_invalid")
	testkit.WantError(t, h.Get(other, "/secure", unknownKey(t, h)), 429, "too_many_failures")
}

func TestClientsWithoutAnIPAddressDoNotShareAThrottleBucket(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.FailureLimit = 2 })
	honest := h.createKey(`{}`)
	const unixPeer = "@" // RemoteAddr of a unix socket peer: gin's ClientIP is ""
	for range 2 * defaultFailureLimit {
		testkit.WantError(t, h.Get(unixPeer, "/secure", unknownKey(t, h)), 401, "key_invalid")
	}
	testkit.WantOK(t, h.Get(unixPeer, "/secure", honest.Secret), honest.ID) // not in the cache yet
	if n := strings.Count(h.Logs.String(), "its unknown keys are not throttled"); n != 1 {
		t.Fatalf("warning logged %d times, want once: %s", n, h.Logs)
	}
}

// A client sending unknown keys from a shared address (NAT, an untrusted
// proxy) must not lock out a key the guard verified before, once its cache
// entry goes stale.
func TestUnknownKeysDoNotLockOutAVerifiedKeyOfTheSameAddress(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	good := h.createKey(`{}`)
	if w := h.Secure(good.Secret); w.Code != 200 {
		t.Fatal(w.Code)
	}
	unknown := func() { h.Secure(unknownKey(t, h)) }
	for range 31 {
		unknown()
	}
	if w := h.Secure("gk_" + strings.Repeat("A", 49)); w.Code != 401 && w.Code != 429 {
		t.Fatalf("setup: %d", w.Code)
	}
	refused := 0
	for range 120 { // a minute, an unknown key every half second
		clock.Advance(500 * time.Millisecond)
		unknown()
		if w := h.Secure(good.Secret); w.Code != 200 {
			refused++
		}
	}
	if refused > 0 {
		t.Fatalf("the verified key was refused %d of 120 times", refused)
	}
	testkit.WantError(t, h.Secure(unknownKey(t, h)), 429, "too_many_failures") // the throttle still holds for guesses
}
