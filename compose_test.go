package ginkey

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey/internal/testkit"
)

// whoami reports which schemes admitted the request.
func whoami(c *gin.Context) {
	var who []string
	if k, ok := KeyFrom(c); ok {
		who = append(who, "key:"+k.ID)
	}
	if u := c.GetString(gin.AuthUserKey); u != "" {
		who = append(who, "basic:"+u)
	}
	if s := c.GetString("jwt_sub"); s != "" {
		who = append(who, "jwt:"+s)
	}
	c.String(http.StatusOK, strings.Join(who, ","))
}

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// composeHarness guards /any with AnyOf(key, basic) and /all with
// AllOf(basic, key).
func composeHarness(t *testing.T) (*harness, CreatedKey) {
	t.Helper()
	h := newHarness(t, nil)
	basic, err := BasicAuth("ops", map[string]string{"alice": "wonderland", "bob": "builder"})
	if err != nil {
		t.Fatal(err)
	}
	h.Engine.GET("/any", AnyOf(h.Guard, basic), whoami)
	h.Engine.GET("/all", AllOf(basic, h.Guard), whoami)
	return h, h.createKey(`{}`)
}

func TestAnyOfAndAllOfTruthTables(t *testing.T) {
	t.Parallel()
	h, k := composeHarness(t)
	keys := map[string]string{"none": "", "good": k.Secret, "bad": unknownKey(t, h)}
	basics := map[string]string{"none": "", "good": basicHeader("alice", "wonderland"), "bad": basicHeader("alice", "wrong")}
	type outcome struct {
		status int
		code   string // error code, or who was admitted
	}
	cases := []struct {
		key, basic string
		anyOf      outcome
		allOf      outcome
	}{
		{"none", "none", outcome{401, "key_missing"}, outcome{401, "credentials_missing"}},
		{"none", "good", outcome{200, "basic:alice"}, outcome{401, "key_missing"}},
		{"none", "bad", outcome{401, "credentials_invalid"}, outcome{401, "credentials_invalid"}},
		{"good", "none", outcome{200, "key:" + k.ID}, outcome{401, "credentials_missing"}},
		{"good", "good", outcome{200, "key:" + k.ID}, outcome{200, "key:" + k.ID + ",basic:alice"}},
		{"good", "bad", outcome{200, "key:" + k.ID}, outcome{401, "credentials_invalid"}},
		{"bad", "none", outcome{401, "key_invalid"}, outcome{401, "credentials_missing"}},
		{"bad", "good", outcome{200, "basic:alice"}, outcome{401, "key_invalid"}},
		{"bad", "bad", outcome{401, "key_invalid"}, outcome{401, "credentials_invalid"}},
	}
	for _, tc := range cases {
		for path, want := range map[string]outcome{"/any": tc.anyOf, "/all": tc.allOf} {
			hdr := map[string]string{}
			if v := keys[tc.key]; v != "" {
				hdr["X-API-Key"] = v
			}
			if v := basics[tc.basic]; v != "" {
				hdr["Authorization"] = v
			}
			w := h.DoFrom("192.0.2.1:1", testkit.Request{Method: "GET", Path: path, Header: hdr})
			if want.status == 200 {
				if w.Code != 200 || w.Body.String() != want.code {
					t.Fatalf("%s key=%s basic=%s: %d %q, want 200 %q", path, tc.key, tc.basic, w.Code, w.Body, want.code)
				}
				continue
			}
			testkit.WantError(t, w, want.status, want.code)
			challenges := w.Header().Values("WWW-Authenticate")
			if !slices.Equal(challenges, []string{`Bearer realm="ginkey"`, `Basic realm="ops", charset="UTF-8"`}) &&
				!slices.Equal(challenges, []string{`Basic realm="ops", charset="UTF-8"`, `Bearer realm="ginkey"`}) {
				t.Fatalf("%s key=%s basic=%s: challenges %q", path, tc.key, tc.basic, challenges)
			}
		}
	}
}

func TestBasicAuthChecksEveryAccountAndRejectsBadConfig(t *testing.T) {
	t.Parallel()
	h, _ := composeHarness(t)
	for _, c := range []struct {
		user, pass string
		ok         bool
	}{
		{"alice", "wonderland", true}, {"bob", "builder", true}, {"bob", "wonderland", false},
		{"alice", "", false}, {"", "wonderland", false}, {"carol", "builder", false}, {"alice", "wonderland2", false},
	} {
		w := h.DoFrom("192.0.2.1:1", testkit.Request{Method: "GET", Path: "/any", Header: map[string]string{"Authorization": basicHeader(c.user, c.pass)}})
		if c.ok && (w.Code != 200 || w.Body.String() != "basic:"+c.user) {
			t.Fatalf("%s/%s: %d %s", c.user, c.pass, w.Code, w.Body)
		}
		if !c.ok {
			testkit.WantError(t, w, 401, "credentials_invalid")
		}
	}
	for _, bad := range []struct {
		realm    string
		accounts map[string]string
	}{
		{"x", nil}, {"x", map[string]string{"a:b": "c"}}, {"x", map[string]string{"": "c"}}, {`a"b`, map[string]string{"a": "b"}},
	} {
		if _, err := BasicAuth(bad.realm, bad.accounts); err == nil {
			t.Fatalf("BasicAuth(%q, %v) accepted", bad.realm, bad.accounts)
		}
	}
}

