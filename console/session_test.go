package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/console"
)

func TestSignInSetsAStrictSessionCookieAndSignOutEndsIt(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	w := e.get("/console/keys")
	mustStatus(t, w, http.StatusSeeOther)
	if loc := w.Header().Get("Location"); loc != "/console/signin" {
		t.Fatalf("not signed in: Location %q", loc)
	}
	form := e.get("/console/signin").Body.String()
	for _, want := range []string{`<form id="signin"`, `<label for="secret">Admin secret</label>`, `id="secret" name="secret" type="password"`, `id="signin-submit"`} {
		if !strings.Contains(form, want) {
			t.Errorf("sign-in form lacks %s", want)
		}
	}
	e.signIn()
	c := e.cookies["ginkey_console"]
	if c == nil {
		t.Fatal("no session cookie")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/console" || c.Secure || len(c.Value) != 43 || strings.Contains(c.Value, testSecret) {
		t.Errorf("session cookie: %s", attrs(c))
	}
	old := *c
	mustStatus(t, e.get("/console/keys"), http.StatusOK)
	tok := e.token("/console/keys")
	w = e.post("/console/signout", url.Values{"csrf": {tok}})
	mustStatus(t, w, http.StatusSeeOther)
	if w.Header().Get("Location") != "/console/signin" || e.cookies["ginkey_console"] != nil {
		t.Fatalf("sign-out: %q, cookie %v", w.Header().Get("Location"), e.cookies["ginkey_console"])
	}
	// The old cookie, replayed, opens nothing: the session is gone on the server.
	e.cookies["ginkey_console"] = &old
	w = e.get("/console/keys")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/signin" {
		t.Errorf("old cookie after sign-out: %d %q", w.Code, w.Header().Get("Location"))
	}
}

func TestSessionCookieIsSecureOverTLS(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	req := url.Values{"secret": {testSecret}}
	w := e.do(http.MethodPost, "https://example.com/console/signin", req, map[string]string{"Sec-Fetch-Site": "same-origin"})
	mustStatus(t, w, http.StatusSeeOther)
	if c := e.cookies["ginkey_console"]; c == nil || !c.Secure {
		t.Errorf("cookie over TLS: %s", attrs(c))
	}
	// Behind a proxy that ends TLS the request is plain HTTP: SecureCookies.
	e = newEnv(t, ginkey.Config{}, console.Options{SecureCookies: true})
	e.signIn()
	if c := e.cookies["ginkey_console"]; c == nil || !c.Secure {
		t.Errorf("cookie with SecureCookies, over plain HTTP: %s", attrs(c))
	}
}

func TestWrongSecretShowsTheErrorAndIsThrottledWithTheHeader(t *testing.T) {
	e := newEnv(t, ginkey.Config{AdminFailureLimit: 3}, console.Options{})
	w := e.post("/console/signin", url.Values{"secret": {"wrong-secret-0123456789"}})
	mustStatus(t, w, http.StatusUnauthorized)
	if !strings.Contains(w.Body.String(), `<div id="error" role="alert"`) || !strings.Contains(w.Body.String(), "admin_unauthorized") {
		t.Errorf("no error: %s", w.Body)
	}
	if e.cookies["ginkey_console"] != nil {
		t.Error("a wrong secret got a session")
	}
	// The header and the form draw on one allowance per address.
	mustStatus(t, e.do(http.MethodGet, "/admin/keys", nil, map[string]string{"X-Admin-Secret": "wrong-secret-0123456789"}), http.StatusUnauthorized)
	mustStatus(t, e.post("/console/signin", url.Values{"secret": {"wrong-secret-0123456789"}}), http.StatusUnauthorized)
	w = e.post("/console/signin", url.Values{"secret": {testSecret}})
	mustStatus(t, w, http.StatusTooManyRequests)
	if w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "too_many_failures") {
		t.Errorf("throttled sign-in: Retry-After %q, body %s", w.Header().Get("Retry-After"), w.Body)
	}
	mustStatus(t, e.do(http.MethodGet, "/admin/keys", nil, map[string]string{"X-Admin-Secret": testSecret}), http.StatusTooManyRequests)
}

