package ginkey

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/gormstore/pgstore"
	"github.com/ginkey/ginkey/internal/testkit"
)

// testUser is the header the tests' sign-in puts the owner in, standing in
// for a host's session.
const testUser = "X-Test-User"

func testOwner(c *gin.Context) (string, bool) {
	u := c.GetHeader(testUser)
	return u, u != ""
}

// newSelfHarness is a harness whose engine also serves the self-service
// routes under /account, owners named by testUser, under policy (nil: the
// default); mod (nil: none) changes the Config first.
func newSelfHarness(t testing.TB, policy func(string) OwnerPolicy, mod func(*Config)) *harness {
	t.Helper()
	h := &harness{testkit.NewHarness[*Guard](t, keyID)}
	h.Router = func(g *Guard) *gin.Engine {
		r := gin.New()
		g.RegisterAdmin(r.Group("/auth"))
		if err := g.RegisterSelfService(r.Group("/account"), SelfService{Owner: testOwner, Policy: policy}); err != nil {
			t.Fatal(err)
		}
		r.GET("/secure", g.Handler(), testkit.Echo(keyID))
		return r
	}
	cfg := Config{DBPath: h.DBPath, AdminSecret: testSecret, Logger: h.Logger, LookupEnv: testkit.NoEnv, Postgres: pgstore.Driver{}}
	if mod != nil {
		mod(&cfg)
	}
	h.Serve(New(cfg))
	return h
}

// onEachDatabase runs test on a SQLite file (db nil) and on PostgreSQL (db
// points the Config at it; skipped loudly without GINKEY_TEST_POSTGRES),
// in parallel.
func onEachDatabase(t *testing.T, test func(t *testing.T, db func(*Config))) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		test(t, nil)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url := postgresURL(t)
		_, prefix := testkit.OpenPostgres(t) // drops the tables when the test ends, after the guard has closed
		test(t, func(c *Config) { c.DBPath, c.TablePrefix = url, prefix })
	})
}

// both applies a, then b; either may be nil.
func both(a, b func(*Config)) func(*Config) {
	return func(c *Config) {
		for _, f := range []func(*Config){a, b} {
			if f != nil {
				f(c)
			}
		}
	}
}

// as sends a request to /account+path signed in as user ("" for nobody);
// a body is sent as JSON.
func (h *harness) as(user, method, path, body string) *httptest.ResponseRecorder {
	h.T.Helper()
	hdr := map[string]string{}
	if user != "" {
		hdr[testUser] = user
	}
	return h.Do(testkit.Request{Method: method, Path: "/account" + path, Body: body, Header: hdr})
}

// mint creates a key signed in as user and returns it, failing unless 201.
func (h *harness) mint(user, body string) CreatedKey {
	h.T.Helper()
	w := h.as(user, http.MethodPost, "/keys", body)
	if w.Code != http.StatusCreated {
		h.T.Fatalf("create as %s: %d %s", user, w.Code, w.Body)
	}
	var k CreatedKey
	testkit.Decode(h.T, w, &k)
	return k
}

func TestSelfServiceWithoutASignedInOwnerIs401(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, db func(*Config)) {
		h := newSelfHarness(t, nil, db)
		for _, r := range []struct{ method, path, body string }{
			{http.MethodGet, "/keys", ""},
			{http.MethodPost, "/keys", `{"name":"x"}`},
			{http.MethodGet, "/keys/abc", ""},
			{http.MethodPost, "/keys/abc/revoke", ""},
		} {
			w := h.as("", r.method, r.path, r.body)
			testkit.WantError(t, w, http.StatusUnauthorized, "credentials_missing")
			testkit.WantHeader(t, w, "Cache-Control", "no-store")
		}
		// An owner no key could have (a control character) is the host's bug:
		// refused, not stored.
		testkit.WantError(t, h.as("bad\x01owner", http.MethodGet, "/keys", ""), http.StatusUnauthorized, "credentials_invalid")
	})
}

func TestRegisterSelfServiceRefusesAStoreThatCannotCapAtomically(t *testing.T) {
	t.Parallel()
	st := newFailingStore(t) // wraps a GORM store, without its CappedInserter power
	g, err := New(Config{Store: st, AdminSecret: testSecret, Logger: slogDiscard(), LookupEnv: testkit.NoEnv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	r := gin.New()
	err = g.RegisterSelfService(r.Group("/account"), SelfService{Owner: testOwner})
	if err == nil || !strings.Contains(err.Error(), "CappedInserter") {
		t.Fatalf("RegisterSelfService on a store without the power: %v", err)
	}
	if len(r.Routes()) != 0 {
		t.Fatalf("routes were mounted: %v", r.Routes())
	}
	if _, err := g.ForOwner("alice", OwnerPolicy{}); err == nil {
		t.Fatal("ForOwner on a store without the power succeeded")
	}
	if err := g.RegisterSelfService(r.Group("/x"), SelfService{}); err == nil {
		t.Fatal("no Owner function was accepted")
	}
}

// The routes sit behind cookie sessions: what another site's page can make
// a browser send is refused before the owner is even asked for.
func TestSelfServiceRefusesRequestsAnotherSiteCouldForge(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, db func(*Config)) {
		h := newSelfHarness(t, nil, db)
		send := func(contentType, body string, hdr map[string]string) *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodPost, "http://app.example/account/keys", strings.NewReader(body))
			if contentType != "" {
				r.Header.Set("Content-Type", contentType)
			}
			r.Header.Set(testUser, "alice")
			for k, v := range hdr {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.Engine.ServeHTTP(w, r)
			return w
		}
		crossSite := map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
		testkit.WantError(t, send("application/x-www-form-urlencoded", "name=x", crossSite), http.StatusForbidden, "cross_origin_refused")
		testkit.WantError(t, send("text/plain", `{"name":"x"}`, nil), http.StatusUnsupportedMediaType, "unsupported_media_type")
		testkit.WantError(t, send("text/plain", `{"name":"x"}`, map[string]string{"Origin": "http://app.example", "Sec-Fetch-Site": "same-origin"}),
			http.StatusUnsupportedMediaType, "unsupported_media_type")
		testkit.WantError(t, send("application/json", `{"name":"x"}`, map[string]string{"Origin": "https://evil.example"}), http.StatusForbidden, "cross_origin_refused")
		testkit.WantError(t, send("application/json", `{"name":"x"}`, crossSite), http.StatusForbidden, "cross_origin_refused")
		if list := h.as("alice", http.MethodGet, "/keys", ""); !strings.Contains(list.Body.String(), `"total":0`) {
			t.Fatalf("a refused request created a key: %s", list.Body)
		}
		if w := send("application/json", `{"name":"x"}`, map[string]string{"Origin": "http://app.example", "Sec-Fetch-Site": "same-origin"}); w.Code != http.StatusCreated {
			t.Fatalf("the same-origin JSON request: %d %s", w.Code, w.Body)
		}
	})
}
