package ginkey

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/internal/testkit/contract"
)

// contractRun drives one guard's admin API, mounted below mount, and checks
// every answer against both documents its Docs serves for that mount: the
// Swagger 2.0 one (converted as a client of it would) and the OpenAPI 3 one.
type contractRun struct {
	t       *testing.T
	g       *Guard
	store   *testkit.FailingStore
	engine  *gin.Engine
	mount   string
	docs    []*contract.Document
	clients int // addresses handed out, one per request
}

const contractAdminScope = "ginkey:admin"

func newContractRun(t *testing.T, mount string) *contractRun {
	t.Helper()
	st := newFailingStore(t)
	g, err := New(Config{
		Store: st, AdminSecret: testSecret, LookupEnv: testkit.NoEnv, Logger: slogDiscard(),
		AdminKeyScope: contractAdminScope, AdminFailureLimit: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	r := gin.New()
	g.RegisterAdmin(r.Group(mount))
	app := docString(`{"swagger":"2.0","info":{"title":"app","version":"1"},"basePath":"/","paths":{}}`)
	r.GET("/docs/*any", g.Docs(app, nil))
	r.GET("/secure", g.Handler(), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	run := &contractRun{t: t, g: g, store: st, engine: r, mount: mount}
	for _, d := range []struct{ path, name string }{{"/docs/doc.json", "Swagger 2.0"}, {"/docs/openapi3.json", "OpenAPI 3"}} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, d.path, nil))
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", d.path, w.Code, w.Body)
		}
		name := d.name + " document served for " + mount
		if d.path == "/docs/doc.json" {
			run.docs = append(run.docs, contract.FromSwagger2(t, name, w.Body.Bytes()))
		} else {
			run.docs = append(run.docs, contract.FromOpenAPI3(t, name, w.Body.Bytes()))
		}
	}
	return run
}

// req is one admin request: by default with the admin secret, a JSON body
// when body is not empty, from an address no other request used.
type req struct {
	method, path, body string
	header             map[string]string // set last; "" deletes
	from               string            // client address; "" a fresh one
}

