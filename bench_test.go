package ginkey

// The request path against its floor, all cases in one run:
//
//	go test -run '^$' -bench . -benchmem
//
// Case 8 needs a million keys in SQLite (about a minute to create and ~400 MB
// of temporary disk) and runs only with GINKEY_BENCH_1M=1.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
)

const million = 1_000_000

// benchRoute is the handler behind every case: the floor is this route alone.
func benchRoute(c *gin.Context) { c.String(http.StatusOK, "ok") }

func benchEngine(mw ...gin.HandlerFunc) *gin.Engine {
	r := gin.New()
	r.GET("/r", append(mw, benchRoute)...)
	return r
}

// discardWriter is a ResponseWriter that keeps only the status, so that the
// figures are the engine's and the guard's, not a recorder's.
type discardWriter struct {
	h    http.Header
	code int
}

func newDiscardWriter() *discardWriter { return &discardWriter{h: http.Header{}} }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

func (w *discardWriter) reset() {
	clear(w.h)
	w.code = 0
}

func benchRequest(header, value string) *http.Request {
	r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/r", nil)
	if header != "" {
		r.Header.Set(header, value)
	}
	return r
}

func serveLoop(b *testing.B, e *gin.Engine, r *http.Request, want int) {
	b.Helper()
	w := newDiscardWriter()
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		e.ServeHTTP(w, r)
		if w.code != want {
			b.Fatalf("status %d, want %d", w.code, want)
		}
	}
}

func serveParallel(b *testing.B, e *gin.Engine, header, value string, want int) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := benchRequest(header, value)
		w := newDiscardWriter()
		for pb.Next() {
			w.reset()
			e.ServeHTTP(w, r)
			if w.code != want {
				b.Errorf("status %d, want %d", w.code, want)
				return
			}
		}
	})
}

// newBenchGuard opens a guard on a fresh SQLite file holding n keys and
// returns one of them.
func newBenchGuard(b testing.TB, cacheSize, n int, mods ...func(*Config)) (*Guard, string) {
	b.Helper()
	cfg := Config{
		DBPath:      filepath.Join(b.TempDir(), "keys.db"),
		AdminSecret: testSecret,
		CacheSize:   cacheSize,
		TTL:         NeverExpire,
		// The failure throttle would answer 429 after 30 unknown keys from
		// one address; the cases measure the table of unknown keys behind it.
		FailureLimit: -1,
		Logger:       slogDiscard(),
		LookupEnv:    testkit.NoEnv,
	}
	for _, mod := range mods {
		mod(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = g.Close() })
	return g, populate(b, g, n)
}

// populate creates n keys through the store's bulk path, in batches of fifty
// thousand, and returns the plaintext of the one in the middle. Keys are
// generated while the previous batch is being written.
// benchOwner is the owner populate gives key i of n: ten keys an owner.
func benchOwner(i, n int) string { return "tenant-" + strconv.Itoa(i%max(n/10, 1)) }

func populate(tb testing.TB, g *Guard, n int) string {
	tb.Helper()
	bulk, ok := g.store.(keystore.BulkInserter)
	if !ok {
		tb.Fatal("the store cannot insert in bulk")
	}
	const batch = 50_000
	batches := make(chan []keystore.Record, 1)
	errc := make(chan error, 1)
	var picked string
	go func() {
		defer close(batches)
		created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for start := 0; start < n; start += batch {
			recs := make([]keystore.Record, 0, min(batch, n-start))
			for i := start; i < start+cap(recs); i++ {
				key, display, err := g.format.generate()
				if err != nil {
					errc <- err
					return
				}
				id, err := randomBase62(22)
				if err != nil {
					errc <- err
					return
				}
				if i == n/2 {
					picked = key
				}
				h := hashKey(key)
				recs = append(recs, keystore.Record{
					ID: id, Hash: h.String(), Prefix: display, Name: "bench key " + strconv.Itoa(i), Owner: benchOwner(i, n),
					CreatedAt: created.Add(time.Duration(i) * time.Millisecond),
				})
			}
			batches <- recs
		}
	}()
	for recs := range batches {
		if err := bulk.InsertBatch(context.Background(), recs); err != nil {
			for range batches { // let the generator finish
			}
			tb.Fatal(err)
		}
	}
	select {
	case err := <-errc:
		tb.Fatal(err)
	default:
	}
	return picked
}

