package ginkey

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey/internal/testkit"
)

// otherGuard is a second guard on its own SQLite file, whose WithScopes a
// test hands to the admin guard as AdminAuth.
func otherGuard(t *testing.T, mod func(*Config)) *Guard {
	t.Helper()
	cfg := Config{DBPath: filepath.Join(t.TempDir(), "other.db"), LookupEnv: testkit.NoEnv, Logger: slogDiscard()}
	if mod != nil {
		mod(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

func adminGet(h *harness, remote, path string, header map[string]string) *httptest.ResponseRecorder {
	h.T.Helper()
	return h.DoFrom(remote, testkit.Request{Method: http.MethodGet, Path: path, Header: header})
}

func TestWrongBasicPasswordsOnTheAdminAPIAreThrottledLoggedAndAudited(t *testing.T) {
	t.Parallel()
	basic, err := BasicAuth("ops", map[string]string{"ops": "pw-for-ops-0123"})
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.AdminAuth = basic; c.AdminFailureLimit = 3; c.Now = clock.Now })
	const attacker, other = "192.0.2.1:1000", "198.51.100.7:1"
	for i := range 3 {
		testkit.WantError(t, adminGet(h, attacker, "/auth/keys", map[string]string{"Authorization": basicHeader("ops", "guess-"+string(rune('a'+i)))}),
			401, "credentials_invalid")
	}
	// The allowance is used up: refused before the compare, the right
	// password too, and the secret shares the allowance.
	w := adminGet(h, attacker, "/auth/keys", map[string]string{"Authorization": basicHeader("ops", "guess-d")})
	testkit.WantError(t, w, 429, "too_many_failures")
	wantRetryAfter(t, w, 20*time.Second)
	testkit.WantError(t, adminGet(h, attacker, "/auth/keys", map[string]string{"Authorization": basicHeader("ops", "pw-for-ops-0123")}), 429, "too_many_failures")
	testkit.WantError(t, adminGet(h, attacker, "/auth/keys", map[string]string{adminHeader: testSecret}), 429, "too_many_failures")
	if w := adminGet(h, other, "/auth/keys", map[string]string{"Authorization": basicHeader("ops", "pw-for-ops-0123")}); w.Code != 200 {
		t.Fatalf("another address with the right password: %d %s", w.Code, w.Body)
	}
	// Logged at WARN, never with the password.
	logs := h.Logs.String()
	if !strings.Contains(logs, `level=WARN msg="ginkey: failed admin authentication" client=192.0.2.1`) {
		t.Fatalf("no WARN line for the wrong passwords:\n%s", logs)
	}
	if strings.Contains(logs, "guess-") || strings.Contains(logs, "pw-for-ops") {
		t.Fatalf("a password reached the log:\n%s", logs)
	}
	// Audited: one auth_failed entry for the address's minute.
	clock.Advance(time.Minute)
	h.Guard.flushAuthFailures(context.Background(), false)
	got := h.auditAll(AuditQuery{Action: actionAuthFailed})
	if len(got) != 1 || got[0].Actor != "http:192.0.2.1" || got[0].Count != 6 {
		t.Fatalf("want one auth_failed entry of 6 for 192.0.2.1:\n%s", entriesText(got))
	}
}

func TestWrongAdminKeysShareTheAdminThrottleWithTheSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.AdminKeyScope = "ginkey:admin"; c.AdminFailureLimit = 2 })
	plain := h.createKey(`{"scopes":["items:read"]}`)
	const attacker = "192.0.2.5:1"
	testkit.WantError(t, adminGet(h, attacker, "/auth/keys", map[string]string{"X-API-Key": plain.Secret}), 403, "insufficient_scope")
	testkit.WantError(t, adminGet(h, attacker, "/auth/keys", map[string]string{"X-API-Key": "gk_" + strings.Repeat("A", 49)}), 401, "key_invalid")
	testkit.WantError(t, adminGet(h, attacker, "/auth/keys", map[string]string{adminHeader: testSecret}), 429, "too_many_failures")
	if !strings.Contains(h.Logs.String(), `msg="ginkey: failed admin authentication" client=192.0.2.5`) {
		t.Fatalf("no WARN line for the wrong keys:\n%s", h.Logs)
	}
	// No credentials guess nothing: not counted (another address, the same rule).
	for range 5 {
		testkit.WantError(t, adminGet(h, "192.0.2.6:1", "/auth/keys", nil), 401, "admin_unauthorized")
	}
	if w := adminGet(h, "192.0.2.6:1", "/auth/keys", map[string]string{adminHeader: testSecret}); w.Code != 200 {
		t.Fatalf("after requests without credentials: %d %s", w.Code, w.Body)
	}
}

