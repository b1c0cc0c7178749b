package ginkey

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/internal/testkit"
)

func TestRequireAdmitsOnlyKeysHoldingTheScopesWildcardsIncluded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.Route("GET", "/read", h.Guard.Require("items:read"))
	h.Route("GET", "/read-write", h.Guard.Require("items:read", "items:write"))
	h.Route("GET", "/bulk", h.Guard.Require("items:write:bulk"))
	h.Route("GET", "/bare", h.Guard.Require("items"))
	h.Route("GET", "/any", h.Guard.RequireAny("admin", "items:read"))
	h.Route("GET", "/none", h.Guard.Require())

	keys := map[string]CreatedKey{}
	for name, scopes := range map[string]string{
		"none":     `[]`,
		"read":     `["items:read"]`,
		"rw":       `["items:read","items:write"]`,
		"items:*":  `["items:*"]`,
		"*":        `["*"]`,
		"itemsx:*": `["itemsx:*"]`,
		"admin":    `["admin"]`,
		"literal*": `["items*"]`,
	} {
		keys[name] = h.createKey(`{"scopes":` + scopes + `}`)
	}
	cases := []struct {
		key, path string
		ok        bool
	}{
		{"none", "/none", true},
		{"none", "/read", false},
		{"read", "/read", true},
		{"read", "/read-write", false},
		{"rw", "/read-write", true},
		{"rw", "/bulk", false},
		{"items:*", "/read", true},
		{"items:*", "/read-write", true},
		{"items:*", "/bulk", true},
		{"items:*", "/bare", false}, // "items:*" grants "items:…", not "items"
		{"itemsx:*", "/read", false},
		{"literal*", "/read", false}, // only "*" and a trailing ":*" are wildcards
		{"*", "/read-write", true},
		{"*", "/bare", true},
		{"*", "/any", true},
		{"admin", "/any", true},
		{"read", "/any", true},
		{"rw", "/any", true},
		{"none", "/any", false},
		{"itemsx:*", "/any", false},
	}
	for _, tc := range cases {
		k := keys[tc.key]
		w := h.Get("192.0.2.1:1", tc.path, k.Secret)
		if tc.ok {
			testkit.WantOK(t, w, k.ID)
			continue
		}
		testkit.WantError(t, w, http.StatusForbidden, "insufficient_scope")
	}
	testkit.WantError(t, h.Get("192.0.2.1:1", "/read", ""), 401, "key_missing")
	testkit.WantError(t, h.Get("192.0.2.1:1", "/read", "gk_nope"), 401, "key_invalid")
}

func TestInsufficientScopeNamesTheScopesInTheChallenge(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.Realm = "shop" })
	h.Route("POST", "/items", h.Guard.Require("items:write", "items:admin"))
	k := h.createKey(`{"scopes":["items:read"]}`)
	w := h.DoFrom("192.0.2.1:1", testkit.Request{Method: "POST", Path: "/items", Header: map[string]string{"X-API-Key": k.Secret}})
	testkit.WantError(t, w, 403, "insufficient_scope")
	testkit.WantHeader(t, w, "WWW-Authenticate", `Bearer realm="shop", error="insufficient_scope", scope="items:write items:admin"`)
}

// A scope no key could hold is a typo in the program: building the route
// fails at once, naming it, instead of refusing every key at run time.
func TestRequireWithAMalformedScopePanicsWhenTheRouteIsBuilt(t *testing.T) {
	t.Parallel()
	g := newHarness(t, nil).Guard
	long := strings.Repeat("a", maxScopeLen+1)
	for _, tc := range []struct {
		name  string
		build func() gin.HandlerFunc
		scope string
	}{
		{"space", func() gin.HandlerFunc { return g.Require("orders read") }, "orders read"},
		{"among good ones", func() gin.HandlerFunc { return g.Require("items:read", "items write") }, "items write"},
		{"any of", func() gin.HandlerFunc { return g.RequireAny("items:read", "") }, ""},
		{"too long", func() gin.HandlerFunc { return g.RequireAny(long) }, long},
		{"non-ASCII", func() gin.HandlerFunc { return g.Require("items:lés") }, "items:lés"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, fmt.Sprintf("%q", tc.scope)) || !strings.Contains(msg, "malformed") {
					t.Fatalf("want a panic naming %q, got %q", tc.scope, msg)
				}
			}()
			tc.build()
		})
	}
	for _, ok := range []string{"items:read", "*", "items:*", "a.b_c-d/e"} {
		_ = g.Require(ok) // must not panic
	}
}