func BenchmarkGuard(b *testing.B) {
	b.Run("1_floor", func(b *testing.B) {
		serveLoop(b, benchEngine(), benchRequest("", ""), http.StatusOK)
	})
	b.Run("2_basic_auth", func(b *testing.B) {
		e := benchEngine(gin.BasicAuth(gin.Accounts{"bench": "a-long-enough-password"}))
		r := benchRequest("", "")
		r.SetBasicAuth("bench", "a-long-enough-password")
		serveLoop(b, e, r, http.StatusOK)
	})
	b.Run("3_cache_hit", func(b *testing.B) {
		g, key := newBenchGuard(b, 0, 1)
		serveLoop(b, benchEngine(g.Handler()), benchRequest("X-API-Key", key), http.StatusOK)
	})
	b.Run("4_no_cache_1k_keys", func(b *testing.B) { benchNoCache(b, 1000) })
	b.Run("5_unknown_key", func(b *testing.B) {
		g, _ := newBenchGuard(b, 0, 1)
		unknown, _, err := g.format.generate()
		if err != nil {
			b.Fatal(err)
		}
		serveLoop(b, benchEngine(g.Handler()), benchRequest("X-API-Key", unknown), http.StatusUnauthorized)
	})
	b.Run("6_malformed_key", func(b *testing.B) {
		g, key := newBenchGuard(b, 0, 1)
		serveLoop(b, benchEngine(g.Handler()), benchRequest("X-API-Key", key[:len(key)-1]+flip(key[len(key)-1])), http.StatusUnauthorized)
	})
	b.Run("7_parallel", func(b *testing.B) {
		b.Run("floor", func(b *testing.B) {
			serveParallel(b, benchEngine(), "", "", http.StatusOK)
		})
		b.Run("cache_hit", func(b *testing.B) {
			g, key := newBenchGuard(b, 0, 1)
			serveParallel(b, benchEngine(g.Handler()), "X-API-Key", key, http.StatusOK)
		})
		b.Run("unknown_key", func(b *testing.B) {
			g, _ := newBenchGuard(b, 0, 1)
			unknown, _, err := g.format.generate()
			if err != nil {
				b.Fatal(err)
			}
			serveParallel(b, benchEngine(g.Handler()), "X-API-Key", unknown, http.StatusUnauthorized)
		})
	})
	b.Run("8_no_cache_1m_keys", func(b *testing.B) {
		if os.Getenv("GINKEY_BENCH_1M") != "1" {
			b.Skip("SKIPPED case 8 (a million keys in SQLite): set GINKEY_BENCH_1M=1 to run it")
		}
		benchNoCache(b, million)
	})
}

// ratioChunk is how many requests of one side run before the other's turn.
const ratioChunk = 1000

// BenchmarkFloorRatio measures cases 2, 3, 5 and 6 against the floor in
// alternating chunks of ratioChunk requests and reports case time over floor
// time as x-floor. On a shared two-core VM a benchmark's speed drifts by a
// third from one run to the next; pairing each chunk with a floor chunk run
// just before it cancels that drift, where dividing two separate runs would
// not. ns/op is the case's own time; floor-ns/op is the floor's.
//
// ref_context_set is a reference, not a ginkey case: a middleware that only
// calls c.Set, as any middleware handing a value to handlers through gin's
// context must (gin.BasicAuth does, and so does the guard, for KeyFrom).
func BenchmarkFloorRatio(b *testing.B) {
	guarded := func(b *testing.B, key func(*Guard, string) string, want int) (*gin.Engine, *http.Request, int) {
		g, good := newBenchGuard(b, 0, 1)
		return benchEngine(g.Handler()), benchRequest("X-API-Key", key(g, good)), want
	}
	cases := []struct {
		name  string
		setup func(*testing.B) (*gin.Engine, *http.Request, int)
	}{
		{"ref_context_set", func(*testing.B) (*gin.Engine, *http.Request, int) {
			rec := &keyRecord{}
			return benchEngine(func(c *gin.Context) { c.Set(contextKey, rec) }), benchRequest("", ""), http.StatusOK
		}},
		{"2_basic_auth", func(*testing.B) (*gin.Engine, *http.Request, int) {
			r := benchRequest("", "")
			r.SetBasicAuth("bench", "a-long-enough-password")
			return benchEngine(gin.BasicAuth(gin.Accounts{"bench": "a-long-enough-password"})), r, http.StatusOK
		}},
		{"3_cache_hit", func(b *testing.B) (*gin.Engine, *http.Request, int) {
			return guarded(b, func(_ *Guard, good string) string { return good }, http.StatusOK)
		}},
		{"5_unknown_key", func(b *testing.B) (*gin.Engine, *http.Request, int) {
			return guarded(b, func(g *Guard, _ string) string {
				k, _, err := g.format.generate()
				if err != nil {
					b.Fatal(err)
				}
				return k
			}, http.StatusUnauthorized)
		}},
		{"6_malformed_key", func(b *testing.B) (*gin.Engine, *http.Request, int) {
			return guarded(b, func(_ *Guard, good string) string {
				return good[:len(good)-1] + flip(good[len(good)-1])
			}, http.StatusUnauthorized)
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			pairedWithFloor(b, tc.setup)
		})
	}
}

