package ginkey

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
)

// Another owner's key id answers exactly as an id no key has: same status,
// same headers, same bytes, on every route; and the key is untouched.
func TestSelfServiceAnotherOwnersKeyIsByteForByteAnUnknownKey(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, db func(*Config)) {
		h := newSelfHarness(t, nil, db)
		bobs := h.mint("bob", `{"name":"bob's"}`)
		unknown := "Zz" + bobs.ID[2:] // well-formed, no key has it
		for _, r := range []struct{ method, path, body string }{
			{http.MethodGet, "/keys/%s", ""},
			{http.MethodPost, "/keys/%s/rotate", `{"grace":"1h"}`},
			{http.MethodPost, "/keys/%s/revoke", ""},
			{http.MethodPost, "/keys/%s/renew", `{}`},
			{http.MethodGet, "/keys/%s/usage", ""},
			{http.MethodGet, "/keys/%s/audit", ""},
		} {
			foreign := h.as("alice", r.method, strings.Replace(r.path, "%s", bobs.ID, 1), r.body)
			missing := h.as("alice", r.method, strings.Replace(r.path, "%s", unknown, 1), r.body)
			testkit.WantError(t, foreign, http.StatusNotFound, "not_found")
			sameAnswer(t, r.method+" "+r.path, foreign, missing)
		}
		var k Key
		testkit.Decode(t, h.as("bob", http.MethodGet, "/keys/"+bobs.ID, ""), &k)
		if k.Status != StatusActive || k.RotatedTo != "" || !k.ExpiresAt.Equal(*bobs.ExpiresAt) {
			t.Fatalf("alice's attempts changed bob's key: %+v", k)
		}
		testkit.WantOK(t, h.Secure(bobs.Secret), bobs.ID)
	})
}

func sameAnswer(t *testing.T, what string, a, b *httptest.ResponseRecorder) {
	t.Helper()
	if a.Code != b.Code || a.Body.String() != b.Body.String() || !maps.EqualFunc(a.Header(), b.Header(), slices.Equal) {
		t.Fatalf("%s: another owner's key answers %d %v %s, an unknown key %d %v %s",
			what, a.Code, a.Header(), a.Body, b.Code, b.Header(), b.Body)
	}
}

// Paging and filters see the owner's keys only: totals, offsets and a
// prefix filter aimed at another owner's key reveal nothing of it.
func TestSelfServiceListingCannotReachAnotherOwnersKeys(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, db func(*Config)) {
		h := newSelfHarness(t, nil, db)
		mine := h.mint("alice", `{"name":"mine"}`)
		theirs := h.mint("bob", `{"name":"theirs"}`)
		h.mint("bob", `{"name":"mine too"}`)
		for _, q := range []string{"", "?offset=1", "?name=mine", "?prefix=" + theirs.Prefix, "?status=active&limit=500"} {
			var list keyList
			w := h.as("alice", http.MethodGet, "/keys"+q, "")
			testkit.Decode(t, w, &list)
			for _, k := range list.Keys {
				if k.Owner != "alice" {
					t.Fatalf("GET /keys%s listed %s's key: %s", q, k.Owner, w.Body)
				}
			}
			if list.Total > 1 {
				t.Fatalf("GET /keys%s counts %d keys; alice has one: %s", q, list.Total, w.Body)
			}
		}
		var list keyList
		testkit.Decode(t, h.as("alice", http.MethodGet, "/keys", ""), &list)
		if list.Total != 1 || list.Keys[0].ID != mine.ID {
			t.Fatalf("alice's list: %+v", list)
		}
		w := h.as("alice", http.MethodGet, "/keys?owner=bob", "")
		testkit.WantError(t, w, http.StatusBadRequest, "bad_request")
		if !strings.Contains(w.Body.String(), "owner ") {
			t.Fatalf("the refusal does not name owner: %s", w.Body)
		}
	})
}

