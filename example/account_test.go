package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
)

// demoClient is a cookie-keeping client of srv, as a browser would be.
type demoClient struct {
	t   *testing.T
	srv *httptest.Server
	c   *http.Client
}

func newDemoClient(t *testing.T, srv *httptest.Server) *demoClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &demoClient{t: t, srv: srv, c: &http.Client{Jar: jar}}
}

// do sends a JSON body ("" for none) from the server's own origin and
// decodes the answer into out (nil: ignored); it returns the status and
// the response's headers.
func (d *demoClient) do(method, path, body string, hdr http.Header, out any) reply {
	d.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, d.srv.URL+path, strings.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", d.srv.URL)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := d.c.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			d.t.Fatalf("%s %s: %d, decoding: %v", method, path, resp.StatusCode, err)
		}
	}
	return reply{StatusCode: resp.StatusCode, Header: resp.Header}
}

type reply struct {
	StatusCode int
	Header     http.Header
}

// A session of the example as a customer: sign in, create a key, use it,
// rotate it, revoke it. The session cookie is HttpOnly and SameSite=Strict,
// and one the server did not sign signs nobody in.
func TestDemoSignInCreateUseRotateRevoke(t *testing.T) {
	h := guardtest.NewRouted(t, nil, newRouter)
	srv := httptest.NewServer(h.Engine)
	t.Cleanup(srv.Close)
	d := newDemoClient(t, srv)

	if r := d.do(http.MethodGet, "/account/keys", "", nil, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("signed out: %d", r.StatusCode)
	}
	resp := d.do(http.MethodPost, "/demo/signin", `{"user":"alice"}`, nil, nil)
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusOK || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") {
		t.Fatalf("sign in: %d %q", resp.StatusCode, cookie)
	}
	var k ginkey.CreatedKey
	if r := d.do(http.MethodPost, "/account/keys", `{"name":"laptop","scopes":["items:read"]}`, nil, &k); r.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %+v", r.StatusCode, k)
	}
	if k.Owner != "alice" || k.RateLimit == nil || k.RateLimit.Requests != 10 {
		t.Fatalf("the key is not alice's under the demo plan: %+v", k.Key)
	}
	anon := newDemoClient(t, srv)
	if r := anon.do(http.MethodGet, "/items", "", http.Header{"X-Api-Key": {k.Secret}}, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("the key on GET /items: %d", r.StatusCode)
	}
	var next ginkey.CreatedKey
	if r := d.do(http.MethodPost, "/account/keys/"+k.ID+"/rotate", `{"grace":"0s"}`, nil, &next); r.StatusCode != http.StatusCreated {
		t.Fatalf("rotate: %d", r.StatusCode)
	}
	if r := anon.do(http.MethodGet, "/items", "", http.Header{"X-Api-Key": {k.Secret}}, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the rotated-out key: %d", r.StatusCode)
	}
	if r := d.do(http.MethodPost, "/account/keys/"+next.ID+"/revoke", "", nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	if r := anon.do(http.MethodGet, "/items", "", http.Header{"X-Api-Key": {next.Secret}}, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the revoked key: %d", r.StatusCode)
	}
	// A cookie naming bob that the server did not sign.
	if r := anon.do(http.MethodGet, "/account/keys", "", http.Header{"Cookie": {sessionCookie + "=bob.forged"}}, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a forged session: %d", r.StatusCode)
	}
}

// The customers' document has the API and /account, and no admin API.
func TestCustomerDocsShowAccountButNotTheAdminAPI(t *testing.T) {
	h := guardtest.NewRouted(t, nil, newRouter)
	w := h.Get("", "/customer-docs/doc.json", "")
	var s servedSpec
	if err := json.Unmarshal(w.Body.Bytes(), &s); w.Code != http.StatusOK || err != nil {
		t.Fatalf("GET /customer-docs/doc.json: %d %v", w.Code, err)
	}
	if _, ok := s.Paths["/account/keys"]["post"]; !ok {
		t.Fatal("no POST /account/keys")
	}
	if _, ok := s.Paths["/items"]["get"]; !ok {
		t.Fatal("no GET /items")
	}
	for p := range s.Paths {
		if strings.HasPrefix(p, "/auth") {
			t.Fatalf("the admin path %s is shown to customers", p)
		}
	}
}

