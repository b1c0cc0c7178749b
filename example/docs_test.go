package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
	"github.com/ginkey/ginkey/internal/testkit/swaggercheck"
)

// testSecret is the admin secret of the guards under test, and of the
// example processes the tests start.
const testSecret = testkit.AdminSecret

func init() { gin.SetMode(gin.TestMode) }

// newTestGuard is testkit's harness of the example's guard (on a SQLite file
// in t.TempDir, the environment kept out) behind the example's router.
func newTestGuard(t *testing.T, hideDocs bool) *guardtest.H {
	t.Helper()
	return guardtest.NewRouted(t, func(c *ginkey.Config) { c.HideDocs = hideDocs }, newRouter)
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
	w := newTestGuard(t, hideDocs).Get("", "/docs/doc.json", "")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /docs/doc.json: %d %s", w.Code, w.Body)
	}
	var s servedSpec
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	return w.Body.Bytes(), s
}

func TestServedAndGeneratedDocumentsAreValidSwagger2(t *testing.T) {
	generated, err := os.ReadFile("../docs/swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	visible, _ := docJSON(t, false)
	hidden, _ := docJSON(t, true)
	for name, doc := range map[string][]byte{"docs/swagger.json": generated, "doc.json": visible, "doc.json with HideDocs": hidden} {
		if err := swaggercheck.Validate(t, doc); err != nil {
			t.Errorf("%s is not valid Swagger 2.0: %v", name, err)
		}
	}
	if err := swaggercheck.Validate(t, bytes.Replace(visible, []byte(`"paths":`), []byte(`"pathz":`), 1)); err == nil {
		t.Error("the schema check accepts a document without paths; it checks nothing")
	}
}

// Swagger UI sends whichever scheme is authorized, so only the document can
// tell either-or ([{A},{B}]) from both-at-once ([{A,B}], what swag makes of
// "@Security A || B").
func TestSecureAcceptsEitherKeySchemeInTheSpec(t *testing.T) {
	_, s := docJSON(t, false)
	want := []map[string][]string{{"APIKeyHeader": {}}, {"APIKeyQuery": {}}, {"APIKeyBearer": {}}}
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
	h := newTestGuard(t, false)
	if w := h.Get("", "/docs/index.html", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "swagger-ui") {
		t.Fatalf("GET /docs/index.html: %d", w.Code)
	}
	w := h.Get("", "/docs/swagger-initializer.js", "")
	if !strings.Contains(w.Body.String(), "persistAuthorization: false") || !strings.Contains(w.Body.String(), `"doc.json"`) {
		t.Errorf("swagger-initializer.js does not turn persistAuthorization off, or lacks the doc.json URL:\n%s", w.Body)
	}
}

// wantSchemes are the four security schemes every document must define,
// as "in name".
var wantSchemes = map[string]string{"APIKeyHeader": "header X-API-Key", "APIKeyQuery": "query api_key", "APIKeyBearer": "header Authorization", "AdminSecret": "header X-Admin-Secret"} //nolint:gosec // names of schemes and headers, not credentials
