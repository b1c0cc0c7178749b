package main

// The seed experience, in a real browser: headless Chromium (chromedp)
// drives the Swagger UI that the example serves (4.15.5, bundled in
// github.com/swaggo/files) against the example's router on 127.0.0.1.
//
//	go test ./example -run TestSwaggerUI -v                        # screenshot paths in the log
//	GINKEY_SCREENSHOTS=/tmp/shots go test ./example -run TestSwaggerUI  # keep copies

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// opblock selects one operation's block. Swagger UI renders the path in
// <span class="opblock-summary-path" data-path="...">; element ids depend on
// tags and operation ids, so they are not used.
func opblock(method, path string) string {
	return fmt.Sprintf(`.opblock.opblock-%s:has(.opblock-summary-path[data-path=%q])`, method, path)
}

// authContainer is the Authorize dialog's section of one scheme: a
// div.auth-container whose <h4><code> holds the scheme's name. Its input has
// no name or id, hence XPath on the heading.
func authContainer(scheme string) string {
	return fmt.Sprintf(`//div[contains(concat(" ",normalize-space(@class)," ")," auth-container ")][.//h4/code[normalize-space()=%q]]`, scheme)
}

func (u *ui) openAuthorize() {
	u.run("open Authorize dialog",
		chromedp.Click(chromedp.CSS(`.auth-wrapper .btn.authorize`)),
		chromedp.WaitVisible(chromedp.CSS(`.dialog-ux .modal-ux`)),
	)
}

func (u *ui) closeAuthorize() {
	u.run("close Authorize dialog",
		chromedp.Click(chromedp.CSS(`.dialog-ux .btn-done`)),
		chromedp.WaitNotPresent(chromedp.CSS(`.dialog-ux`)),
	)
}

// authorize types value into one scheme's field and presses its Authorize.
func (u *ui) authorize(scheme, value string) {
	c := authContainer(scheme)
	u.openAuthorize()
	u.run("authorize "+scheme,
		chromedp.WaitVisible(chromedp.Search(c+`//input`)),
		chromedp.SendKeys(chromedp.Search(c+`//input`), value), // real key events, so React sees them
		chromedp.Click(chromedp.Search(c+`//button[contains(@class,"authorize") and normalize-space()="Authorize"]`)),
		chromedp.WaitVisible(chromedp.Search(c+`//h6[normalize-space()="Authorized"]`)),
	)
	u.shot("authorized-"+scheme, chromedp.CaptureScreenshot())
	u.closeAuthorize()
}

func (u *ui) logout(scheme string) {
	c := authContainer(scheme)
	u.openAuthorize()
	u.run("log out of "+scheme,
		chromedp.Click(chromedp.Search(c+`//button[normalize-space()="Logout"]`)),
		chromedp.WaitVisible(chromedp.Search(c+`//input`)),
	)
	u.closeAuthorize()
}

// tryOut expands an operation and switches on "Try it out".
func (u *ui) tryOut(method, path string) {
	ob := opblock(method, path)
	u.run("expand and try out "+method+" "+path,
		chromedp.Click(chromedp.CSS(ob+` .opblock-summary-control`)),
		chromedp.WaitVisible(chromedp.CSS(ob+` .try-out__btn`)),
		chromedp.Click(chromedp.CSS(ob+` .try-out__btn`)),
		chromedp.WaitVisible(chromedp.CSS(ob+` .btn.execute`)),
	)
}

type liveResponse struct{ status, body, requestURL, curl string }

// execute presses Execute (clearing an earlier response first) and reads the
// live response panel.
func (u *ui) execute(method, path string) liveResponse {
	ob := opblock(method, path)
	if u.count(ob+` .btn-clear`) > 0 {
		u.run("clear the previous response",
			chromedp.Click(chromedp.CSS(ob+` .btn-clear`)),
			chromedp.WaitNotPresent(chromedp.CSS(ob+` .live-responses-table`)),
		)
	}
	var r liveResponse
	status := ob + ` .live-responses-table .response .response-col_status`
	u.run("execute "+method+" "+path,
		chromedp.Click(chromedp.CSS(ob+` .btn.execute`)),
		chromedp.WaitVisible(chromedp.CSS(status)),
		into(chromedp.Text(chromedp.CSS(status)), &r.status),
		// The body is .highlight-code > .microlight; the response headers are
		// a bare pre.microlight, which this does not match.
		into(chromedp.Text(chromedp.CSS(ob+` .live-responses-table .highlight-code .microlight`)), &r.body),
		into(chromedp.Text(chromedp.CSS(ob+` .request-url .microlight`)), &r.requestURL),
		into(chromedp.Text(chromedp.CSS(ob+` .curl-command`)), &r.curl),
		chromedp.ScrollIntoView(chromedp.CSS(ob+` .live-responses-table`)),
	)
	r.status = strings.TrimSpace(r.status)
	u.t.Logf("%s %s -> %s %s", method, path, r.status, redact(r.requestURL))
	u.shot("response-"+method+"-"+path, chromedp.CaptureScreenshot())
	return r
}