// pairedWithFloor serves the setup's request and the floor's in alternating
// chunks and reports x-floor, ns/op (the case's) and floor-ns/op.
func pairedWithFloor(b *testing.B, setup func(*testing.B) (*gin.Engine, *http.Request, int)) {
	b.Helper()
	floor, floorReq := benchEngine(), benchRequest("", "")
	e, r, want := setup(b)
	fw, w := newDiscardWriter(), newDiscardWriter()
	var floorTime, caseTime time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += ratioChunk {
		n := min(ratioChunk, b.N-done)
		t0 := time.Now()
		for range n {
			fw.reset()
			floor.ServeHTTP(fw, floorReq)
		}
		t1 := time.Now()
		for range n {
			w.reset()
			e.ServeHTTP(w, r)
		}
		caseTime += time.Since(t1)
		floorTime += t1.Sub(t0)
	}
	b.StopTimer()
	if fw.code != http.StatusOK || w.code != want {
		b.Fatalf("statuses %d and %d, want 200 and %d", fw.code, w.code, want)
	}
	b.ReportMetric(float64(caseTime)/float64(floorTime), "x-floor")
	b.ReportMetric(float64(caseTime.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(float64(floorTime.Nanoseconds())/float64(b.N), "floor-ns/op")
}

// BenchmarkCacheHitBreakdown is case 3 built up a step at a time, each step a
// middleware doing everything the one before did and one thing more, paired
// with the floor like BenchmarkFloorRatio: where a cache hit's time goes.
func BenchmarkCacheHitBreakdown(b *testing.B) {
	g, key := newBenchGuard(b, 0, 1)
	rec := &keyRecord{}
	refuse := func(c *gin.Context) { c.AbortWithStatus(http.StatusInternalServerError) }
	steps := []struct {
		name string
		mw   gin.HandlerFunc
	}{
		{"1_context_set", func(c *gin.Context) { c.Set(contextKey, rec) }},
		{"2_extract", func(c *gin.Context) {
			if extractKey(c.Request, g.lookups) == "" {
				refuse(c)
			}
			c.Set(contextKey, rec)
		}},
		{"3_format_check", func(c *gin.Context) {
			if !g.format.valid(extractKey(c.Request, g.lookups)) {
				refuse(c)
			}
			c.Set(contextKey, rec)
		}},
		{"4_clock", func(c *gin.Context) {
			if !g.format.valid(extractKey(c.Request, g.lookups)) || g.now().IsZero() {
				refuse(c)
			}
			c.Set(contextKey, rec)
		}},
		{"5_hash_and_cache", func(c *gin.Context) {
			raw := extractKey(c.Request, g.lookups)
			if !g.format.valid(raw) {
				refuse(c)
			}
			found, err := g.identify(c, raw, g.now())
			if err != nil {
				refuse(c)
			}
			c.Set(contextKey, found)
		}},
		{"6_checks_and_usage", func(c *gin.Context) {
			found, err := g.authorize(c, g.plain)
			if err != nil {
				refuse(c)
			}
			c.Set(contextKey, found)
		}},
		{"7_handler", g.Handler()},
	}
	for _, st := range steps {
		b.Run(st.name, func(b *testing.B) {
			pairedWithFloor(b, func(*testing.B) (*gin.Engine, *http.Request, int) {
				return benchEngine(st.mw), benchRequest("X-API-Key", key), http.StatusOK
			})
		})
	}
}

// benchNoCache is cases 4 and 8: every request reads SQLite. Listing a page
// of keys, which counts them all, is measured on the same database.
func benchNoCache(b *testing.B, n int) {
	start := time.Now()
	g, key := newBenchGuard(b, -1, n)
	rate := float64(n) / time.Since(start).Seconds()
	b.Run("lookup", func(b *testing.B) {
		serveLoop(b, benchEngine(g.Handler()), benchRequest("X-API-Key", key), http.StatusOK)
		b.ReportMetric(rate, "populated-keys/s") // how fast the n keys were created, for the record
	})
	admin := gin.New()
	g.RegisterAdmin(admin.Group("/auth"))
	for _, q := range []struct{ name, query string }{
		{"list_limit50", "limit=50"},
		{"list_active_limit50", "limit=50&status=active"},
		{"list_revoked_limit50", "limit=50&status=revoked"},
		{"list_offset10k_limit50", "limit=50&offset=10000"},
	} {
		b.Run(q.name, func(b *testing.B) {
			r := benchRequest(adminHeader, testSecret)
			r.URL.Path, r.URL.RawQuery = "/auth/keys", q.query
			serveLoop(b, admin, r, http.StatusOK)
		})
	}
}

func BenchmarkBulkInsert(b *testing.B) {
	const perOp = 1000
	g, _ := newBenchGuard(b, 0, 0)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		populate(b, g, perOp)
	}
	b.ReportMetric(float64(b.N*perOp)/time.Since(start).Seconds(), "keys/s")
}

// TestPopulateForLoadRun fills the SQLite file $GINKEY_POPULATE_DB with
// $GINKEY_POPULATE_N keys (default a million) through the bulk path, for
// bench/load.sh. Skipped unless GINKEY_POPULATE_DB is set.
func TestPopulateForLoadRun(t *testing.T) {
	path := os.Getenv("GINKEY_POPULATE_DB")
	if path == "" {
		t.Skip("set GINKEY_POPULATE_DB to fill a database for bench/load.sh")
	}
	n := million
	if v := os.Getenv("GINKEY_POPULATE_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("GINKEY_POPULATE_N=%q is not a positive integer", v)
		}
	}
	g, err := New(Config{DBPath: path, AdminSecret: testSecret, Logger: slogDiscard(), LookupEnv: testkit.NoEnv})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = g.Close() }()
	start := time.Now()
	populate(t, g, n)
	d := time.Since(start)
	t.Logf("created %d keys in %v: %.0f keys/s", n, d.Round(time.Millisecond), float64(n)/d.Seconds())
}

