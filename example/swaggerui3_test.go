package main

// Swagger UI on the OpenAPI 3.0 document: the same bundled UI, pointed at
// the openapi3.json that guard.Docs serves next to doc.json.

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"
	swaggerFiles "github.com/swaggo/files"
	ginSwagger "github.com/swaggo/gin-swagger"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/docs"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
)

// TestSwaggerUIOnTheOpenAPI3DocumentAuthorizesAndCalls: /docs3/index.html
// loads /docs3/openapi3.json (Swagger UI marks it OAS3); the Authorize box
// takes the admin secret, POST /auth/keys creates a key, and that key in
// the header, then in the query parameter, opens GET /secure.
func TestSwaggerUIOnTheOpenAPI3DocumentAuthorizesAndCalls(t *testing.T) {
	execPath := chromium(t)
	h := guardtest.NewRouted(t, nil, func(g *ginkey.Guard) *gin.Engine {
		r := newRouter(g)
		r.GET("/docs3/*any", g.Docs(docs.SwaggerInfo, ginSwagger.WrapHandler(swaggerFiles.Handler, ginSwagger.URL("openapi3.json"))))
		return r
	})
	srv := httptest.NewServer(h.Engine)
	t.Cleanup(srv.Close)
	u := browser(t, execPath)
	start := time.Now()

	u.load(srv.URL+"/docs3/index.html", opblock("post", "/auth/keys"), opblock("get", "/secure"))
	var stamp string
	u.run("read the version stamp", into(chromedp.Text(chromedp.CSS(`.info .version-stamp`)), &stamp))
	if strings.TrimSpace(stamp) != "OAS3" { // Swagger UI 4's stamp for OpenAPI 3.0 (none for Swagger 2.0)
		t.Fatalf("Swagger UI's version stamp %q: the OpenAPI 3.0 document was not the one loaded", stamp)
	}
	u.page("oas3-loaded")
	u.openAuthorize()
	for _, scheme := range []string{"APIKeyHeader", "APIKeyQuery", "AdminSecret"} {
		u.run("see scheme "+scheme, chromedp.WaitVisible(chromedp.Search(authContainer(scheme)+`//input`)))
	}
	u.closeAuthorize()

	u.authorize("AdminSecret", testSecret)
	u.tryOut("post", "/auth/keys")
	r := u.execute("post", "/auth/keys")
	if r.status != "201" {
		t.Fatalf("POST /auth/keys: status %q, body %s", r.status, redact(r.body))
	}
	var created struct{ ID, Key string }
	if err := json.Unmarshal([]byte(r.body), &created); err != nil || !strings.HasPrefix(created.Key, "gk_") || created.ID == "" {
		t.Fatalf("decode the created key %q: %v", redact(r.body), err)
	}
	if !strings.Contains(r.curl, "X-Admin-Secret: "+testSecret) {
		t.Fatalf("the create did not send the admin secret: curl %q", redact(r.curl))
	}

	u.authorize("APIKeyHeader", created.Key)
	u.tryOut("get", "/secure")
	r = u.execute("get", "/secure")
	if r.status != "200" || !strings.Contains(r.body, "This is a secure endpoint") || !strings.Contains(r.curl, "X-API-Key: "+created.Key) {
		t.Fatalf("GET /secure with the header: status %q, body %s, curl %s", r.status, redact(r.body), redact(r.curl))
	}

	u.logout("APIKeyHeader")
	u.authorize("APIKeyQuery", created.Key)
	r = u.execute("get", "/secure")
	if r.status != "200" || !strings.Contains(r.requestURL, "api_key="+created.Key) {
		t.Fatalf("GET /secure with the query parameter: status %q, url %s", r.status, redact(r.requestURL))
	}
	t.Logf("UI flow on the OpenAPI 3 document took %s", time.Since(start).Round(time.Millisecond))
}
