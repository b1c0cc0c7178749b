package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/internal/testkit/contract"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
)

// exampleOps are the example's own operations; ginkey's admin operations
// in the same document have their own test in package ginkey.
var exampleOps = []string{"examplePublic", "exampleSecure", "exampleListItems", "exampleCreateItem"}

// TestEveryExampleResponseIsOneTheServedDocumentsAllow drives the example's
// routes, behind the example's router and a guard on a SQLite file, through
// every status they document, and validates each answer (status, headers,
// body) against the Swagger 2.0 and OpenAPI 3 documents the example serves,
// with package contract's strict checks. It also creates a key through the
// admin API, so the admin part of the example's document is checked too.
func TestEveryExampleResponseIsOneTheServedDocumentsAllow(t *testing.T) {
	st := guardtest.FailingStore(t)
	h := guardtest.NewRouted(t, func(c *ginkey.Config) { c.Store = st; c.FailureLimit = 3 }, newRouter)
	docs := exampleDocs(t, h)
	do := checker(t, h, docs)
	key := func(spec ginkey.KeySpec) string { return guardtest.CreateKey(t, h.Guard, spec).Secret }
	withKey := func(k string) map[string]string { return map[string]string{"X-API-Key": k} }

	var created ginkey.CreatedKey
	w := do(http.MethodPost, "/auth/keys", `{"name":"through the admin API","scopes":["items:*"]}`, map[string]string{testkit.AdminHeader: testSecret}, 201)
	testkit.Decode(t, w, &created)
	all := created.Secret
	do(http.MethodGet, "/public", "", nil, 200)
	do(http.MethodGet, "/secure", "", withKey(all), 200)
	do(http.MethodGet, "/secure?api_key="+all, "", nil, 200)
	do(http.MethodGet, "/secure", "", map[string]string{"Authorization": "Bearer " + all}, 200)
	do(http.MethodGet, "/items", "", withKey(all), 200)
	do(http.MethodPost, "/items", `{"name":"widget"}`, withKey(all), 201)
	do(http.MethodPost, "/items", `{"name":""}`, withKey(all), 400)
	do(http.MethodPost, "/items", `{"name":"`+strings.Repeat("x", maxItemBodyBytes)+`"}`, withKey(all), 413)

	if _, err := h.Guard.RevokeKey(context.Background(), created.ID); err != nil {
		t.Fatal(err)
	}
	goneKey := guardtest.CreateKey(t, h.Guard, ginkey.KeySpec{})
	if err := h.Guard.DeleteKey(context.Background(), goneKey.ID); err != nil {
		t.Fatal(err)
	}
	gone := goneKey.Secret
	readOnly := key(ginkey.KeySpec{Scopes: []string{"items:read"}})
	fenced := key(ginkey.KeySpec{Scopes: []string{"items:*"}, AllowedIPs: []string{"203.0.113.0/24"}})
	for i, route := range []struct{ method, path, body string }{
		{http.MethodGet, "/secure", ""}, {http.MethodGet, "/items", ""}, {http.MethodPost, "/items", `{"name":"w"}`},
	} {
		do(route.method, route.path, route.body, nil, 401)
		do(route.method, route.path, route.body, withKey("gk_notakey"), 401)
		do(route.method, route.path, route.body, withKey(all), 401) // revoked
		do(route.method, route.path, route.body, withKey(fenced), 403)
		limited := key(ginkey.KeySpec{Scopes: []string{"items:*"}, RateLimit: &ginkey.RateLimit{Requests: 1, Per: ginkey.PerHour}})
		do(route.method, route.path, route.body, withKey(limited), map[bool]int{true: 201, false: 200}[route.body != ""])
		do(route.method, route.path, route.body, withKey(limited), 429)
		// Past FailureLimit (3 a minute) unknown keys from one address,
		// even a good key not yet verified is refused.
		guesser := map[string]string{"remote": fmt.Sprintf("198.51.100.%d:1", i+1), "X-API-Key": gone}
		for range 3 {
			do(route.method, route.path, route.body, guesser, 401)
		}
		guesser["X-API-Key"] = key(ginkey.KeySpec{Scopes: []string{"items:*"}})
		do(route.method, route.path, route.body, guesser, 429)
	}
	do(http.MethodGet, "/items", "", withKey(readOnly), 200)
	do(http.MethodPost, "/items", `{"name":"w"}`, withKey(readOnly), 403)
	do(http.MethodGet, "/items", "", withKey(fenced), 403)
	writer := key(ginkey.KeySpec{Scopes: []string{"items:write"}})
	do(http.MethodGet, "/items", "", withKey(writer), 403)
	for range maxItems - 1 {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/items", strings.NewReader(`{"name":"w"}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-API-Key", writer)
		h.Engine.ServeHTTP(w, r)
	}
	do(http.MethodPost, "/items", `{"name":"one too many"}`, withKey(writer), 507)

	// Keys never looked up, with the store down.
	fresh := []string{key(ginkey.KeySpec{Scopes: []string{"items:*"}}), key(ginkey.KeySpec{Scopes: []string{"items:*"}}), key(ginkey.KeySpec{Scopes: []string{"items:*"}})}
	st.Fail(testkit.OpByHash)
	do(http.MethodGet, "/secure", "", withKey(fresh[0]), 503)
	do(http.MethodGet, "/items", "", withKey(fresh[1]), 503)
	do(http.MethodPost, "/items", `{"name":"w"}`, withKey(fresh[2]), 503)
	st.Heal()
	for _, d := range docs {
		d.Unseen(t, exampleOps, nil)
	}
}

