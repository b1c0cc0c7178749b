package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/console"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore/memstore"
)

var secretCode = regexp.MustCompile(`<code id="secret">([^<]+)</code>`)

func TestCreateShowsTheKeyOnceAndItWorks(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	tok := e.token("/console/keys/new")
	w := e.post("/console/keys", url.Values{"csrf": {tok}, "once": {e.once("/console/keys/new")}, "name": {"billing"}, "owner": {"acme"}, "scopes": {"items:read items:write"}, "ttl": {"15d"}, "rate_requests": {"100"}, "rate_per": {"1m"}})
	mustStatus(t, w, http.StatusOK)
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	m := secretCode.FindStringSubmatch(w.Body.String())
	if m == nil || !strings.Contains(w.Body.String(), `id="shown-once"`) || !strings.Contains(w.Body.String(), `id="copy"`) {
		t.Fatalf("no secret, warning or copy button: %s", w.Body)
	}
	req := e.do(http.MethodGet, "/api/items", nil, map[string]string{"X-API-Key": m[1]})
	mustStatus(t, req, http.StatusOK)

	keys, _, err := e.guard.ListKeys(context.Background(), ginkey.KeyQuery{})
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys: %+v %v", keys, err)
	}
	k := keys[0]
	if k.Owner != "acme" || strings.Join(k.Scopes, " ") != "items:read items:write" || k.RateLimit == nil || k.RateLimit.Requests != 100 || k.ExpiresAt == nil {
		t.Errorf("created %+v", k)
	}
	detail := e.get("/console/keys/" + k.ID)
	mustStatus(t, detail, http.StatusOK)
	// The key was used (not yet flushed): the page reads it after the usage.
	if strings.Contains(detail.Body.String(), "<dt>Last used</dt><dd>never</dd>") {
		t.Error("the used key's last use reads never")
	}
	if strings.Contains(detail.Body.String(), m[1]) {
		t.Error("the detail page shows the plaintext key")
	}
	for _, want := range []string{`id="key-fields"`, `id="usage-chart"`, `id="usage-table"`, `id="rotate"`, `id="revoke"`, `id="renew"`, `id="edit-link"`} {
		if !strings.Contains(detail.Body.String(), want) {
			t.Errorf("detail lacks %s", want)
		}
	}
}

func TestCreateShowsTheAPIsMessage(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	tok := e.token("/console/keys/new")
	w := e.post("/console/keys", url.Values{"csrf": {tok}, "once": {newOnce()}, "name": {"x"}, "scopes": {"bad scope!"}})
	mustStatus(t, w, http.StatusBadRequest)
	if !strings.Contains(w.Body.String(), `id="error" role="alert"`) || !strings.Contains(w.Body.String(), "scopes") {
		t.Errorf("no error naming scopes: %s", w.Body)
	}
}