func (u *ui) load(url string, visible ...string) {
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`.auth-wrapper .btn.authorize`)),
	}
	for _, sel := range visible {
		steps = append(steps, chromedp.WaitVisible(chromedp.CSS(sel)))
	}
	u.run("load "+url, steps...)
}

// TestSwaggerUIAuthorizeCreateKeyAndCallSecureRoute is the seed flow: open
// /docs/index.html, authorize with the admin secret, create a key with
// POST /auth/keys, authorize with that key in the header, call GET /secure;
// then the same through the query parameter.
func TestSwaggerUIAuthorizeCreateKeyAndCallSecureRoute(t *testing.T) {
	execPath := chromium(t)
	srv := httptest.NewServer(newTestGuard(t, false).Engine) // 127.0.0.1:random
	t.Cleanup(srv.Close)
	u := browser(t, execPath)
	start := time.Now()

	u.load(srv.URL+"/docs/index.html", opblock("post", "/auth/keys"), opblock("get", "/secure"))
	u.page("loaded")

	// The Authorize dialog offers all four schemes. This picture, taken in
	// a viewport tall enough for the whole dialog, is the one guides/openapi.md shows.
	u.run("tall viewport", chromedp.EmulateViewport(1280, 1600))
	u.openAuthorize()
	for _, scheme := range []string{"APIKeyHeader", "APIKeyQuery", "APIKeyBearer", "AdminSecret"} {
		u.run("see scheme "+scheme, chromedp.WaitVisible(chromedp.Search(authContainer(scheme)+`//input`)))
	}
	// Swagger UI caps the dialog's height and scrolls it; lift the cap so
	// the picture holds every scheme.
	u.run("unscroll the dialog", into(chromedp.Evaluate[bool](`document.querySelectorAll(".dialog-ux .modal-ux-content").forEach(e => { e.style.maxHeight = "none"; e.scrollTop = 0 }); document.activeElement.blur(); true`), new(bool)))
	u.shot("authorize-dialog", chromedp.Screenshot(chromedp.CSS(`.dialog-ux .modal-ux`)))
	u.closeAuthorize()
	u.run("usual viewport", chromedp.EmulateReset())

	// 1. Admin secret, then POST /auth/keys: 201 and a key. The secret
	// stays out of localStorage (persistAuthorization is off).
	u.authorize("AdminSecret", testSecret)
	var stored string
	u.run("read localStorage", into(chromedp.Evaluate[string](`JSON.stringify(Object.assign({}, localStorage))`), &stored))
	if strings.Contains(stored, testSecret) || strings.Contains(stored, "AdminSecret") {
		t.Fatalf("the admin secret was persisted in localStorage: %s", redact(stored))
	}
	u.tryOut("post", "/auth/keys")
	r := u.execute("post", "/auth/keys")
	if r.status != "201" {
		t.Fatalf("POST /auth/keys: status %q, body %s", r.status, redact(r.body))
	}
	var created struct{ ID, Key string }
	if err := json.Unmarshal([]byte(r.body), &created); err != nil {
		t.Fatalf("decode the created key %q: %v", redact(r.body), err)
	}
	if !strings.HasPrefix(created.Key, "gk_") || created.ID == "" {
		t.Fatalf("unexpected create response: %s", redact(r.body))
	}

	// 2. The key in the X-API-Key header: GET /secure answers 200.
	u.authorize("APIKeyHeader", created.Key)
	u.tryOut("get", "/secure")
	r = u.execute("get", "/secure")
	if r.status != "200" || !strings.Contains(r.body, "This is a secure endpoint") {
		t.Fatalf("GET /secure with the header: status %q, body %s", r.status, redact(r.body))
	}
	if strings.Contains(r.requestURL, "api_key=") || !strings.Contains(r.curl, "X-API-Key: "+created.Key) {
		t.Fatalf("the header run did not send the header: url %q, curl %q", redact(r.requestURL), redact(r.curl))
	}

	// 3. The key in the api_key query parameter (header scheme logged out).
	u.logout("APIKeyHeader")
	u.authorize("APIKeyQuery", created.Key)
	r = u.execute("get", "/secure")
	if r.status != "200" || !strings.Contains(r.body, "This is a secure endpoint") {
		t.Fatalf("GET /secure with the query parameter: status %q, body %s", r.status, redact(r.body))
	}
	if !strings.Contains(r.requestURL, "api_key="+created.Key) || strings.Contains(r.curl, "X-API-Key") {
		t.Fatalf("the query run did not send the parameter: url %q, curl %q", redact(r.requestURL), redact(r.curl))
	}

	// 4. With no key authorized the same call is refused.
	u.logout("APIKeyQuery")
	r = u.execute("get", "/secure")
	if r.status != "401" || !strings.Contains(r.body, "key_missing") {
		t.Fatalf("GET /secure without a key: status %q, body %s", r.status, redact(r.body))
	}

	// 5. Revoke the key with Try it out: a same-origin POST without a body,
	// which the admin API takes, Content-Type or not.
	revoke := opblock("post", "/auth/keys/{id}/revoke")
	u.tryOut("post", "/auth/keys/{id}/revoke")
	// Swagger UI fills the field with the parameter's x-example: erase it
	// with key events too.
	erase := kb.End + strings.Repeat(kb.Backspace, 64)
	u.run("fill in the id", chromedp.SendKeys(chromedp.CSS(revoke+` tr[data-param-name="id"] input`), erase+created.ID))
	r = u.execute("post", "/auth/keys/{id}/revoke")
	if r.status != "200" || !strings.Contains(r.body, `"revoked"`) {
		t.Fatalf("POST /auth/keys/{id}/revoke: status %q, body %s, curl %s", r.status, redact(r.body), redact(r.curl))
	}
	t.Logf("UI flow took %s; %d screenshots in %v", time.Since(start).Round(time.Millisecond), len(u.shots), u.dirs)
}