func TestRequireBehindHandlerChecksScopesWithoutCountingTwice(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.FlushInterval = time.Hour })
	api := h.Engine.Group("/api", h.Guard.Handler())
	api.GET("/items", h.Guard.Require("items:read"), testkit.Echo(keyID))
	api.POST("/items", h.Guard.Require("items:write"), testkit.Echo(keyID))
	k := h.createKey(`{"scopes":["items:read"],"rate_limit":{"requests":100,"per":"1m"}}`)
	for range 3 {
		w := h.Get("192.0.2.1:1", "/api/items", k.Secret)
		testkit.WantOK(t, w, k.ID)
	}
	w := h.DoFrom("192.0.2.1:1", testkit.Request{Method: "POST", Path: "/api/items", Header: map[string]string{"X-API-Key": k.Secret}})
	testkit.WantError(t, w, 403, "insufficient_scope")
	testkit.WantHeader(t, w, "RateLimit-Remaining", "96") // 4 requests, each counted once
	var rep UsageReport
	testkit.Decode(t, h.Admin("GET", "/keys/"+k.ID+"/usage", ""), &rep)
	if rep.TotalRequests != 4 {
		t.Fatalf("usage = %d, want 4: Require behind Handler must not count again", rep.TotalRequests)
	}
}

func TestRequireOfAnotherGuardDoesNotTrustThisOne(t *testing.T) {
	t.Parallel()
	a := newHarness(t, nil)
	b := newHarness(t, nil)
	a.Route("GET", "/x", a.Guard.Handler(), b.Guard.Require("items:read"))
	k := a.createKey(`{"scopes":["items:read"]}`)
	// Guard b does not know a's key: its Require authenticates afresh.
	testkit.WantError(t, a.Get("192.0.2.1:1", "/x", k.Secret), 401, "key_invalid")
}

func TestPatchedScopesApplyOnTheNextRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.Route("GET", "/items", h.Guard.Require("items:read"))
	h.Route("POST", "/items", h.Guard.Require("items:write"))
	k := h.createKey(`{"scopes":["items:read"]}`)
	post := func() int {
		return h.DoFrom("192.0.2.1:1", testkit.Request{Method: "POST", Path: "/items", Header: map[string]string{"X-API-Key": k.Secret}}).Code
	}
	testkit.WantOK(t, h.Get("192.0.2.1:1", "/items", k.Secret), k.ID) // now cached
	if code := post(); code != 403 {
		t.Fatalf("POST before PATCH: %d", code)
	}
	w := h.Admin("PATCH", "/keys/"+k.ID, `{"scopes":["items:write"]}`)
	var got Key
	testkit.Decode(t, w, &got)
	if w.Code != 200 || len(got.Scopes) != 1 || got.Scopes[0] != "items:write" {
		t.Fatalf("PATCH: %d %s", w.Code, w.Body)
	}
	if code := post(); code != 200 {
		t.Fatalf("POST after PATCH: %d", code)
	}
	testkit.WantError(t, h.Get("192.0.2.1:1", "/items", k.Secret), 403, "insufficient_scope")
}

