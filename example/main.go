// Command example is a gin API protected by ginkey with zero configuration:
// keys live in ginkey.db, the admin API is under /auth, and the admin secret
// is printed at start-up unless GINKEY_SECRET is set.
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

	"github.com/ginkey/ginkey"
)

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

// secure is a route that needs an API key.
//
//	@Summary	A route that needs an API key
//	@Tags		example
//	@Produce	json
//	@Success	200	{object}	SecureResponse
//	@Failure	401	{object}	ginkey.ErrorBody	"key_missing, key_invalid, key_expired or key_revoked"
//	@Security	APIKeyHeader || APIKeyQuery
//	@Router		/secure [get]
func secure(c *gin.Context) {
	c.JSON(http.StatusOK, SecureResponse{Message: "This is a secure endpoint"})
}
