// Command example is a gin API protected by ginkey with zero configuration:
// keys live in ginkey.db, the admin API is under /auth, the admin secret is
// printed at start-up unless GINKEY_SECRET is set, Swagger UI is at
// /docs/index.html and the key console at /console/ (console.go). With GINKEY_DB=postgres://user:password@host/dbname
// the keys live in PostgreSQL instead, and several instances of the example
// share them: a key revoked through one is refused by all at once. With
// GINKEY_REDIS set (redis://host:6379/0), rate limits, quotas and the
// failure throttles are shared through Redis. The guard's Prometheus
// metrics are at /metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	swaggerFiles "github.com/swaggo/files"
	ginSwagger "github.com/swaggo/gin-swagger"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/docs"
	"github.com/ginkey/ginkey/ginkeyprom"
	"github.com/ginkey/ginkey/ginkeyredis"
	"github.com/ginkey/ginkey/gormstore/pgstore"
	"github.com/ginkey/ginkey/observe"
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
//	@securityDefinitions.apikey	APIKeyBearer
//	@in							header
//	@name						Authorization
//	@description				An API key as a bearer token: the Authorization header's value is "Bearer " and the key.
//
//	@securityDefinitions.apikey	AdminSecret
//	@in							header
//	@name						X-Admin-Secret
//	@description				The admin secret (GINKEY_SECRET), needed by every ginkey admin operation.
//
//	@securityDefinitions.apikey	OwnerSession
//	@in							header
//	@name						Cookie
//	@description				The demo sign-in's session cookie (POST /demo/signin): the /account operations act for that user.

func main() {
	if err := run(); err != nil {
		slog.Error("example stopped", "error", err)
		os.Exit(1)
	}
}

func run() error {
	// The metrics observe the guard's store calls and admin actions from
	// the start, so they go into its Config.
	metrics := ginkeyprom.New()
	// Postgres: GINKEY_DB=postgres://... needs no code, as in a service
	// that names PostgreSQL; one on SQLite alone leaves it out.
	cfg := ginkey.Config{Observers: []observe.Observer{metrics}, Postgres: pgstore.Driver{}}
	// GINKEY_REDIS (redis://host:6379/0) shares rate limits, quotas and the
	// failure throttles between instances.
	if url := os.Getenv(ginkeyredis.EnvVar); url != "" {
		limits, err := ginkeyredis.FromURL(url)
		if err != nil {
			return err
		}
		defer func() { _ = limits.Close() }()
		limits.Apply(&cfg)
	}
	guard, err := ginkey.New(cfg)
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
	// HOST empty listens on every interface; bench/load.sh sets 127.0.0.1.
	r := newRouter(guard)
	if err := serveMetrics(r, metrics.Watch(guard)); err != nil {
		return err
	}
	srv := newServer(os.Getenv("HOST")+":"+port, r)

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

// The server's limits, in one place. Without them a client that sends
// headers and then never the body it announced, or that keeps a connection
// idle, holds a connection (and a goroutine) for ever. Tests shorten them on
// the *http.Server that newServer returns.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 15 * time.Second // the whole request, body included
	writeTimeout      = 30 * time.Second // from the end of the headers to the end of the answer
	idleTimeout       = 60 * time.Second // between requests on a keep-alive connection
)

// maxItemBodyBytes bounds POST /items bodies: {"name": at most 100
// characters} fits many times over, and a larger body is refused unread.
const maxItemBodyBytes = 1 << 10

func newServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
	}
}

// SecureResponse is the body of GET /secure.
type SecureResponse struct {
	Message string `json:"message" example:"This is a secure endpoint"`
}

func newRouter(guard *ginkey.Guard) *gin.Engine {
	r := gin.New()
	// Trust no proxy, so that a client cannot choose its address (which
	// allow-lists and the failed-key throttle use) with X-Forwarded-For.
	// Behind a reverse proxy, list its address instead.
	_ = r.SetTrustedProxies(nil) // nil cannot fail
	// gin's default access log prints the query string, where a client may
	// have put its api_key: log the path alone.
	// gin.Recovery would dump the request's headers, X-API-Key and
	// X-Admin-Secret included: log the panic without them.
	r.Use(gin.LoggerWithFormatter(accessLog), gin.CustomRecoveryWithWriter(io.Discard, recovered))
	guard.RegisterAdmin(r.Group("/auth"))
	// Swagger UI at /docs/index.html; guard.Docs serves /docs/doc.json with
	// the admin operations where they are mounted (or hidden, GINKEY_HIDE_DOCS).
	// No ginSwagger.PersistAuthorization(true): it would keep the admin secret in localStorage (add it to WrapHandler to opt in).
	r.GET("/docs/*any", guard.Docs(docs.SwaggerInfo, ginSwagger.WrapHandler(swaggerFiles.Handler)))
	// Customers' keys under /account (see account.go); their document, the
	// API and /account without the admin API, at /customer-docs/index.html.
	if err := mountAccount(r, guard); err != nil {
		slog.Error("the self-service routes are not mounted", "error", err)
	}
	if err := mountConsole(r, guard); err != nil {
		slog.Error("the key console is not mounted", "error", err)
	}
	r.GET("/customer-docs/*any", guard.CustomerDocs(docs.SwaggerInfo, ginSwagger.WrapHandler(swaggerFiles.Handler)))
	r.GET("/public", public)
	r.GET("/secure", guard.Handler(), secure)
	items := newItemStore()
	r.GET("/items", guard.Require("items:read"), items.list)
	r.POST("/items", guard.Require("items:write"), items.create)
	return r
}

