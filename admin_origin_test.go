package ginkey

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey/internal/testkit"
)

// The tests of the admin API's refusal of requests another site's page can
// make a browser send (origin.go), with the credential in a cookie, which
// the browser attaches by itself: the case that makes them dangerous.

// cookieSession is a host application's session check as AdminAuth: a cookie
// naming a signed-in operator.
type cookieSession struct{ token string }

func (s cookieSession) Authenticate(c *gin.Context) error {
	v, err := c.Cookie("session")
	if err != nil || v == "" {
		return ErrCredentialsMissing
	}
	if subtle.ConstantTimeCompare([]byte(v), []byte(s.token)) != 1 {
		return ErrCredentialsInvalid
	}
	return nil
}

// cookieAdmin is a guard whose admin API admits a cookie, and that cookie.
type cookieAdmin struct {
	*harness
	cookie *http.Cookie
}

// cookieAdmins returns the two cookie-borne ways into the admin API the
// security guide names: the host's session check as AdminAuth, and AdminKeyScope
// with keys read from a cookie. mod (nil: none) changes the Config first.
func cookieAdmins(mod func(*Config)) map[string]func(t *testing.T) cookieAdmin {
	return map[string]func(t *testing.T) cookieAdmin{
		"AdminAuth reading the host's session cookie": func(t *testing.T) cookieAdmin {
			h := newHarness(t, func(c *Config) {
				c.AdminAuth = cookieSession{token: "operator-session-0123456789"}
				if mod != nil {
					mod(c)
				}
			})
			return cookieAdmin{h, adminCookie("session", "operator-session-0123456789")}
		},
		"AdminKeyScope with a key from a cookie": func(t *testing.T) cookieAdmin {
			h := newHarness(t, func(c *Config) {
				c.AdminKeyScope = "ginkey:admin"
				c.Sources = []string{"header:X-API-Key", "cookie:ginkey_admin"}
				if mod != nil {
					mod(c)
				}
			})
			admin := h.createKey(`{"name":"console","scopes":["ginkey:admin"]}`)
			return cookieAdmin{h, adminCookie("ginkey_admin", admin.Secret)}
		},
	}
}

// adminCookie is the cookie a console would set for its operator.
func adminCookie(name, value string) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/auth", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
}

// browserRequest is a request as a browser sends it, with the admin cookie:
// body as given, contentType ("" for none) and the other headers.
func (a cookieAdmin) browserRequest(method, path, contentType, body string, header map[string]string) *httptest.ResponseRecorder {
	a.T.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequestWithContext(context.Background(), method, "/auth"+path, rd) // Host: example.com
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	r.AddCookie(a.cookie)
	w := httptest.NewRecorder()
	a.Engine.ServeHTTP(w, r)
	return w
}

// keysState is every key's record but its last use, as JSON: what a
// refused request must leave as it was.
func (a cookieAdmin) keysState() string {
	a.T.Helper()
	list, err := keysPage(a.Guard.ListKeys(context.Background(), KeyQuery{Limit: 500}))
	if err != nil {
		a.T.Fatal(err)
	}
	for i := range list.Keys {
		list.Keys[i].LastUsedAt = nil
	}
	b, err := json.Marshal(list)
	if err != nil {
		a.T.Fatal(err)
	}
	return string(b)
}

const (
	formType   = "application/x-www-form-urlencoded"
	textType   = "text/plain;charset=UTF-8"
	evilOrigin = "https://evil.example"
)

// crossSite is what a browser adds to a request made by another site's page.
var crossSite = map[string]string{"Origin": evilOrigin, "Sec-Fetch-Site": "cross-site"}

