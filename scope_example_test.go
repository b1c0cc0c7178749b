package ginkey_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/keystore/memstore"
)

// Routes that need different scopes, and a key that holds one of them.
func ExampleGuard_Require() {
	guard, err := ginkey.New(ginkey.Config{
		Store:       memstore.New(),
		AdminSecret: "example-admin-secret-123",
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = guard.Close() }()

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	guard.RegisterAdmin(r.Group("/auth"))
	ok := func(c *gin.Context) { c.String(http.StatusOK, "ok") }
	r.GET("/items", guard.Require("items:read"), ok)
	r.POST("/items", guard.Require("items:write"), ok)

	create := httptest.NewRequest(http.MethodPost, "/auth/keys", strings.NewReader(`{"scopes":["items:read"]}`))
	create.Header.Set("X-Admin-Secret", "example-admin-secret-123")
	create.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, create)
	var key ginkey.CreatedKey
	_ = json.Unmarshal(w.Body.Bytes(), &key)

	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req := httptest.NewRequest(method, "/items", nil)
		req.Header.Set("X-API-Key", key.Secret)
		w = httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Println(strings.TrimSpace(fmt.Sprint(method, " ", w.Code, " ", w.Header().Get("WWW-Authenticate"))))
	}
	// Output:
	// GET 200
	// POST 403 Bearer realm="ginkey", error="insufficient_scope", scope="items:write"
}
