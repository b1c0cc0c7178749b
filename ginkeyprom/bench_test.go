package ginkeyprom_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/ginkeyprom"
	"github.com/ginkey/ginkey/observe"
)

// benchSetup is a guard (with or without metrics) behind a gin route, and a
// request with a valid key, already cached.
func benchSetup(b *testing.B, withMetrics bool) (*gin.Engine, *http.Request, *prometheus.Registry) {
	b.Helper()
	cfg := ginkey.Config{
		DBPath: filepath.Join(b.TempDir(), "keys.db"), AdminSecret: testSecret,
		CacheTTL: time.Hour, FlushInterval: time.Hour, RateLimit: ginkey.RateLimit{Requests: 1_000_000, Per: ginkey.PerSecond},
		LookupEnv: func(string) (string, bool) { return "", false }, Logger: slog.New(slog.DiscardHandler),
	}
	var metrics *ginkeyprom.Metrics
	if withMetrics {
		metrics = ginkeyprom.New()
		cfg.Observers = []observe.Observer{metrics}
	}
	g, err := ginkey.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = g.Close() })
	reg := prometheus.NewRegistry()
	if withMetrics {
		if err := reg.Register(metrics.Watch(g)); err != nil {
			b.Fatal(err)
		}
	}
	k, err := g.CreateKey(bg, ginkey.KeySpec{Name: "bench", NeverExpires: true})
	if err != nil {
		b.Fatal(err)
	}
	r := gin.New()
	r.GET("/secure", g.Handler(), func(c *gin.Context) { c.Status(http.StatusOK) })
	req := httptest.NewRequest(http.MethodGet, "/secure", nil)
	req.RemoteAddr = "192.0.2.1:1000"
	req.Header.Set("X-API-Key", k.Secret)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req) // the miss that fills the cache
	if w.Code != http.StatusOK {
		b.Fatalf("warm-up: %d", w.Code)
	}
	return r, req, reg
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
