package main

// The console's pages as a user meets them: their weight and first paint
// on loopback, a 360 px wide screen, and the keyboard alone.

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
)

// pageLoad is what the Performance API says of one page load: bytes over
// the wire (headers included) and decoded, of the document and every
// resource it loaded, and the first contentful paint after the navigation
// started.
type pageLoad struct {
	Transfer  int64   `json:"transfer"`
	Decoded   int64   `json:"decoded"`
	Resources int     `json:"resources"`
	FCP       float64 `json:"fcp"` // ms
}

// measureLoad navigates to url in a cold cache and reads its pageLoad once
// the first contentful paint is recorded.
func (u *ui) measureLoad(what, url, visible string) pageLoad {
	u.t.Helper()
	if _, err := chromedp.Call(u.ctx, network.ClearBrowserCache, struct{}{}); err != nil {
		u.t.Fatal(err)
	}
	var l pageLoad
	u.run("measure "+what,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(visible)),
		chromedp.Poll[chromedp.Void](`performance.getEntriesByName("first-contentful-paint").length > 0`, chromedp.WithPollingTimeout(10*time.Second)),
		into(chromedp.Evaluate[pageLoad](`(() => {
			const n = performance.getEntriesByType("navigation")[0], rs = performance.getEntriesByType("resource");
			const sum = f => rs.reduce((a, r) => a + r[f], n[f]);
			return {transfer: sum("transferSize"), decoded: sum("decodedBodySize"), resources: rs.length,
				fcp: performance.getEntriesByName("first-contentful-paint")[0].startTime};
		})()`), &l),
	)
	u.t.Logf("first load of %s: %d bytes transferred, %d decoded, %d resources; first contentful paint %.0f ms",
		what, l.Transfer, l.Decoded, l.Resources, l.FCP)
	return l
}