// serveMetrics serves the guard's metrics at GET /metrics, in Prometheus'
// text format, on the API's own port and without a key: their labels name
// nothing secret (outcomes, operations and error codes; never a key, key
// id, prefix or client address). A production service would usually serve
// them on an internal port of its own, out of the public's reach.
func serveMetrics(r *gin.Engine, metrics *ginkeyprom.Metrics) error {
	reg := prometheus.NewRegistry()
	if err := reg.Register(metrics); err != nil {
		return err
	}
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	return nil
}

func recovered(c *gin.Context, err any) {
	slog.Error("panic while serving a request", "method", c.Request.Method, "route", c.FullPath(),
		"error", err, "stack", string(debug.Stack()))
	ginkey.WriteError(c, nil) // 500 internal_error: the panic's detail is logged above, never sent
}

// accessLog writes one line a request. The path is quoted: it is decoded,
// so a client could otherwise end the line with %0a and write one of its
// own (GET /public%0a... 201 ... POST /auth/keys).
func accessLog(p gin.LogFormatterParams) string {
	path := p.Path
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return fmt.Sprintf("%s | %3d | %13v | %15s | %-7s %q\n",
		p.TimeStamp.Format(time.RFC3339), p.StatusCode, p.Latency, p.ClientIP, p.Method, path)
}

// PublicResponse is the body of GET /public.
type PublicResponse struct {
	Message string `json:"message" example:"This is a public endpoint"`
}

// public is a route anyone may call.
//
//	@ID				examplePublic
//	@Summary		A route without a key
//	@Description	Answers every request; the guard is not in its way.
//	@Tags			example
//	@Produce		json
//	@Success		200	{object}	PublicResponse
//	@Router			/public [get]
func public(c *gin.Context) {
	c.JSON(http.StatusOK, PublicResponse{Message: "This is a public endpoint"})
}

// secure is a route that needs an API key. The @Security lines mean any
// one scheme will do; swag reads "A || B" on one line as both at once.
//
//	@ID				exampleSecure
//	@Summary		A route that needs an API key
//	@Description	Answers only requests with a valid key, in the X-API-Key header, the api_key query parameter or an Authorization bearer token.
//	@Tags			example
//	@Produce		json
//	@Success		200	{object}	SecureResponse
//	@Failure		401	{object}	ginkey.ErrorBody	"key_missing, key_invalid, key_expired or key_revoked (with a WWW-Authenticate header)"
//	@Failure		403	{object}	ginkey.ErrorBody	"ip_not_allowed: the key has an allow-list without the client's address"
//	@Failure		429	{object}	ginkey.ErrorBody	"rate_limited, quota_exceeded, too_many_failures or too_many_lookups (with Retry-After)"
//	@Failure		503	{object}	ginkey.ErrorBody	"unavailable: the key store could not be read, or lookups_busy: too many keys being looked up"
//	@Header			401	{string}	WWW-Authenticate	"The challenge: Bearer realm=\"ginkey\" and, for a key that is not valid, its error"
//	@Header			429	{integer}	Retry-After			"Seconds to wait before retrying"
//	@Header			all	{integer}	RateLimit-Limit		"Requests per window of a key with a rate limit"
//	@Header			all	{integer}	RateLimit-Remaining	"Requests left in the window"
//	@Header			all	{integer}	RateLimit-Reset		"Seconds until the window is full again"
//	@Security		APIKeyHeader
//	@Security		APIKeyQuery
//	@Security		APIKeyBearer
//	@Router			/secure [get]
func secure(c *gin.Context) {
	c.JSON(http.StatusOK, SecureResponse{Message: "This is a secure endpoint"})
}

// Item is a thing the example API keeps.
type Item struct {
	ID   int    `json:"id" example:"1"`
	Name string `json:"name" example:"widget"`
}

// NewItem is the body of POST /items.
type NewItem struct {
	Name string `json:"name" binding:"required,max=100" minLength:"1" example:"widget"`
}

const maxItems = 1000