// TestSwaggerUIWithHideDocsShowsNoAdminAPI: with HideDocs the admin section
// and the AdminSecret scheme are gone from the UI, and the endpoints still
// answer.
func TestSwaggerUIWithHideDocsShowsNoAdminAPI(t *testing.T) {
	execPath := chromium(t)
	srv := httptest.NewServer(newTestGuard(t, true).Engine)
	t.Cleanup(srv.Close)
	u := browser(t, execPath)

	u.load(srv.URL+"/docs/index.html", opblock("get", "/secure"))
	u.page("hidden-docs-loaded")
	for _, sel := range []string{opblock("post", "/auth/keys"), `.opblock-tag-section [data-tag="ginkey"]`, `#operations-tag-ginkey`, `.opblock-summary-path[data-path^="/auth"]`} {
		if n := u.count(sel); n != 0 {
			t.Errorf("%d elements match %s with HideDocs", n, sel)
		}
	}
	if n := u.count(`#operations-tag-example`); n != 1 {
		t.Errorf("the example's own section is missing (%d), so the absence checks above prove nothing", n)
	}
	u.openAuthorize()
	u.run("see the key schemes", chromedp.WaitVisible(chromedp.Search(authContainer("APIKeyHeader")+`//input`)),
		chromedp.WaitVisible(chromedp.Search(authContainer("APIKeyQuery")+`//input`)),
		chromedp.WaitVisible(chromedp.Search(authContainer("APIKeyBearer")+`//input`)),
		chromedp.WaitVisible(chromedp.Search(authContainer("OwnerSession")+`//input`))) // the self-service routes' (account.go)
	if n := u.count(`.dialog-ux .auth-container`); n != 4 {
		t.Errorf("the Authorize dialog shows %d schemes with HideDocs, want 4 (no AdminSecret)", n)
	}
	if n, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](`document.querySelector(".dialog-ux").innerText.includes("AdminSecret")`)); err != nil || n {
		t.Errorf("the Authorize dialog mentions AdminSecret with HideDocs (%v, %v)", n, err)
	}
	u.shot("hidden-docs-authorize-dialog", chromedp.Screenshot(chromedp.CSS(`.dialog-ux .modal-ux`)))
	u.closeAuthorize()

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/auth/keys", strings.NewReader(`{"name":"hidden but working"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Admin-Secret", testSecret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("POST /auth/keys with HideDocs: %d, want 201", resp.StatusCode)
	}
}
