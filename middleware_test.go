package ginkey

import (
	"net/http"
	"testing"
	"time"
)

// allocsPerRequest counts the allocations of one request through e, once
// warm, and checks its status.
func allocsPerRequest(t *testing.T, e http.Handler, r *http.Request, want int) float64 {
	t.Helper()
	if raceEnabled {
		t.Skip("allocation counts mean nothing under -race: sync.Pool drops items at random")
	}
	w := newDiscardWriter()
	e.ServeHTTP(w, r) // warm the cache and gin's context pool
	n := testing.AllocsPerRun(1000, func() {
		w.reset()
		e.ServeHTTP(w, r)
	})
	if w.code != want {
		t.Fatalf("status %d, want %d", w.code, want)
	}
	return n
}

// quietFlusher keeps the usage flusher, whose writes would count as the
// request's allocations, from running during a measurement.
func quietFlusher(c *Config) { c.FlushInterval = time.Hour }

func TestRequestPathAllocatesNoMoreThanItsBudget(t *testing.T) {
	g, key := newBenchGuard(t, 0, 1, quietFlusher)
	unknown, _, err := g.format.generate()
	if err != nil {
		t.Fatal(err)
	}
	guarded := benchEngine(g.Handler())
	bare := allocsPerRequest(t, benchEngine(), benchRequest("", ""), http.StatusOK)

	for _, tc := range []struct {
		name   string
		header string
		value  string
		status int
		extra  float64 // allocations allowed beyond the bare route's
	}{
		// A cache hit adds only gin's Keys map (two allocations), which holds
		// the key for KeyFrom; the issue allows three.
		{"cache hit", "X-API-Key", key, http.StatusOK, 2},
		// Rejections write a pre-rendered response: nothing beyond what the
		// bare route's own response costs.
		{"unknown key", "X-API-Key", unknown, http.StatusUnauthorized, 0},
		{"bad checksum", "X-API-Key", key[:len(key)-1] + flip(key[len(key)-1]), http.StatusUnauthorized, 0},
		{"wrong prefix", "X-API-Key", "xx" + key[2:], http.StatusUnauthorized, 0},
		{"wrong length", "X-API-Key", key + "A", http.StatusUnauthorized, 0},
		{"bad alphabet", "X-API-Key", key[:10] + "-" + key[11:], http.StatusUnauthorized, 0},
		{"missing key", "", "", http.StatusUnauthorized, 0},
		{"malformed bearer", "Authorization", "Bearer not-a-key", http.StatusUnauthorized, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := allocsPerRequest(t, guarded, benchRequest(tc.header, tc.value), tc.status)
			if got > bare+tc.extra {
				t.Errorf("%v allocations per request, want at most %v (bare route %v + %v)", got, bare+tc.extra, bare, tc.extra)
			}
		})
	}
}

func TestQueryKeyIsReadWithoutParsingTheQuery(t *testing.T) {
	g, key := newBenchGuard(t, 0, 1, quietFlusher)
	r := benchRequest("", "")
	r.URL.RawQuery = "page=2&sort=name&api_key=" + key + "&x=%41"
	got := allocsPerRequest(t, benchEngine(g.Handler()), r, http.StatusOK)
	bare := allocsPerRequest(t, benchEngine(), benchRequest("", ""), http.StatusOK)
	if got > bare+3 {
		t.Errorf("%v allocations per request with the key in the query, want at most %v", got, bare+3)
	}
}