// exampleDocs are the documents the example serves.
func exampleDocs(t *testing.T, h *guardtest.H) []*contract.Document {
	t.Helper()
	var docs []*contract.Document
	for _, d := range []struct{ path, name string }{{"/docs/doc.json", "the example's Swagger 2.0 document"}, {"/docs/openapi3.json", "the example's OpenAPI 3 document"}} {
		w := h.Get("", d.path, "")
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", d.path, w.Code)
		}
		if strings.HasSuffix(d.path, "doc.json") {
			docs = append(docs, contract.FromSwagger2(t, d.name, w.Body.Bytes()))
		} else {
			docs = append(docs, contract.FromOpenAPI3(t, d.name, w.Body.Bytes()))
		}
	}
	return docs
}

// checker returns a function that sends one request to h's engine, from an
// address of its own (header "remote" overrides it), checks the answer
// against the example's documents and fails the test unless its status is
// want, the status the case is about.
func checker(t *testing.T, h *guardtest.H, docs []*contract.Document) func(method, path, body string, header map[string]string, want int) *httptest.ResponseRecorder {
	clients := 0
	return func(method, path, body string, header map[string]string, want int) *httptest.ResponseRecorder {
		t.Helper()
		var r *http.Request
		if body != "" {
			r = httptest.NewRequestWithContext(context.Background(), method, path, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
		} else {
			r = httptest.NewRequestWithContext(context.Background(), method, path, nil)
		}
		clients++
		r.RemoteAddr = fmt.Sprintf("10.1.%d.%d:1", clients/250, clients%250)
		for k, v := range header {
			if k == "remote" {
				r.RemoteAddr = v
				continue
			}
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.Engine.ServeHTTP(w, r)
		for _, d := range docs {
			d.Check(t, r, w)
		}
		if w.Code != want {
			t.Errorf("%s %s: %d %s; the case is about %d", method, path, w.Code, w.Body, want)
		}
		return w
	}
}

// TestEverySelfServiceAnswerOfTheExampleIsOneItsDocumentsAllow signs in
// with the example's demo session and checks the self-service routes'
// answers against the example's documents (its own store: self-service
// needs a store that caps keys per owner, which the failing store is not).
func TestEverySelfServiceAnswerOfTheExampleIsOneItsDocumentsAllow(t *testing.T) {
	h := guardtest.NewRouted(t, nil, newRouter)
	do := checker(t, h, exampleDocs(t, h))
	signin := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/demo/signin", strings.NewReader(`{"user":"alice"}`))
	signin.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.Engine.ServeHTTP(w, signin)
	session := map[string]string{"Cookie": strings.Split(w.Header().Get("Set-Cookie"), ";")[0], "Sec-Fetch-Site": "same-origin"}
	var own ginkey.CreatedKey
	testkit.Decode(t, do(http.MethodPost, "/account/keys", `{"name":"mine"}`, session, 201), &own)
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodGet, "/account/keys", "", 200},
		{http.MethodGet, "/account/keys/" + own.ID, "", 200},
		{http.MethodGet, "/account/keys/" + own.ID + "/usage", "", 200},
		{http.MethodGet, "/account/keys/" + own.ID + "/audit", "", 200},
		{http.MethodPost, "/account/keys/" + own.ID + "/renew", `{}`, 200},
		{http.MethodPost, "/account/keys/" + own.ID + "/rotate", `{}`, 201},
		{http.MethodPost, "/account/keys/" + own.ID + "/revoke", "", 200},
		{http.MethodGet, "/account/keys/3uV8rKQ0mZ1bXy7wE2tLp4", "", 404},
		{http.MethodGet, "/account/keys?limit=0", "", 400},
	} {
		do(c.method, c.path, c.body, session, c.want)
	}
	do(http.MethodGet, "/account/keys", "", nil, 401)

}