func TestAnyOfAcceptsAnAPIKeyOrAJWT(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.FailureLimit = 5 })
	jwt, err := BearerAuth("api", func(c *gin.Context, token string) error {
		switch token {
		case "jwt-for-carol":
			c.Set("jwt_sub", "carol")
			return nil
		case "jwt-expired":
			return newError(401, "token_expired", "the token has expired")
		}
		return errors.New("signature mismatch: secret detail")
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Engine.GET("/either", AnyOf(h.Guard, jwt), whoami)
	k := h.createKey(`{}`)
	bearer := func(tok string) *testkit.Request {
		return &testkit.Request{Method: "GET", Path: "/either", Header: map[string]string{"Authorization": "Bearer " + tok}}
	}
	// Many JWT requests from one address: none is a failed key check.
	for range 20 {
		w := h.DoFrom("192.0.2.1:1", *bearer("jwt-for-carol"))
		if w.Code != 200 || w.Body.String() != "jwt:carol" {
			t.Fatalf("JWT: %d %s", w.Code, w.Body)
		}
	}
	if w := h.DoFrom("192.0.2.1:1", *bearer(k.Secret)); w.Code != 200 || w.Body.String() != "key:"+k.ID {
		t.Fatalf("API key as bearer token: %d %s", w.Code, w.Body)
	}
	w := h.DoFrom("192.0.2.1:1", *bearer("forged"))
	testkit.WantError(t, w, 401, "key_invalid") // the first refusal of presented credentials
	if strings.Contains(w.Body.String(), "secret detail") {
		t.Fatal("the verifier's error text reached the client")
	}
	only := AnyOf(jwt)
	h.Engine.GET("/jwt", only, whoami)
	w = h.DoFrom("192.0.2.1:1", testkit.Request{Method: "GET", Path: "/jwt", Header: map[string]string{"Authorization": "Bearer forged"}})
	testkit.WantError(t, w, 401, "credentials_invalid")
	testkit.WantHeader(t, w, "WWW-Authenticate", `Bearer realm="api"`)
	testkit.WantError(t, h.DoFrom("192.0.2.1:1", testkit.Request{Method: "GET", Path: "/jwt", Header: map[string]string{"Authorization": "Bearer jwt-expired"}}), 401, "token_expired")
	testkit.WantError(t, h.DoFrom("192.0.2.1:1", testkit.Request{Method: "GET", Path: "/jwt"}), 401, "credentials_missing")

	if _, err := BearerAuth("x", nil); err == nil {
		t.Fatal("BearerAuth without verify accepted")
	}
}

func TestCompositesWithoutAuthenticatorsRefuseEverything(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.Engine.GET("/none-any", AnyOf(), whoami)
	h.Engine.GET("/none-all", AllOf(), whoami)
	testkit.WantError(t, h.Do(testkit.Request{Method: "GET", Path: "/none-any"}), 401, "credentials_missing")
	testkit.WantError(t, h.Do(testkit.Request{Method: "GET", Path: "/none-all"}), 401, "credentials_missing")
}

// spentKeyBehindAnyOf serves /any with AnyOf(guard, BasicAuth a:b) and
// returns a key whose rate limit of 1 a minute is already spent.
func spentKeyBehindAnyOf(t *testing.T) (*harness, CreatedKey) {
	t.Helper()
	h := newHarness(t, func(c *Config) { c.Now = newFakeClock().Now })
	basic, err := BasicAuth("", map[string]string{"a": "b"})
	if err != nil {
		t.Fatal(err)
	}
	h.Engine.GET("/any", AnyOf(h.Guard, basic), whoami)
	k := h.createKey(`{"rate_limit":{"requests":1,"per":"1m"}}`)
	if w := h.Get("192.0.2.1:1", "/any", k.Secret); w.Code != 200 {
		t.Fatalf("first request: %d %s", w.Code, w.Body)
	}
	return h, k
}

func TestCompositeKeepsTheGuardsRateLimitAndRetryAfter(t *testing.T) {
	t.Parallel()
	h, k := spentKeyBehindAnyOf(t)
	w := h.Get("192.0.2.1:1", "/any", k.Secret)
	testkit.WantError(t, w, 429, "rate_limited")
	testkit.WantHeader(t, w, "Retry-After", "60")
	testkit.WantHeader(t, w, "RateLimit-Remaining", "0")
	if w.Header().Get("WWW-Authenticate") != "" {
		t.Fatal("a 429 carries a challenge")
	}
}

func TestAnyOfDropsTheRateLimitHeadersOfASchemeThatRefused(t *testing.T) {
	t.Parallel()
	h, k := spentKeyBehindAnyOf(t)
	w := h.DoFrom("192.0.2.1:1", testkit.Request{Method: http.MethodGet, Path: "/any", Header: map[string]string{
		"X-API-Key": k.Secret, "Authorization": basicHeader("a", "b"),
	}})
	if w.Code != http.StatusOK || w.Body.String() != "basic:a" {
		t.Fatalf("key rate-limited, basic good: %d %s", w.Code, w.Body)
	}
	for _, name := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
		if v := w.Header().Get(name); v != "" {
			t.Fatalf("admitted by Basic, but carries the refusing key's %s: %s", name, v)
		}
	}
}