// errStorageFull is the example's own error, answered in ginkey's error shape.
var errStorageFull = ginkey.NewError(http.StatusInsufficientStorage, "storage_full", "the example keeps at most 1000 items")

// itemStore keeps items in memory, at most maxItems of them.
type itemStore struct {
	mu    sync.Mutex
	items []Item
}

func newItemStore() *itemStore { return &itemStore{items: []Item{}} }

// list returns every item.
//
//	@ID				exampleListItems
//	@Summary		List items
//	@Description	Requires the scope items:read.
//	@Tags			example
//	@Produce		json
//	@Success		200	{array}		Item
//	@Failure		401	{object}	ginkey.ErrorBody	"key_missing, key_invalid, key_expired or key_revoked"
//	@Failure		403	{object}	ginkey.ErrorBody	"insufficient_scope (needs items:read) or ip_not_allowed"
//	@Failure		429	{object}	ginkey.ErrorBody	"rate_limited, quota_exceeded, too_many_failures or too_many_lookups"
//	@Failure		503	{object}	ginkey.ErrorBody	"unavailable: the key store could not be read, or lookups_busy: too many keys being looked up"
//	@Header			401	{string}	WWW-Authenticate	"The challenge: Bearer realm=\"ginkey\" and, for a key that is not valid, its error"
//	@Header			403	{string}	WWW-Authenticate	"For insufficient_scope: the scope the key lacks"
//	@Header			429	{integer}	Retry-After			"Seconds to wait before retrying"
//	@Header			all	{integer}	RateLimit-Limit		"Requests per window of a key with a rate limit"
//	@Header			all	{integer}	RateLimit-Remaining	"Requests left in the window"
//	@Header			all	{integer}	RateLimit-Reset		"Seconds until the window is full again"
//	@Security		APIKeyHeader
//	@Security		APIKeyQuery
//	@Security		APIKeyBearer
//	@Router			/items [get]
func (s *itemStore) list(c *gin.Context) {
	s.mu.Lock()
	out := make([]Item, len(s.items))
	copy(out, s.items)
	s.mu.Unlock()
	c.JSON(http.StatusOK, out)
}

// create adds an item.
//
//	@ID				exampleCreateItem
//	@Summary		Add an item
//	@Description	Requires the scope items:write.
//	@Tags			example
//	@Accept			json
//	@Produce		json
//	@Param			body	body		NewItem	true	"The item"
//	@Success		201		{object}	Item
//	@Failure		400		{object}	ginkey.ErrorBody	"bad_request: the body is not {\"name\": 1 to 100 characters}"
//	@Failure		401		{object}	ginkey.ErrorBody	"key_missing, key_invalid, key_expired or key_revoked"
//	@Failure		403		{object}	ginkey.ErrorBody	"insufficient_scope (needs items:write) or ip_not_allowed"
//	@Failure		413		{object}	ginkey.ErrorBody	"payload_too_large: the body is over 1 KiB"
//	@Failure		429		{object}	ginkey.ErrorBody	"rate_limited, quota_exceeded, too_many_failures or too_many_lookups"
//	@Failure		503		{object}	ginkey.ErrorBody	"unavailable: the key store could not be read, or lookups_busy: too many keys being looked up"
//	@Failure		507		{object}	ginkey.ErrorBody	"storage_full: the example keeps at most 1000 items"
//	@Header			401	{string}	WWW-Authenticate	"The challenge: Bearer realm=\"ginkey\" and, for a key that is not valid, its error"
//	@Header			403	{string}	WWW-Authenticate	"For insufficient_scope: the scope the key lacks"
//	@Header			429	{integer}	Retry-After			"Seconds to wait before retrying"
//	@Header			all	{integer}	RateLimit-Limit		"Requests per window of a key with a rate limit"
//	@Header			all	{integer}	RateLimit-Remaining	"Requests left in the window"
//	@Header			all	{integer}	RateLimit-Reset		"Seconds until the window is full again"
//	@Security		APIKeyHeader
//	@Security		APIKeyQuery
//	@Security		APIKeyBearer
//	@Router			/items [post]
func (s *itemStore) create(c *gin.Context) {
	var in NewItem
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxItemBodyBytes)
	if err := c.ShouldBindJSON(&in); err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			ginkey.WriteError(c, ginkey.NewError(http.StatusRequestEntityTooLarge, "payload_too_large", "the body must be at most 1 KiB"))
			return
		}
		ginkey.WriteError(c, ginkey.NewError(http.StatusBadRequest, "bad_request", `the body must be {"name": "..."} with 1-100 characters`))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.items) >= maxItems {
		ginkey.WriteError(c, errStorageFull)
		return
	}
	it := Item{ID: len(s.items) + 1, Name: in.Name}
	s.items = append(s.items, it)
	c.JSON(http.StatusCreated, it)
}
