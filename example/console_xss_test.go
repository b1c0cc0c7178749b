package main

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
)

// TestConsoleShowsHostileNamesAsTextAndItsCSPBlocksInlineScript: a key
// whose name, owner and metadata are markup meant to run script shows
// those characters on the list and on its page in a real Chromium, and
// nothing ran (no element was made of them, the title is the console's).
// A script element added to the page (as an injection would) does not run:
// the browser enforces the console's Content-Security-Policy and reports a
// script-src violation.
func TestConsoleShowsHostileNamesAsTextAndItsCSPBlocksInlineScript(t *testing.T) {
	execPath := chromium(t)
	h := newTestGuard(t, false)
	srv := httptest.NewServer(h.Engine)
	t.Cleanup(srv.Close)
	base := srv.URL + "/console"
	const (
		name  = `<img src=x onerror="document.title='pwned'">`
		owner = `"><script>document.title='pwned'</script>`
		meta  = `</script><script>document.title='pwned'</script>`
	)
	k := guardtest.CreateKey(t, h.Guard, ginkey.KeySpec{Name: name, Owner: owner, Metadata: map[string]any{"note": meta}})

	u := browser(t, execPath)
	net := u.blockForeign(srv.URL)
	u.signIn(base)
	for _, p := range []struct{ what, path, text string }{
		{"the list", "/keys", name},
		{"the key's page", "/keys/" + k.ID, meta},
	} {
		var title, text string
		var made int
		u.run("open "+p.what, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(`main`)),
			into(chromedp.Title(), &title), into(chromedp.Text(chromedp.CSS(`main`)), &text),
			into(chromedp.Evaluate[int](`document.querySelectorAll('main img, main script, body > script:not([src])').length`), &made))
		if title == "pwned" || made != 0 { // the title may hold the name, as text
			t.Errorf("%s: the hostile strings ran or made elements (title %q, %d elements)", p.what, title, made)
		}
		for _, want := range []string{p.text, owner} {
			if !strings.Contains(text, want) {
				t.Errorf("%s does not show %q as text: %q", p.what, want, text)
			}
		}
	}

	var verdict string
	u.run("add an inline script", into(chromedp.Evaluate[string](`new Promise(done => {
		document.addEventListener("securitypolicyviolation", e => done("blocked by " + e.effectiveDirective));
		const s = document.createElement("script");
		s.textContent = "window.ranInline = true";
		document.body.appendChild(s);
		setTimeout(() => done(window.ranInline ? "ran" : "neither ran nor reported"), 2000);
	})`, chromedp.EvalAwaitPromise), &verdict))
	if !strings.HasPrefix(verdict, "blocked by script-src") {
		t.Errorf("an inline script added to the key's page: %s, want it blocked by script-src", verdict)
	}
	u.waitProblem("Content Security Policy")
	net.check(t)
	for _, p := range u.consoleProblems() {
		t.Errorf("the page logged: %s", p)
	}
}