// What the policy decides cannot be chosen by the owner: each such field,
// a scope beyond the plan's and an expiry past the plan's lifetime is a 400
// naming the field, and nothing is created.
func TestSelfServicePolicyDecidesWhatTheOwnerCannot(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, db func(*Config)) {
		plan := OwnerPolicy{
			Scopes: []string{"items:*", "reports:read"}, RateLimit: &RateLimit{Requests: 5, Per: "1s"},
			Quota: &Quota{Requests: 100, Per: "day"}, AllowedIPs: []string{"192.0.2.0/24"}, MaxLifetime: 48 * time.Hour,
		}
		h := newSelfHarness(t, func(string) OwnerPolicy { return plan }, db)
		far := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
		for _, c := range []struct{ body, field string }{
			{`{"rate_limit":{"requests":1000,"per":"1s"}}`, "rate_limit"},
			{`{"quota":{"requests":1,"per":"day"}}`, "quota"},
			{`{"allowed_ips":["0.0.0.0/0"]}`, "allowed_ips"},
			{`{"owner":"bob"}`, "owner"},
			{`{"metadata":{"plan":"enterprise"}}`, "metadata"},
			{`{"never_expires":true}`, "never_expires"},
			{`{"scopes":["items:read","admin"]}`, "scopes"},
			{`{"scopes":["*"]}`, "scopes"},
			{`{"expires_at":"` + far + `"}`, "expires_at"},
		} {
			w := h.as("alice", http.MethodPost, "/keys", c.body)
			testkit.WantError(t, w, http.StatusBadRequest, "bad_request")
			if !strings.Contains(w.Body.String(), `"message":"`+c.field+` `) {
				t.Fatalf("%s: the message does not name %s: %s", c.body, c.field, w.Body)
			}
		}
		var list keyList
		if testkit.Decode(t, h.as("alice", http.MethodGet, "/keys", ""), &list); list.Total != 0 {
			t.Fatalf("refused creates stored keys: %+v", list)
		}
		// The plan's limits and scopes by default; a narrower set and a shorter
		// life on request.
		all := h.mint("alice", `{"name":"all"}`)
		if !slices.Equal(all.Scopes, plan.Scopes) || *all.RateLimit != *plan.RateLimit || *all.Quota != *plan.Quota ||
			!slices.Equal(all.AllowedIPs, plan.AllowedIPs) || all.Owner != "alice" {
			t.Fatalf("the plan's key: %+v", all.Key)
		}
		if life := all.ExpiresAt.Sub(all.CreatedAt); life != plan.MaxLifetime {
			t.Fatalf("a key's default life is %v, want the plan's %v", life, plan.MaxLifetime)
		}
		soon := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		narrow := h.mint("alice", `{"scopes":["items:read"],"expires_at":"`+soon.Format(time.RFC3339)+`"}`)
		if !slices.Equal(narrow.Scopes, []string{"items:read"}) || !narrow.ExpiresAt.Equal(soon) {
			t.Fatalf("the narrower key: %+v", narrow.Key)
		}
		// Renewing holds to the same lifetime.
		w := h.as("alice", http.MethodPost, "/keys/"+narrow.ID+"/renew", `{"expires_at":"`+far+`"}`)
		testkit.WantError(t, w, http.StatusBadRequest, "bad_request")
		testkit.WantError(t, h.as("alice", http.MethodPost, "/keys/"+narrow.ID+"/renew", `{"never_expires":true}`), http.StatusBadRequest, "bad_request")
	})
}

// A session of the routes: create, use the key, rotate it with a grace,
// renew, revoke, read usage and history.
func TestSelfServiceKeyLifecycle(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, db func(*Config)) {
		h := newSelfHarness(t, nil, db)
		k := h.mint("alice", `{"name":"ci"}`)
		testkit.WantOK(t, h.Secure(k.Secret), k.ID)

		w := h.as("alice", http.MethodPost, "/keys/"+k.ID+"/rotate", `{"grace":"1h"}`)
		if w.Code != http.StatusCreated {
			t.Fatalf("rotate: %d %s", w.Code, w.Body)
		}
		var next CreatedKey
		testkit.Decode(t, w, &next)
		if next.Owner != "alice" || next.RotatedFrom != k.ID || next.Secret == "" {
			t.Fatalf("rotated: %+v", next)
		}
		testkit.WantOK(t, h.Secure(k.Secret), k.ID) // in its grace
		testkit.WantOK(t, h.Secure(next.Secret), next.ID)

		if w := h.as("alice", http.MethodPost, "/keys/"+next.ID+"/renew", ""); w.Code != http.StatusOK {
			t.Fatalf("renew: %d %s", w.Code, w.Body)
		}
		if w := h.as("alice", http.MethodPost, "/keys/"+next.ID+"/revoke", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"status":"revoked"`) {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}
		testkit.WantError(t, h.Secure(next.Secret), http.StatusUnauthorized, "key_revoked")
		testkit.WantError(t, h.Secure(k.Secret), http.StatusUnauthorized, "key_revoked") // revoking the successor ended the grace

		var usage UsageReport
		if w := h.as("alice", http.MethodGet, "/keys/"+k.ID+"/usage?days=2", ""); w.Code != http.StatusOK {
			t.Fatalf("usage: %d %s", w.Code, w.Body)
		} else if testkit.Decode(t, w, &usage); usage.TotalRequests != 2 {
			t.Fatalf("usage of the first key: %+v", usage)
		}
		var history auditList
		testkit.Decode(t, h.as("alice", http.MethodGet, "/keys/"+next.ID+"/audit", ""), &history)
		var actions []string
		for _, e := range history.Entries {
			actions = append(actions, e.Action+":"+e.Actor)
		}
		if got := strings.Join(actions, ","); got != "revoke:owner:alice,renew:owner:alice,create:owner:alice" {
			t.Fatalf("the successor's history: %s", got)
		}
	})
}
