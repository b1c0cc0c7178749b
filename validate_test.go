package ginkey

// Tests of validate.go: the admin bodies' decoding (exact field names,
// messages naming the field and the rule) and the rules of names and metadata.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/internal/testkit"
)

// errorMessage returns the message of an error response.
func errorMessage(t testing.TB, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body ErrorBody
	testkit.Decode(t, w, &body)
	return body.Error.Message
}

// Field names in admin bodies are exact at every depth: a name encoding/json
// would match case-insensitively ("Rate_Limit", "QUOTA") is an unknown field,
// on every endpoint, instead of being honoured by one and ignored by another.
func TestAdminBodyFieldNamesAreExact(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{"name":"before"}`)
	cases := []struct {
		name, method, path, body, field string
	}{
		{"patch top level", "PATCH", "/keys/" + k.ID, `{"Rate_Limit":{"requests":5,"per":"1s"},"QUOTA":{"requests":5,"per":"day"}}`, `"QUOTA"`},
		{"patch with a name", "PATCH", "/keys/" + k.ID, `{"name":"after","Rate_Limit":{"requests":5,"per":"1s"},"QUOTA":{"requests":5,"per":"day"}}`, `"QUOTA"`},
		{"patch name", "PATCH", "/keys/" + k.ID, `{"Name":"after"}`, `"Name"`},
		{"patch nested rate_limit", "PATCH", "/keys/" + k.ID, `{"rate_limit":{"Requests":5,"per":"1s"}}`, `"rate_limit.Requests"`},
		{"patch nested quota", "PATCH", "/keys/" + k.ID, `{"quota":{"requests":5,"PER":"day"}}`, `"quota.PER"`},
		{"patch unknown nested", "PATCH", "/keys/" + k.ID, `{"quota":{"requests":5,"per":"day","burst":2}}`, `"quota.burst"`},
		{"create top level", "POST", "/keys", `{"Rate_Limit":{"requests":5,"per":"1s"}}`, `"Rate_Limit"`},
		{"create nested", "POST", "/keys", `{"rate_limit":{"requests":5,"Per":"1s"}}`, `"rate_limit.Per"`},
		{"create nested quota", "POST", "/keys", `{"quota":{"Requests":5,"per":"day"}}`, `"quota.Requests"`},
		{"create unknown", "POST", "/keys", `{"bogus":1}`, `"bogus"`},
		{"renew", "POST", "/keys/" + k.ID + "/renew", `{"Never_Expires":true}`, `"Never_Expires"`},
		{"renew expiry", "POST", "/keys/" + k.ID + "/renew", `{"EXPIRES_AT":"2099-01-01T00:00:00Z"}`, `"EXPIRES_AT"`},
	}
	for _, tc := range cases {
		w := h.Admin(tc.method, tc.path, tc.body)
		testkit.WantError(t, w, http.StatusBadRequest, "bad_request")
		if msg := errorMessage(t, w); !strings.Contains(msg, "unknown field "+tc.field) {
			t.Errorf("%s: message %q does not name unknown field %s", tc.name, msg, tc.field)
		}
	}
	var got Key
	testkit.Decode(t, h.Admin("GET", "/keys/"+k.ID, ""), &got)
	if got.Name != "before" || got.RateLimit != nil || got.Quota != nil || got.ExpiresAt == nil {
		t.Fatalf("a refused body changed the key: %+v", got)
	}
	var l keyList
	testkit.Decode(t, h.Admin("GET", "/keys", ""), &l)
	if l.Total != 1 {
		t.Fatalf("refused bodies created keys: total %d", l.Total)
	}
}

// Every refused body is a 400 bad_request whose message names the field and
// the rule it broke, whatever the way it broke it: a wrong JSON type, a
// number an integer field cannot hold, or a value out of range.
func TestBadAdminBodiesNameTheFieldAndTheRule(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{}`)
	create, patch, renew := "POST /keys", "PATCH /keys/"+k.ID, "POST /keys/"+k.ID+"/renew"
	const (
		rateRange  = "an integer from 1 to 1000000"
		quotaRange = "an integer from 1 to 1099511627776"
	)
	cases := []struct {
		endpoint, body, field, rule string
	}{
		{create, `{"scopes":[1]}`, "scopes", "must be an array of strings"},
		{create, `{"scopes":"items:read"}`, "scopes", "must be an array of strings"},
		{create, `{"allowed_ips":[true]}`, "allowed_ips", "must be an array of strings"},
		{create, `{"rate_limit":{"requests":1e3,"per":"1s"}}`, "rate_limit.requests", rateRange},
		{create, `{"rate_limit":{"requests":1e400,"per":"1s"}}`, "rate_limit.requests", rateRange},
		{create, `{"rate_limit":{"requests":2.5,"per":"1s"}}`, "rate_limit.requests", rateRange},
		{create, `{"rate_limit":{"requests":5,"per":60}}`, "rate_limit.per", "must be a string"},
		{create, `{"rate_limit":"5/s"}`, "rate_limit", "must be an object"},
		{create, `{"quota":{"requests":1e3,"per":"day"}}`, "quota.requests", quotaRange},
		{create, `{"quota":{"requests":0,"per":"day"}}`, "quota", `"requests": 1-1099511627776`},
		{create, `{"quota":{"requests":1099511627777,"per":"day"}}`, "quota", `"requests": 1-1099511627776`},
		{create, `{"name":5}`, "name", "must be a string"},
		{create, `{"name":"abc\u202egpj.exe"}`, "name", "must not contain U+202E"},
		{create, `{"never_expires":"yes"}`, "never_expires", "must be true or false"},
		{create, `{"expires_at":20300101}`, "expires_at", "must be a string"},
		{create, `{"metadata":[1]}`, "metadata", "must be a JSON object"},
		{create, `{"Name":"x"}`, `"Name"`, "unknown field"},
		{create, `{"rate_limit":{"requests":5,"per":"1s","burst":1}}`, `"rate_limit.burst"`, "unknown field"},
		{patch, `{"scopes":[1]}`, "scopes", "must be an array of strings"},
		{patch, `{"allowed_ips":"10.0.0.0/8"}`, "allowed_ips", "must be an array of strings"},
		{patch, `{"rate_limit":{"requests":1e400,"per":"1s"}}`, "rate_limit.requests", rateRange},
		{patch, `{"quota":{"requests":"5","per":"day"}}`, "quota.requests", quotaRange},
		{patch, `{"quota":{"requests":-1,"per":"day"}}`, "quota", `"requests": 1-1099511627776`},
		{patch, `{"metadata":"team=x"}`, "metadata", "must be a JSON object"},
		{patch, `{"name":"a\u200bb"}`, "name", "must not contain U+200B"},
		{patch, `{"Scopes":["a"]}`, `"Scopes"`, "unknown field"},
		{renew, `{"never_expires":1}`, "never_expires", "must be true or false"},
		{renew, `{"expires_at":true}`, "expires_at", "must be a string"},
		{renew, `{"never_expires":true,"NEVER_EXPIRES":true}`, `"NEVER_EXPIRES"`, "unknown field"},
		{renew, `[1]`, "body", "must be a JSON object"},
	}
	for _, tc := range cases {
		method, path, _ := strings.Cut(tc.endpoint, " ")
		w := h.Admin(method, path, tc.body)
		testkit.WantError(t, w, http.StatusBadRequest, "bad_request")
		if msg := errorMessage(t, w); !strings.Contains(msg, tc.field) || !strings.Contains(msg, tc.rule) {
			t.Errorf("%s %s: message %q does not name %s and %q", tc.endpoint, tc.body, msg, tc.field, tc.rule)
		}
	}
}

