package ginkey

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/internal/testkit/swaggercheck"
)

// hostAdminGuard is a guard whose admin API also admits the application's
// Basic credentials "ops:pw-for-ops" and its own keys with scope
// ginkey:admin; secret says whether it has an admin secret too.
func hostAdminGuard(t *testing.T, secret bool) (*Guard, *gin.Engine, *syncBuffer) {
	t.Helper()
	basic, err := BasicAuth("ops", map[string]string{"ops": "pw-for-ops"})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cfg := Config{
		DBPath: filepath.Join(t.TempDir(), "keys.db"), LookupEnv: testkit.NoEnv, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		AdminAuth: basic, AdminKeyScope: "ginkey:admin", AdminAuthSchemes: []string{"BasicAuth"},
	}
	if secret {
		cfg.AdminSecret = testSecret
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	r := gin.New()
	g.RegisterAdmin(r.Group("/auth"))
	r.GET("/docs/*any", g.Docs(docString(exampleDoc(t)), nil))
	return g, r, logs
}

func adminWith(r *gin.Engine, method, path string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func basicAuthHeader(user, pass string) map[string]string {
	return map[string]string{"Authorization": basicHeader(user, pass)}
}

func TestAdminAuthAdmitsTheHostsCredentialsAndScopedKeys(t *testing.T) {
	t.Parallel()
	g, r, logs := hostAdminGuard(t, true)
	admin := mustCreate(t, g, KeySpec{Name: "ops bot", Scopes: []string{"ginkey:admin"}})
	plain := mustCreate(t, g, KeySpec{Name: "customer", Scopes: []string{"items:read"}})
	everything := mustCreate(t, g, KeySpec{Name: "full API access", Scopes: []string{"*"}})
	ginkeyAll := mustCreate(t, g, KeySpec{Name: "ginkey wildcard", Scopes: []string{"ginkey:*"}})
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
		code   string
	}{
		{"the secret", map[string]string{adminHeader: testSecret}, 200, ""},
		{"Basic credentials", basicAuthHeader("ops", "pw-for-ops"), 200, ""},
		{"a key with the admin scope", map[string]string{"X-API-Key": admin.Secret}, 200, ""},
		{"nothing", nil, 401, "admin_unauthorized"},
		{"a wrong password", basicAuthHeader("ops", "guess"), 401, "credentials_invalid"},
		{"a key without the scope", map[string]string{"X-API-Key": plain.Secret}, 403, "insufficient_scope"},
		// The admin scope is held literally: wildcards are for the application's routes.
		{"a key scoped *", map[string]string{"X-API-Key": everything.Secret}, 403, "insufficient_scope"},
		{"a key scoped ginkey:*", map[string]string{"X-API-Key": ginkeyAll.Secret}, 403, "insufficient_scope"},
		{"an unknown key", map[string]string{"X-API-Key": "gk_" + strings.Repeat("A", 49)}, 401, "key_invalid"},
		// The secret header is judged by the secret alone, whatever else is sent.
		{"a wrong secret beside good Basic credentials", map[string]string{adminHeader: "wrong-secret-wrong-secret", "Authorization": basicHeader("ops", "pw-for-ops")}, 401, "admin_unauthorized"},
	} {
		w := adminWith(r, http.MethodGet, "/auth/keys", tc.header)
		if tc.status == 200 {
			if w.Code != 200 || w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("%s: %d %s", tc.name, w.Code, w.Body)
			}
			continue
		}
		testkit.WantError(t, w, tc.status, tc.code)
		if tc.status == 401 && tc.code == "admin_unauthorized" && tc.header == nil {
			if ch := w.Header().Values("WWW-Authenticate"); len(ch) != 2 {
				t.Errorf("%s: challenges %q, want the key's and Basic's", tc.name, ch)
			}
		}
	}
	// A write through a scoped key works as through the secret.
	w := adminWith(r, http.MethodPost, "/auth/keys/"+plain.ID+"/revoke", map[string]string{"X-API-Key": admin.Secret})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"status":"revoked"`) {
		t.Fatalf("revoke through a scoped key: %d %s", w.Code, w.Body)
	}
	if strings.Contains(logs.String(), admin.Secret) || strings.Contains(logs.String(), "pw-for-ops") {
		t.Fatal("a credential reached the log")
	}
}

func TestAdminAuthAloneNeedsNoSecretEvenInReleaseMode(t *testing.T) {
	// Not parallel: it switches gin's mode.
	gin.SetMode(gin.ReleaseMode)
	defer gin.SetMode(gin.TestMode)
	_, r, logs := hostAdminGuard(t, false) // RegisterAdmin would panic if it wanted a secret
	if strings.Contains(logs.String(), "admin_secret") {
		t.Fatalf("a secret was generated:\n%s", logs)
	}
	if w := adminWith(r, http.MethodGet, "/auth/keys", basicAuthHeader("ops", "pw-for-ops")); w.Code != 200 {
		t.Fatalf("Basic credentials: %d %s", w.Code, w.Body)
	}
	// No secret is configured, so no header value can match.
	testkit.WantError(t, adminWith(r, http.MethodGet, "/auth/keys", map[string]string{adminHeader: testSecret}), 401, "admin_unauthorized")
}

func TestDocsListAdminAuthSchemesBesideTheSecret(t *testing.T) {
	t.Parallel()
	for _, secret := range []bool{true, false} {
		_, r, _ := hostAdminGuard(t, secret)
		w := adminWith(r, http.MethodGet, "/docs/doc.json", nil)
		d := parseOpenAPI(t, w.Body.Bytes())
		// AdminKeyScope takes an admin key from every source the guard
		// reads (the default Sources: header, query, bearer token).
		want := "APIKeyHeader APIKeyQuery APIKeyBearer BasicAuth"
		if secret {
			want = "AdminSecret " + want
		}
		for path, item := range d.Paths {
			for m, op := range item {
				if !strings.HasPrefix(path, "/auth/") {
					continue
				}
				var got []string
				for _, req := range op.Security {
					for name := range req {
						got = append(got, name)
					}
				}
				if strings.Join(got, " ") != want {
					t.Errorf("secret %v: %s %s security %v, want %s", secret, m, path, got, want)
				}
			}
		}
		if _, ok := d.SecurityDefinitions[bearerScheme]; !ok {
			t.Errorf("secret %v: the admin operations name %s, which the document does not define", secret, bearerScheme)
		}
		if _, ok := d.SecurityDefinitions[adminScheme]; ok != secret {
			t.Errorf("secret %v: AdminSecret scheme defined: %v", secret, ok)
		}
		if err := swaggercheck.Validate(t, w.Body.Bytes()); err != nil {
			t.Errorf("secret %v: not valid Swagger 2.0: %v", secret, err)
		}
	}
}

func TestAdminAuthConfigErrors(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{AdminKeyScope: "no spaces allowed"},
		{AdminAuthSchemes: []string{""}},
		{AdminAuthSchemes: []string{adminScheme}},
	} {
		cfg.DBPath, cfg.LookupEnv, cfg.Logger = filepath.Join(t.TempDir(), "k.db"), testkit.NoEnv, slogDiscard()
		if g, err := New(cfg); err == nil {
			_ = g.Close()
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
