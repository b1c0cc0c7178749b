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

// A guard, its admin API under /auth and one protected route: create a key,
// then call the route with and without it. The keys are kept in memory
// here; without Config.Store the guard keeps them in a SQLite file
// (gormstore.DefaultDBPath), or in the database Config.DB or DBPath names.
func Example() {
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
	r.GET("/secure", guard.Handler(), func(c *gin.Context) {
		key, _ := ginkey.KeyFrom(c)
		c.String(http.StatusOK, "hello, "+key.Name)
	})

	create := httptest.NewRequest(http.MethodPost, "/auth/keys", strings.NewReader(`{"name":"docs"}`))
	create.Header.Set("X-Admin-Secret", "example-admin-secret-123")
	create.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, create)
	var created ginkey.CreatedKey
	_ = json.Unmarshal(w.Body.Bytes(), &created)
	fmt.Println(w.Code, strings.HasPrefix(created.Secret, "gk_"))

	call := httptest.NewRequest(http.MethodGet, "/secure", nil)
	call.Header.Set("X-API-Key", created.Secret)
	w = httptest.NewRecorder()
	r.ServeHTTP(w, call)
	fmt.Println(w.Code, w.Body.String())

	w = httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/secure", nil))
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 201 true
	// 200 hello, docs
	// 401 {"error":{"code":"key_missing","message":"an API key is required"}}
}
