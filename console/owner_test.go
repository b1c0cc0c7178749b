package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/console"
)

// ownerOptions signs owners in by a header, as a host's session would.
func ownerOptions() console.Options {
	return console.Options{
		Owner: func(c *gin.Context) (string, bool) {
			o := c.GetHeader("X-Test-Owner")
			return o, o != ""
		},
		Policy: func(string) ginkey.OwnerPolicy {
			return ginkey.OwnerPolicy{Scopes: []string{"items:read"}, MaxKeys: 3}
		},
	}
}

func TestOwnerSeesAndActsOnlyOnOwnKeys(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, ownerOptions())
	alice := createKey(t, e, ginkey.KeySpec{Name: "alice-key", Owner: "alice"})
	bob := createKey(t, e, ginkey.KeySpec{Name: "bob-key", Owner: "bob"})
	as := func(owner string) map[string]string {
		return map[string]string{"X-Test-Owner": owner, "Sec-Fetch-Site": "same-origin"}
	}
	const base = "/account/console"

	mustStatus(t, e.do(http.MethodGet, base+"/keys", nil, nil), http.StatusUnauthorized)
	w := e.do(http.MethodGet, base+"/keys", nil, as("alice"))
	mustStatus(t, w, http.StatusOK)
	body := w.Body.String()
	if !strings.Contains(body, `data-key-id="`+alice.ID+`"`) || strings.Contains(body, bob.ID) || strings.Contains(body, "bob-key") {
		t.Errorf("alice's list: %s", body)
	}
	if strings.Contains(body, `id="signout"`) || strings.Contains(body, "/audit") {
		t.Error("owner page offers the admin's sign-out or audit log")
	}
	// A search for bob's owner name or key finds nothing of his.
	for _, q := range []string{"bob", "bob-key", bob.Prefix} {
		w = e.do(http.MethodGet, base+"/keys?q="+url.QueryEscape(q), nil, as("alice"))
		if strings.Contains(w.Body.String(), bob.ID) {
			t.Errorf("search %q shows bob's key", q)
		}
	}
	newPage := e.do(http.MethodGet, base+"/keys/new", nil, as("alice")).Body.String()
	if !strings.Contains(newPage, "some of: items:read") || strings.Contains(newPage, `id="owner"`) || strings.Contains(newPage, `id="rate-requests"`) {
		t.Errorf("owner's create form: %s", newPage)
	}
	tok := csrfInput.FindStringSubmatch(newPage)
	if tok == nil {
		t.Fatal("no token on the owner's create form")
	}
	// Bob's key: 404 on every page and action, and untouched.
	mustStatus(t, e.do(http.MethodGet, base+"/keys/"+bob.ID, nil, as("alice")), http.StatusNotFound)
	for _, action := range []string{"revoke", "renew", "rotate"} {
		w = e.do(http.MethodPost, base+"/keys/"+bob.ID+"/"+action, url.Values{"csrf": {tok[1]}, "once": {newOnce()}}, as("alice"))
		mustStatus(t, w, http.StatusNotFound)
	}
	if k, err := e.guard.GetKey(t.Context(), bob.ID); err != nil || k.Status != ginkey.StatusActive || k.RotatedTo != "" {
		t.Fatalf("bob's key changed: %+v %v", k, err)
	}
	// The admin's own pages do not exist here.
	for _, path := range []string{"/keys/" + alice.ID + "/edit", "/audit", "/usage", "/signin"} {
		mustStatus(t, e.do(http.MethodGet, base+path, nil, as("alice")), http.StatusNotFound)
	}
	mustStatus(t, e.do(http.MethodPost, base+"/keys/"+alice.ID+"/delete", url.Values{"csrf": {tok[1]}}, as("alice")), http.StatusNotFound)
	// Alice creates a key: hers whatever the form says, under her policy.
	w = e.do(http.MethodPost, base+"/keys", url.Values{"csrf": {tok[1]}, "once": {onceInput.FindStringSubmatch(newPage)[1]}, "name": {"made"}, "owner": {"bob"}, "rate_requests": {"1000000"}}, as("alice"))
	mustStatus(t, w, http.StatusOK)
	if secretCode.FindStringSubmatch(w.Body.String()) == nil {
		t.Fatalf("no key shown: %s", w.Body)
	}
	keys, _, err := e.guard.ListKeys(t.Context(), ginkey.KeyQuery{Name: "made"})
	if err != nil || len(keys) != 1 || keys[0].Owner != "alice" || keys[0].RateLimit != nil || strings.Join(keys[0].Scopes, " ") != "items:read" {
		t.Fatalf("created: %+v %v", keys, err)
	}
	// Her own key: detail, revoke.
	mustStatus(t, e.do(http.MethodGet, base+"/keys/"+alice.ID, nil, as("alice")), http.StatusOK)
	w = e.do(http.MethodPost, base+"/keys/"+alice.ID+"/revoke", url.Values{"csrf": {tok[1]}}, as("alice"))
	mustStatus(t, w, http.StatusSeeOther)
	if k, _ := e.guard.GetKey(t.Context(), alice.ID); k.Status != ginkey.StatusRevoked {
		t.Errorf("alice's key not revoked: %s", k.Status)
	}
	detail := e.do(http.MethodGet, base+"/keys/"+alice.ID, nil, as("alice")).Body.String()
	if !regexp.MustCompile(`<table id="key-audit">[\s\S]*<td>revoke</td><td>owner:alice</td>`).MatchString(detail) {
		t.Errorf("alice's key's audit entries lack her revoke: %s", detail)
	}
	// Her token cookie is no good without the token, nor from another site.
	mustStatus(t, e.do(http.MethodPost, base+"/keys", url.Values{"name": {"x"}}, as("alice")), http.StatusForbidden)
	h := as("alice")
	h["Sec-Fetch-Site"] = "cross-site"
	mustStatus(t, e.do(http.MethodPost, base+"/keys", url.Values{"csrf": {tok[1]}, "name": {"x"}}, h), http.StatusForbidden)
	// The policy's cap is the API's message.
	for range 3 {
		w = e.do(http.MethodPost, base+"/keys", url.Values{"csrf": {tok[1]}, "once": {newOnce()}, "name": {"more"}}, as("alice"))
	}
	if w.Code != http.StatusConflict || !regexp.MustCompile(`id="error" role="alert" data-code="too_many_keys"`).MatchString(w.Body.String()) {
		t.Errorf("past MaxKeys: %d %s", w.Code, w.Body)
	}
}