// signIn opens the console signed out, lands on the sign-in form, and
// signs in with the admin secret.
func (u *ui) signIn(base string) {
	u.t.Helper()
	u.run("open the console signed out", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`form#signin`)))
	u.run("sign in",
		chromedp.SendKeys(chromedp.CSS(`input#secret`), testSecret),
		chromedp.Click(chromedp.CSS(`button#signin-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`table#keys`)),
	)
}

// embeddedBytes sums the files the console package embeds.
func embeddedBytes(t *testing.T) (assets, templates int64) {
	t.Helper()
	for dir, n := range map[string]*int64{"../console/assets": &assets, "../console/templates": &templates} {
		err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			*n += info.Size()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return assets, templates
}

// usedKey makes a key with the admin API and uses it: two admitted
// requests and one refused for its scope, so that its chart has bars.
func usedKey(t *testing.T, h *guardtest.H, srv string) ginkey.CreatedKey {
	t.Helper()
	k := guardtest.CreateKey(t, h.Guard, ginkey.KeySpec{Name: "a key with a long name, to wrap at 360 px", Owner: "team-measure", Scopes: []string{"items:read"}})
	for _, m := range []string{http.MethodGet, http.MethodGet, http.MethodPost} {
		req, err := http.NewRequestWithContext(context.Background(), m, srv+"/items", strings.NewReader(`{"name":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-API-Key", k.Secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	return k
}

// The goals: under 150 KB for a first load and a first paint
// under 300 ms on loopback. The paint is asserted under firstPaintBound,
// which a loaded shared 2-core machine meets too; the figure is logged.
const (
	firstLoadBound  = 150 << 10
	firstPaintBound = 1500 // ms
)

// TestConsoleFirstLoadIsUnder150KBAndPaintsFast measures the sign-in page
// and a key's detail page (chart included) each from a cold cache, without
// the request interception of the walk (which would add its round trips).
func TestConsoleFirstLoadIsUnder150KBAndPaintsFast(t *testing.T) {
	execPath := chromium(t)
	h := newTestGuard(t, false)
	server := httptest.NewServer(h.Engine)
	t.Cleanup(server.Close)
	srv := server.URL
	base := srv + "/console"
	assets, templates := embeddedBytes(t)
	t.Logf("embedded: %d bytes of assets (CSS, JS), %d bytes of templates", assets, templates)
	if assets+templates > firstLoadBound {
		t.Errorf("the console embeds %d bytes, want under %d", assets+templates, firstLoadBound)
	}
	k := usedKey(t, h, srv)
	u := browser(t, execPath)

	// The floor: the same browser's first paint of a bare text answer
	// (the example's GET /public), logged to compare with.
	u.measureLoad("a bare text answer (GET /public)", srv+"/public", `body`)
	loads := map[string]pageLoad{"sign-in page": u.measureLoad("the sign-in page", base+"/signin", `form#signin`)}
	u.run("sign in",
		chromedp.SendKeys(chromedp.CSS(`input#secret`), testSecret),
		chromedp.Click(chromedp.CSS(`button#signin-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`table#keys`)),
	)
	loads["key page"] = u.measureLoad("a key's page", base+"/keys/"+k.ID, `figure#usage-chart svg`)
	for what, l := range loads {
		if l.Resources < 2 || l.Decoded <= 0 {
			t.Errorf("%s: %+v: the stylesheet and the script were not measured", what, l)
		}
		if l.Transfer > firstLoadBound || l.Decoded > firstLoadBound {
			t.Errorf("%s: %d bytes transferred, %d decoded; want under %d", what, l.Transfer, l.Decoded, firstLoadBound)
		}
		if l.FCP <= 0 || l.FCP > firstPaintBound {
			t.Errorf("%s: first contentful paint at %.0f ms, want under %d ms (goal 300 ms)", what, l.FCP, firstPaintBound)
		}
	}
}

// TestConsoleFitsA360PxScreenAndWorksByKeyboard: at 360 px wide the list,
// a key's page, the create form, the audit log and the top keys scroll only
// downwards; with the keyboard
// alone one signs in (the secret field has the focus), reaches the name
// field with Tab and creates a key with Enter.
func TestConsoleFitsA360PxScreenAndWorksByKeyboard(t *testing.T) {
	execPath := chromium(t)
	h := newTestGuard(t, false)
	server := httptest.NewServer(h.Engine)
	t.Cleanup(server.Close)
	srv := server.URL
	base := srv + "/console"
	k := usedKey(t, h, srv)
	u := browser(t, execPath)
	net := u.blockForeign(srv)

	u.run("open the sign-in form", chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS(`form#signin`)))
	var focused string
	u.run("where the focus is", into(chromedp.Evaluate[string](`document.activeElement.id`), &focused))
	if focused != "secret" {
		t.Errorf("the sign-in page opens with the focus on %q, want the secret field", focused)
	}
	u.run("sign in by keyboard", chromedp.Focus(chromedp.CSS(`input#secret`)), chromedp.KeyEvent(testSecret+kb.Enter), chromedp.WaitVisible(chromedp.CSS(`table#keys`)))

	u.run("360 px wide", chromedp.EmulateViewport(360, 740))
	for _, p := range []struct{ name, path, visible string }{
		{"keys", "/keys", `table#keys`},
		{"key", "/keys/" + k.ID, `figure#usage-chart svg`},
		{"create", "/keys/new", `form#create`},
		{"audit", "/audit", `table#audit`},
		{"top keys", "/usage", `table#top-refusals`},
	} {
		var width int
		u.run("open "+p.name+" at 360 px", chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.visible)),
			into(chromedp.Evaluate[int](`document.documentElement.scrollWidth`), &width))
		u.page("360px-" + p.name)
		if width > 360 {
			t.Errorf("%s at 360 px: the page is %d px wide, so it scrolls sideways", p.name, width)
		}
	}

	// The create form, by keyboard: Tab from the top of the page to the
	// name field, type, Enter.
	u.run("usual viewport", chromedp.EmulateReset())
	u.run("open the create form", chromedp.Navigate(base+"/keys/new"), chromedp.WaitVisible(chromedp.CSS(`form#create`)))
	tabs := 0
	for ; tabs < 30 && focused != "name"; tabs++ {
		u.run("press Tab", chromedp.KeyEvent(kb.Tab), into(chromedp.Evaluate[string](`document.activeElement.id`), &focused))
	}
	if focused != "name" {
		t.Fatalf("30 Tabs never reached input#name (at %q)", focused)
	}
	t.Logf("input#name is %d Tabs from the top of the create page", tabs)
	u.run("type a name and press Enter", chromedp.KeyEvent("typed key"+kb.Enter), chromedp.WaitVisible(chromedp.CSS(`code#secret`)))
	var rows int
	u.run("find the key created by keyboard", chromedp.Navigate(base+"/keys?q=typed+key"), chromedp.WaitVisible(chromedp.CSS(`table#keys`)),
		into(chromedp.Evaluate[int](`document.querySelectorAll("table#keys tr[data-key-id]").length`), &rows))
	if rows != 1 {
		t.Errorf("%d keys named %q after the keyboard's create, want 1", rows, "typed key")
	}
	net.check(t)
}
