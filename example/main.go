// Command example is a gin API protected by ginkey with zero configuration:
// keys live in ginkey.db, the admin API is under /auth, the admin secret is
// printed at start-up unless GINKEY_SECRET is set, and Swagger UI is at
// /docs/index.html.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	swaggerFiles "github.com/swaggo/files"
	ginSwagger "github.com/swaggo/gin-swagger"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/docs"
)

// The OpenAPI document in ../docs is generated from this file's general info
// and the annotations here and in ginkey (CI checks it is up to date):
//
//go:generate swag init -g main.go -d . --parseDependencyLevel 2 --packagePrefix github.com/ginkey/ginkey --outputTypes go,json -o ../docs

// General info of the example's OpenAPI document:
//
//	@title						ginkey example API
//	@version					1
//	@description				A gin API protected by ginkey. Authorize with the admin secret, create a key with POST /auth/keys, then authorize with that key.
//	@BasePath					/
//
//	@securityDefinitions.apikey	APIKeyHeader
//	@in							header
//	@name						X-API-Key
//	@description				An API key in the X-API-Key header.
//
//	@securityDefinitions.apikey	APIKeyQuery
//	@in							query
//	@name						api_key
//	@description				An API key in the api_key query parameter.
//
//	@securityDefinitions.apikey	AdminSecret
//	@in							header
//	@name						X-Admin-Secret
//	@description				The admin secret (GINKEY_SECRET), needed by every ginkey admin operation.

func main() {
	if err := run(); err != nil {
		slog.Error("example stopped", "error", err)
		os.Exit(1)
	}
}

func run() error {
	guard, err := ginkey.New(ginkey.Config{})
	if err != nil {
		return err
	}
	defer func() {
		if err := guard.Close(); err != nil {
			slog.Error("closing the guard", "error", err)
		}
	}()

	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	srv := &http.Server{
		Addr:              ":" + port,
		Handler:           newRouter(guard),
		ReadHeaderTimeout: 10 * time.Second,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	slog.Info("listening", "addr", srv.Addr)

	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
		slog.Info("shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// SecureResponse is the body of GET /secure.
type SecureResponse struct {
	Message string `json:"message" example:"This is a secure endpoint"`
}

func newRouter(guard *ginkey.Guard) *gin.Engine {
	r := gin.New()
	// gin's default access log prints the query string, where a client may
	// have put its api_key: log the path alone.
	r.Use(gin.LoggerWithFormatter(accessLog), gin.Recovery())
	guard.RegisterAdmin(r.Group("/auth"))
	// Swagger UI at /docs/index.html; guard.Docs serves /docs/doc.json with
	// the admin operations where they are mounted (or hidden, GINKEY_HIDE_DOCS).
	r.GET("/docs/*any", guard.Docs(docs.SwaggerInfo,
		ginSwagger.WrapHandler(swaggerFiles.Handler, ginSwagger.PersistAuthorization(true))))
	r.GET("/public", public)
	r.GET("/secure", guard.Handler(), secure)
	return r
}

func accessLog(p gin.LogFormatterParams) string {
	path := p.Path
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return fmt.Sprintf("%s | %3d | %13v | %15s | %-7s %s\n",
		p.TimeStamp.Format(time.RFC3339), p.StatusCode, p.Latency, p.ClientIP, p.Method, path)
}

func public(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"message": "This is a public endpoint"})
}

// secure is a route that needs an API key. The two @Security lines mean
// either scheme will do; swag reads "A || B" on one line as both at once.
//
//	@Summary		A route that needs an API key
//	@Description	Answers only requests with a valid key, in the X-API-Key header or the api_key query parameter.
//	@Tags			example
//	@Produce		json
//	@Success		200	{object}	SecureResponse
//	@Failure		401	{object}	ginkey.ErrorBody	"key_missing, key_invalid, key_expired or key_revoked (with a WWW-Authenticate header)"
//	@Failure		503	{object}	ginkey.ErrorBody	"unavailable: the key store could not be read"
//	@Security		APIKeyHeader
//	@Security		APIKeyQuery
//	@Router			/secure [get]
func secure(c *gin.Context) {
	c.JSON(http.StatusOK, SecureResponse{Message: "This is a secure endpoint"})
}