func TestAdminAuthBasicWorksWithoutTheForm(t *testing.T) {
	basic, err := ginkey.BasicAuth("ops", map[string]string{"ops": "ops-password-123"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, ginkey.Config{AdminAuth: basic}, console.Options{})
	auth := map[string]string{"Authorization": "Basic b3BzOm9wcy1wYXNzd29yZC0xMjM="} // ops:ops-password-123
	w := e.do(http.MethodGet, "/console/keys", nil, auth)
	mustStatus(t, w, http.StatusOK)
	tok := csrfInput.FindStringSubmatch(w.Body.String())
	if tok == nil || e.cookies["ginkey_console_csrf"] == nil || !e.cookies["ginkey_console_csrf"].HttpOnly {
		t.Fatalf("no HttpOnly token cookie: %s", attrs(e.cookies["ginkey_console_csrf"]))
	}
	h := map[string]string{"Authorization": auth["Authorization"], "Sec-Fetch-Site": "same-origin"}
	mustStatus(t, e.do(http.MethodPost, "/console/keys", url.Values{"csrf": {tok[1]}, "once": {newOnce()}, "name": {"b"}}, h), http.StatusOK)
	mustStatus(t, e.do(http.MethodPost, "/console/keys", url.Values{"csrf": {"x" + tok[1][1:]}, "name": {"b"}}, h), http.StatusForbidden)
	// Wrong Basic credentials are the gate's refusal, with its challenge.
	w = e.do(http.MethodGet, "/console/keys", nil, map[string]string{"Authorization": "Basic b3BzOndyb25n"})
	mustStatus(t, w, http.StatusUnauthorized)
	// The sign-in link asks the browser for Basic credentials, then keeps a session.
	w = e.get("/console/signin/basic")
	if w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Basic") {
		t.Errorf("signin/basic without credentials: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	// Another site's page (an image, a link) makes no session, even when the
	// browser attaches the credentials.
	for _, site := range []string{"cross-site", "same-site"} {
		w = e.do(http.MethodGet, "/console/signin/basic", nil, map[string]string{"Authorization": auth["Authorization"], "Sec-Fetch-Site": site})
		mustStatus(t, w, http.StatusForbidden)
		if e.cookies["ginkey_console"] != nil {
			t.Fatalf("a %s request to signin/basic started a session", site)
		}
	}
	w = e.do(http.MethodGet, "/console/signin/basic", nil, auth)
	mustStatus(t, w, http.StatusSeeOther)
	mustStatus(t, e.get("/console/keys"), http.StatusOK)
}

// TestEveryStateChangeNeedsItsTokenAndSameOrigin posts to every
// state-changing route without the token, with a wrong one, and from
// another site with the right one: 403 csrf_failed each time, the key
// untouched; then with the right token, accepted.
func TestEveryStateChangeNeedsItsTokenAndSameOrigin(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	k := createKey(t, e, ginkey.KeySpec{Name: "target"})
	tok := e.token("/console/keys")
	routes := map[string]url.Values{
		"/console/keys":                     {"name": {"new"}, "once": {newOnce()}},
		"/console/keys/" + k.ID + "/edit":   {"name": {"renamed"}, "version": {e.version("/console/keys/" + k.ID + "/edit")}},
		"/console/keys/" + k.ID + "/rotate": {"grace": {"1h"}, "once": {newOnce()}},
		"/console/keys/" + k.ID + "/renew":  {"renew_ttl": {"30d"}},
		"/console/keys/" + k.ID + "/revoke": {},
		"/console/keys/" + k.ID + "/delete": {},
		"/console/signout":                  {},
	}
	refusals := []struct {
		name   string
		token  string
		header map[string]string
	}{
		{"no token", "", map[string]string{"Sec-Fetch-Site": "same-origin"}},
		{"wrong token", strings.Repeat("A", 43), map[string]string{"Sec-Fetch-Site": "same-origin"}},
		{"cross-site", tok, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"foreign origin", tok, map[string]string{"Origin": "https://evil.example"}},
	}
	for path, form := range routes {
		for _, r := range refusals {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if r.token != "" {
				f.Set("csrf", r.token)
			}
			w := e.do(http.MethodPost, path, f, r.header)
			if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "csrf_failed") || !strings.Contains(w.Body.String(), `id="error"`) {
				t.Errorf("%s %s: %d %s", r.name, path, w.Code, w.Body)
			}
		}
	}
	if got, err := e.guard.GetKey(t.Context(), k.ID); err != nil || got.Name != "target" || got.Status != ginkey.StatusActive {
		t.Fatalf("a refused post changed the key: %+v %v", got, err)
	}
	if _, total, _ := e.guard.ListKeys(t.Context(), ginkey.KeyQuery{}); total != 1 {
		t.Fatalf("a refused post created a key: %d", total)
	}
	// Accepted with the token, in an order that leaves each route its key.
	for _, path := range []string{"/console/keys", "/console/keys/" + k.ID + "/edit", "/console/keys/" + k.ID + "/renew",
		"/console/keys/" + k.ID + "/rotate", "/console/keys/" + k.ID + "/revoke", "/console/keys/" + k.ID + "/delete", "/console/signout"} {
		f := url.Values{"csrf": {tok}}
		for k, v := range routes[path] {
			f[k] = v
		}
		w := e.post(path, f)
		if w.Code != http.StatusOK && w.Code != http.StatusSeeOther {
			t.Errorf("with the token, %s: %d %s", path, w.Code, w.Body)
		}
	}
	// Sign-in has no session yet: it is guarded by the origin checks.
	w := e.do(http.MethodPost, "/console/signin", url.Values{"secret": {testSecret}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	mustStatus(t, w, http.StatusForbidden)
}

func TestSessionsEndWhenIdleOrTooOldAndAreBounded(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	e := newEnv(t, ginkey.Config{}, console.Options{Now: clock, SessionIdle: 10 * time.Minute, SessionMax: time.Hour, MaxSessions: 2})
	e.signIn()
	for range 6 { // used every 9 minutes: alive for 54 minutes
		advance(9 * time.Minute)
		mustStatus(t, e.get("/console/keys"), http.StatusOK)
	}
	advance(9 * time.Minute) // 63 minutes after the sign-in: over
	mustStatus(t, e.get("/console/keys"), http.StatusSeeOther)
	e.signIn()
	advance(11 * time.Minute)
	mustStatus(t, e.get("/console/keys"), http.StatusSeeOther)
	// A third sign-in ends the session used longest ago.
	e.signIn()
	first := *e.cookies["ginkey_console"]
	advance(time.Minute)
	e.signIn()
	advance(time.Minute)
	e.signIn()
	e.cookies["ginkey_console"] = &first
	mustStatus(t, e.get("/console/keys"), http.StatusSeeOther)
}

func TestAnOversizedFormIsRefused(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	tok := e.token("/console/keys/new")
	w := e.post("/console/keys", url.Values{"csrf": {tok}, "name": {"big"}, "metadata": {strings.Repeat("x", 70<<10)}})
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), `data-code="payload_too_large"`) {
		t.Errorf("oversized form: %d %s", w.Code, w.Body)
	}
	if _, total, _ := e.guard.ListKeys(t.Context(), ginkey.KeyQuery{}); total != 0 {
		t.Error("an oversized form created a key")
	}
}

// TestTheConsoleRefusesAdminKeysInTheQueryString: an admin-scoped key in
// the URL (where logs and histories keep it) opens no console page and
// starts no session, as the admin API refuses it; in its header it does.
func TestTheConsoleRefusesAdminKeysInTheQueryString(t *testing.T) {
	e := newEnv(t, ginkey.Config{AdminKeyScope: "ginkey:admin"}, console.Options{})
	admin := createKey(t, e, ginkey.KeySpec{Name: "admin", Scopes: []string{"ginkey:admin"}})
	w := e.get("/console/keys?api_key=" + admin.Secret)
	if w.Code == http.StatusOK {
		t.Errorf("an admin key in the query string opened the keys page")
	}
	w = e.get("/console/signin/basic?api_key=" + admin.Secret)
	if w.Code == http.StatusSeeOther || e.cookies["ginkey_console"] != nil {
		t.Errorf("an admin key in the query string started a session: %d %s", w.Code, attrs(e.cookies["ginkey_console"]))
	}
	mustStatus(t, e.do(http.MethodGet, "/console/keys", nil, map[string]string{"X-API-Key": admin.Secret}), http.StatusOK)
}

// TestASessionOfAnAdminKeyEndsWithTheKey: a console session signed in with
// an admin-scoped key is closed once that key is revoked.
func TestASessionOfAnAdminKeyEndsWithTheKey(t *testing.T) {
	e := newEnv(t, ginkey.Config{AdminKeyScope: "ginkey:admin"}, console.Options{})
	admin := createKey(t, e, ginkey.KeySpec{Name: "admin", Scopes: []string{"ginkey:admin"}})
	w := e.do(http.MethodGet, "/console/signin/basic", nil, map[string]string{"X-API-Key": admin.Secret})
	mustStatus(t, w, http.StatusSeeOther)
	mustStatus(t, e.get("/console/keys"), http.StatusOK)
	if _, err := e.guard.RevokeKey(t.Context(), admin.ID); err != nil {
		t.Fatal(err)
	}
	w = e.get("/console/keys")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/signin" {
		t.Fatalf("the revoked admin key's session: %d %q", w.Code, w.Header().Get("Location"))
	}
}

// attrs describes a cookie for a failure message without its value (a
// session id or a CSRF token).
func attrs(c *http.Cookie) string {
	if c == nil {
		return "no cookie"
	}
	return fmt.Sprintf("%s: Path=%s MaxAge=%d HttpOnly=%t Secure=%t SameSite=%v, value of %d bytes",
		c.Name, c.Path, c.MaxAge, c.HttpOnly, c.Secure, c.SameSite, len(c.Value))
}
