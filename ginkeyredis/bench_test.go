package ginkeyredis

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
	"github.com/ginkey/ginkey/limiter"
)

// benchLimit never refuses at the speed of one benchmark loop.
var benchLimit = ginkey.RateLimit{Requests: 1_000_000, Per: ginkey.PerSecond}

// benchServe returns a function serving one request through in's engine
// (nil: a route without the guard), failing b unless it gets 200.
func benchServe(b *testing.B, in *instance, key string) func() {
	b.Helper()
	engine, path := gin.New(), "/public"
	engine.GET(path, func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	if in != nil {
		engine, path = in.Engine, "/secure"
	}
	r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
	r.Header.Set("X-API-Key", key)
	return func() {
		w := httptest.NewRecorder()
		engine.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
	}
}

// BenchmarkRateLimitedCacheHit serves a rate-limited key's requests (cache
// hits) with the in-memory limiter, with the Redis limiter (one round trip
// each; "single": without AutoPipeline), and on a route without the guard,
// serially and from 16 goroutines per CPU. The ratio sub-benchmark runs
// public, memory and redis in alternating chunks, so that the drift of a
// shared machine cancels out, and reports Redis's time over each of the
// others'.
func BenchmarkRateLimitedCacheHit(b *testing.B) {
	url := redisURL(b)
	guarded := func(limits *Limits) func() {
		in := newInstance(b, filepath.Join(b.TempDir(), "keys.db"), limits, nil)
		k := guardtest.CreateKey(b, in.Guard, ginkey.KeySpec{RateLimit: &benchLimit})
		serve := benchServe(b, in, k.Secret)
		serve() // the key into the cache, the script into Redis
		return serve
	}
	public := benchServe(b, nil, "")
	memory := guarded(nil)
	redis := guarded(newLimits(b, url, testPrefix(b, url)))
	single := guarded(newLimits(b, url, testPrefix(b, url), WithAutoPipeline(false)))
	for _, c := range []struct {
		name  string
		serve func()
	}{{"public", public}, {"memory", memory}, {"redis", redis}, {"redis_single", single}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.serve()
			}
		})
		b.Run(c.name+"_parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c.serve()
				}
			})
		})
	}
	b.Run("ratio", func(b *testing.B) {
		const chunk = 200
		var took [3]time.Duration
		n := 0
		for n < b.N {
			for i, serve := range []func(){public, memory, redis} {
				start := time.Now()
				for range chunk {
					serve()
				}
				took[i] += time.Since(start)
			}
			n += chunk
		}
		per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) }
		b.ReportMetric(per(took[2]), "ns/op")
		b.ReportMetric(per(took[1]), "memory-ns/op")
		b.ReportMetric(per(took[0]), "public-ns/op")
		b.ReportMetric(per(took[2])/per(took[1]), "x-memory")
		b.ReportMetric(per(took[2])/per(took[0]), "x-public")
	})
}

// BenchmarkAllow is one limiter decision, without HTTP.
func BenchmarkAllow(b *testing.B) {
	url := redisURL(b)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		lim  limiter.Limiter
	}{
		{"memory", limiter.NewMemoryLimiter(0, nil)},
		{"redis", newLimits(b, url, testPrefix(b, url), WithAutoPipeline(false))},
		{"redis_autopipeline", newLimits(b, url, testPrefix(b, url))},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.lim.Allow(ctx, "bench", benchLimit.Requests, time.Second); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
