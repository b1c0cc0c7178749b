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
)

// otherGuard is a second guard on its own SQLite file, whose WithScopes a
// test hands to the admin guard as AdminAuth.
func otherGuard(t *testing.T, mod func(*Config)) *Guard {
	t.Helper()
	cfg := Config{DBPath: filepath.Join(t.TempDir(), "other.db"), LookupEnv: noEnv, Logger: slogDiscard()}
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
	h.t.Helper()
	return h.doFrom(remote, req{method: http.MethodGet, path: path, header: header})
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
		wantError(t, adminGet(h, attacker, "/auth/keys", map[string]string{"Authorization": basicHeader("ops", "guess-"+string(rune('a'+i)))}),
			401, "credentials_invalid")
	}
	// The allowance is used up: refused before the compare, the right
	// password too, and the secret shares the allowance.
	w := adminGet(h, attacker, "/auth/keys", map[string]string{"Authorization": basicHeader("ops", "guess-d")})
	wantError(t, w, 429, "too_many_failures")
	wantRetryAfter(t, w, 20*time.Second)
	wantError(t, adminGet(h, attacker, "/auth/keys", map[string]string{"Authorization": basicHeader("ops", "pw-for-ops-0123")}), 429, "too_many_failures")
	wantError(t, adminGet(h, attacker, "/auth/keys", map[string]string{adminHeader: testSecret}), 429, "too_many_failures")
	if w := adminGet(h, other, "/auth/keys", map[string]string{"Authorization": basicHeader("ops", "pw-for-ops-0123")}); w.Code != 200 {
		t.Fatalf("another address with the right password: %d %s", w.Code, w.Body)
	}
	// Logged at WARN, never with the password.
	logs := h.logs.String()
	if !strings.Contains(logs, `level=WARN msg="ginkey: failed admin authentication" client=192.0.2.1`) {
		t.Fatalf("no WARN line for the wrong passwords:\n%s", logs)
	}
	if strings.Contains(logs, "guess-") || strings.Contains(logs, "pw-for-ops") {
		t.Fatalf("a password reached the log:\n%s", logs)
	}
	// Audited: one auth_failed entry for the address's minute.
	clock.Advance(time.Minute)
	h.guard.flushAuthFailures(context.Background(), false)
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
	wantError(t, adminGet(h, attacker, "/auth/keys", map[string]string{"X-API-Key": plain.Secret}), 403, "insufficient_scope")
	wantError(t, adminGet(h, attacker, "/auth/keys", map[string]string{"X-API-Key": "gk_" + strings.Repeat("A", 49)}), 401, "key_invalid")
	wantError(t, adminGet(h, attacker, "/auth/keys", map[string]string{adminHeader: testSecret}), 429, "too_many_failures")
	if !strings.Contains(h.logs.String(), `msg="ginkey: failed admin authentication" client=192.0.2.5`) {
		t.Fatalf("no WARN line for the wrong keys:\n%s", h.logs)
	}
	// No credentials guess nothing: not counted (another address, the same rule).
	for range 5 {
		wantError(t, adminGet(h, "192.0.2.6:1", "/auth/keys", nil), 401, "admin_unauthorized")
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
		wantError(t, adminGet(h, "", "/auth/keys", map[string]string{"X-API-Key": k.Secret}), 403, "insufficient_scope")
		// On the application's own routes the wildcard still grants it.
		h.route(http.MethodGet, "/app/"+strings.ReplaceAll(scope, "*", "all"), AnyOf(other.WithScopes("ginkey:admin")))
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
		for _, r := range []req{
			{method: http.MethodGet, path: "/auth/keys"},
			{method: http.MethodPost, path: "/auth/keys", body: `{"name":"from inside"}`},
		} {
			wantError(t, h.doFrom(inside, r), 401, "admin_unauthorized")
		}
		// A CORS preflight learns nothing: a known path answers as an
		// unknown one does.
		for _, path := range []string{"/auth/keys", "/auth/no-such-path"} {
			w := h.doFrom("", req{method: http.MethodOptions, path: path})
			wantError(t, w, 401, "admin_unauthorized")
			if allow := w.Header().Get("Allow"); allow != "" {
				t.Fatalf("%s: OPTIONS %s disclosed Allow: %s", name, path, allow)
			}
		}
		if l, err := h.guard.ListKeys(context.Background(), KeyQuery{}); err != nil || l.Total != 0 {
			t.Fatalf("%s: keys %v, %v; want none created", name, l, err)
		}
	}
	// The Skipper still applies to the application's routes.
	h := newHarness(t, func(c *Config) { c.AdminKeyScope = "ginkey:admin"; c.Skipper = internal })
	h.route(http.MethodGet, "/app", h.guard.Handler())
	if w := h.doFrom("10.1.2.3:4567", req{method: http.MethodGet, path: "/app"}); w.Code != 200 {
		t.Fatalf("Skipper on an application route: %d %s", w.Code, w.Body)
	}
}

func TestAdminCredentialsInTheQueryStringAreRefused(t *testing.T) {
	t.Parallel()
	other := otherGuard(t, func(c *Config) { c.Sources = []Source{{From: FromQuery, Name: "token"}} })
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
		wantError(t, adminGet(h, "", path, nil), 401, "admin_unauthorized")
	}
	if w := adminGet(h, "", "/auth/keys", map[string]string{"X-API-Key": admin.Secret}); w.Code != 200 {
		t.Fatalf("the admin key in its header: %d %s", w.Code, w.Body)
	}
	if strings.Contains(h.logs.String(), admin.Secret) {
		t.Fatal("a key reached the log")
	}
}
