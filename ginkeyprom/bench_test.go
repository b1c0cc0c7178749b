package ginkeyprom_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/ginkeyprom"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
	"github.com/ginkey/ginkey/observe"
)

// benchSetup is a guard (with or without metrics) behind a gin route, and a
// request with a valid key, already cached.
func benchSetup(b *testing.B, withMetrics bool) (*gin.Engine, *http.Request, *prometheus.Registry) {
	b.Helper()
	var metrics *ginkeyprom.Metrics
	h := guardtest.NewRouted(b, func(c *ginkey.Config) {
		c.CacheTTL, c.FlushInterval = time.Hour, time.Hour
		c.RateLimit = ginkey.RateLimit{Requests: 1_000_000, Per: ginkey.PerSecond}
		c.Logger = slog.New(slog.DiscardHandler)
		if withMetrics {
			metrics = ginkeyprom.New()
			c.Observers = []observe.Observer{metrics}
		}
	}, func(g *ginkey.Guard) *gin.Engine {
		r := gin.New()
		r.GET("/secure", g.Handler(), func(c *gin.Context) { c.Status(http.StatusOK) })
		return r
	})
	reg := prometheus.NewRegistry()
	if withMetrics {
		if err := reg.Register(metrics.Watch(h.Guard)); err != nil {
			b.Fatal(err)
		}
	}
	k := guardtest.CreateKey(b, h.Guard, ginkey.KeySpec{Name: "bench", NeverExpires: true})
	req := httptest.NewRequest(http.MethodGet, "/secure", nil)
	req.RemoteAddr = "192.0.2.1:1000"
	req.Header.Set("X-API-Key", k.Secret)
	w := httptest.NewRecorder()
	h.Engine.ServeHTTP(w, req) // the miss that fills the cache
	if w.Code != http.StatusOK {
		b.Fatalf("warm-up: %d", w.Code)
	}
	return h.Engine, req, reg
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header       { return d.h }
func (*discard) Write(p []byte) (int, error) { return len(p), nil }
func (*discard) WriteHeader(int)             {}

// BenchmarkCacheHitWithMetrics serves a cached valid key through a guard
// with ginkeyprom's metrics registered and through one without, in
// alternating chunks, and reports the time per request of each and their
// ratio (x-without: 1.0 means the metrics cost nothing).
func BenchmarkCacheHitWithMetrics(b *testing.B) {
	with, withReq, _ := benchSetup(b, true)
	without, withoutReq, _ := benchSetup(b, false)
	w := &discard{h: http.Header{}}
	const chunk = 1000
	var withTime, withoutTime time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += chunk {
		n := min(chunk, b.N-done)
		t0 := time.Now()
		for range n {
			clear(w.h)
			without.ServeHTTP(w, withoutReq)
		}
		t1 := time.Now()
		for range n {
			clear(w.h)
			with.ServeHTTP(w, withReq)
		}
		withoutTime += t1.Sub(t0)
		withTime += time.Since(t1)
	}
	b.ReportMetric(float64(withTime.Nanoseconds())/float64(b.N), "with-ns/op")
	b.ReportMetric(float64(withoutTime.Nanoseconds())/float64(b.N), "without-ns/op")
	if withoutTime > 0 {
		b.ReportMetric(float64(withTime)/float64(withoutTime), "x-without")
	}
}

// BenchmarkScrape is the cost of one collection of a guard's metrics.
func BenchmarkScrape(b *testing.B) {
	_, _, reg := benchSetup(b, true)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