// createKey creates a key through the management API.
func createKey(t *testing.T, e *env, spec ginkey.KeySpec) ginkey.CreatedKey {
	t.Helper()
	k, err := e.guard.CreateKey(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestUserStringsRenderAsText puts markup in every user string and looks
// for it, raw, on every page that shows it.
func TestUserStringsRenderAsText(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	raws := []string{`<img src=x onerror=alert(1)>`, `"><script>alert(1)</script>`}
	var ids []string
	for i, name := range raws {
		k := createKey(t, e, ginkey.KeySpec{Name: name, Owner: "o</script><b>" + string(rune('a'+i)),
			Metadata: map[string]any{"</script><script>x": "</script><img src=y>"}})
		ids = append(ids, k.ID)
	}
	// An update puts the field names in the audit log too.
	if _, err := e.guard.UpdateKey(context.Background(), ids[0], ginkey.KeyUpdate{Owner: &raws[0]}); err != nil {
		t.Fatal(err)
	}
	forbidden := []string{"<img src=x", "<script>alert", "</script><b>", "<img src=y", "items:</script>", "</script><script>x"}
	pages := []string{"/console/keys", "/console/keys?q=o%3C%2Fscript%3E%3Cb%3Ea", "/console/audit", "/console/usage"}
	for _, id := range ids {
		pages = append(pages, "/console/keys/"+id, "/console/keys/"+id+"/edit", "/console/audit?key="+id)
	}
	for _, path := range pages {
		body := e.get(path).Body.String()
		for _, f := range forbidden {
			if strings.Contains(body, f) {
				t.Errorf("%s: raw %q", path, f)
			}
		}
	}
	detail := e.get("/console/keys/"+ids[0]).Body.String() + e.get("/console/keys/"+ids[1]).Body.String()
	for _, escaped := range []string{"&lt;img src=x onerror=alert(1)&gt;", "o&lt;/script&gt;&lt;b&gt;b", "&lt;/script&gt;&lt;script&gt;x", "&lt;/script&gt;&lt;img src=y&gt;"} {
		if !strings.Contains(detail, escaped) {
			t.Errorf("detail lacks the escaped text %q", escaped)
		}
	}
	list := e.get("/console/keys").Body.String()
	if !strings.Contains(list, "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("list lacks the escaped name")
	}
}

func TestRotateWithGraceRevokeAndRenew(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	old := createKey(t, e, ginkey.KeySpec{Name: "r", Scopes: []string{"items:read"}})
	tok := e.token("/console/keys/" + old.ID)
	w := e.post("/console/keys/"+old.ID+"/rotate", url.Values{"csrf": {tok}, "once": {e.once("/console/keys/" + old.ID)}, "grace": {"1h"}})
	mustStatus(t, w, http.StatusOK)
	m := secretCode.FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("rotate shows no key: %s", w.Body)
	}
	for _, secret := range []string{old.Secret, m[1]} {
		mustStatus(t, e.do(http.MethodGet, "/api/items", nil, map[string]string{"X-API-Key": secret}), http.StatusOK)
	}
	// Rotating the rotated key again is the API's conflict, shown.
	w = e.post("/console/keys/"+old.ID+"/rotate", url.Values{"csrf": {tok}, "once": {newOnce()}})
	mustStatus(t, w, http.StatusConflict)
	if !strings.Contains(w.Body.String(), `data-code="key_rotated"`) {
		t.Errorf("second rotate: %s", w.Body)
	}
	w = e.post("/console/keys/"+old.ID+"/renew", url.Values{"csrf": {tok}, "renew_ttl": {"not a duration"}})
	mustStatus(t, w, http.StatusBadRequest)
	if !strings.Contains(w.Body.String(), "renew_ttl") {
		t.Errorf("bad renew: %s", w.Body)
	}
	w = e.post("/console/keys/"+old.ID+"/revoke", url.Values{"csrf": {tok}})
	mustStatus(t, w, http.StatusSeeOther)
	mustStatus(t, e.do(http.MethodGet, "/api/items", nil, map[string]string{"X-API-Key": old.Secret}), http.StatusUnauthorized)
	w = e.post("/console/keys/"+old.ID+"/renew", url.Values{"csrf": {tok}, "renew_ttl": {"30d"}})
	mustStatus(t, w, http.StatusConflict)
	k := createKey(t, e, ginkey.KeySpec{Name: "renew-me"})
	w = e.post("/console/keys/"+k.ID+"/renew", url.Values{"csrf": {tok}, "renew_ttl": {"never"}})
	mustStatus(t, w, http.StatusSeeOther)
	if got, _ := e.guard.GetKey(t.Context(), k.ID); got.ExpiresAt != nil {
		t.Errorf("renewed for ever: expires %v", got.ExpiresAt)
	}
}

func TestAStoreFailureShowsTheFixedMessage(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	createKey(t, e, ginkey.KeySpec{Name: "k"})
	if err := e.guard.Close(); err != nil {
		t.Fatal(err)
	}
	w := e.get("/console/keys")
	body := w.Body.String()
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(body, ginkey.ErrUnavailable.Message) || strings.Contains(strings.ToLower(body), "sql") {
		t.Errorf("store failure: %d %s", w.Code, body)
	}
}

func TestSearchByNameOwnerOrPrefix(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	alpha := createKey(t, e, ginkey.KeySpec{Name: "Alpha service", Owner: "acme"})
	beta := createKey(t, e, ginkey.KeySpec{Name: "beta", Owner: "zeta"})
	if _, err := e.guard.RevokeKey(t.Context(), beta.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		query     string
		want, not string
	}{
		{"q=alpha", alpha.ID, beta.ID},
		{"q=zeta", beta.ID, alpha.ID},
		{"q=" + url.QueryEscape(beta.Prefix), beta.ID, alpha.ID},
		{"q=acme&status=revoked", "No keys.", alpha.ID},
		{"status=active", alpha.ID, beta.ID},
	} {
		body := e.get("/console/keys?" + c.query).Body.String()
		if !strings.Contains(body, c.want) || strings.Contains(body, `data-key-id="`+c.not+`"`) {
			t.Errorf("%s: want %s, not %s", c.query, c.want, c.not)
		}
	}
}

// TestSendingAKeyFormTwiceMintsOneKey sends a create form, and a rotate
// form, again (as reloading the "Key created" page does) and at once from
// many tabs: one key each time, its plaintext never shown again, and the
// repeat lands on the key's page.
func TestSendingAKeyFormTwiceMintsOneKey(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	tok := e.token("/console/keys/new")
	form := url.Values{"csrf": {tok}, "once": {e.once("/console/keys/new")}, "name": {"twice"}}
	first := e.post("/console/keys", form)
	mustStatus(t, first, http.StatusOK)
	secret := secretCode.FindStringSubmatch(first.Body.String())[1]
	keys, total, err := e.guard.ListKeys(t.Context(), ginkey.KeyQuery{})
	if err != nil || total != 1 {
		t.Fatalf("after one create: %d keys, %v", total, err)
	}
	again := e.post("/console/keys", form)
	mustStatus(t, again, http.StatusSeeOther)
	if loc := again.Header().Get("Location"); loc != "/console/keys/"+keys[0].ID+"?done=sent" {
		t.Errorf("the repeat goes to %q", loc)
	}
	if _, total, _ := e.guard.ListKeys(t.Context(), ginkey.KeyQuery{}); total != 1 {
		t.Fatalf("sending the create form twice made %d keys", total)
	}
	landing := e.get(again.Header().Get("Location"))
	mustStatus(t, landing, http.StatusOK)
	if strings.Contains(landing.Body.String(), secret) || strings.Contains(again.Body.String(), secret) {
		t.Error("the repeat shows the plaintext key again")
	}
	if !strings.Contains(landing.Body.String(), "That form was sent before") {
		t.Errorf("the key's page does not say the form was sent before: %s", landing.Body)
	}

	// A form the API refused may be corrected and sent with its token.
	bad := url.Values{"csrf": {tok}, "once": {newOnce()}, "name": {"fixed"}, "scopes": {"bad scope!"}}
	mustStatus(t, e.post("/console/keys", bad), http.StatusBadRequest)
	bad.Set("scopes", "items:read")
	mustStatus(t, e.post("/console/keys", bad), http.StatusOK)
	// A form without its token mints nothing.
	w := e.post("/console/keys", url.Values{"csrf": {tok}, "name": {"tokenless"}})
	mustStatus(t, w, http.StatusBadRequest)
	if _, total, _ := e.guard.ListKeys(t.Context(), ginkey.KeyQuery{}); total != 2 {
		t.Fatalf("keys: %d, want 2", total)
	}

	// Eight tabs send one form at once: one key.
	form.Set("once", newOnce())
	form.Set("name", "tabs")
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPost, "/console/keys", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			for _, c := range e.cookies {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			e.r.ServeHTTP(rec, req)
			codes[i] = rec.Code
		})
	}
	wg.Wait()
	if n := slices.Index(codes, http.StatusOK); n < 0 || slices.Index(codes[n+1:], http.StatusOK) >= 0 {
		t.Errorf("answers of eight sendings of one form: %v, want one 200", codes)
	}
	for _, code := range codes {
		if code != http.StatusOK && code != http.StatusSeeOther && code != http.StatusConflict {
			t.Errorf("answers of eight sendings of one form: %v", codes)
		}
	}
	if tabs, total, _ := e.guard.ListKeys(t.Context(), ginkey.KeyQuery{Name: "tabs"}); total != 1 {
		t.Fatalf("eight sendings of one form made %d keys: %+v", total, tabs)
	}

	// A rotate form sent twice rotates once, and lands on the new key.
	old := createKey(t, e, ginkey.KeySpec{Name: "rotated"})
	rot := url.Values{"csrf": {tok}, "once": {e.once("/console/keys/" + old.ID)}, "grace": {"1h"}}
	mustStatus(t, e.post("/console/keys/"+old.ID+"/rotate", rot), http.StatusOK)
	k, err := e.guard.GetKey(t.Context(), old.ID)
	if err != nil || k.RotatedTo == "" {
		t.Fatalf("not rotated: %+v %v", k, err)
	}
	again = e.post("/console/keys/"+old.ID+"/rotate", rot)
	mustStatus(t, again, http.StatusSeeOther)
	if loc := again.Header().Get("Location"); loc != "/console/keys/"+k.RotatedTo+"?done=sent" {
		t.Errorf("the repeated rotate goes to %q, want the new key %s", loc, k.RotatedTo)
	}
}

