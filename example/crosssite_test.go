package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
)

// TestABrowserPageOfAnotherOriginCannotChangeKeys: a real Chromium holds an
// admin key in a cookie (AdminKeyScope reading a cookie source) for the example's
// server. A page of another origin, another port of 127.0.0.1 (so the same
// site, and the cookie goes along even with SameSite=Lax), submits a form
// that would rotate a key: the admin API answers 403 cross_origin_refused and
// the key stays as it was. The same cookie works from the API's own origin,
// as a console of the host's would use it.
func TestABrowserPageOfAnotherOriginCannotChangeKeys(t *testing.T) {
	execPath := chromium(t)
	h := guardtest.NewRouted(t, func(c *ginkey.Config) {
		c.AdminKeyScope = "ginkey:admin"
		c.Sources = []string{"header:X-API-Key", "cookie:ginkey_admin"}
	}, newRouter)
	srv := httptest.NewServer(h.Engine)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	admin := guardtest.CreateKey(t, h.Guard, ginkey.KeySpec{Name: "console", Scopes: []string{"ginkey:admin"}})
	victim := guardtest.CreateKey(t, h.Guard, ginkey.KeySpec{Name: "victim"})

	rotate := srv.URL + "/auth/keys/" + victim.ID + "/rotate"
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, `<!doctype html><form method="POST" action="%s"><button id="go">win a prize</button></form>`, html.EscapeString(rotate))
	}))
	t.Cleanup(attacker.Close)

	u := browser(t, execPath)
	// Signed in: the admin cookie, set by a page of the API's origin.
	u.run("sign in", chromedp.Navigate(srv.URL+"/public"),
		into(chromedp.Evaluate[bool](`document.cookie = "ginkey_admin=`+admin.Secret+`; path=/"; true`), new(bool)))

	// The same cookie works from the API's own origin, with JSON.
	var status int
	u.run("same-origin create", into(chromedp.Evaluate[int](
		`fetch("/auth/keys", {method: "POST", headers: {"Content-Type": "application/json"}, body: '{"name":"from the console"}'}).then(r => r.status)`,
		chromedp.EvalAwaitPromise), &status))
	if status != http.StatusCreated {
		t.Fatalf("a same-origin JSON create with the admin cookie: %d, want 201", status)
	}

	// The other origin's form.
	u.run("open the other origin's page", chromedp.Navigate(attacker.URL), chromedp.Click(chromedp.CSS(`#go`)))
	body := u.waitForPage(srv.URL + "/auth/")
	if !strings.Contains(body, `"code":"cross_origin_refused"`) {
		t.Errorf("the other origin's form post got %s, want cross_origin_refused", body)
	}
	k, err := h.Guard.GetKey(ctx, victim.ID)
	if err != nil || k.RotatedTo != "" || k.Status != ginkey.StatusActive {
		t.Fatalf("the form post from another origin changed the key: %+v, %v", k, err)
	}
}

// waitForPage waits until the tab shows a page below prefix, and returns its
// text. It reads in a loop: a navigation destroys the page a wait would run
// in.
func (u *ui) waitForPage(prefix string) string {
	u.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(u.ctx, time.Second)
		loc, err := chromedp.Run(ctx, chromedp.Location())
		var text string
		if err == nil && strings.HasPrefix(loc, prefix) {
			text, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === "complete" ? document.body.innerText : ""`))
		}
		cancel()
		if err == nil && text != "" {
			u.shot("page-"+strings.TrimPrefix(loc, prefix), chromedp.CaptureScreenshot())
			return text
		}
		time.Sleep(50 * time.Millisecond)
	}
	u.shot("FAILED-wait-for-"+prefix, chromedp.FullScreenshot(100))
	u.t.Fatalf("no page below %s within %s", prefix, stepTimeout)
	return ""
}