// Names may hold any printable text and the ASCII space, but no control,
// format or other space characters, which would let one name pass for
// another ("abc\u202egpj.exe" displays as "abcexe.jpg").
func TestKeyNameRefusesInvisibleAndFormatCharacters(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{}`)
	cases := []struct {
		name string
		rune string // "" when the name is fine
	}{
		{"billing service", ""},
		{"café, 日本語 キー 🔑", ""},
		{"e\u0301 (combining mark)", ""},
		{`a-b_c.d/e:f "quoted" <tag>`, ""},
		{"abc\u202egpj.exe", "U+202E"},
		{"zero\u200bwidth", "U+200B"},
		{"\ufeffbom", "U+FEFF"},
		{"soft\u00adhyphen", "U+00AD"},
		{"no\u00a0break", "U+00A0"},
		{"ideographic\u3000space", "U+3000"},
		{"line\u2028separator", "U+2028"},
		{"tab\there", "U+0009"},
		{"nul\x00", "U+0000"},
		{"del\x7f", "U+007F"},
	}
	for _, tc := range cases {
		body, err := json.Marshal(map[string]string{"name": tc.name})
		if err != nil {
			t.Fatal(err)
		}
		for _, ep := range []struct{ method, path string }{{"POST", "/keys"}, {"PATCH", "/keys/" + k.ID}} {
			w := h.Admin(ep.method, ep.path, string(body))
			if tc.rune == "" {
				if w.Code != http.StatusOK && w.Code != http.StatusCreated {
					t.Fatalf("%s %q: %d %s", ep.method, tc.name, w.Code, w.Body)
				}
				continue
			}
			testkit.WantError(t, w, http.StatusBadRequest, "bad_request")
			if msg := errorMessage(t, w); !strings.HasPrefix(msg, "name ") || !strings.Contains(msg, tc.rune) {
				t.Errorf("%s %q: message %q does not name the field and the character", ep.method, tc.name, msg)
			}
		}
	}
}

// exactMetadata holds numbers that float64 would round, keys in the sorted
// order in which a map is encoded.
const exactMetadata = `{"big":12345678901234567890,"frac":1.0000000000000000000001,"neg":-98765432109876543210,"nested":{"list":[18446744073709551617,0.1]}}`

// metadataOf returns the raw metadata of GET /keys/{id}.
func metadataOf(t *testing.T, h *harness, id string) string {
	t.Helper()
	var got struct{ Metadata json.RawMessage }
	testkit.Decode(t, h.Admin("GET", "/keys/"+id, ""), &got)
	return string(got.Metadata)
}

// metadataWith returns a metadata object whose compact form is n bytes, all
// of them "<" inside one string, which json.Marshal would turn into 6 bytes
// each; spaced adds whitespace the limit must not count.
func metadataWith(n int, spaced bool) string {
	m := `{"x":"` + strings.Repeat("<", n-len(`{"x":""}`)) + `"}`
	if spaced {
		m = strings.ReplaceAll(strings.ReplaceAll(m, "{", "{ \n\t "+strings.Repeat(" ", 100)), ":", " : ")
	}
	return m
}

func TestMetadataNumbersStayExactThroughStoreAndKeyFrom(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.Engine.GET("/meta", h.Guard.Handler(), func(c *gin.Context) {
		k, _ := KeyFrom(c)
		c.String(http.StatusOK, "%T %v", k.Metadata["big"], k.Metadata["big"])
	})
	k := h.createKey(`{"metadata":` + exactMetadata + `}`)
	if got := metadataOf(t, h, k.ID); got != exactMetadata {
		t.Fatalf("created metadata read back as %s, want %s", got, exactMetadata)
	}
	w := h.Do(testkit.Request{Method: "GET", Path: "/meta", Header: map[string]string{"X-API-Key": k.Secret}})
	if got := w.Body.String(); got != "json.Number 12345678901234567890" {
		t.Fatalf("KeyFrom metadata big = %q", got)
	}

	k2 := h.createKey(`{}`)
	if w := h.Admin("PATCH", "/keys/"+k2.ID, `{"metadata":`+exactMetadata+`}`); w.Code != http.StatusOK {
		t.Fatalf("patch: %d %s", w.Code, w.Body)
	}
	if got := metadataOf(t, h, k2.ID); got != exactMetadata {
		t.Fatalf("patched metadata read back as %s, want %s", got, exactMetadata)
	}
}

// The 4096-byte limit counts the metadata the client sent, compacted: not
// Go's re-encoding of it ("<" is 6 bytes there), nor the client's whitespace.
func TestMetadataLimitCountsTheBytesTheClientSent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{}`)
	cases := []struct {
		name     string
		metadata string
		ok       bool
	}{
		{"4096 bytes of mostly <", metadataWith(maxMetadataSize, false), true},
		{"4096 bytes with whitespace around", metadataWith(maxMetadataSize, true), true},
		{"4097 bytes", metadataWith(maxMetadataSize+1, false), false},
		{"4097 bytes with whitespace around", metadataWith(maxMetadataSize+1, true), false},
	}
	for _, tc := range cases {
		for _, ep := range []struct{ method, path string }{{"POST", "/keys"}, {"PATCH", "/keys/" + k.ID}} {
			w := h.Admin(ep.method, ep.path, `{"metadata":`+tc.metadata+`}`)
			if !tc.ok {
				testkit.WantError(t, w, http.StatusBadRequest, "bad_request")
				if msg := errorMessage(t, w); !strings.Contains(msg, "metadata") || !strings.Contains(msg, "4096 bytes") {
					t.Fatalf("%s %s: message %q does not name metadata and its limit", ep.method, tc.name, msg)
				}
				continue
			}
			if w.Code != http.StatusOK && w.Code != http.StatusCreated {
				t.Fatalf("%s %s: %d %s", ep.method, tc.name, w.Code, w.Body)
			}
			var got Key
			testkit.Decode(t, w, &got)
			if want := strings.Repeat("<", maxMetadataSize-len(`{"x":""}`)); got.Metadata["x"] != want {
				t.Fatalf("%s %s: metadata did not round-trip: %v", ep.method, tc.name, fmt.Sprint(got.Metadata)[:40])
			}
		}
	}
}
