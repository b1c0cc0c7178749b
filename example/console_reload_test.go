package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleReloadingTheCreatedKeyPageMintsNoSecondKey: in a real
// Chromium, reloading the "Key created" page sends its form again; the
// console answers with the key's page (the plaintext not shown again), and
// the store holds one key, not two.
func TestConsoleReloadingTheCreatedKeyPageMintsNoSecondKey(t *testing.T) {
	execPath := chromium(t)
	srv, base := consoleServer(t)
	u := browser(t, execPath)
	net := u.blockForeign(srv.URL)
	u.acceptDialogs()
	u.signIn(base)
	var secret, notice string
	u.run("create a key",
		chromedp.Click(chromedp.CSS(`a#new-key-link`)), chromedp.WaitVisible(chromedp.CSS(`form#create`)),
		chromedp.SendKeys(chromedp.CSS(`input#name`), "reloaded"),
		chromedp.Click(chromedp.CSS(`button#create-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`code#secret`)),
		into(chromedp.Text(chromedp.CSS(`code#secret`)), &secret),
	)
	if n := keyCount(t, srv.URL); n != 1 {
		t.Fatalf("%d keys after one create", n)
	}
	u.run("reload the created key's page",
		// The page is marked, so that the wait below is for the answer to
		// the reload, not this page.
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.stale = "1"`),
		chromedp.Reload(),
		chromedp.WaitNotPresent(chromedp.CSS(`body[data-stale]`)),
		// The key's page, or (the defect) another created key's.
		chromedp.WaitVisible(chromedp.CSS(`dl#key-fields, code#secret`)),
		into(chromedp.Text(chromedp.CSS(`main`)), &notice),
	)
	if n := keyCount(t, srv.URL); n != 1 {
		t.Errorf("%d keys after reloading the created key's page, want 1", n)
	}
	if loc := u.location(); !strings.HasPrefix(loc, base+"/keys/") || !strings.HasSuffix(loc, "?done=sent") {
		t.Errorf("the reload landed on %s, want the key's page with the notice", loc)
	}
	if !strings.Contains(notice, "That form was sent before") {
		t.Errorf("the key's page after the reload says: %q", notice)
	}
	if strings.Contains(u.html(), secret) {
		t.Error("the reload shows the key's plaintext again")
	}
	net.check(t)
}
