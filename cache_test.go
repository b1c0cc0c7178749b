package ginkey

import (
	"net/http"
	"testing"

	"github.com/ginkey/ginkey/internal/keycache"
	"github.com/ginkey/ginkey/internal/testkit"
)

// A repeated unknown key is answered from memory. And however many unknown
// keys arrive, a cache full of verified keys keeps every one: unknown keys
// live in their own table. (When they shared the cache, the oldest verified
// key of a full set made way for them.)
func TestUnknownKeysNeitherReachTheStoreTwiceNorEvictVerifiedKeys(t *testing.T) {
	t.Parallel()
	clock := newFakeClock() // a stalled test machine must not age entries out
	h, st := newCountingHarness(t, func(c *Config) { c.CacheSize = keycache.Ways; c.FailureLimit = -1; c.Now = clock.Now })
	good := make([]CreatedKey, keycache.Ways) // the cache's one set, full
	for i := range good {
		good[i] = h.createKey(`{}`)
		testkit.WantOK(t, h.Secure(good[i].Secret), good[i].ID)
	}

	unknown := unknownKey(t, h)
	testkit.WantError(t, h.Secure(unknown), http.StatusUnauthorized, "key_invalid")
	lookups := st.Calls(testkit.OpByHash)
	for range 10 {
		testkit.WantError(t, h.Secure(unknown), http.StatusUnauthorized, "key_invalid")
	}
	if n := st.Calls(testkit.OpByHash) - lookups; n != 0 {
		t.Fatalf("a repeated unknown key reached the store %d more times", n)
	}

	for range 200 {
		testkit.WantError(t, h.Secure(unknownKey(t, h)), http.StatusUnauthorized, "key_invalid")
	}
	lookups = st.Calls(testkit.OpByHash)
	for _, k := range good {
		testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	}
	if n := st.Calls(testkit.OpByHash) - lookups; n != 0 {
		t.Fatalf("after 200 unknown keys, %d verified keys were read from the store again", n)
	}
}

// twoProcesses is two guards on one SQLite file, standing for two processes,
// on one settable clock.
func twoProcesses(t *testing.T) (a, b *harness, clock *fakeClock) {
	t.Helper()
	clock = newFakeClock()
	a = newHarness(t, func(c *Config) { c.Now = clock.Now })
	b = &harness{testkit.NewHarness[*Guard](t, keyID)}
	b.Serve(New(Config{DBPath: a.DBPath, AdminSecret: testSecret, Logger: slogDiscard(), LookupEnv: testkit.NoEnv, Now: clock.Now}))
	return a, b, clock
}

// A key deleted by another instance loses its cached record once this guard
// learns of it: a stale record must not keep letting the key skip the
// failure throttle as a "known" key.
func TestAKeyDeletedElsewhereLeavesTheCache(t *testing.T) {
	t.Parallel()
	a, b, clock := twoProcesses(t)

	k := a.createKey(`{}`)
	testkit.WantOK(t, a.Secure(k.Secret), k.ID)
	if w := b.Admin(http.MethodDelete, "/keys/"+k.ID, ""); w.Code != http.StatusNoContent && w.Code != http.StatusOK {
		t.Fatalf("delete through the other guard: %d %s", w.Code, w.Body)
	}
	clock.Advance(defaultCacheTTL)
	testkit.WantError(t, a.Secure(k.Secret), http.StatusUnauthorized, "key_invalid")
	hash := hashKey(k.Secret)
	if e, _, _ := a.Guard.keys.Verified.Get(hashOf(&hash), clock.Now().UnixNano()); e != nil {
		t.Fatal("the deleted key's record is still cached")
	}
}

// Two guards on one database stand for two processes: a change made through
// one reaches the other within CacheTTL, and not through a stale cache after.
func TestChangesFromAnotherProcessAreSeenWithinCacheTTL(t *testing.T) {
	t.Parallel()
	a, b, clock := twoProcesses(t)

	k := a.createKey(`{}`)
	if w := b.Secure(k.Secret); w.Code != http.StatusOK {
		t.Fatalf("key created by the other guard: %d %s", w.Code, w.Body)
	}
	if w := a.Admin(http.MethodPost, "/keys/"+k.ID+"/revoke", ""); w.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	testkit.WantError(t, a.Secure(k.Secret), http.StatusUnauthorized, "key_revoked") // this guard: at once
	if w := b.Secure(k.Secret); w.Code != http.StatusOK {
		t.Fatalf("within CacheTTL the other guard may still serve its cached record; got %d", w.Code)
	}
	clock.Advance(defaultCacheTTL)
	testkit.WantError(t, b.Secure(k.Secret), http.StatusUnauthorized, "key_revoked")
}