// TestABrowserSignedInAsTwoUsersSeesOnlyTheirOwnKeys: a real Chromium
// signs in to the example as alice, then as bob, through the demo sign-in,
// and each creates and lists keys through /account with fetch from the
// example's own pages, as a key-settings page would. Each sees only their
// own keys; alice's key id is not found for bob; the session cookie is
// out of the page's scripts' reach.
func TestABrowserSignedInAsTwoUsersSeesOnlyTheirOwnKeys(t *testing.T) {
	execPath := chromium(t)
	h := guardtest.NewRouted(t, nil, newRouter)
	srv := httptest.NewServer(h.Engine)
	t.Cleanup(srv.Close)
	u := browser(t, execPath)
	u.run("open the example", chromedp.Navigate(srv.URL+"/public"))

	call := func(what, method, path, body string) (int, string) {
		t.Helper()
		var out string
		js := `fetch(` + jsString(path) + `, {method: ` + jsString(method) +
			`, headers: {"Content-Type": "application/json"}` + map[bool]string{true: `, body: ` + jsString(body), false: ""}[body != ""] +
			`}).then(async r => r.status + " " + await r.text())`
		u.run(what, into(chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise), &out))
		status, text, _ := strings.Cut(out, " ")
		n, err := strconv.Atoi(status)
		if err != nil {
			t.Fatalf("%s: %q", what, out)
		}
		return n, text
	}
	type keyList struct {
		Keys  []ginkey.Key `json:"keys"`
		Total int64        `json:"total"`
	}
	keysOf := func(user string) keyList {
		t.Helper()
		status, body := call(user+" lists keys", "GET", "/account/keys", "")
		var l keyList
		if err := json.Unmarshal([]byte(body), &l); status != http.StatusOK || err != nil {
			t.Fatalf("%s's list: %d %s", user, status, body)
		}
		for _, k := range l.Keys {
			if k.Owner != user {
				t.Fatalf("%s sees %s's key %s", user, k.Owner, k.ID)
			}
		}
		return l
	}
	signIn := func(user string) {
		t.Helper()
		if status, body := call("sign in as "+user, "POST", "/demo/signin", `{"user":"`+user+`"}`); status != http.StatusOK {
			t.Fatalf("sign in as %s: %d %s", user, status, body)
		}
	}

	signIn("alice")
	var cookies string
	u.run("read document.cookie", into(chromedp.Evaluate[string](`document.cookie`), &cookies))
	if strings.Contains(cookies, sessionCookie) {
		t.Fatalf("the page's script reads the session cookie: %q", cookies)
	}
	var alices ginkey.CreatedKey
	for _, name := range []string{"alice laptop", "alice ci"} {
		status, body := call("alice creates "+name, "POST", "/account/keys", `{"name":"`+name+`"}`)
		if status != http.StatusCreated {
			t.Fatalf("alice's create: %d %s", status, body)
		}
		_ = json.Unmarshal([]byte(body), &alices)
	}
	signIn("bob")
	if status, body := call("bob creates a key", "POST", "/account/keys", `{"name":"bob laptop"}`); status != http.StatusCreated {
		t.Fatalf("bob's create: %d %s", status, body)
	}
	if l := keysOf("bob"); l.Total != 1 || l.Keys[0].Name != "bob laptop" {
		t.Fatalf("bob's keys: %+v", l)
	}
	status, forBob := call("bob reads alice's key", "GET", "/account/keys/"+alices.ID, "")
	_, unknown := call("bob reads an unknown key", "GET", "/account/keys/Zz"+alices.ID[2:], "")
	if status != http.StatusNotFound || forBob != unknown {
		t.Fatalf("alice's key for bob: %d %s; an unknown key: %s", status, forBob, unknown)
	}
	u.page("bob-signed-in")
	signIn("alice")
	if l := keysOf("alice"); l.Total != 2 {
		t.Fatalf("alice's keys: %+v", l)
	}
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