func TestPatchKeySetsOnlyTheGivenFields(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{"name":"a","scopes":["x"],"metadata":{"team":"t"},"rate_limit":{"requests":5,"per":"1s"},"allowed_ips":["10.0.0.0/8"],"quota":{"requests":9,"per":"day"}}`)
	patch := func(body string) Key {
		t.Helper()
		w := h.Admin("PATCH", "/keys/"+k.ID, body)
		if w.Code != 200 {
			t.Fatalf("PATCH %s: %d %s", body, w.Code, w.Body)
		}
		var got Key
		testkit.Decode(t, w, &got)
		var stored Key
		testkit.Decode(t, h.Admin("GET", "/keys/"+k.ID, ""), &stored)
		if stored.Name != got.Name || len(stored.AllowedIPs) != len(got.AllowedIPs) || (stored.Quota == nil) != (got.Quota == nil) {
			t.Fatalf("PATCH answer %+v differs from the stored key %+v", got, stored)
		}
		return got
	}
	got := patch(`{"name":"b"}`)
	if got.Name != "b" || got.Scopes[0] != "x" || got.Metadata["team"] != "t" || got.RateLimit == nil ||
		got.RateLimit.Requests != 5 || got.AllowedIPs[0] != "10.0.0.0/8" || got.Quota == nil || got.Quota.Requests != 9 {
		t.Fatalf("after name: %+v", got)
	}
	got = patch(`{"metadata":{"team":"u"},"rate_limit":{"requests":7,"per":"1h"},"allowed_ips":["127.0.0.1","::1"],"quota":{"requests":100,"per":"month"}}`)
	if got.Metadata["team"] != "u" || got.RateLimit.Requests != 7 || got.RateLimit.Per != PerHour ||
		strings.Join(got.AllowedIPs, ",") != "127.0.0.1,::1" || got.Quota.Per != PerMonth || got.Name != "b" {
		t.Fatalf("after limits: %+v", got)
	}
	got = patch(`{"rate_limit":null,"quota":null,"allowed_ips":[]}`)
	if got.RateLimit != nil || got.Quota != nil || len(got.AllowedIPs) != 0 || got.Metadata["team"] != "u" {
		t.Fatalf("after clearing: %+v", got)
	}
	if w := h.Admin("PATCH", "/keys/"+k.ID, `{"scopes":null}`); w.Code != 400 {
		t.Fatalf("PATCH with only null scopes changes nothing and must say so: %d %s", w.Code, w.Body)
	}
}

func TestPatchKeyRejectsBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{}`)
	cases := []struct {
		name, path, body string
		status           int
		code, mention    string
	}{
		{"empty body", k.ID, ``, 400, "bad_request", "at least one"},
		{"empty object", k.ID, `{}`, 400, "bad_request", "at least one"},
		{"unknown field", k.ID, `{"bogus":1}`, 400, "bad_request", "bogus"},
		{"wrong type", k.ID, `{"name":5}`, 400, "bad_request", "name"},
		{"nested wrong type", k.ID, `{"rate_limit":{"requests":"5","per":"1s"}}`, 400, "bad_request", "rate_limit"},
		{"bad scope", k.ID, `{"scopes":["a b"]}`, 400, "bad_request", "scopes"},
		{"long name", k.ID, `{"name":"` + strings.Repeat("n", 201) + `"}`, 400, "bad_request", "name"},
		{"bad rate period", k.ID, `{"rate_limit":{"requests":5,"per":"2s"}}`, 400, "bad_request", "rate_limit"},
		{"zero rate", k.ID, `{"rate_limit":{"requests":0,"per":"1s"}}`, 400, "bad_request", "rate_limit"},
		{"huge rate", k.ID, `{"rate_limit":{"requests":1000001,"per":"1s"}}`, 400, "bad_request", "rate_limit"},
		{"bad quota period", k.ID, `{"quota":{"requests":5,"per":"1h"}}`, 400, "bad_request", "quota"},
		{"negative quota", k.ID, `{"quota":{"requests":-1,"per":"day"}}`, 400, "bad_request", "quota"},
		{"bad CIDR", k.ID, `{"allowed_ips":["10.0.0.0/33"]}`, 400, "bad_request", "allowed_ips"},
		{"host name", k.ID, `{"allowed_ips":["example.com"]}`, 400, "bad_request", "allowed_ips"},
		{"zone", k.ID, `{"allowed_ips":["fe80::1%eth0"]}`, 400, "bad_request", "allowed_ips"},
		{"unknown id", "AAAAAAAAAAAAAAAAAAAAAA", `{"name":"x"}`, 404, "not_found", ""},
	}
	for _, tc := range cases {
		w := h.Admin("PATCH", "/keys/"+tc.path, tc.body)
		testkit.WantError(t, w, tc.status, tc.code)
		if !strings.Contains(w.Body.String(), tc.mention) {
			t.Fatalf("%s: message does not mention %q: %s", tc.name, tc.mention, w.Body)
		}
	}
	h.Admin("POST", "/keys/"+k.ID+"/revoke", "")
	testkit.WantError(t, h.Admin("PATCH", "/keys/"+k.ID, `{"name":"x"}`), 409, "key_revoked")
	testkit.WantError(t, h.Do(testkit.Request{Method: "PATCH", Path: "/auth/keys/" + k.ID, Body: `{"name":"x"}`}), 401, "admin_unauthorized")
}

func TestOptionalLetsAnonymousThroughButNotBadKeys(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.Route("GET", "/maybe", h.Guard.Optional())
	good := h.createKey(`{}`)
	revoked := h.createKey(`{}`)
	h.Admin("POST", "/keys/"+revoked.ID+"/revoke", "")

	testkit.WantOK(t, h.Get("192.0.2.1:1", "/maybe", ""), "anonymous")
	testkit.WantOK(t, h.Get("192.0.2.1:1", "/maybe", good.Secret), good.ID)
	testkit.WantError(t, h.Get("192.0.2.1:1", "/maybe", "gk_nope"), 401, "key_invalid")
	testkit.WantError(t, h.Get("192.0.2.1:1", "/maybe", revoked.Secret), 401, "key_revoked")
	if err := h.Guard.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var rep UsageReport
	testkit.Decode(t, h.Admin("GET", "/keys/"+good.ID+"/usage", ""), &rep)
	if rep.TotalRequests != 1 {
		t.Fatalf("usage of the good key = %d, want 1", rep.TotalRequests)
	}
}

func TestSkipperBypassesTheGuard(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) {
		c.Skipper = func(c *gin.Context) bool {
			return c.Request.Method == http.MethodOptions || c.FullPath() == "/healthz"
		}
	})
	h.Route("GET", "/healthz", h.Guard.Handler())
	h.Route("OPTIONS", "/items", h.Guard.Require("items:read"))
	h.Route("GET", "/items", h.Guard.Require("items:read"))
	testkit.WantOK(t, h.Get("192.0.2.1:1", "/healthz", ""), "anonymous")
	testkit.WantOK(t, h.DoFrom("192.0.2.1:1", testkit.Request{Method: "OPTIONS", Path: "/items"}), "anonymous")
	testkit.WantError(t, h.Get("192.0.2.1:1", "/items", ""), 401, "key_missing")
}