func TestTheAdminAPIRefusesStateChangesAnotherSiteCanForge(t *testing.T) {
	t.Parallel()
	for setup, newAdmin := range cookieAdmins(nil) {
		t.Run(setup, func(t *testing.T) {
			t.Parallel()
			a := newAdmin(t)
			victim := a.createKey(`{"name":"victim"}`)
			byID := "/keys/" + victim.ID
			for _, tc := range []struct {
				name                      string
				method, path, ctype, body string
				header                    map[string]string
				status                    int
				code                      string
			}{
				// What the review sent: a form with no fields (its body is
				// empty, its Content-Type still the form's), and a text/plain
				// body that reads as JSON.
				{"cross-site form post to rotate", "POST", byID + "/rotate", formType, "", crossSite, 403, "cross_origin_refused"},
				{"cross-site form post to revoke", "POST", byID + "/revoke", formType, "", crossSite, 403, "cross_origin_refused"},
				{"cross-site text/plain JSON to create", "POST", "/keys", textType, `{"name":"planted"}`, crossSite, 403, "cross_origin_refused"},
				// A browser that sends neither header (or a proxy that drops
				// them): the body's type still refuses it.
				{"form post to rotate without origin headers", "POST", byID + "/rotate", formType, "", nil, 415, "unsupported_media_type"},
				{"form post to revoke without origin headers", "POST", byID + "/revoke", formType, "", nil, 415, "unsupported_media_type"},
				{"text/plain JSON to create without origin headers", "POST", "/keys", textType, `{"name":"planted"}`, nil, 415, "unsupported_media_type"},
				{"multipart to create", "POST", "/keys", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nplanted\r\n--x--\r\n", nil, 415, "unsupported_media_type"},
				{"a body without a Content-Type (fetch of a Blob)", "POST", "/keys", "", `{"name":"planted"}`, nil, 415, "unsupported_media_type"},
				{"text/plain JSON to change a key", "PATCH", byID, textType, `{"name":"renamed"}`, nil, 415, "unsupported_media_type"},
				{"a JSON type in a parameter only", "POST", "/keys", "text/plain; x=application/json", `{"name":"planted"}`, nil, 415, "unsupported_media_type"},
				// JSON, which another page could send only with CORS
				// allowing it, is refused when it comes from another origin.
				{"JSON from another Origin", "PATCH", byID, "application/json", `{"name":"renamed"}`, map[string]string{"Origin": evilOrigin}, 403, "cross_origin_refused"},
				{"JSON with Sec-Fetch-Site cross-site", "POST", "/keys", "application/json", `{"name":"planted"}`, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross_origin_refused"},
				{"JSON with Sec-Fetch-Site same-site (a sibling subdomain)", "POST", byID + "/rotate", "application/json", `{}`, map[string]string{"Sec-Fetch-Site": "same-site"}, 403, "cross_origin_refused"},
				{"JSON from an opaque origin (a sandboxed frame)", "POST", byID + "/revoke", "application/json", "", map[string]string{"Origin": "null"}, 403, "cross_origin_refused"},
				{"cross-site DELETE", "DELETE", byID, "", "", crossSite, 403, "cross_origin_refused"},
				{"cross-site renew", "POST", byID + "/renew", formType, "", crossSite, 403, "cross_origin_refused"},
				// Every admin path, whether an operation serves it or not.
				{"cross-site post to a path with no operation", "POST", "/nothing/here", formType, "", crossSite, 403, "cross_origin_refused"},
				{"form post to a path with no operation", "POST", "/nothing/here", formType, "", nil, 415, "unsupported_media_type"},
			} {
				before := a.keysState()
				w := a.browserRequest(tc.method, tc.path, tc.ctype, tc.body, tc.header)
				if w.Code != tc.status || !strings.Contains(w.Body.String(), `"code":"`+tc.code+`"`) {
					t.Errorf("%s: %d %s, want %d %s", tc.name, w.Code, w.Body, tc.status, tc.code)
				}
				if after := a.keysState(); after != before {
					t.Errorf("%s changed the keys:\nbefore %s\nafter  %s", tc.name, before, after)
				}
			}
			k, err := a.Guard.GetKey(context.Background(), victim.ID)
			if err != nil || k.Status != StatusActive || k.RotatedTo != "" || k.Name != "victim" {
				t.Fatalf("the victim key was changed: %+v, %v", k, err)
			}
		})
	}
}

func TestSameOriginAndNonBrowserAdminRequestsStillWork(t *testing.T) {
	t.Parallel()
	for setup, newAdmin := range cookieAdmins(func(c *Config) { c.TrustedOrigins = []string{"https://console.example"} }) {
		t.Run(setup, func(t *testing.T) {
			t.Parallel()
			a := newAdmin(t)
			k := a.createKey(`{"name":"k"}`)
			byID := "/keys/" + k.ID
			sameOrigin := map[string]string{"Origin": "http://example.com", "Sec-Fetch-Site": "same-origin"}
			for _, tc := range []struct {
				name                      string
				method, path, ctype, body string
				header                    map[string]string
				status                    int
			}{
				{"curl: no Origin, no Sec-Fetch-Site", "POST", "/keys", "application/json", `{"name":"curl"}`, nil, 201},
				{"same Origin as Host (a browser without Sec-Fetch-Site)", "POST", "/keys", "application/json", `{"name":"same"}`, map[string]string{"Origin": "http://example.com"}, 201},
				{"Sec-Fetch-Site same-origin (Swagger UI's Try it out)", "PATCH", byID, "application/json; charset=utf-8", `{"name":"renamed"}`, map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
				{"Sec-Fetch-Site none (typed by the user)", "POST", byID + "/renew", "application/json", `{}`, map[string]string{"Sec-Fetch-Site": "none"}, 200},
				{"a trusted origin", "POST", "/keys", "application/json", `{"name":"console"}`, map[string]string{"Origin": "https://console.example", "Sec-Fetch-Site": "cross-site"}, 201},
				{"Content-Type in other capitals", "POST", "/keys", "Application/JSON", `{"name":"caps"}`, nil, 201},
				{"JSON type with an empty body", "POST", byID + "/rotate", "application/json", "", sameOrigin, 201},
				// Reads are not refused: they change nothing, and another
				// site cannot read their answers without CORS allowing it.
				{"cross-site GET", "GET", "/keys", "", "", crossSite, 200},
				{"cross-site GET with a form type", "GET", byID, formType, "", crossSite, 200},
			} {
				w := a.browserRequest(tc.method, tc.path, tc.ctype, tc.body, tc.header)
				if w.Code != tc.status {
					t.Errorf("%s: %d %s, want %d", tc.name, w.Code, w.Body, tc.status)
				}
			}
			// No body and no Content-Type: revoke and DELETE need neither.
			other := a.createKey(`{"name":"to revoke"}`)
			if w := a.browserRequest("POST", "/keys/"+other.ID+"/revoke", "", "", sameOrigin); w.Code != 200 {
				t.Errorf("bodiless same-origin revoke: %d %s", w.Code, w.Body)
			}
			if w := a.browserRequest("DELETE", "/keys/"+other.ID, "", "", nil); w.Code != 204 {
				t.Errorf("bodiless DELETE: %d %s", w.Code, w.Body)
			}
		})
	}
}

func TestACrossSiteAdminRequestCostsNoThrottleAllowance(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.AdminFailureLimit = 1 })
	const from = "192.0.2.9:1234"
	for range 5 { // wrong secrets, refused before they are compared
		w := h.DoFrom(from, testkit.Request{Method: "POST", Path: "/auth/keys", Body: `{}`,
			Header: map[string]string{adminHeader: "wrong-secret-0123456789", "Origin": evilOrigin}})
		testkit.WantError(t, w, 403, "cross_origin_refused")
		w = h.DoFrom(from, testkit.Request{Method: "POST", Path: "/auth/keys", Body: `{}`,
			Header: map[string]string{adminHeader: "wrong-secret-0123456789", "Content-Type": textType}})
		testkit.WantError(t, w, 415, "unsupported_media_type")
	}
	w := h.DoFrom(from, testkit.Request{Method: "POST", Path: "/auth/keys", Body: `{}`, Header: map[string]string{adminHeader: testSecret}})
	if w.Code != 201 {
		t.Fatalf("the right secret after refused cross-site requests: %d %s", w.Code, w.Body)
	}
	if strings.Contains(h.Logs.String(), "failed admin authentication") {
		t.Fatalf("a refused cross-site request was logged as a failed authentication:\n%s", h.Logs)
	}
}

func TestNewRefusesATrustedOriginThatIsNotAnOrigin(t *testing.T) {
	t.Parallel()
	for _, o := range []string{"console.example", "https://console.example/path", "https://console.example?x=1", ""} {
		g, err := New(Config{DBPath: filepath.Join(t.TempDir(), "keys.db"), AdminSecret: testSecret, LookupEnv: testkit.NoEnv, Logger: slogDiscard(),
			TrustedOrigins: []string{o}})
		if err == nil {
			_ = g.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "TrustedOrigins") {
			t.Errorf("TrustedOrigins %q: New returned %v, want an error naming TrustedOrigins", o, err)
		}
	}
}
