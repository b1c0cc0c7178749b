package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	openapispec "github.com/go-openapi/spec"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ginkey/ginkey"
)

const testSecret = "example-test-admin-secret" //nolint:gosec // a test fixture, not a credential

func init() { gin.SetMode(gin.TestMode) }

// newTestGuard is the example's guard on a SQLite file in t.TempDir, with
// the environment kept out.
func newTestGuard(t *testing.T, hideDocs bool) *ginkey.Guard {
	t.Helper()
	g, err := ginkey.New(ginkey.Config{
		DBPath:      filepath.Join(t.TempDir(), "keys.db"),
		AdminSecret: testSecret,
		HideDocs:    hideDocs,
		LookupEnv:   func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

func get(t *testing.T, h http.Handler, url string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, url, nil))
	return w
}

type servedSpec struct {
	Paths map[string]map[string]struct {
		Tags     []string              `json:"tags"`
		Security []map[string][]string `json:"security"`
	} `json:"paths"`
	SecurityDefinitions map[string]struct{ Type, Name, In string } `json:"securityDefinitions"`
}

func docJSON(t *testing.T, hideDocs bool) ([]byte, servedSpec) {
	t.Helper()
	w := get(t, newRouter(newTestGuard(t, hideDocs)), "/docs/doc.json")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /docs/doc.json: %d %s", w.Code, w.Body)
	}
	var s servedSpec
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	return w.Body.Bytes(), s
}

// validateSwagger2 checks b against the official Swagger 2.0 JSON schema
// that go-openapi/spec (a dependency of swag) embeds.
func validateSwagger2(t *testing.T, b []byte) error {
	t.Helper()
	const url = "http://swagger.io/v2/schema.json"
	c := jsonschema.NewCompiler()
	schema, err := jsonschema.UnmarshalJSON(bytes.NewReader(openapispec.MustAsset("v2/schema.json")))
	if err == nil {
		err = c.AddResource(url, schema)
	}
	if err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

func TestServedAndGeneratedDocumentsAreValidSwagger2(t *testing.T) {
	generated, err := os.ReadFile("../docs/swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	visible, _ := docJSON(t, false)
	hidden, _ := docJSON(t, true)
	for name, doc := range map[string][]byte{"docs/swagger.json": generated, "doc.json": visible, "doc.json with HideDocs": hidden} {
		if err := validateSwagger2(t, doc); err != nil {
			t.Errorf("%s is not valid Swagger 2.0: %v", name, err)
		}
	}
	if err := validateSwagger2(t, bytes.Replace(visible, []byte(`"paths":`), []byte(`"pathz":`), 1)); err == nil {
		t.Error("the schema check accepts a document without paths; it checks nothing")
	}
}

// Swagger UI sends whichever scheme is authorized, so only the document can
// tell either-or ([{A},{B}]) from both-at-once ([{A,B}], what swag makes of
// "@Security A || B").
func TestSecureAcceptsEitherKeySchemeInTheSpec(t *testing.T) {
	_, s := docJSON(t, false)
	want := []map[string][]string{{"APIKeyHeader": {}}, {"APIKeyQuery": {}}}
	if got := s.Paths["/secure"]["get"].Security; !reflect.DeepEqual(got, want) {
		t.Errorf("/secure security = %v, want %v", got, want)
	}
	if got := s.Paths["/auth/keys"]["post"].Security; !reflect.DeepEqual(got, []map[string][]string{{"AdminSecret": {}}}) {
		t.Errorf("POST /auth/keys security = %v", got)
	}
	for name, want := range wantSchemes {
		if d := s.SecurityDefinitions[name]; d.Type != "apiKey" || d.In+" "+d.Name != want {
			t.Errorf("securityDefinitions[%s] = %+v, want apiKey in %s", name, d, want)
		}
	}
}

func TestHideDocsRemovesTheAdminAPIFromTheServedSpec(t *testing.T) {
	doc, s := docJSON(t, true)
	for p, item := range s.Paths {
		if strings.HasPrefix(p, "/auth") {
			t.Errorf("hidden admin path %s is served", p)
		}
		for m, op := range item {
			for _, tag := range op.Tags {
				if tag == "ginkey" {
					t.Errorf("hidden operation %s %s is served", m, p)
				}
			}
		}
	}
	if _, ok := s.SecurityDefinitions["AdminSecret"]; ok || bytes.Contains(doc, []byte("X-Admin-Secret")) {
		t.Error("the AdminSecret scheme is still served")
	}
	if _, ok := s.Paths["/secure"]; !ok {
		t.Error("/secure vanished with the admin API")
	}
}

// Persisted authorization would leave the admin secret in the browser's
// localStorage; TestSwaggerUIAuthorizeCreateKeyAndCallSecureRoute checks
// the browser side.
func TestSwaggerUIIsServedWithoutPersistentAuthorization(t *testing.T) {
	r := newRouter(newTestGuard(t, false))
	if w := get(t, r, "/docs/index.html"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "swagger-ui") {
		t.Fatalf("GET /docs/index.html: %d", w.Code)
	}
	w := get(t, r, "/docs/swagger-initializer.js")
	if !strings.Contains(w.Body.String(), "persistAuthorization: false") || !strings.Contains(w.Body.String(), `"doc.json"`) {
		t.Errorf("swagger-initializer.js does not turn persistAuthorization off, or lacks the doc.json URL:\n%s", w.Body)
	}
}

// wantSchemes are the three security schemes every document must define,
// as "in name".
var wantSchemes = map[string]string{"APIKeyHeader": "header X-API-Key", "APIKeyQuery": "query api_key", "AdminSecret": "header X-Admin-Secret"} //nolint:gosec // names of schemes and headers, not credentials
