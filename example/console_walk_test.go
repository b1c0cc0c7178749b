package main

// The key console (console.go) in a real browser: headless Chromium walks
// the admin console at /console of the example's router on 127.0.0.1 with
// every request to another origin failed (blockForeign), as on a host
// without a network.
//
//	go test ./example -run TestConsole -v                          # figures and screenshot paths in the log
//	GINKEY_SCREENSHOTS=/tmp/shots go test ./example -run TestConsoleWalk  # keep copies (guides/img/console.png is one)

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// consoleServer serves the example's router and returns it with the admin
// console's URL.
func consoleServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewServer(newTestGuard(t, false).Engine)
	t.Cleanup(srv.Close)
	return srv, srv.URL + "/console"
}

// location is the tab's URL.
func (u *ui) location() string {
	u.t.Helper()
	var loc string
	u.run("read the location", into(chromedp.Location(), &loc))
	return loc
}

// acceptDialogs accepts every JavaScript dialog the tab opens (the
// console's confirm() before a revoke), and counts them.
func (u *ui) acceptDialogs() func() int {
	u.t.Helper()
	opened := chromedp.Events(u.ctx, page.JavascriptDialogOpening)
	var n atomic.Int32
	go func() {
		for _, err := range opened {
			if err != nil {
				return
			}
			n.Add(1)
			_, _ = chromedp.Call(u.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return func() int { return int(n.Load()) }
}

// grantClipboard lets the server's pages read and write the clipboard, as
// a user who accepted the prompt, and keeps the page focused (the
// clipboard answers a focused document only).
func (u *ui) grantClipboard(origin string) {
	u.t.Helper()
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(u.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted, Origin: origin,
		}); err != nil {
			u.t.Fatalf("grant %s: %v", name, err)
		}
	}
	if _, err := chromedp.Call(u.ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		u.t.Fatal(err)
	}
}

// consoleCookie returns the console's session cookie as the browser keeps
// it (HttpOnly ones included), after checking that every cookie the
// console set is HttpOnly, SameSite=Strict, for /console only, and (on
// plain http) not Secure.
func (u *ui) consoleCookie(origin string) *network.Cookie {
	u.t.Helper()
	res, err := chromedp.Call(u.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{origin + "/console/keys"}})
	if err != nil {
		u.t.Fatal(err)
	}
	var sess *network.Cookie
	for _, c := range res.Cookies {
		if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict || c.Path != "/console" || c.Secure {
			u.t.Errorf("cookie %s: HttpOnly %v, SameSite %q, Path %q, Secure %v; want HttpOnly, Strict, /console, not Secure on plain http",
				c.Name, c.HTTPOnly, c.SameSite, c.Path, c.Secure)
		}
		if strings.Contains(c.Value, testSecret) {
			u.t.Errorf("cookie %s holds the admin secret", c.Name)
		}
		if c.Name == "ginkey_console" {
			sess = c
		}
	}
	if sess == nil {
		u.t.Fatalf("no session cookie among %d cookies for the console", len(res.Cookies))
	}
	return sess
}

