package ginkey

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
// database. It notes how many lookups it had in flight at most.
type slowStore struct {
	*testkit.FailingStore
	delay             time.Duration
	inFlight, maxLoad atomic.Int64
}

func (s *slowStore) ByHash(ctx context.Context, hash string) (*keystore.Record, error) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for m := s.maxLoad.Load(); n > m && !s.maxLoad.CompareAndSwap(m, n); m = s.maxLoad.Load() {
	}
	time.Sleep(cmp.Or(s.delay, 50*time.Millisecond))
	return s.FailingStore.ByHash(ctx, hash)
}

// answer is a response's status and error code ("" for none), as one
// comparable string: "429 too_many_failures".
func answer(w *httptest.ResponseRecorder) string {
	var body ErrorBody
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return strings.TrimSpace(strconv.Itoa(w.Code) + " " + body.Error.Code)
}

// A burst of unknown keys sent at once from one address reaches the store
// only within the address's allowance, which is reserved before each
// lookup, and never with more than the address's share of MaxLookups at a
// time; first-time good keys from another address all pass meanwhile.
func TestABurstOfUnknownKeysReachesTheStoreOnlyWithinItsAllowance(t *testing.T) {
	t.Parallel()
	st := &slowStore{FailingStore: newFailingStore(t), delay: 20 * time.Millisecond}
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Store = st; c.Now = clock.Now })
	if err := h.Engine.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	good := make([]CreatedKey, 20)
	for i := range good {
		good[i] = h.createKey(`{}`)
	}
	const attacker, other = "203.0.113.7:1", "198.51.100.1:1"
	before := st.Calls(testkit.OpByHash)
	// 32 clients on the attacker's address send unknown keys until they are
	// throttled (at most 2 s, 3,200 requests).
	const clients, each = 32, 100
	burst := make([]string, 0, clients*each)
	var mu sync.Mutex
	goodAnswers := make([]string, len(good))
	var wg sync.WaitGroup
	deadline := time.Now().Add(2 * time.Second)
	for range clients {
		wg.Go(func() {
			for range each {
				a := answer(h.Get(attacker, "/secure", unknownKey(t, h)))
				mu.Lock()
				burst = append(burst, a)
				mu.Unlock()
				if a == "429 too_many_failures" || time.Now().After(deadline) {
					return
				}
			}
		})
	}
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(good); i += workers {
				goodAnswers[i] = answer(h.Get(other, "/secure", good[i].Secret))
			}
		})
	}
	wg.Wait()
	for i, a := range goodAnswers {
		if a != "200" {
			t.Errorf("first-time good key %d from another address during the burst: %s, want 200", i, a)
		}
	}
	tally := map[string]int{}
	for _, a := range burst {
		tally[a]++
	}
	lookups := st.Calls(testkit.OpByHash) - before - int64(len(good))
	t.Logf("burst of %d unknown keys: %v; %d reached the store, at most %d store lookups at once", len(burst), tally, lookups, st.maxLoad.Load())
	if lookups > defaultFailureLimit {
		t.Fatalf("%d unknown keys of the burst reached the store, the allowance is %d", lookups, defaultFailureLimit)
	}
	if got := tally["401 key_invalid"]; int64(got) != lookups {
		t.Fatalf("%d unknown keys answered key_invalid, %d looked up", got, lookups)
	}
	if n := tally["401 key_invalid"] + tally["429 too_many_failures"] + tally["429 too_many_lookups"]; n != len(burst) {
		t.Fatalf("the burst got other answers: %v", tally)
	}
	if m := st.maxLoad.Load(); m > defaultMaxLookups/lookupShare+workers {
		t.Fatalf("%d store lookups at once, want at most %d (each address's share)", m, defaultMaxLookups/lookupShare+workers)
	}
	// The burst's lookups are charged: the address has no attempt left.
	testkit.WantError(t, h.Get(attacker, "/secure", unknownKey(t, h)), 429, "too_many_failures")

	// Good keys give their reserved attempts back: an address may verify
	// more first-time keys than its allowance, one after another, and still
	// has all of it.
	const addr = "192.0.2.200:1"
	for range defaultFailureLimit + 5 {
		k := h.createKey(`{}`)
		testkit.WantOK(t, h.Get(addr, "/secure", k.Secret), k.ID)
	}
	for range defaultFailureLimit {
		testkit.WantError(t, h.Get(addr, "/secure", unknownKey(t, h)), 401, "key_invalid")
	}
	testkit.WantError(t, h.Get(addr, "/secure", unknownKey(t, h)), 429, "too_many_failures")
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

// forwardedFrom sends GET path with key (none for "") from the connection
// peer remote, naming client in X-Forwarded-For.
func forwardedFrom(h *harness, remote, client, path, key string, hdr map[string]string) *httptest.ResponseRecorder {
	h.T.Helper()
	r := testkit.Request{Method: http.MethodGet, Path: path, Header: map[string]string{"X-Forwarded-For": client}}
	if key != "" {
		r.Header["X-API-Key"] = key
	}
	maps.Copy(r.Header, hdr)
	return h.DoFrom(remote, r)
}