var olderLink = regexp.MustCompile(`<a href="([^"]+)">Older</a>`)

// TestOlderLinksReachThePagesPastTheFirst follows the keys list's and the
// audit log's Older links: each leads past the first 50 rows, to the rest.
func TestOlderLinksReachThePagesPastTheFirst(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	for i := range 60 {
		createKey(t, e, ginkey.KeySpec{Name: fmt.Sprintf("paged-%02d", i)})
	}
	for _, page := range []struct{ path, row string }{
		{"/console/keys", `<tr data-key-id="`},
		{"/console/audit", `<tr data-audit-id="`},
	} {
		first := e.get(page.path)
		mustStatus(t, first, http.StatusOK)
		m := olderLink.FindStringSubmatch(first.Body.String())
		if m == nil {
			t.Fatalf("%s: no Older link with 60 rows", page.path)
		}
		next := e.get(html.UnescapeString(m[1]))
		mustStatus(t, next, http.StatusOK)
		if rows := strings.Count(next.Body.String(), page.row); rows != 10 {
			t.Errorf("%s's Older link %s shows %d rows, want the last 10 of 60", page.path, m[1], rows)
		}
	}
}

// TestAKeyPageWhoseUsageCannotBeReadSaysSoAndDrawsNoChart: with the usage
// store down, the key's page shows the error and no empty chart ("No
// requests in the last 30 days" would be a claim nobody checked).
func TestAKeyPageWhoseUsageCannotBeReadSaysSoAndDrawsNoChart(t *testing.T) {
	fs := testkit.NewFailingStore(memstore.New())
	e := newEnv(t, ginkey.Config{Store: fs}, console.Options{})
	e.signIn()
	k := createKey(t, e, ginkey.KeySpec{Name: "k"})
	fs.Fail(testkit.OpUsage, testkit.OpOutcomes)
	w := e.get("/console/keys/" + k.ID)
	page := w.Body.String()
	if !strings.Contains(page, `id="error" role="alert"`) {
		t.Fatalf("no error shown: %d %s", w.Code, page)
	}
	for _, claim := range []string{`id="usage-chart"`, "No requests in the last 30 days", "admitted in all"} {
		if strings.Contains(page, claim) {
			t.Errorf("the page shows %q with the usage unread", claim)
		}
	}
}

// TestASearchWithMoreMatchesThanShownSaysSo: 210 keys owned by one owner,
// searched by that owner: 200 are shown, and the page says more match.
func TestASearchWithMoreMatchesThanShownSaysSo(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	specs := make([]ginkey.KeySpec, 0, 210)
	for i := range 210 {
		specs = append(specs, ginkey.KeySpec{Name: fmt.Sprintf("k%03d", i), Owner: "bulk"})
	}
	for _, s := range specs {
		createKey(t, e, s)
	}
	w := e.get("/console/keys?q=bulk")
	mustStatus(t, w, http.StatusOK)
	if rows := strings.Count(w.Body.String(), `<tr data-key-id="`); rows != 200 {
		t.Errorf("%d rows, want 200", rows)
	}
	if !strings.Contains(w.Body.String(), `id="search-cut"`) {
		t.Error("the page does not say that more keys match")
	}
	if w := e.get("/console/keys?q=k001"); strings.Contains(w.Body.String(), `id="search-cut"`) {
		t.Error("a search with one match says more keys match")
	}
}
