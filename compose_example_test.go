package ginkey_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/keystore/memstore"
)

// A route that accepts an API key or a bearer token checked by your own
// verifier, e.g. a JWT parser.
func ExampleAnyOf() {
	guard, err := ginkey.New(ginkey.Config{Store: memstore.New(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = guard.Close() }()
	jwt, err := ginkey.BearerAuth("api", func(c *gin.Context, token string) error {
		if token != "valid-jwt" { // a real verifier checks a signature
			return fmt.Errorf("bad token")
		}
		c.Set("user", "carol")
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/me", ginkey.AnyOf(guard, jwt), func(c *gin.Context) {
		if k, ok := ginkey.KeyFrom(c); ok {
			c.String(http.StatusOK, "key "+k.Name)
			return
		}
		c.String(http.StatusOK, "user "+c.GetString("user"))
	})
	for _, auth := range []string{"Bearer valid-jwt", "Bearer forged", ""} {
		req := httptest.NewRequest(http.MethodGet, "/me", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// 200 user carol
	// 401 {"error":{"code":"key_invalid","message":"the API key is not valid"}}
	// 401 {"error":{"code":"key_missing","message":"an API key is required"}}
}
