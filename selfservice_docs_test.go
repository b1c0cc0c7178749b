package ginkey

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/internal/testkit/swaggercheck"
)

// selfServiceRoutes lists "METHOD path" of the routes RegisterSelfService
// mounts below mount, in OpenAPI's {param} form.
func selfServiceRoutes(t *testing.T, g *Guard, mount string) []string {
	t.Helper()
	r := gin.New()
	if err := g.RegisterSelfService(r.Group(mount), SelfService{Owner: testOwner}); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:([a-z]+)`)
	var out []string
	for _, rt := range r.Routes() {
		out = append(out, rt.Method+" "+param.ReplaceAllString(rt.Path, "{$1}"))
	}
	slices.Sort(out)
	return out
}

// opsTagged lists "METHOD path" of d's operations tagged tag.
func (d openapi) opsTagged(tag string) []string {
	var out []string
	for p, item := range d.Paths {
		for m, op := range item {
			if slices.Contains(op.Tags, tag) {
				out = append(out, strings.ToUpper(m)+" "+p)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestSelfSpecDocumentsEverySelfServiceRoute(t *testing.T) {
	t.Parallel()
	g, _ := docsGuard(t, Config{})
	d := parseOpenAPI(t, selfSpec)
	if got, want := d.opsTagged(selfServiceTag), selfServiceRoutes(t, g, selfServiceBase); !slices.Equal(got, want) {
		t.Fatalf("documented:\n  %v\nmounted:\n  %v", got, want)
	}
	for p, item := range d.Paths {
		for m, op := range item {
			where := strings.ToUpper(m) + " " + p
			if !strings.HasPrefix(op.OperationID, "ginkeySelf") || op.Summary == "" || op.Description == "" {
				t.Errorf("%s: operationId %q, summary %q", where, op.OperationID, op.Summary)
			}
			if len(op.Security) != 1 || op.Security[0][selfServiceScheme] == nil {
				t.Errorf("%s: security %v", where, op.Security)
			}
			if !strings.HasPrefix(op.Responses["401"].Description, "credentials_missing:") {
				t.Errorf("%s: the 401 of nobody signed in is not documented", where)
			}
			for status, resp := range op.Responses {
				if status >= "400" && resp.Schema.Ref != "#/definitions/ginkey.ErrorBody" {
					t.Errorf("%s %s: schema %q", where, status, resp.Schema.Ref)
				}
			}
		}
	}
	if s := d.SecurityDefinitions[selfServiceScheme]; s.Type != "apiKey" || s.In != "header" || s.Name != "Cookie" {
		t.Errorf("the %s scheme: %+v", selfServiceScheme, s)
	}
	if err := swaggercheck.Validate(t, selfSpec); err != nil {
		t.Errorf("the self-service document is not valid Swagger 2.0: %v", err)
	}
}

// getDoc serves h at /docs/doc.json and returns the document.
func getDoc(t *testing.T, h gin.HandlerFunc) []byte {
	t.Helper()
	r := gin.New()
	r.GET("/docs/*any", h)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/docs/doc.json", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("doc.json: %d %s", w.Code, w.Body)
	}
	return w.Body.Bytes()
}

// Docs shows the self-service operations where they are mounted, beside
// the admin API's; CustomerDocs shows them and the application's own
// operations, and nothing of the admin API.
func TestCustomerDocsShowSelfServiceAndTheAppButNoAdminOperations(t *testing.T) {
	t.Parallel()
	g, _ := docsGuard(t, Config{})
	r := gin.New()
	g.RegisterAdmin(r.Group("/auth"))
	mounted := selfServiceRoutes(t, g, "/me")
	app := docString(exampleDoc(t))

	full := parseOpenAPI(t, getDoc(t, g.Docs(app, nil)))
	if got := full.opsTagged(selfServiceTag); !slices.Equal(got, mounted) {
		t.Fatalf("Docs shows the self-service operations at\n  %v\nmounted at\n  %v", got, mounted)
	}
	if len(full.ginkeyOps()) == 0 {
		t.Fatal("Docs lost the admin operations")
	}

	served := getDoc(t, g.CustomerDocs(app, nil))
	customers := parseOpenAPI(t, served)
	if got := customers.opsTagged(selfServiceTag); !slices.Equal(got, mounted) {
		t.Fatalf("CustomerDocs shows the self-service operations at\n  %v\nmounted at\n  %v", got, mounted)
	}
	if ops := customers.ginkeyOps(); len(ops) != 0 {
		t.Fatalf("CustomerDocs shows admin operations: %v", ops)
	}
	if _, ok := customers.SecurityDefinitions[adminScheme]; ok || strings.Contains(string(served), `"`+adminScheme+`"`) {
		t.Fatal("CustomerDocs names the AdminSecret scheme")
	}
	var appOps int
	for p, item := range full.Paths {
		for m, op := range item {
			if slices.Contains(op.Tags, "ginkey") || slices.Contains(op.Tags, selfServiceTag) {
				continue
			}
			appOps++
			if _, ok := customers.Paths[p][m]; !ok {
				t.Errorf("CustomerDocs lost the application's %s %s", m, p)
			}
		}
	}
	if appOps == 0 {
		t.Fatal("the example's document has no operation of its own to check")
	}
	if s := customers.SecurityDefinitions[selfServiceScheme]; s.Name != "Cookie" {
		t.Errorf("the %s scheme: %+v", selfServiceScheme, s)
	}
	if err := swaggercheck.Validate(t, served); err != nil {
		t.Errorf("the customers' document is not valid Swagger 2.0: %v", err)
	}
}

// A host that names its sign-in's scheme gets it on every self-service
// operation, and no OwnerSession scheme of ginkey's.
func TestSelfServiceOperationsRequireTheSchemeTheHostNames(t *testing.T) {
	t.Parallel()
	g, _ := docsGuard(t, Config{})
	if err := g.RegisterSelfService(gin.New().Group("/me"), SelfService{Owner: testOwner, SecurityScheme: "SessionCookie"}); err != nil {
		t.Fatal(err)
	}
	d := parseOpenAPI(t, getDoc(t, g.CustomerDocs(docString(`{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{}}`), nil)))
	ops := d.opsTagged(selfServiceTag)
	if len(ops) == 0 {
		t.Fatal("no self-service operations")
	}
	for _, item := range d.Paths {
		for m, op := range item {
			if len(op.Security) != 1 || op.Security[0]["SessionCookie"] == nil {
				t.Errorf("%s: security %v", m, op.Security)
			}
		}
	}
	if _, ok := d.SecurityDefinitions[selfServiceScheme]; ok {
		t.Error("ginkey's OwnerSession scheme was added beside the host's")
	}
}
