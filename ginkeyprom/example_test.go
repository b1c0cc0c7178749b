package ginkeyprom_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/ginkeyprom"
	"github.com/ginkey/ginkey/keystore/memstore"
	"github.com/ginkey/ginkey/observe"
)

// The metrics go into the guard's Config, then watch the guard once it is
// made, and are registered and served at /metrics.
func Example() {
	metrics := ginkeyprom.New()
	guard, err := ginkey.New(ginkey.Config{
		Store:     memstore.New(), // in memory here; a service leaves Store unset (SQLite) or names its database
		Observers: []observe.Observer{metrics},
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = guard.Close() }()
	reg := prometheus.NewRegistry()
	if err := reg.Register(metrics.Watch(guard)); err != nil {
		fmt.Println(err)
		return
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/secure", guard.Handler(), func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	// On the API's port for brevity; a production service would usually
	// serve /metrics on an internal port.
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))

	key, err := guard.CreateKey(context.Background(), ginkey.KeySpec{Name: "docs"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, k := range []string{key.Secret, key.Secret, ""} {
		req := httptest.NewRequest(http.MethodGet, "/secure", nil)
		if k != "" {
			req.Header.Set("X-API-Key", k)
		}
		r.ServeHTTP(httptest.NewRecorder(), req)
	}

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	sc := bufio.NewScanner(w.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ginkey_verifications_total{outcome=\"valid\"") ||
			strings.HasPrefix(line, "ginkey_verifications_total{outcome=\"key_missing\"") ||
			strings.HasPrefix(line, "ginkey_cache_lookups_total") ||
			strings.HasPrefix(line, "ginkey_admin_actions_total{action=\"create\"") {
			fmt.Println(line)
		}
	}
	// Output:
	// ginkey_admin_actions_total{action="create",outcome="ok"} 1
	// ginkey_admin_actions_total{action="create",outcome="unavailable"} 0
	// ginkey_cache_lookups_total{result="hit"} 1
	// ginkey_cache_lookups_total{result="miss"} 1
	// ginkey_cache_lookups_total{result="negative"} 0
	// ginkey_verifications_total{outcome="key_missing"} 1
	// ginkey_verifications_total{outcome="valid"} 2
}
