// Package contract checks a server's responses against the OpenAPI document
// it serves, strictly, for the tests of ginkey's admin API and of the
// example. It is apart from testkit so that the modules whose tests import
// testkit need none of kin-openapi.
//
// Strict means a response the document does not allow fails:
//
//   - its status must be documented for the operation (no default);
//   - its body must match the status's schema, where every object schema
//     with properties is closed (additionalProperties: false), so an
//     undocumented field fails as a missing or mistyped one does; a status
//     without a schema must come with an empty body and no Content-Type;
//   - each header the status declares is checked against its schema, and
//     the headers an API sends to be read (Retry-After, RateLimit-*,
//     WWW-Authenticate, Allow) must be declared where they are sent.
//
// A Document also records which (operation, status) pairs a test caused,
// so the test can fail for a documented status it never saw (Unseen).
package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// apiHeaders are the response headers a client is meant to read: where a
// response carries one, the document must declare it for that status. A
// function, not a variable, so that no test can change the list for another.
func apiHeaders() []string {
	return []string{"Retry-After", "Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset", "Www-Authenticate", "Allow"}
}

// Document is an OpenAPI 3 document made strict, with a router over its
// operations.
type Document struct {
	name   string
	doc    *openapi3.T
	router routers.Router

	mu   sync.Mutex
	seen map[string]map[int]bool // operationId → statuses checked
}

// FromSwagger2 converts a Swagger 2.0 document (as Docs serves it at
// doc.json) with kin-openapi's openapi2conv, as a client of the 2.0
// document reads it: x-nullable becomes nullable. name says which document
// in failure messages.
func FromSwagger2(t testing.TB, name string, b []byte) *Document {
	t.Helper()
	var d2 openapi2.T
	if err := json.Unmarshal(b, &d2); err != nil {
		t.Fatalf("%s: not a Swagger 2.0 document: %v", name, err)
	}
	d3, err := openapi2conv.ToV3(&d2)
	if err != nil {
		t.Fatalf("%s: openapi2conv: %v", name, err)
	}
	// Round-trip, so the document is resolved as a loaded one is.
	out, err := json.Marshal(d3)
	if err != nil {
		t.Fatal(err)
	}
	return FromOpenAPI3(t, name, out)
}

// FromOpenAPI3 reads an OpenAPI 3 document (as Docs serves it at
// openapi3.json). It must pass kin-openapi's own validation.
func FromOpenAPI3(t testing.TB, name string, b []byte) *Document {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("%s is not a valid OpenAPI 3 document: %v", name, err)
	}
	closeObjects(doc)
	// The documents are host-less: match the paths alone.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("%s: router: %v", name, err)
	}
	return &Document{name: name, doc: doc, router: router, seen: map[string]map[int]bool{}}
}

// closeObjects sets additionalProperties: false on every object schema that
// lists properties and says nothing of others, in components and inline.
// Schemas without properties (free-form metadata) and allOf wrappers stay
// open: closing them would refuse every field.
func closeObjects(doc *openapi3.T) {
	done := map[*openapi3.Schema]bool{}
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || done[ref.Value] {
			return
		}
		s := ref.Value
		done[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			closed := false
			s.AdditionalProperties.Has = &closed
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
		for _, l := range [][]*openapi3.SchemaRef{s.AllOf, s.AnyOf, s.OneOf} {
			for _, r := range l {
				walk(r)
			}
		}
	}
	if doc.Components != nil {
		for _, s := range doc.Components.Schemas {
			walk(s)
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, r := range op.Responses.Map() {
				if r.Value == nil {
					continue
				}
				for _, mt := range r.Value.Content {
					walk(mt.Schema)
				}
				for _, h := range r.Value.Headers {
					if h.Value != nil {
						walk(h.Value.Schema)
					}
				}
			}
		}
	}
}

// Serve sends req to h, checks the response (Check) and returns it.
func (d *Document) Serve(t testing.TB, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	d.Check(t, req, w)
	return w
}

// Check fails t unless the document allows w as the answer to req.
func (d *Document) Check(t testing.TB, req *http.Request, w *httptest.ResponseRecorder) {
	t.Helper()
	if err := d.check(req, w); err != nil {
		t.Errorf("%s: %s %s → %d: %v\nbody: %s", d.name, req.Method, req.URL.Path, w.Code, err, truncate(w.Body.String()))
	}
}

func (d *Document) check(req *http.Request, w *httptest.ResponseRecorder) error {
	route, params, err := d.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("no operation in the document: %w", err)
	}
	op := route.Operation
	d.mu.Lock()
	if d.seen[op.OperationID] == nil {
		d.seen[op.OperationID] = map[int]bool{}
	}
	d.seen[op.OperationID][w.Code] = true
	d.mu.Unlock()
	where := op.OperationID + " " + strconv.Itoa(w.Code)
	resp := op.Responses.Status(w.Code)
	if resp == nil || resp.Value == nil {
		return fmt.Errorf("%s: status not documented (documented: %v)", where, statuses(op))
	}
	for _, name := range apiHeaders() {
		if _, sent := w.Header()[name]; sent && !declares(resp.Value, name) {
			return fmt.Errorf("%s: header %s sent but not declared", where, name)
		}
	}
	body := w.Body.Bytes()
	if len(resp.Value.Content) == 0 {
		if len(body) > 0 || w.Header().Get("Content-Type") != "" {
			return fmt.Errorf("%s: documented without content, sent Content-Type %q and %d bytes", where, w.Header().Get("Content-Type"), len(body))
		}
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	opts.WithCustomSchemaErrorFunc(func(e *openapi3.SchemaError) string {
		return "at " + strings.Join(e.JSONPointer(), "/") + ": " + e.Reason
	})
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 w.Code,
		Header:                 w.Header(),
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// declares reports whether r declares the header name (any capitals).
func declares(r *openapi3.Response, name string) bool {
	for h := range r.Headers {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

func statuses(op *openapi3.Operation) []string {
	var out []string
	for s := range op.Responses.Map() {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Unseen fails t for each documented status of the operations ops (nil:
// every operation) that no Check saw, but those exempt lists (operationId →
// statuses, "*" for every operation), which a test names with the reason it
// cannot cause them.
func (d *Document) Unseen(t testing.TB, ops []string, exempt map[string][]int) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for path, item := range d.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if ops != nil && !slices.Contains(ops, op.OperationID) {
				continue
			}
			for s := range op.Responses.Map() {
				code, err := strconv.Atoi(s)
				if err != nil {
					t.Errorf("%s: %s %s documents response %q, not a status", d.name, method, path, s)
					continue
				}
				if d.seen[op.OperationID][code] || slices.Contains(exempt[op.OperationID], code) || slices.Contains(exempt["*"], code) {
					continue
				}
				t.Errorf("%s: %s (%s %s) documents %d, which the test never caused", d.name, op.OperationID, method, path, code)
			}
		}
	}
}

// Operations returns the document's operationIds, sorted.
func (d *Document) Operations() []string {
	var out []string
	for _, item := range d.doc.Paths.Map() {
		for _, op := range item.Operations() {
			out = append(out, op.OperationID)
		}
	}
	slices.Sort(out)
	return out
}

func truncate(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}