// TestAnOwnerConsoleSetUpWrongSaysSo: a policy that breaks its rules is the
// host's set-up, answered 500 console_misconfigured (not a passing 503
// outage); an owner no key may have is 401 credentials_invalid.
func TestAnOwnerConsoleSetUpWrongSaysSo(t *testing.T) {
	opts := ownerOptions()
	opts.Policy = func(string) ginkey.OwnerPolicy { return ginkey.OwnerPolicy{MaxKeys: -1} }
	e := newEnv(t, ginkey.Config{}, opts)
	w := e.do(http.MethodGet, "/account/console/keys", nil, map[string]string{"X-Test-Owner": "alice"})
	mustStatus(t, w, http.StatusInternalServerError)
	if !strings.Contains(w.Body.String(), `data-code="console_misconfigured"`) {
		t.Errorf("bad policy: %s", w.Body)
	}
	e = newEnv(t, ginkey.Config{}, ownerOptions())
	w = e.do(http.MethodGet, "/account/console/keys", nil, map[string]string{"X-Test-Owner": strings.Repeat("o", 201)})
	mustStatus(t, w, http.StatusUnauthorized)
	if !strings.Contains(w.Body.String(), `data-code="credentials_invalid"`) {
		t.Errorf("bad owner: %s", w.Body)
	}
}