// TestConsoleWalkSignInCreateUseChartRotateRevokeSignOut is the issue's
// walk, with every foreign request failed: sign in with the admin secret
// (a wrong one first); create a key, shown once and copied with the Copy
// button; use it on the guarded routes for three outcomes; the chart's
// segments equal the usage endpoint's counts; rotate with a grace period
// (both keys work); revoke the old key (refused: key_revoked), which the
// audit log's filter finds and the top keys by refusals list first; sign out
// (the console is closed, the old cookie too). No request failed or left
// for another origin, and the page logged no error (a CSP violation is one).
func TestConsoleWalkSignInCreateUseChartRotateRevokeSignOut(t *testing.T) {
	execPath := chromium(t)
	srv, base := consoleServer(t)
	u := browser(t, execPath)
	net := u.blockForeign(srv.URL)
	dialogs := u.acceptDialogs()
	u.grantClipboard(srv.URL)
	start := time.Now()

	// 1. Signed out, /console/ leads to the sign-in form; a wrong secret
	// shows the API's message in the alert.
	u.run("open the console signed out", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`form#signin`)))
	if loc := u.location(); loc != base+"/signin" {
		t.Errorf("signed out, /console/ led to %s, want %s/signin", loc, base)
	}
	var alert string
	u.run("sign in with a wrong secret",
		chromedp.SendKeys(chromedp.CSS(`input#secret`), "not-the-secret"),
		chromedp.Click(chromedp.CSS(`button#signin-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`div#error[role=alert]`)),
		into(chromedp.Text(chromedp.CSS(`div#error`)), &alert),
	)
	if !strings.Contains(alert, "admin_unauthorized") && !strings.Contains(strings.ToLower(alert), "secret") {
		t.Errorf("the wrong secret's alert %q names neither the code nor the secret", alert)
	}
	u.page("console-signin-refused")
	// The refusal is a 401 page, which Chromium logs as a failed load.
	deadline := time.Now().Add(stepTimeout)
	for !u.forgiveProblem("status of 401") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	u.run("sign in",
		chromedp.SendKeys(chromedp.CSS(`input#secret`), testSecret),
		chromedp.Click(chromedp.CSS(`button#signin-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`table#keys`)),
	)
	c := u.consoleCookie(srv.URL)
	var kept string
	u.run("read the page's storage and URL", into(chromedp.Evaluate[string](
		`JSON.stringify([location.href, document.cookie, Object.assign({}, localStorage), Object.assign({}, sessionStorage)])`), &kept))
	if strings.Contains(kept, testSecret) {
		t.Errorf("the admin secret is kept in the URL, a script-readable cookie or web storage: %s", redact(kept))
	}

	// 2. Create a key: scope items:read, 3 requests a second. The page
	// shows it once, with the warning, and Copy puts it on the clipboard.
	u.run("open the create form", chromedp.Click(chromedp.CSS(`a#new-key-link`)), chromedp.WaitVisible(chromedp.CSS(`form#create`)))
	var secret, detailHref, copied, copyLabel string
	u.run("create a key",
		chromedp.SendKeys(chromedp.CSS(`input#name`), "walk key"),
		chromedp.SendKeys(chromedp.CSS(`input#scopes`), "items:read"),
		chromedp.SendKeys(chromedp.CSS(`input#rate-requests`), "3"),
		chromedp.SetValue(chromedp.CSS(`select#rate-per`), "1s"),
		chromedp.Click(chromedp.CSS(`button#create-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`code#secret`)),
		chromedp.WaitVisible(chromedp.CSS(`p#shown-once`)),
		into(chromedp.Text(chromedp.CSS(`code#secret`)), &secret),
		into(chromedp.Evaluate[string](`document.querySelector("a#key-detail-link").href`), &detailHref),
	)
	if !keyShape.MatchString(secret) || keyShape.FindString(secret) != secret {
		t.Fatalf("code#secret holds %q, not a key", redact(secret))
	}
	u.run("copy the key",
		chromedp.WaitVisible(chromedp.CSS(`button#copy`)), // console.js shows it where the clipboard API is
		chromedp.Click(chromedp.CSS(`button#copy`)),
		into(chromedp.Poll[string](`document.querySelector("button#copy").textContent !== "Copy" && document.querySelector("button#copy").textContent`, chromedp.WithPollingTimeout(5*time.Second)), &copyLabel),
		into(chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise), &copied),
	)
	if copied != secret {
		t.Errorf("the clipboard holds %q after Copy (button says %q), want the key", redact(copied), copyLabel)
	}
	oldID := detailHref[strings.LastIndexByte(detailHref, '/')+1:]

	// Shown once: the detail page does not show it, and Back does not
	// bring the answer back (no-store: Chromium would have to post again).
	u.run("go to the key", chromedp.Click(chromedp.CSS(`a#key-detail-link`)), chromedp.WaitVisible(chromedp.CSS(`dl#key-fields`)))
	if u.count(`code#secret`) != 0 || strings.Contains(u.html(), secret) {
		t.Fatal("the detail page shows the key's secret")
	}
	if err := chromedp.Do(u.ctx, chromedp.NavigateBack()); err == nil || !strings.Contains(err.Error(), "ERR_CACHE_MISS") {
		t.Errorf("Back to the created key's page: %v, want net::ERR_CACHE_MISS (not kept, not shown again)", err)
		if strings.Contains(u.html(), secret) {
			t.Fatal("Back shows the key's secret again")
		}
	} else if !net.forgive("Document " + base + "/keys: net::ERR_CACHE_MISS") {
		t.Errorf("Back failed without the network log seeing it")
	}

	// 3. The key on the guarded routes: admitted (valid), refused for a
	// scope it lacks (POST /items needs items:write), refused by its rate.
	tally := map[string]int64{}
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPost} {
		tally[callItems(t, srv, m, secret)]++
	}
	var burstEnd time.Time
	for range 8 {
		tally[callItems(t, srv, http.MethodGet, secret)]++
		burstEnd = time.Now()
	}
	t.Logf("outcomes of the key's requests: %v", tally)
	if tally["valid"] == 0 || tally["insufficient_scope"] != 2 || tally["rate_limited"] == 0 || len(tally) != 3 {
		t.Fatalf("the requests' outcomes %v, want valid, insufficient_scope (2) and rate_limited only", tally)
	}

	// 4. The detail page's chart: today's segments are the usage
	// endpoint's counts, and those are the requests just made.
	u.run("open the key's page", chromedp.Navigate(detailHref), chromedp.WaitVisible(chromedp.CSS(`figure#usage-chart`)))
	today := time.Now().UTC().Format(time.DateOnly)
	drawn := u.chartByDay()[today]
	api := usageByDay(t, srv, oldID)[today]
	if !sameCounts(drawn, api) || !sameCounts(api, tally) {
		t.Errorf("today's chart %v, usage endpoint %v, requests made %v: want all three equal", drawn, api, tally)
	}
	var lastUsed string
	u.run("read Last used", into(chromedp.Evaluate[string](`(() => { const dt = Array.from(document.querySelectorAll("dl#key-fields dt")).find(e => /last used/i.test(e.textContent)); return dt ? dt.nextElementSibling.textContent.trim() : "(no Last used field)"; })()`), &lastUsed))
	if lastUsed == "" || strings.Contains(lastUsed, "never") || strings.HasPrefix(lastUsed, "(") {
		t.Errorf("the used key's Last used reads %q", lastUsed)
	}
	if u.count(`figure#usage-chart svg[role=img] title`) == 0 {
		t.Error("the chart's svg has no role=img with a title")
	}
	u.shot("console-key-detail", chromedp.CaptureScreenshot())

	// 5. Rotate with a grace period of 1h: the new key is shown once;
	// both work (once the burst's rate window has passed).
	var newSecret, newHref string
	u.run("rotate with 1h of grace",
		chromedp.SetValue(chromedp.CSS(`input#grace`), "1h"),
		chromedp.Click(chromedp.CSS(`button#rotate-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`code#secret`)),
		into(chromedp.Text(chromedp.CSS(`code#secret`)), &newSecret),
		into(chromedp.Evaluate[string](`document.querySelector("a#key-detail-link").href`), &newHref),
	)
	if !keyShape.MatchString(newSecret) || newSecret == secret || newHref == detailHref {
		t.Fatalf("rotate showed %q (%s), want a new key", redact(newSecret), newHref)
	}
	time.Sleep(time.Until(burstEnd.Add(1100 * time.Millisecond)))
	for name, k := range map[string]string{"old": secret, "new": newSecret} {
		if got := callItems(t, srv, http.MethodGet, k); got != "valid" {
			t.Errorf("the %s key during the grace period: %s, want valid", name, got)
		}
	}

	// 6. Revoke the old key (accepting console.js's confirm): refused.
	u.run("revoke the old key",
		chromedp.Navigate(detailHref), chromedp.WaitVisible(chromedp.CSS(`form#revoke`)),
		chromedp.Click(chromedp.CSS(`button#revoke-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`div#notice[role=status]`)),
	)
	if dialogs() == 0 {
		t.Error("revoke asked for no confirmation")
	}
	if got := callItems(t, srv, http.MethodGet, secret); got != "key_revoked" {
		t.Errorf("the revoked key: %s, want key_revoked", got)
	}
	if got := callItems(t, srv, http.MethodGet, newSecret); got != "valid" {
		t.Errorf("the new key after the old one's revocation: %s, want valid", got)
	}

	// 7. The audit log, filtered by the old key and the action revoke,
	// shows the revocation; the top keys by refusals start with the old key.
	var actions []string
	var topRefused string
	u.run("filter the audit log",
		chromedp.Click(chromedp.CSS(`nav a[href$="/audit"]`)), chromedp.WaitVisible(chromedp.CSS(`form#audit-filter`)),
		chromedp.SendKeys(chromedp.CSS(`input#audit-key`), oldID),
		chromedp.SetValue(chromedp.CSS(`select#audit-action`), "revoke"),
		// The unfiltered page has a table#audit too: mark it, so that the
		// wait below finds the filtered page's table, not this one.
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.stale = "1"`),
		chromedp.Click(chromedp.CSS(`button#audit-submit`)),
		chromedp.WaitNotPresent(chromedp.CSS(`body[data-stale]`)),
		chromedp.WaitVisible(chromedp.CSS(`table#audit`)),
		into(chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table#audit tr[data-audit-id]")).map(tr => tr.cells[1].textContent + " " + tr.cells[2].textContent)`), &actions),
	)
	if len(actions) != 1 || actions[0] != "revoke "+oldID {
		t.Errorf("the audit log filtered by key %s and revoke shows %q, want the one revocation", oldID, actions)
	}
	u.run("open the top keys",
		chromedp.Click(chromedp.CSS(`nav a[href$="/usage"]`)), chromedp.WaitVisible(chromedp.CSS(`table#top-refusals`)),
		into(chromedp.Evaluate[string](`(document.querySelector("table#top-refusals tr[data-key-id]") || {dataset: {}}).dataset.keyId || ""`), &topRefused),
	)
	if topRefused != oldID || u.count(`table#top-requests tr[data-key-id="`+oldID+`"]`) != 1 {
		t.Errorf("the top keys: first by refusals %q, want the old key %s (the only one refused), listed by requests too", topRefused, oldID)
	}

	// 8. Sign out: the console is closed, and the old cookie opens nothing.
	u.run("sign out", chromedp.Click(chromedp.CSS(`button#signout`)), chromedp.WaitVisible(chromedp.CSS(`form#signin`)))
	u.run("open the keys signed out", chromedp.Navigate(base+"/keys"), chromedp.WaitVisible(chromedp.CSS(`form#signin`)))
	if loc := u.location(); loc != base+"/signin" {
		t.Errorf("signed out, /console/keys led to %s, want the sign-in form", loc)
	}
	if u.count(`table#keys`) != 0 {
		t.Error("signed out, the keys are shown")
	}
	req, err := http.NewRequest(http.MethodGet, base+"/keys", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", c.Name+"="+c.Value)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("the signed-out session's cookie still opens /console/keys (%d)", resp.StatusCode)
	}

	net.check(t)
	for _, p := range u.consoleProblems() {
		t.Errorf("the page logged: %s", p)
	}
	t.Logf("console walk took %s", time.Since(start).Round(time.Millisecond))
}

// sameCounts reports whether a and b hold the same non-zero counts.
func sameCounts(a, b map[string]int64) bool {
	for k, v := range a {
		if v != 0 && b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if v != 0 && a[k] != v {
			return false
		}
	}
	return true
}

// html is the page's markup.
func (u *ui) html() string {
	u.t.Helper()
	var s string
	u.run("read the page", into(chromedp.Evaluate[string](`document.documentElement.outerHTML`), &s))
	return s
}