func TestWildcardKeysAreNotAdministratorsThroughWithScopes(t *testing.T) {
	t.Parallel()
	other := otherGuard(t, nil)
	h := newHarness(t, func(c *Config) { c.AdminAuth = other.WithScopes("ginkey:admin") })
	admin := mustCreate(t, other, KeySpec{Scopes: []string{"ginkey:admin"}})
	for _, scope := range []string{"*", "ginkey:*"} {
		k := mustCreate(t, other, KeySpec{Scopes: []string{scope}})
		testkit.WantError(t, adminGet(h, "", "/auth/keys", map[string]string{"X-API-Key": k.Secret}), 403, "insufficient_scope")
		// On the application's own routes the wildcard still grants it.
		h.Route(http.MethodGet, "/app/"+strings.ReplaceAll(scope, "*", "all"), AnyOf(other.WithScopes("ginkey:admin")))
		if w := adminGet(h, "", "/app/"+strings.ReplaceAll(scope, "*", "all"), map[string]string{"X-API-Key": k.Secret}); w.Code != 200 {
			t.Fatalf("key scoped %s on an application route: %d %s", scope, w.Code, w.Body)
		}
	}
	if w := adminGet(h, "", "/auth/keys", map[string]string{"X-API-Key": admin.Secret}); w.Code != 200 {
		t.Fatalf("a key with the admin scope itself: %d %s", w.Code, w.Body)
	}
}

func TestTheSkipperNeverAppliesToTheAdminAPI(t *testing.T) {
	t.Parallel()
	internal := func(c *gin.Context) bool {
		return c.Request.Method == http.MethodOptions || strings.HasPrefix(c.Request.RemoteAddr, "10.")
	}
	other := otherGuard(t, func(c *Config) { c.Skipper = internal })
	for name, mod := range map[string]func(*Config){
		"AdminKeyScope":              func(c *Config) { c.AdminKeyScope = "ginkey:admin"; c.Skipper = internal },
		"another guard's WithScopes": func(c *Config) { c.AdminAuth = other.WithScopes("ginkey:admin") },
	} {
		h := newHarness(t, mod)
		const inside = "10.1.2.3:4567"
		for _, r := range []testkit.Request{
			{Method: http.MethodGet, Path: "/auth/keys"},
			{Method: http.MethodPost, Path: "/auth/keys", Body: `{"name":"from inside"}`},
		} {
			testkit.WantError(t, h.DoFrom(inside, r), 401, "admin_unauthorized")
		}
		// A CORS preflight learns nothing: a known path answers as an
		// unknown one does.
		for _, path := range []string{"/auth/keys", "/auth/no-such-path"} {
			w := h.DoFrom("", testkit.Request{Method: http.MethodOptions, Path: path})
			testkit.WantError(t, w, 401, "admin_unauthorized")
			if allow := w.Header().Get("Allow"); allow != "" {
				t.Fatalf("%s: OPTIONS %s disclosed Allow: %s", name, path, allow)
			}
		}
		if l, err := keysPage(h.Guard.ListKeys(context.Background(), KeyQuery{})); err != nil || l.Total != 0 {
			t.Fatalf("%s: keys %v, %v; want none created", name, l, err)
		}
	}
	// The Skipper still applies to the application's routes.
	h := newHarness(t, func(c *Config) { c.AdminKeyScope = "ginkey:admin"; c.Skipper = internal })
	h.Route(http.MethodGet, "/app", h.Guard.Handler())
	if w := h.DoFrom("10.1.2.3:4567", testkit.Request{Method: http.MethodGet, Path: "/app"}); w.Code != 200 {
		t.Fatalf("Skipper on an application route: %d %s", w.Code, w.Body)
	}
}

func TestAdminCredentialsInTheQueryStringAreRefused(t *testing.T) {
	t.Parallel()
	other := otherGuard(t, func(c *Config) { c.Sources = []string{"query:token"} })
	h := newHarness(t, func(c *Config) {
		c.AdminKeyScope = "ginkey:admin"
		c.AdminAuth = other.WithScopes("ginkey:admin")
	})
	admin := h.createKey(`{"scopes":["ginkey:admin"]}`)
	otherAdmin := mustCreate(t, other, KeySpec{Scopes: []string{"ginkey:admin"}})
	for _, path := range []string{
		"/auth/keys?api_key=" + admin.Secret,
		"/auth/keys?token=" + otherAdmin.Secret,
		"/auth/keys?admin_secret=" + testSecret,
	} {
		testkit.WantError(t, adminGet(h, "", path, nil), 401, "admin_unauthorized")
	}
	if w := adminGet(h, "", "/auth/keys", map[string]string{"X-API-Key": admin.Secret}); w.Code != 200 {
		t.Fatalf("the admin key in its header: %d %s", w.Code, w.Body)
	}
	if strings.Contains(h.Logs.String(), admin.Secret) {
		t.Fatal("a key reached the log")
	}
}
