package contract

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what Errorf reports.
type recorder struct {
	*testing.T
	errs []string
}

func (r *recorder) Errorf(format string, _ ...any) {
	r.errs = append(r.errs, format)
}

const tiny = `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/things/{id}":{"get":{
 "operationId":"getThing","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],
 "responses":{
  "200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Thing"}}}},
  "204":{"description":"none"},
  "429":{"description":"slow down","headers":{"Retry-After":{"schema":{"type":"integer"}}},
   "content":{"application/json":{"schema":{"$ref":"#/components/schemas/Thing"}}}}}}}},
 "components":{"schemas":{"Thing":{"type":"object","properties":{"name":{"type":"string"},
  "at":{"type":"string","format":"date-time","nullable":true}}}}}}`

// Each answer the tiny document does not allow is reported, and the ones
// it allows are not: the harness is as strict as its doc comment says.
func TestCheckRefusesWhatTheDocumentDoesNotAllow(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		header map[string]string
		body   string
		ok     bool
	}{
		{"allowed", 200, map[string]string{"Content-Type": "application/json"}, `{"name":"a","at":null}`, true},
		{"unknown field", 200, map[string]string{"Content-Type": "application/json"}, `{"name":"a","extra":1}`, false},
		{"null where not nullable", 200, map[string]string{"Content-Type": "application/json"}, `{"name":null}`, false},
		{"undocumented status", 500, map[string]string{"Content-Type": "application/json"}, `{}`, false},
		{"undeclared header", 200, map[string]string{"Content-Type": "application/json", "Retry-After": "3"}, `{}`, false},
		{"declared header", 429, map[string]string{"Content-Type": "application/json", "Retry-After": "3"}, `{}`, true},
		{"declared header of the wrong type", 429, map[string]string{"Content-Type": "application/json", "Retry-After": "soon"}, `{}`, false},
		{"empty answer", 204, nil, ``, true},
		{"body where none is documented", 204, map[string]string{"Content-Type": "application/json"}, `{}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := FromOpenAPI3(t, "tiny", []byte(tiny))
			rec := &recorder{T: t}
			w := httptest.NewRecorder()
			for k, v := range c.header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(c.status)
			_, _ = w.WriteString(c.body)
			d.Check(rec, httptest.NewRequest(http.MethodGet, "/things/1", nil), w)
			if got := len(rec.errs) == 0; got != c.ok {
				t.Errorf("allowed = %v, want %v (%s)", got, c.ok, strings.Join(rec.errs, "; "))
			}
		})
	}
}

// A documented status no Check saw is reported by Unseen, unless exempt.
func TestUnseenReportsDocumentedStatusesNoCheckCaused(t *testing.T) {
	d := FromOpenAPI3(t, "tiny", []byte(tiny))
	w := httptest.NewRecorder()
	w.WriteHeader(204)
	d.Check(t, httptest.NewRequest(http.MethodGet, "/things/1", nil), w)
	rec := &recorder{T: t}
	d.Unseen(rec, nil, map[string][]int{"getThing": {429}})
	if len(rec.errs) != 1 {
		t.Errorf("Unseen reported %d statuses, want 1 (200)", len(rec.errs))
	}
}
