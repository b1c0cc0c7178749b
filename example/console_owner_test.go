package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// demoSignIn signs the tab in as user through the example's demo sign-in:
// POST /demo/signin with fetch, from the page the tab shows (one of the
// example's own).
func (u *ui) demoSignIn(user string) {
	u.t.Helper()
	var status int
	u.run("sign in as "+user,
		into(chromedp.Evaluate[int](`fetch("/demo/signin", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({user: `+jsString(user)+`})}).then(r => r.status)`, chromedp.EvalAwaitPromise), &status))
	if status != http.StatusOK {
		u.t.Fatalf("demo sign-in as %s: %d", user, status)
	}
}

// waitProblem waits for a console problem holding text (a page the test
// opened on purpose with an error status) and takes it out of the list.
func (u *ui) waitProblem(text string) {
	u.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for !u.forgiveProblem(text) {
		if time.Now().After(deadline) {
			u.t.Errorf("the browser never logged %q", text)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConsoleOwnerModeShowsASignedInUserOnlyTheirKeys: the console at
// /account/console, behind the example's demo sign-in. Signed out it
// answers 401; alice creates a key there (under the demo plan: no limit
// fields to fill, the plan's rate limit applied); bob, signed in next,
// does not see it in his list, and its page is 404 for him. No request
// left the server.
func TestConsoleOwnerModeShowsASignedInUserOnlyTheirKeys(t *testing.T) {
	execPath := chromium(t)
	srv, _ := consoleServer(t)
	base := srv.URL + "/account/console"
	u := browser(t, execPath)
	net := u.blockForeign(srv.URL)

	u.run("open the owner console signed out", chromedp.Navigate(base+"/keys"), chromedp.WaitVisible(chromedp.CSS(`div#error[role=alert]`)))
	u.waitProblem("status of 401")

	u.demoSignIn("alice")
	var secret, href, limits string
	u.run("alice opens her console", chromedp.Navigate(base+"/keys"), chromedp.WaitVisible(chromedp.CSS(`table#keys`)))
	if n := u.count(`input#rate-requests, input#owner`); n != 0 {
		t.Errorf("the owner's list page has %d admin-only fields", n)
	}
	u.run("alice creates a key",
		chromedp.Click(chromedp.CSS(`a#new-key-link`)), chromedp.WaitVisible(chromedp.CSS(`form#create`)),
		chromedp.SendKeys(chromedp.CSS(`input#name`), "alice laptop"),
		chromedp.SendKeys(chromedp.CSS(`input#scopes`), "items:read"),
		chromedp.Click(chromedp.CSS(`button#create-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`code#secret`)),
		into(chromedp.Text(chromedp.CSS(`code#secret`)), &secret),
		into(chromedp.Evaluate[string](`document.querySelector("a#key-detail-link").href`), &href),
	)
	if !keyShape.MatchString(secret) {
		t.Fatalf("alice's new key: %q", redact(secret))
	}
	u.run("alice opens her key", chromedp.Navigate(href), chromedp.WaitVisible(chromedp.CSS(`dl#key-fields`)),
		into(chromedp.Text(chromedp.CSS(`dl#key-fields`)), &limits))
	if !strings.Contains(limits, "alice") || !strings.Contains(limits, "10 requests per 1s") {
		t.Errorf("alice's key page does not show her as the owner with the demo plan's rate (10 per 1s): %q", limits)
	}
	if got := callItems(t, srv, http.MethodGet, secret); got != "valid" {
		t.Errorf("alice's key on GET /items: %s", got)
	}

	u.demoSignIn("bob")
	var rows int
	u.run("bob opens his console", chromedp.Navigate(base+"/keys"), chromedp.WaitVisible(chromedp.CSS(`table#keys`)),
		into(chromedp.Evaluate[int](`document.querySelectorAll("table#keys tr[data-key-id]").length`), &rows))
	if rows != 0 {
		t.Errorf("bob's console lists %d keys, want none (alice's is hers)", rows)
	}
	var shown string
	u.run("bob opens alice's key", chromedp.Navigate(href), chromedp.WaitVisible(chromedp.CSS(`div#error[role=alert]`)),
		into(chromedp.Text(chromedp.CSS(`main`)), &shown))
	u.waitProblem("status of 404")
	if strings.Contains(shown, "alice") {
		t.Errorf("bob sees alice's key: %q", shown)
	}
	u.page("owner-console-foreign-key")

	net.check(t)
	for _, p := range u.consoleProblems() {
		t.Errorf("the page logged: %s", p)
	}
}