// With gin's default trust of every proxy, a client that names a new
// address in X-Forwarded-For with each request is still bounded by the
// budget of the connection's peer: 10 times each throttle's limit.
func TestInventedForwardedAddressesBuyNoMoreThanThePeersBudget(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h, st := newCountingHarness(t, func(c *Config) { c.Now = clock.Now })
	// h.Engine is gin.New(): it trusts every proxy.
	const peer, guesses = "192.0.2.77:4000", 2000
	before := st.Calls(testkit.OpByHash)
	tally := map[string]int{}
	for i := range guesses {
		client := "10.0." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250+1)
		tally[answer(forwardedFrom(h, peer, client, "/secure", unknownKey(t, h), nil))]++
	}
	lookups := st.Calls(testkit.OpByHash) - before
	t.Logf("%d unknown keys, each from a new forwarded address: %v, %d store lookups", guesses, tally, lookups)
	if budget := int64(peerFactor * defaultFailureLimit); lookups != budget || tally["401 key_invalid"] != int(budget) {
		t.Errorf("%d unknown keys reached the store, want the peer's budget of %d", lookups, budget)
	}
	if tally["429 too_many_failures"] != guesses-peerFactor*defaultFailureLimit {
		t.Errorf("answers %v", tally)
	}

	tally = map[string]int{}
	for i := range guesses {
		client := "10.1." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250+1)
		w := forwardedFrom(h, peer, client, "/auth/keys", "", map[string]string{adminHeader: "wrong-secret-guess-" + strconv.Itoa(i)})
		tally[answer(w)]++
	}
	t.Logf("%d wrong admin secrets, each from a new forwarded address: %v", guesses, tally)
	if n := tally["401 admin_unauthorized"]; n != peerFactor*defaultAdminFailureLimit {
		t.Fatalf("%d wrong secrets reached the comparison, want the peer's budget of %d: %v", n, peerFactor*defaultAdminFailureLimit, tally)
	}
	if n := strings.Count(h.Logs.String(), "SetTrustedProxies"); n != 1 {
		t.Fatalf("the forwarded addresses were warned of %d times, want once:\n%s", n, h.Logs)
	}
	if !strings.Contains(h.Logs.String(), "peer=192.0.2.77 ") {
		t.Fatalf("the warning does not name the peer:\n%s", h.Logs)
	}

	// Clients connecting directly are not affected; keys verified before
	// keep working through the peer.
	good := h.createKey(`{}`)
	testkit.WantOK(t, h.Get("198.51.100.9:1", "/secure", good.Secret), good.ID)
	testkit.WantOK(t, forwardedFrom(h, peer, "10.9.9.9", "/secure", good.Secret, nil), good.ID)
	testkit.WantError(t, h.Get("198.51.100.9:1", "/secure", unknownKey(t, h)), 401, "key_invalid")
	if w := adminFrom(h, "198.51.100.9:1", testSecret); w.Code != 200 {
		t.Fatalf("the admin secret from a direct client: %d %s", w.Code, w.Body)
	}
}

// Behind a proxy the engine trusts, one client's failures use up its own
// allowance and never its neighbours' behind the same proxy: an attempt its
// allowance refuses costs the proxy's budget nothing.
func TestOneClientBehindATrustedProxyDoesNotLockOutTheOthers(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h, st := newCountingHarness(t, func(c *Config) { c.Now = clock.Now })
	if err := h.Engine.SetTrustedProxies([]string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	good := make([]CreatedKey, 20)
	for i := range good {
		good[i] = h.createKey(`{}`)
	}
	const proxy, attacker = "127.0.0.1:40000", "203.0.113.9"
	before := st.Calls(testkit.OpByHash)
	for i := range 1000 {
		w := forwardedFrom(h, proxy, attacker, "/secure", unknownKey(t, h), nil)
		if i >= defaultFailureLimit {
			testkit.WantError(t, w, 429, "too_many_failures")
		}
		w = forwardedFrom(h, proxy, attacker, "/auth/keys", "", map[string]string{adminHeader: "wrong-secret-guess"})
		if i >= defaultAdminFailureLimit {
			testkit.WantError(t, w, 429, "too_many_failures")
		}
	}
	if n := st.Calls(testkit.OpByHash) - before; n != defaultFailureLimit {
		t.Fatalf("the attacker reached the store %d times, want %d", n, defaultFailureLimit)
	}
	for i, k := range good {
		client := "198.51.100." + strconv.Itoa(i+1)
		testkit.WantOK(t, forwardedFrom(h, proxy, client, "/secure", k.Secret, nil), k.ID) // first use
		testkit.WantError(t, forwardedFrom(h, proxy, client, "/secure", unknownKey(t, h), nil), 401, "key_invalid")
		w := forwardedFrom(h, proxy, client, "/auth/keys", "", map[string]string{adminHeader: testSecret})
		if w.Code != 200 {
			t.Fatalf("the admin secret from %s behind the proxy: %d %s", client, w.Code, w.Body)
		}
	}
}
