package ginkey

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
)

// docAt answers one GET through r and returns the body of a 200 JSON answer.
func docAt(t *testing.T, r http.Handler, path string) []byte {
	t.Helper()
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %q %s", path, w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	return w.Body.Bytes()
}

// loadOpenAPI3 loads b with kin-openapi's loader and validates it as
// OpenAPI 3 (schemas, examples against their schemas, references).
func loadOpenAPI3(t *testing.T, b []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatalf("the OpenAPI 3 document does not load: %v\n%s", err, b)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI 3 document is not valid: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Fatalf("openapi: %q, want 3.0.x", doc.OpenAPI)
	}
	return doc
}

// ginkeyOps3 lists "METHOD path" of the operations tagged ginkey.
func ginkeyOps3(doc *openapi3.T) []string {
	var out []string
	for p, item := range doc.Paths.Map() {
		for m, op := range item.Operations() {
			if slices.Contains(op.Tags, docsTag) {
				out = append(out, m+" "+p)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestDocsServesOpenAPI3BelowTheCustomMount(t *testing.T) {
	t.Parallel()
	g, _ := docsGuard(t, Config{})
	r := gin.New()
	const mount = "/internal/keys-admin"
	g.RegisterAdmin(r.Group(mount))
	doc := &countingDoc{doc: string(exampleDoc(t))}
	r.GET("/docs/*any", g.Docs(doc, func(c *gin.Context) { c.String(http.StatusTeapot, "ui") }))

	served := docAt(t, r, "/docs/openapi3.json")
	if again := docAt(t, r, "/docs/openapi3.json"); !bytes.Equal(served, again) {
		t.Fatal("the OpenAPI 3 document changed between requests")
	}
	v2 := parseOpenAPI(t, docAt(t, r, "/docs/doc.json"))
	if n := doc.reads.Load(); n != 1 {
		t.Errorf("ReadDoc called %d times for both documents, want 1", n)
	}
	d := loadOpenAPI3(t, served)

	if got, want := ginkeyOps3(d), adminRoutes(t, mount); !slices.Equal(got, want) {
		t.Errorf("ginkey operations in the OpenAPI 3 document:\n  %v\nroutes mounted by RegisterAdmin:\n  %v", got, want)
	}
	for p := range d.Paths.Map() {
		if strings.HasPrefix(p, annotatedBase+"/") {
			t.Errorf("path %s is still below the annotated %s", p, annotatedBase)
		}
	}
	if len(d.Servers) != 1 || d.Servers[0].URL != "/" {
		t.Errorf("servers: %+v, want one relative server \"/\" (the document has no host)", d.Servers)
	}
	if d.Paths.Find("/secure") == nil || d.Paths.Find("/secure").Get == nil {
		t.Error("the application's own GET /secure is missing")
	}
	create := d.Paths.Find(mount + "/keys").Post
	if create == nil || create.OperationID != "ginkeyCreateKey" || create.RequestBody == nil ||
		create.RequestBody.Value.Content.Get("application/json") == nil || create.Responses.Status(http.StatusCreated) == nil {
		t.Fatalf("POST %s/keys did not convert to an operation with a JSON body and a 201: %+v", mount, create)
	}
	if got := create.Security; got == nil || len(*got) != 1 || (*got)[0]["AdminSecret"] == nil {
		t.Errorf("POST %s/keys security: %+v, want AdminSecret", mount, got)
	}
	for name, want := range wantSchemes {
		s := d.Components.SecuritySchemes[name]
		if s == nil || s.Value.Type != "apiKey" || s.Value.In+" "+s.Value.Name != want {
			t.Errorf("components.securitySchemes[%s] = %+v, want apiKey in %s", name, s, want)
		}
	}
	// Every schema of the 2.0 document is there, and what 2.0 marks
	// x-nullable is nullable in 3.0 (generators read only the latter).
	for name, raw := range v2.Definitions {
		s := d.Components.Schemas[name]
		if s == nil {
			t.Errorf("components.schemas[%s] is missing", name)
			continue
		}
		var def struct {
			Properties map[string]map[string]any `json:"properties"`
		}
		if err := json.Unmarshal(raw, &def); err != nil {
			t.Fatal(err)
		}
		for prop, p := range def.Properties {
			if p["x-nullable"] == true && !s.Value.Properties[prop].Value.Nullable {
				t.Errorf("%s.%s is x-nullable in Swagger 2.0 but not nullable in OpenAPI 3", name, prop)
			}
		}
	}
	// Every path parameter has an example (Swagger 2.0's x-example made
	// OpenAPI 3's example), which contract-testing tools need.
	withExample := 0
	for p, item := range d.Paths.Map() {
		for m, op := range item.Operations() {
			for _, prm := range op.Parameters {
				if prm.Value.In != "path" {
					continue
				}
				if _, left := prm.Value.Extensions["x-example"]; prm.Value.Example == nil || left {
					t.Errorf("%s %s: path parameter %s has no OpenAPI 3 example (extensions %v)", m, p, prm.Value.Name, prm.Value.Extensions)
				} else {
					withExample++
				}
			}
		}
	}
	if withExample == 0 {
		t.Error("no path parameter with an example: the check above proved nothing")
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/docs/index.html", nil))
	if w.Code != http.StatusTeapot {
		t.Errorf("index.html was not passed to next: %d", w.Code)
	}
}

func TestOpenAPI3DocumentFollowsHideDocsAndANilNext(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]Config{"shown": {}, "HideDocs": {HideDocs: true}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, _ := docsGuard(t, cfg)
			r := gin.New()
			g.RegisterAdmin(r.Group("/admin"))
			r.GET("/openapi3.json", g.Docs(docString(exampleDoc(t)), nil))
			r.GET("/openapi.json", g.Docs(docString(exampleDoc(t)), nil))
			d := loadOpenAPI3(t, docAt(t, r, "/openapi3.json"))
			if v2 := docAt(t, r, "/openapi.json"); !bytes.Contains(v2, []byte(`"swagger":"2.0"`)) {
				t.Errorf("with a nil next, /openapi.json is not the Swagger 2.0 document: %.80s", v2)
			}
			ops := ginkeyOps3(d)
			_, secret := d.Components.SecuritySchemes["AdminSecret"]
			if cfg.HideDocs {
				if len(ops) != 0 || secret {
					t.Errorf("hidden admin API in the OpenAPI 3 document: %v, AdminSecret %v", ops, secret)
				}
			} else if !slices.Equal(ops, adminRoutes(t, "/admin")) || !secret {
				t.Errorf("admin operations %v, AdminSecret %v", ops, secret)
			}
		})
	}
}

// A Swagger 2.0 document kin-openapi cannot convert (a host with a path)
// is answered with 500 at openapi3.json, logged once; doc.json still works.
func TestOpenAPI3AnswersWith500WhenTheConversionFails(t *testing.T) {
	t.Parallel()
	g, logs := docsGuard(t, Config{})
	r := gin.New()
	r.GET("/docs/*any", g.Docs(docString(`{"swagger":"2.0","host":"example.com/api","info":{"title":"x","version":"1"},"paths":{}}`), nil))
	for range 2 {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/docs/openapi3.json", nil))
		if w.Code != http.StatusInternalServerError || w.Body.Len() != 0 {
			t.Errorf("got %d %q, want 500 and no body", w.Code, w.Body)
		}
	}
	docAt(t, r, "/docs/doc.json")
	if n := strings.Count(logs.String(), "cannot serve the OpenAPI 3 document"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logs)
	}
}

// TestTheCommittedDocumentsAreValidOpenAPI3 converts every committed swag
// output (the example's docs/swagger.json, which generators are pointed at,
// and ginkey's own instances) and validates the result: a security
// requirement naming an undefined scheme, an example against its schema or
// a broken reference fails it.
func TestTheCommittedDocumentsAreValidOpenAPI3(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("docs", "*.json"))
	if err != nil || len(files) < 3 {
		t.Fatalf("docs/*.json: %v %v, want the example's and ginkey's documents", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			v2, err := os.ReadFile(f) //nolint:gosec // a file of this repository
			if err != nil {
				t.Fatal(err)
			}
			v3, err := toOpenAPI3(v2)
			if err != nil {
				t.Fatal(err)
			}
			loadOpenAPI3(t, v3)
		})
	}
}