// BenchmarkListKeys pages through keys the ways the admin API does, on
// 50,000 keys, or a million with GINKEY_BENCH_1M=1 (ten keys an owner). The
// unfiltered first page is the baseline; each search reports its ratio to
// it as "x-first-page".
func BenchmarkListKeys(b *testing.B) {
	n := 50_000
	if os.Getenv("GINKEY_BENCH_1M") != "" {
		n = million
	}
	g, _ := newBenchGuard(b, 0, n)
	mid, err := keysPage(g.ListKeys(context.Background(), KeyQuery{Limit: 1, Offset: n / 2}))
	if err != nil || len(mid.Keys) != 1 {
		b.Fatalf("the middle key: %v", err)
	}
	k := mid.Keys[0]
	var firstPage float64
	for _, c := range []struct {
		name string
		q    KeyQuery
		want int
	}{
		{"first-page", KeyQuery{}, 50},
		{"owner", KeyQuery{Owner: k.Owner}, 10},
		{"owner-active", KeyQuery{Owner: k.Owner, Status: StatusActive}, 10},
		{"prefix", KeyQuery{Prefix: k.Prefix}, 1},
	} {
		b.Run(c.name+"/keys="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				list, err := keysPage(g.ListKeys(context.Background(), c.q))
				if err != nil || len(list.Keys) < c.want {
					b.Fatalf("ListKeys(%+v): %d keys, %v", c.q, len(list.Keys), err)
				}
			}
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if c.name == "first-page" {
				firstPage = perOp
			} else if firstPage > 0 {
				b.ReportMetric(perOp/firstPage, "x-first-page")
			}
		})
	}
}
