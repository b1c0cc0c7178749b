package ginkey

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// The admin body decoders either accept a body, and then the validated
// request encodes and decodes back to itself, or refuse it with a 4xx *Error
// carrying a stable code. Seeds: testdata/fuzz/FuzzXxxBody.

var fuzzNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// bodyDecoder runs decodeBody on a body as a handler would see it. It reuses
// one gin context: CreateTestContext builds a whole engine, which would cost
// more than the decoding under test.
func bodyDecoder(f *testing.F) (*Guard, func(body []byte, dst any) *Error) {
	g := newHarness(f, func(c *Config) { c.MaxBodyBytes = 6000 }).Guard // small enough for the fuzzer to reach
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	return g, func(body []byte, dst any) *Error {
		c.Request = httptest.NewRequest("POST", "/auth/keys", bytes.NewReader(body))
		return g.decodeBody(c, dst)
	}
}

func wantClientError(t *testing.T, e *Error) {
	t.Helper()
	if e.Status < 400 || e.Status > 499 || (e.Code != "bad_request" && e.Code != "payload_too_large") || e.Message == "" {
		t.Fatalf("not a client error with a stable code: %d %q %q", e.Status, e.Code, e.Message)
	}
}

// redecode decodes b, an accepted request encoded again, into dst. Encoding
// can lengthen metadata past its limit (U+2028 and a decoded invalid byte
// become 6 and 3 bytes), which is not a disagreement: ok is false then.
func redecode(t *testing.T, b []byte, metadata any, dst any) (ok bool) {
	t.Helper()
	e := decodeJSON(b, dst)
	if e == nil {
		return true
	}
	if len(bytes.TrimSpace(encodeJSON(t, metadata))) > maxMetadataSize && strings.HasPrefix(e.Message, "metadata ") {
		return false
	}
	t.Fatalf("an accepted request, encoded as %s, is refused: %v", b, e)
	return false
}

func encodeJSON(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encode %#v: %v", v, err)
	}
	return buf.Bytes()
}

// validateCreate checks a create request as createKey does.
func validateCreate(g *Guard, r *createKeyRequest) *Error {
	spec, e := r.spec()
	if e != nil {
		return e
	}
	_, e = g.checkSpec(&spec, fuzzNow)
	return e
}

// validateRenew checks a renew request as renewKey does.
func validateRenew(g *Guard, r *renewRequest) (*time.Time, *Error) {
	rn, e := r.renewal()
	if e != nil {
		return nil, e
	}
	return g.expiry(rn.ExpiresAt, rn.NeverExpires, fuzzNow)
}

func FuzzCreateBody(f *testing.F) {
	g, decodeBody := bodyDecoder(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var r createKeyRequest
		e := decodeBody(body, &r)
		if e == nil {
			e = validateCreate(g, &r)
		}
		if e != nil {
			wantClientError(t, e)
			return
		}
		var again createKeyRequest
		if !redecode(t, encodeJSON(t, r), r.Metadata, &again) {
			return
		}
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("round trip changed the request:\n%#v\n%#v", r, again)
		}
		if e := validateCreate(g, &again); e != nil {
			t.Fatalf("the round-tripped request is refused: %v", e)
		}
	})
}

// patchFields is what a patch request said, nulls that clear a field included.
func patchFields(p *patchKeyRequest) map[string]any {
	m := map[string]any{}
	if p.Name != nil {
		m["name"] = *p.Name
	}
	if p.Scopes != nil {
		m["scopes"] = *p.Scopes
	}
	if p.Metadata != nil {
		m["metadata"] = *p.Metadata
	}
	if p.AllowedIPs != nil {
		m["allowed_ips"] = *p.AllowedIPs
	}
	if p.hasRateLimit {
		m["rate_limit"] = p.RateLimit
	}
	if p.hasQuota {
		m["quota"] = p.Quota
	}
	return m
}

func FuzzPatchBody(f *testing.F) {
	_, decodeBody := bodyDecoder(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var p patchKeyRequest
		e := decodeBody(body, &p)
		var ch keyChanges
		if e == nil {
			u := p.update()
			ch, _, e = u.changes()
		}
		if e != nil {
			wantClientError(t, e)
			return
		}
		var again patchKeyRequest
		if !redecode(t, encodeJSON(t, patchFields(&p)), p.Metadata, &again) {
			return
		}
		if !reflect.DeepEqual(p, again) {
			t.Fatalf("round trip changed the request:\n%#v\n%#v", p, again)
		}
		u2 := again.update()
		ch2, _, e := u2.changes()
		if e != nil || !reflect.DeepEqual(ch, ch2) {
			t.Fatalf("the round-tripped request changes something else: %v\n%#v\n%#v", e, ch, ch2)
		}
	})
}

func FuzzRenewBody(f *testing.F) {
	g, decodeBody := bodyDecoder(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var r renewRequest
		e := decodeBody(body, &r)
		var expires *time.Time
		if e == nil {
			expires, e = validateRenew(g, &r)
		}
		if e != nil {
			wantClientError(t, e)
			return
		}
		var again renewRequest
		if e := decodeJSON(encodeJSON(t, r), &again); e != nil || !reflect.DeepEqual(r, again) {
			t.Fatalf("round trip: %v\n%#v\n%#v", e, r, again)
		}
		expires2, e := validateRenew(g, &again)
		if e != nil || !reflect.DeepEqual(expires, expires2) {
			t.Fatalf("the round-tripped request renews otherwise: %v %v %v", e, expires, expires2)
		}
	})
}
