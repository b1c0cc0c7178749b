package ginkey

import (
	"net/http"
	"strings"
	"testing"
)

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
		w := h.admin(method, path, tc.body)
		wantError(t, w, http.StatusBadRequest, "bad_request")
		if msg := errorMessage(t, w); !strings.Contains(msg, tc.field) || !strings.Contains(msg, tc.rule) {
			t.Errorf("%s %s: message %q does not name %s and %q", tc.endpoint, tc.body, msg, tc.field, tc.rule)
		}
	}
}
