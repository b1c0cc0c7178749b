package ginkey

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/internal/testkit/swaggercheck"
)

// exampleDoc is the example's swag output (docs/swagger.json): what swag
// writes for an application with --parseDependencyLevel 2, ginkey's
// operations at /auth included.
func exampleDoc(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("docs/swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type docString string

func (d docString) ReadDoc() string { return string(d) }

// openapi is the part of a Swagger 2.0 document the assertions look at.
type openapi struct {
	BasePath            string                                     `json:"basePath"`
	Paths               map[string]map[string]openapiOp            `json:"paths"`
	Definitions         map[string]json.RawMessage                 `json:"definitions"`
	SecurityDefinitions map[string]struct{ Type, Name, In string } `json:"securityDefinitions"`
}

type openapiOp struct {
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary"`
	Description string                `json:"description"`
	Tags        []string              `json:"tags"`
	Security    []map[string][]string `json:"security"`
	Responses   map[string]struct {
		Description string `json:"description"`
		Schema      struct {
			Ref string `json:"$ref"`
		} `json:"schema"`
	} `json:"responses"`
}

func parseOpenAPI(t *testing.T, b []byte) openapi {
	t.Helper()
	var d openapi
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("not a JSON document: %v\n%s", err, b)
	}
	return d
}

// ginkeyOps lists "METHOD path" of the operations tagged ginkey.
func (d openapi) ginkeyOps() []string {
	var out []string
	for p, item := range d.Paths {
		for m, op := range item {
			if slices.Contains(op.Tags, "ginkey") {
				out = append(out, strings.ToUpper(m)+" "+p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// adminRoutes lists "METHOD path" of the operations RegisterAdmin serves
// below prefix, in OpenAPI's {param} form. The admin API routes by itself
// below one catch-all, so the list is its route table's.
func adminRoutes(t *testing.T, prefix string) []string {
	t.Helper()
	g, err := New(Config{DBPath: t.TempDir() + "/k.db", AdminSecret: testSecret, LookupEnv: testkit.NoEnv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	param := regexp.MustCompile(`:([a-z]+)`)
	var out []string
	for _, rt := range g.adminRoutes() {
		out = append(out, rt.method+" "+param.ReplaceAllString(strings.TrimSuffix(prefix, "/")+rt.pattern, "{$1}"))
	}
	slices.Sort(out)
	return out
}

// adminErrorCodes maps each status to the codes an admin call can answer with.
func adminErrorCodes() map[string][]string {
	m := map[string][]string{}
	for _, e := range []*Error{errAdminUnauthorized, ErrBadRequest, errCrossOrigin, ErrInsufficientScope, ErrNotFound, errRevokedConflict, errPayloadTooLarge, errUnsupportedMediaType, ErrTooManyFailures, ErrUnavailable} {
		s := strconv.Itoa(e.Status)
		m[s] = append(m[s], e.Code)
	}
	return m
}

func TestOwnSpecDocumentsEveryAdminRoute(t *testing.T) {
	d := parseOpenAPI(t, ownSpec)
	want := adminRoutes(t, "/auth")
	if got := d.ginkeyOps(); !slices.Equal(got, want) {
		t.Fatalf("documented operations:\n  %v\nroutes mounted by RegisterAdmin:\n  %v", got, want)
	}
	ids := map[string]bool{}
	errorCodes := adminErrorCodes()
	for p, item := range d.Paths {
		for m, op := range item {
			where := strings.ToUpper(m) + " " + p
			if !strings.HasPrefix(op.OperationID, "ginkey") || ids[op.OperationID] {
				t.Errorf("%s: operationId %q is not a unique ginkey... id", where, op.OperationID)
			}
			ids[op.OperationID] = true
			if op.Summary == "" || op.Description == "" {
				t.Errorf("%s: needs a summary and a description", where)
			}
			if !slices.Equal(op.Tags, []string{"ginkey"}) {
				t.Errorf("%s: tags %v, want [ginkey]", where, op.Tags)
			}
			if len(op.Security) != 1 || len(op.Security[0]) != 1 || op.Security[0]["AdminSecret"] == nil {
				t.Errorf("%s: security %v, want [{AdminSecret: []}]", where, op.Security)
			}
			if _, ok := op.Responses["401"]; !ok {
				t.Errorf("%s: the 401 of a missing admin secret is not documented", where)
			}
			for status, resp := range op.Responses {
				if status < "400" {
					continue
				}
				if resp.Schema.Ref != "#/definitions/ginkey.ErrorBody" {
					t.Errorf("%s %s: schema %q, want ginkey.ErrorBody", where, status, resp.Schema.Ref)
				}
				code, _, _ := strings.Cut(resp.Description, ":")
				if !slices.Contains(errorCodes[status], code) {
					t.Errorf("%s %s: description %q does not start with one of the codes %v", where, status, resp.Description, errorCodes[status])
				}
			}
		}
	}
	for name, want := range wantSchemes {
		if s := d.SecurityDefinitions[name]; s.Type != "apiKey" || s.In+" "+s.Name != want {
			t.Errorf("securityDefinitions[%s] = %+v, want apiKey in %s", name, s, want)
		}
	}
	if err := swaggercheck.Validate(t, ownSpec); err != nil {
		t.Errorf("ginkey's own document is not valid Swagger 2.0: %v", err)
	}
}

// docsGuard is a guard on a SQLite file in t.TempDir, logging to logs.
func docsGuard(t *testing.T, cfg Config) (*Guard, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg.DBPath = t.TempDir() + "/keys.db"
	cfg.AdminSecret = testSecret
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	if cfg.LookupEnv == nil {
		cfg.LookupEnv = testkit.NoEnv
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g, logs
}

// serveDoc mounts the admin API below mount (unless empty) and the document
// at /docs/doc.json, and returns the engine and the served document. The
// admin API takes its group whole, so mounted at the root it gets an engine
// of its own, as it would on an internal port.
func serveDoc(t *testing.T, cfg Config, mount string, doc docReader) (*gin.Engine, []byte) {
	t.Helper()
	g, _ := docsGuard(t, cfg)
	r := gin.New()
	switch mount {
	case "":
	case "/":
		g.RegisterAdmin(gin.New().Group(mount))
	default:
		g.RegisterAdmin(r.Group(mount))
	}
	r.GET("/docs/*any", g.Docs(doc, nil))
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/docs/doc.json", nil))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("doc.json: %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	return r, w.Body.Bytes()
}

// withBasePath rewrites a document's basePath.
func withBasePath(t *testing.T, doc []byte, base string) docString {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	m["basePath"] = base
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return docString(b)
}

func TestDocsShowsAdminOperationsWhereTheyAreMounted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, basePath, mount, want string
	}{
		{"as annotated", "/", "/auth", "/auth"},
		{"another prefix", "/", "/admin", "/admin"},
		{"trailing slash", "/", "/admin/", "/admin"},
		{"nested group", "", "/internal/keys-admin", "/internal/keys-admin"},
		{"below basePath", "/api/v1", "/api/v1/admin", "/admin"},
		{"at basePath", "/api/v1", "/api/v1", ""},
		{"at the root", "/", "/", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, served := serveDoc(t, Config{}, tc.mount, withBasePath(t, exampleDoc(t), tc.basePath))
			d := parseOpenAPI(t, served)
			var want []string
			for _, r := range adminRoutes(t, "/auth") {
				method, p, _ := strings.Cut(r, " ")
				want = append(want, method+" "+tc.want+strings.TrimPrefix(p, "/auth"))
			}
			slices.Sort(want)
			if got := d.ginkeyOps(); !slices.Equal(got, want) {
				t.Errorf("ginkey operations:\n  %v\nwant\n  %v", got, want)
			}
			if _, ok := d.Paths["/secure"]["get"]; !ok {
				t.Error("the application's own /secure operation is gone")
			}
			if d.SecurityDefinitions["AdminSecret"].Name != "X-Admin-Secret" {
				t.Errorf("AdminSecret scheme: %+v", d.SecurityDefinitions["AdminSecret"])
			}
			if _, ok := d.Definitions["ginkey.CreatedKey"]; !ok {
				t.Error("ginkey.CreatedKey definition missing")
			}
			if err := swaggercheck.Validate(t, served); err != nil {
				t.Errorf("served document is not valid Swagger 2.0: %v", err)
			}
		})
	}
}

// An application whose swag run did not parse ginkey still gets its
// operations, schemas and scheme: they come from the embedded document.
func TestDocsAddsAdminOperationsSwagDidNotFind(t *testing.T) {
	t.Parallel()
	app := `{"swagger":"2.0","info":{"title":"app","version":"1"},"basePath":"/","paths":{"/ping":{"get":{"responses":{"200":{"description":"OK"}}}}}}`
	_, served := serveDoc(t, Config{}, "/admin", docString(app))
	d := parseOpenAPI(t, served)
	if len(d.ginkeyOps()) != len(adminRoutes(t, "/admin")) || d.Paths["/admin/keys"]["post"].OperationID != "ginkeyCreateKey" {
		t.Errorf("admin operations not added: %v", d.ginkeyOps())
	}
	for _, s := range []string{"AdminSecret", "APIKeyHeader", "APIKeyQuery"} {
		if d.SecurityDefinitions[s].Type != "apiKey" {
			t.Errorf("scheme %s not added: %+v", s, d.SecurityDefinitions)
		}
	}
	if err := swaggercheck.Validate(t, served); err != nil {
		t.Errorf("served document is not valid Swagger 2.0: %v", err)
	}
}

func TestHideDocsRemovesAdminOperationsButNotTheEndpoints(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]Config{
		"Config.HideDocs":       {HideDocs: true},
		"GINKEY_HIDE_DOCS=true": {LookupEnv: func(k string) (string, bool) { return "true", k == "GINKEY_HIDE_DOCS" }},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, served := serveDoc(t, cfg, "/auth", docString(exampleDoc(t)))
			d := parseOpenAPI(t, served)
			if ops := d.ginkeyOps(); len(ops) != 0 {
				t.Errorf("hidden admin operations are served: %v", ops)
			}
			if _, ok := d.SecurityDefinitions["AdminSecret"]; ok {
				t.Error("the AdminSecret scheme is still served")
			}
			if bytes.Contains(served, []byte("AdminSecret")) || bytes.Contains(served, []byte("X-Admin-Secret")) {
				t.Errorf("the document still mentions the admin secret:\n%s", served)
			}
			for _, def := range []string{"ginkey.CreatedKey", "ginkey.CreateKeyRequest", "ginkey.KeyList", "ginkey.Key"} {
				if _, ok := d.Definitions[def]; ok {
					t.Errorf("definition %s, used only by admin operations, is still served", def)
				}
			}
			// /secure answers with ginkey.ErrorBody, so it and what it refers to stay.
			for _, def := range []string{"ginkey.ErrorBody", "ginkey.ErrorDetail", "main.SecureResponse"} {
				if _, ok := d.Definitions[def]; !ok {
					t.Errorf("definition %s is still referenced but was removed", def)
				}
			}
			if d.Paths["/secure"]["get"].Security == nil || d.SecurityDefinitions["APIKeyHeader"].Name != "X-API-Key" {
				t.Errorf("the application's operation or key schemes were touched: %+v", d)
			}
			if err := swaggercheck.Validate(t, served); err != nil {
				t.Errorf("served document is not valid Swagger 2.0: %v", err)
			}
			create := httptest.NewRequest(http.MethodPost, "/auth/keys", strings.NewReader(`{"name":"still works"}`))
			create.Header.Set(adminHeader, testSecret)
			create.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			r.ServeHTTP(w, create)
			if w.Code != http.StatusCreated {
				t.Errorf("POST /auth/keys with hidden docs: %d %s", w.Code, w.Body)
			}
		})
	}
}

func TestDocsLeavesAdminOperationsOutWhenTheAdminAPIIsNotMounted(t *testing.T) {
	t.Parallel()
	_, served := serveDoc(t, Config{}, "", docString(exampleDoc(t)))
	d := parseOpenAPI(t, served)
	if ops := d.ginkeyOps(); len(ops) != 0 || d.SecurityDefinitions["AdminSecret"].Name != "" {
		t.Errorf("operations of an unmounted admin API are served: %v %+v", ops, d.SecurityDefinitions)
	}
}

func TestDocsNamesKeySchemesAfterTheGuardsSources(t *testing.T) {
	t.Parallel()
	_, served := serveDoc(t, Config{Sources: []string{"header:X-Key", "query:key"}},
		"/auth", docString(exampleDoc(t)))
	d := parseOpenAPI(t, served)
	if h, q := d.SecurityDefinitions["APIKeyHeader"], d.SecurityDefinitions["APIKeyQuery"]; h.Name != "X-Key" || h.In != "header" || q.Name != "key" || q.In != "query" {
		t.Errorf("key schemes do not match the sources: header %+v, query %+v", h, q)
	}
	// A guard that reads no query parameter leaves the document's scheme alone.
	_, served = serveDoc(t, Config{Sources: []string{"bearer"}}, "/auth", docString(exampleDoc(t)))
	if q := parseOpenAPI(t, served).SecurityDefinitions["APIKeyQuery"]; q.Name != "api_key" {
		t.Errorf("APIKeyQuery changed without a query source: %+v", q)
	}
}

type countingDoc struct {
	reads atomic.Int32
	doc   string
}

func (c *countingDoc) ReadDoc() string { c.reads.Add(1); return c.doc }

func TestDocsBuildsTheDocumentOnceAndPassesOtherPathsOn(t *testing.T) {
	t.Parallel()
	g, _ := docsGuard(t, Config{})
	r := gin.New()
	g.RegisterAdmin(r.Group("/auth"))
	doc := &countingDoc{doc: string(exampleDoc(t))}
	r.GET("/docs/*any", g.Docs(doc, func(c *gin.Context) { c.String(http.StatusTeapot, "ui "+c.Param("any")) }))

	var first []byte
	for i := range 3 {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/docs/doc.json", nil))
		if w.Code != http.StatusOK {
			t.Fatalf("doc.json: %d", w.Code)
		}
		if i == 0 {
			first = w.Body.Bytes()
		} else if !bytes.Equal(first, w.Body.Bytes()) {
			t.Fatal("the document changed between requests")
		}
	}
	if n := doc.reads.Load(); n != 1 {
		t.Errorf("ReadDoc called %d times, want 1", n)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/docs/index.html", nil))
	if w.Code != http.StatusTeapot || w.Body.String() != "ui /index.html" {
		t.Errorf("index.html was not passed to next: %d %s", w.Code, w.Body)
	}
}

type panickingDoc struct{}

func (panickingDoc) ReadDoc() string { panic("boom") }

func TestDocsAnswers500ForADocumentItCannotRead(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]docReader{
		"not JSON": docString("{{.Title}}"),
		"null":     docString("null"),
		"panics":   panickingDoc{},
		"nil":      nil,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, logs := docsGuard(t, Config{})
			r := gin.New()
			r.GET("/doc.json", g.Docs(doc, nil))
			for range 2 {
				w := httptest.NewRecorder()
				r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/doc.json", nil))
				if w.Code != http.StatusInternalServerError || w.Body.Len() != 0 {
					t.Errorf("got %d %q, want 500 and no body", w.Code, w.Body)
				}
			}
			if n := strings.Count(logs.String(), "cannot serve the OpenAPI document"); n != 1 {
				t.Errorf("logged %d times, want once:\n%s", n, logs)
			}
		})
	}
}

// The schema check must be able to fail, or the tests above prove nothing.
func TestSwagger2SchemaCheckRejectsABrokenDocument(t *testing.T) {
	t.Parallel()
	broken := bytes.Replace(exampleDoc(t), []byte(`"swagger": "2.0"`), []byte(`"swagger": "3.0"`), 1)
	if bytes.Equal(broken, exampleDoc(t)) {
		t.Fatal("fixture did not change")
	}
	if err := swaggercheck.Validate(t, broken); err == nil {
		t.Error("a document claiming swagger 3.0 passed the Swagger 2.0 schema")
	}
	if err := swaggercheck.Validate(t, []byte(`{"swagger":"2.0","info":{"title":"x","version":"1"},"paths":{"/a":{"get":{}}}}`)); err == nil {
		t.Error("an operation without responses passed the Swagger 2.0 schema")
	}
	if err := swaggercheck.Validate(t, exampleDoc(t)); err != nil {
		t.Errorf("docs/swagger.json is not valid Swagger 2.0: %v", err)
	}
}

// wantSchemes are the security schemes every document must define (with
// the default Sources), as "in name".
var wantSchemes = map[string]string{"APIKeyHeader": "header X-API-Key", "APIKeyQuery": "query api_key", "APIKeyBearer": "header Authorization", "AdminSecret": "header X-Admin-Secret"} //nolint:gosec // names of schemes and headers, not credentials
