package ginkey

import (
	"net/http"
	"strings"
	"testing"
)

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
		w := h.admin(tc.method, tc.path, tc.body)
		wantError(t, w, http.StatusBadRequest, "bad_request")
		if msg := errorMessage(t, w); !strings.Contains(msg, "unknown field "+tc.field) {
			t.Errorf("%s: message %q does not name unknown field %s", tc.name, msg, tc.field)
		}
	}
	var got Key
	decode(t, h.admin("GET", "/keys/"+k.ID, ""), &got)
	if got.Name != "before" || got.RateLimit != nil || got.Quota != nil || got.ExpiresAt == nil {
		t.Fatalf("a refused body changed the key: %+v", got)
	}
	var l KeyList
	decode(t, h.admin("GET", "/keys", ""), &l)
	if l.Total != 1 {
		t.Fatalf("refused bodies created keys: total %d", l.Total)
	}
}