// do sends q below the mount and checks the answer against the documents;
// want (0: any) is the status the case is about, so a case that missed its
// status fails here rather than pass for another documented one.
func (run *contractRun) do(q req, want int) *httptest.ResponseRecorder {
	run.t.Helper()
	var body *strings.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	var hr *http.Request
	if body != nil {
		hr = httptest.NewRequestWithContext(context.Background(), q.method, run.mount+q.path, body)
		hr.Header.Set("Content-Type", "application/json")
	} else {
		hr = httptest.NewRequestWithContext(context.Background(), q.method, run.mount+q.path, nil)
	}
	hr.Header.Set(testkit.AdminHeader, testSecret)
	run.clients++
	hr.RemoteAddr = fmt.Sprintf("10.%d.%d.1:1234", run.clients/250, run.clients%250)
	if q.from != "" {
		hr.RemoteAddr = q.from
	}
	for k, v := range q.header {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	run.engine.ServeHTTP(w, hr)
	for _, d := range run.docs {
		d.Check(run.t, hr, w)
	}
	if want != 0 && w.Code != want {
		run.t.Errorf("%s %s: %d %s; the case is about %d", q.method, q.path, w.Code, w.Body, want)
	}
	return w
}

// key creates a key with the Go API and returns its id.
func (run *contractRun) key(spec KeySpec) string {
	run.t.Helper()
	k, err := run.g.CreateKey(context.Background(), spec)
	if err != nil {
		run.t.Fatal(err)
	}
	return k.ID
}

// contractOp is an admin operation with a request that succeeds; path's
// {id} is replaced by a fresh key's id.
type contractOp struct {
	id, method, path, body string
	ok                     int
}

var contractOps = []contractOp{
	{"ginkeyCreateKey", http.MethodPost, "/keys", `{"name":"n"}`, 201},
	{"ginkeyListKeys", http.MethodGet, "/keys", "", 200},
	{"ginkeyGetKey", http.MethodGet, "/keys/{id}", "", 200},
	{"ginkeyUpdateKey", http.MethodPatch, "/keys/{id}", `{"name":"m"}`, 200},
	{"ginkeyDeleteKey", http.MethodDelete, "/keys/{id}", "", 204},
	{"ginkeyRevokeKey", http.MethodPost, "/keys/{id}/revoke", "", 200},
	{"ginkeyRenewKey", http.MethodPost, "/keys/{id}/renew", `{}`, 200},
	{"ginkeyRotateKey", http.MethodPost, "/keys/{id}/rotate", `{}`, 201},
	{"ginkeyKeyUsage", http.MethodGet, "/keys/{id}/usage", "", 200},
	{"ginkeyUsageSummary", http.MethodGet, "/usage", "", 200},
	{"ginkeyAuditLog", http.MethodGet, "/audit", "", 200},
}

func (run *contractRun) path(op contractOp, id string) string {
	if id == "" {
		id = run.key(KeySpec{Name: "victim"})
	}
	return strings.ReplaceAll(op.path, "{id}", id)
}

// TestEveryAdminResponseIsOneTheServedDocumentsAllow drives each admin
// operation through every status it documents, on a real SQLite file behind
// a real gin engine, mounted at the usual /auth and at a group of the host's
// own, and validates each answer, status, headers and body, against the
// Swagger 2.0 and OpenAPI 3 documents Docs serves for that mount (see
// package contract: closed objects, declared headers, no undocumented
// status). A documented status no case causes fails the test too.
func TestEveryAdminResponseIsOneTheServedDocumentsAllow(t *testing.T) {
	for _, mount := range []string{"/auth", "/internal/keys-admin"} {
		t.Run(strings.TrimPrefix(mount, "/"), func(t *testing.T) {
			t.Parallel()
			run := newContractRun(t, mount)
			run.successes()
			run.refusals()
			run.gateAnswers()
			run.outage()
			for _, d := range run.docs {
				d.Unseen(t, nil, nil)
			}
		})
	}
}

// successes: every operation's success, on keys whose records hold each
// kind of value, null included.
func (run *contractRun) successes() {
	for _, op := range contractOps {
		run.do(req{method: op.method, path: run.path(op, ""), body: op.body}, op.ok)
	}
	full := `{"name":"full","owner":"team","scopes":["items:read"],"metadata":{"n":1},"never_expires":true,` +
		`"rate_limit":{"requests":5,"per":"1m"},"allowed_ips":["10.0.0.0/8"],"quota":{"requests":9,"per":"day"}}`
	for _, body := range []string{`{}`, `{"name":"only"}`, full, `{"expires_at":"2099-01-02T03:04:05Z"}`} {
		run.do(req{method: http.MethodPost, path: "/keys", body: body}, 201)
	}
	used, err := run.g.CreateKey(context.Background(), KeySpec{Name: "used"})
	if err != nil {
		run.t.Fatal(err)
	}
	w := httptest.NewRecorder()
	hr := httptest.NewRequest(http.MethodGet, "/secure", nil)
	hr.Header.Set("X-API-Key", used.Secret)
	run.engine.ServeHTTP(w, hr)
	run.do(req{method: http.MethodGet, path: "/keys/" + used.ID + "/usage?days=3"}, 200)

	rotated := run.key(KeySpec{Name: "rotated"})
	run.do(req{method: http.MethodPost, path: "/keys/" + rotated + "/rotate", body: `{"grace":"1h"}`}, 201)
	run.do(req{method: http.MethodGet, path: "/keys/" + rotated}, 200) // rotated_to, revoked_at in the future
	limited := run.key(KeySpec{Name: "limited", RateLimit: &RateLimit{Requests: 1, Per: PerHour}, Quota: &Quota{Requests: 1, Per: PerDay}})
	for _, body := range []string{`{"clear_rate_limit":true}`, `{"quota":null}`, `{"scopes":[],"allowed_ips":[]}`} {
		run.do(req{method: http.MethodPatch, path: "/keys/" + limited, body: body}, 200)
	}
	run.do(req{method: http.MethodPost, path: "/keys/" + limited + "/renew", body: `{"never_expires":true}`}, 200)
	run.do(req{method: http.MethodGet, path: "/keys?status=active&limit=500"}, 200)
	run.do(req{method: http.MethodGet, path: "/audit?action=update&limit=500"}, 200)
	run.do(req{method: http.MethodGet, path: "/usage?limit=500"}, 200)
}

// refusals: the statuses of what the operation itself refuses.
func (run *contractRun) refusals() {
	const unknown = "3uV8rKQ0mZ1bXy7wE2tLp4"
	revoked := run.key(KeySpec{Name: "revoked"})
	if _, err := run.g.RevokeKey(context.Background(), revoked); err != nil {
		run.t.Fatal(err)
	}
	big := `{"name":"` + strings.Repeat("x", defaultMaxBodyBytes) + `"}`
	for _, c := range []struct {
		q    req
		want int
	}{
		{req{method: http.MethodPost, path: "/keys", body: `{"bogus":1}`}, 400},
		{req{method: http.MethodGet, path: "/keys?limit=0"}, 400},
		{req{method: http.MethodPatch, path: "/keys/" + revoked, body: `{}`}, 400},
		{req{method: http.MethodPost, path: "/keys/" + revoked + "/renew", body: `{"expires_at":"soon"}`}, 400},
		{req{method: http.MethodPost, path: "/keys/" + revoked + "/rotate", body: `{"grace":"forever"}`}, 400},
		{req{method: http.MethodGet, path: "/keys/" + revoked + "/usage?days=0"}, 400},
		{req{method: http.MethodGet, path: "/usage?offset=-1"}, 400},
		{req{method: http.MethodGet, path: "/audit?action=steal"}, 400},
		{req{method: http.MethodPatch, path: "/keys/" + revoked, body: `{"name":"x"}`}, 409},
		{req{method: http.MethodPost, path: "/keys/" + revoked + "/renew", body: `{}`}, 409},
		{req{method: http.MethodPost, path: "/keys/" + revoked + "/rotate"}, 409},
	} {
		run.do(c.q, c.want)
	}
	for _, op := range contractOps {
		if strings.Contains(op.path, "{id}") {
			run.do(req{method: op.method, path: run.path(op, unknown), body: op.body}, 404)
		}
		if op.body != "" {
			run.do(req{method: op.method, path: run.path(op, ""), body: big}, 413)
		}
		if op.method != http.MethodGet {
			run.do(req{method: op.method, path: run.path(op, ""), body: "name=x", header: map[string]string{"Content-Type": "text/plain"}}, 415)
		}
	}
}

// gateAnswers: what the admin gate answers before any operation runs, for
// every operation: no or wrong credentials, another site's page, a key
// without the admin scope, an address throttled for wrong guesses, a rate
// limited admin key.
func (run *contractRun) gateAnswers() {
	plain, err := run.g.CreateKey(context.Background(), KeySpec{Name: "plain"})
	if err != nil {
		run.t.Fatal(err)
	}
	admin, err := run.g.CreateKey(context.Background(), KeySpec{Name: "admin", Scopes: []string{contractAdminScope},
		RateLimit: &RateLimit{Requests: int64(len(contractOps)), Per: PerHour}})
	if err != nil {
		run.t.Fatal(err)
	}
	noSecret := map[string]string{testkit.AdminHeader: ""}
	for i, op := range contractOps {
		path := run.path(op, "")
		run.do(req{method: op.method, path: path, body: op.body, header: noSecret}, 401)
		run.do(req{method: op.method, path: path, body: op.body, header: map[string]string{testkit.AdminHeader: "", "X-API-Key": "gk_notakey"}}, 401)
		run.do(req{method: op.method, path: path, body: op.body, header: map[string]string{testkit.AdminHeader: "", "X-API-Key": plain.Secret}}, 403)
		if op.method != http.MethodGet {
			run.do(req{method: op.method, path: path, body: op.body, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403)
		}
		// The admin key's rate limit has room for each operation once.
		run.do(req{method: op.method, path: run.path(op, ""), body: op.body, header: map[string]string{testkit.AdminHeader: "", "Authorization": "Bearer " + admin.Secret}}, op.ok)
		guesser := fmt.Sprintf("192.0.2.%d:1", i+1)
		for range 3 {
			run.do(req{method: http.MethodGet, path: "/keys", header: map[string]string{testkit.AdminHeader: "wrong"}, from: guesser}, 401)
		}
		run.do(req{method: op.method, path: path, body: op.body, from: guesser}, 429)
	}
	run.do(req{method: http.MethodGet, path: "/keys", header: map[string]string{testkit.AdminHeader: "", "X-API-Key": admin.Secret}}, 429)
}

// outage: every operation with the store down answers 503.
func (run *contractRun) outage() {
	paths := make([]string, len(contractOps))
	for i, op := range contractOps {
		paths[i] = run.path(op, "")
	}
	run.store.Fail()
	defer run.store.Heal()
	for i, op := range contractOps {
		run.do(req{method: op.method, path: paths[i], body: op.body}, 503)
	}
}
