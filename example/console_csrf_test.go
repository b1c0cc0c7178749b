package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
)

// keyCount is the number of keys, from the admin API.
func keyCount(t *testing.T, srv string) int64 {
	t.Helper()
	code, body, err := call(http.DefaultClient, http.MethodGet, srv+"/auth/keys", "X-Admin-Secret", testSecret, "")
	var l struct{ Total int64 }
	if err != nil || code != http.StatusOK || json.Unmarshal(body, &l) != nil {
		t.Fatalf("GET /auth/keys: %d %v %s", code, err, body)
	}
	return l.Total
}

// TestConsoleRefusesFormPostsFromAnotherOriginOfTheSameSite: a real
// Chromium signed in to the admin console opens a page of another port of
// 127.0.0.1, the same site, so the SameSite=Strict session cookie goes
// along with its forms. Each form posts to one of the console's state
// changes, with a made-up CSRF token: every one is answered 403
// csrf_failed, and the key, the number of keys and the session are as
// they were.
func TestConsoleRefusesFormPostsFromAnotherOriginOfTheSameSite(t *testing.T) {
	execPath := chromium(t)
	h := newTestGuard(t, false)
	srv := httptest.NewServer(h.Engine)
	t.Cleanup(srv.Close)
	base := srv.URL + "/console"
	victim := guardtest.CreateKey(t, h.Guard, ginkey.KeySpec{Name: "victim", Scopes: []string{"items:read"}})

	actions := []struct{ name, path, fields string }{
		{"create", "/keys", `<input name="name" value="planted">`},
		{"rotate", "/keys/" + victim.ID + "/rotate", `<input name="grace" value="0s">`},
		{"revoke", "/keys/" + victim.ID + "/revoke", ``},
		{"renew", "/keys/" + victim.ID + "/renew", `<input name="ttl" value="never">`},
		{"edit", "/keys/" + victim.ID + "/edit", `<input name="name" value="renamed"><input name="scopes" value="*">`},
		{"delete", "/keys/" + victim.ID + "/delete", ``},
		{"sign out", "/signout", ``},
	}
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		a := actions[0]
		for _, x := range actions {
			if r.URL.Query().Get("a") == x.name {
				a = x
			}
		}
		_, _ = fmt.Fprintf(w, `<!doctype html><title>prize</title><form method="POST" action="%s"><input type="hidden" name="csrf" value="made-up-token-made-up-token-made-up-token00">%s<button id="go">win a prize</button></form>`,
			html.EscapeString(base+a.path), a.fields)
	}))
	t.Cleanup(attacker.Close)
	before := keyCount(t, srv.URL)

	u := browser(t, execPath)
	u.signIn(base)
	for _, a := range actions {
		u.run("the other origin's "+a.name, chromedp.Navigate(attacker.URL+"/?a="+strings.ReplaceAll(a.name, " ", "+")), chromedp.Click(chromedp.CSS(`#go`)))
		body := u.waitForPage(base + "/")
		if !strings.Contains(body, "csrf_failed") {
			t.Errorf("%s from another origin: the console answered %q, want csrf_failed", a.name, redact(body))
		}
	}

	k, err := h.Guard.GetKey(context.Background(), victim.ID)
	if err != nil || k.Status != ginkey.StatusActive || k.RotatedTo != "" || k.Name != "victim" || k.ExpiresAt == nil {
		t.Errorf("the forms from another origin changed the key: %+v, %v", k, err)
	}
	if after := keyCount(t, srv.URL); after != before {
		t.Errorf("%d keys after the forms from another origin, %d before", after, before)
	}
	u.run("still signed in", chromedp.Navigate(base+"/keys"), chromedp.WaitVisible(chromedp.CSS(`table#keys`)))
}
