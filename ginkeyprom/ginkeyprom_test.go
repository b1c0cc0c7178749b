package ginkeyprom_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/ginkeyprom"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
	"github.com/ginkey/ginkey/internal/testkit/promcheck"
	"github.com/ginkey/ginkey/observe"
)

var bg = context.Background()

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// testGuard is a guard on a store whose every operation fails while the
// test says so, with metrics registered on its own registry, a gin engine
// serving /r (Handler), /scoped (Require("s:x")) and /metrics, and that
// engine on a real HTTP server.
type testGuard struct {
	*guardtest.H
	store *testkit.FailingStore
	srv   *httptest.Server
}

func newTestGuard(t *testing.T, mod func(*ginkey.Config)) *testGuard {
	t.Helper()
	store := guardtest.FailingStore(t)
	metrics := ginkeyprom.New()
	h := guardtest.New(t, func(c *ginkey.Config) {
		c.Store, c.FlushInterval, c.Observers = store, time.Hour, []observe.Observer{metrics}
		if mod != nil {
			mod(c)
		}
	})
	reg := prometheus.NewRegistry()
	if err := reg.Register(metrics.Watch(h.Guard)); err != nil {
		t.Fatal(err)
	}
	h.Route(http.MethodGet, "/r", h.Guard.Handler())
	h.Route(http.MethodGet, "/scoped", h.Guard.Require("s:x"))
	h.Engine.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	srv := httptest.NewServer(h.Engine)
	t.Cleanup(srv.Close)
	return &testGuard{H: h, store: store, srv: srv}
}

// hit sends GET path with key from remote through the engine.
func (tg *testGuard) hit(path, remote, key string) int {
	tg.T.Helper()
	return tg.Get(remote, path, key).Code
}

// scrape reads /metrics over HTTP and parses the text format.
func (tg *testGuard) scrape(t *testing.T) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	return scrapeURL(t, tg.srv.URL+"/metrics")
}

func scrapeURL(t *testing.T, url string) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(bg, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return promcheck.Parse(t, body.String()), body.String()
}

func TestEveryOutcomeIsScrapedWithExactCountsAndBoundedLabels(t *testing.T) {
	t.Parallel()
	clk := testkit.NewClock()
	tg := newTestGuard(t, func(c *ginkey.Config) { c.Now, c.FailureLimit = clk.Now, 3 })
	g := tg.Guard

	// Before any traffic every known series is there, at zero.
	fams, _ := tg.scrape(t)
	for _, o := range observe.VerificationOutcomes() {
		if v := promcheck.Value(fams, "ginkey_verifications_total", "outcome="+o); v != 0 {
			t.Errorf("before traffic, verifications{%s} = %v, want 0", o, v)
		}
	}
	if v := promcheck.Value(fams, "ginkey_admin_actions_total", "action=rotate", "outcome=unavailable"); v != 0 {
		t.Errorf("before traffic, admin_actions{rotate,unavailable} = %v, want 0", v)
	}

	soon := clk.Now().Add(time.Hour)
	k := guardtest.CreateKey(t, g, ginkey.KeySpec{
		Name: "limited", Scopes: []string{"a:b"}, RateLimit: &ginkey.RateLimit{Requests: 3, Per: ginkey.PerMinute},
		Quota: &ginkey.Quota{Requests: 4, Per: ginkey.PerDay}, AllowedIPs: []string{"192.0.2.0/24"}, ExpiresAt: &soon,
	})
	plain := guardtest.CreateKey(t, g, ginkey.KeySpec{Name: "plain", NeverExpires: true})
	gone := guardtest.CreateKey(t, g, ginkey.KeySpec{Name: "deleted"}) // well-formed, then unknown
	if err := g.DeleteKey(bg, gone.ID); err != nil {
		t.Fatal(err)
	}
	in, out := "192.0.2.7:1000", "198.51.100.7:1000"
	want := map[string]float64{}
	step := func(path, remote, key string, status int, outcome string) {
		t.Helper()
		if got := tg.hit(path, remote, key); got != status {
			t.Fatalf("%s from %s: %d, want %d (%s)", path, remote, got, status, outcome)
		}
		want[outcome]++
	}
	step("/r", in, k.Secret, 200, "valid")
	step("/r", in, k.Secret, 200, "valid")
	step("/r", out, k.Secret, 403, "ip_not_allowed")
	step("/scoped", in, k.Secret, 403, "insufficient_scope")
	step("/r", in, k.Secret, 200, "valid") // the third of 3 a minute
	step("/r", in, k.Secret, 429, "rate_limited")
	clk.Advance(time.Minute)
	step("/r", in, k.Secret, 200, "valid") // the fourth of 4 a day
	clk.Advance(time.Minute)
	step("/r", in, k.Secret, 429, "quota_exceeded")
	clk.Advance(time.Hour) // past expires_at
	step("/r", in, k.Secret, 401, "expired")
	if _, err := g.RenewKey(bg, k.ID, ginkey.Renewal{NeverExpires: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.RevokeKey(bg, k.ID); err != nil {
		t.Fatal(err)
	}
	step("/r", in, k.Secret, 401, "revoked")
	step("/r", in, "", 401, "key_missing")
	step("/r", in, "gk_nope", 401, "key_invalid")
	for range 3 { // the throttle allows 3 unknown keys a minute
		step("/r", "203.0.113.9:1", gone.Secret, 401, "key_invalid")
	}
	step("/r", "203.0.113.9:1", gone.Secret, 429, "too_many_failures")
	step("/r", in, plain.Secret, 200, "valid")

	// More admin actions, each outcome known.
	if _, err := g.RenewKey(bg, k.ID, ginkey.Renewal{}); err == nil { // revoked: final
		t.Fatal("renewed a revoked key")
	}
	if err := g.DeleteKey(bg, gone.ID); !errors.Is(err, ginkey.ErrNotFound) {
		t.Fatalf("deleting a deleted key: %v", err)
	}
	if _, err := g.CreateKey(bg, ginkey.KeySpec{Scopes: []string{"bad scope"}}); err == nil {
		t.Fatal("created a key with a bad scope")
	}
	rotated, err := g.RotateKey(bg, plain.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.UpdateKey(bg, plain.ID, ginkey.KeyUpdate{Name: ptr("renamed")}); err == nil {
		t.Fatal("updated a rotated key")
	}

	// A flush that works, then the store goes down: a flush and a lookup
	// fail, and so does an admin action.
	if err := g.Flush(bg); err != nil {
		t.Fatal(err)
	}
	step("/r", in, rotated.Secret, 200, "valid") // pending: 1
	tg.store.Fail()
	if err := g.Flush(bg); err == nil {
		t.Fatal("a flush to a store that is down succeeded")
	}
	other := mustCreateWhileUp(t, tg)
	step("/r", "192.0.2.200:1", other, 503, "unavailable")
	if _, err := g.RevokeKey(bg, rotated.ID); err == nil {
		t.Fatal("revoked a key in a store that is down")
	}
	tg.store.Heal()

	fams, text := tg.scrape(t)
	for _, o := range observe.VerificationOutcomes() {
		if got := promcheck.Value(fams, "ginkey_verifications_total", "outcome="+o); got != want[o] {
			t.Errorf("ginkey_verifications_total{outcome=%q} = %v, want %v", o, got, want[o])
		}
	}
	for _, c := range []struct {
		action, outcome string
		n               float64
	}{
		{"create", "ok", 4}, {"create", "bad_request", 1}, {"renew", "ok", 1}, {"renew", "key_revoked", 1},
		{"revoke", "ok", 1}, {"revoke", "unavailable", 1}, {"delete", "ok", 2}, {"delete", "not_found", 1},
		{"rotate", "ok", 1}, {"update", "key_rotated", 1}, {"update", "ok", 0},
	} {
		if got := promcheck.Value(fams, "ginkey_admin_actions_total", "action="+c.action, "outcome="+c.outcome); got != c.n {
			t.Errorf("ginkey_admin_actions_total{action=%q,outcome=%q} = %v, want %v", c.action, c.outcome, got, c.n)
		}
	}
	var admin float64
	for _, m := range fams["ginkey_admin_actions_total"].GetMetric() {
		admin += m.GetCounter().GetValue()
	}
	if admin != 14 {
		t.Errorf("%v admin actions in all, want 14", admin)
	}
	for op, n := range map[string]float64{"create": 5, "renew": 2, "revoke": 2, "delete": 3, "rotate": 1, "update": 1, "flush": 2} {
		if got := promcheck.Value(fams, "ginkey_store_seconds", "op="+op); got != n {
			t.Errorf("ginkey_store_seconds{op=%q} count = %v, want %v", op, got, n)
		}
	}
	st := g.Stats()
	for result, n := range map[string]uint64{"hit": st.CacheHits, "miss": st.CacheMisses, "negative": st.CacheNegative} {
		if got := promcheck.Value(fams, "ginkey_cache_lookups_total", "result="+result); got != float64(n) {
			t.Errorf("ginkey_cache_lookups_total{result=%q} = %v, Stats says %d", result, got, n)
		}
	}
	if got := promcheck.Value(fams, "ginkey_store_seconds", "op=lookup"); got < 1 || got > float64(st.CacheMisses) {
		t.Errorf("ginkey_store_seconds{op=lookup} count = %v, with %d cache misses", got, st.CacheMisses)
	}
	if got := promcheck.Value(fams, "ginkey_usage_flush_errors_total"); got != 1 {
		t.Errorf("ginkey_usage_flush_errors_total = %v, want 1", got)
	}
	if got := promcheck.Value(fams, "ginkey_usage_flush_pending"); got != 1 {
		t.Errorf("ginkey_usage_flush_pending = %v, want 1", got)
	}
	promcheck.CheckLabels(t, fams, text, k.ID, k.Prefix, k.Secret, plain.ID, plain.Prefix, plain.Secret,
		gone.ID, gone.Secret, rotated.ID, rotated.Secret, other, "192.0.2", "198.51.100", "203.0.113", "127.0.0.1", testkit.AdminSecret)
}

// mustCreateWhileUp makes a key, deletes it, and returns it: a well-formed
// key the store does not know, whatever the store's state when it is used.
func mustCreateWhileUp(t *testing.T, tg *testGuard) string {
	t.Helper()
	tg.store.Heal()
	defer tg.store.Fail()
	k := guardtest.CreateKey(t, tg.Guard, ginkey.KeySpec{Name: "unknown"})
	if err := tg.Guard.DeleteKey(bg, k.ID); err != nil {
		t.Fatal(err)
	}
	return k.Secret
}

func ptr[T any](v T) *T { return &v }

func TestCacheLookupsStoreTimesAndPendingUsageAreScraped(t *testing.T) {
	t.Parallel()
	tg := newTestGuard(t, nil)
	k := guardtest.CreateKey(t, tg.Guard, ginkey.KeySpec{Name: "cached"})
	for range 3 {
		if got := tg.hit("/r", "192.0.2.1:1", k.Secret); got != 200 {
			t.Fatalf("a valid key: %d", got)
		}
	}
	gone := guardtest.CreateKey(t, tg.Guard, ginkey.KeySpec{Name: "gone"})
	if err := tg.Guard.DeleteKey(bg, gone.ID); err != nil {
		t.Fatal(err)
	}
	tg.hit("/r", "192.0.2.1:1", gone.Secret) // read from the store: unknown
	tg.hit("/r", "192.0.2.1:1", gone.Secret) // refused from memory
	fams, text := tg.scrape(t)
	for _, c := range []struct {
		name  string
		label []string
		want  float64
	}{
		{"ginkey_cache_lookups_total", []string{"result=hit"}, 2},
		{"ginkey_cache_lookups_total", []string{"result=miss"}, 2},
		{"ginkey_cache_lookups_total", []string{"result=negative"}, 1},
		{"ginkey_cache_keys", nil, 1},
		{"ginkey_usage_flush_pending", nil, 3},
		{"ginkey_usage_flush_errors_total", nil, 0},
		{"ginkey_store_seconds", []string{"op=lookup"}, 2},
		{"ginkey_store_seconds", []string{"op=flush"}, 0},
		{"ginkey_verifications_total", []string{"outcome=valid"}, 3},
		{"ginkey_verifications_total", []string{"outcome=key_invalid"}, 2},
	} {
		if got := promcheck.Value(fams, c.name, c.label...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.label, got, c.want)
		}
	}
	promcheck.CheckLabels(t, fams, text, k.ID, k.Prefix, k.Secret, gone.ID, gone.Secret)
	if err := tg.Guard.Flush(bg); err != nil {
		t.Fatal(err)
	}
	fams, _ = tg.scrape(t)
	if got := promcheck.Value(fams, "ginkey_usage_flush_pending"); got != 0 {
		t.Errorf("after a flush, ginkey_usage_flush_pending = %v", got)
	}
	if got := promcheck.Value(fams, "ginkey_store_seconds", "op=flush"); got != 1 {
		t.Errorf("after a flush, ginkey_store_seconds{op=flush} count = %v", got)
	}
}

func TestUnknownOperationsAndOutcomesAreCountedAsOther(t *testing.T) {
	t.Parallel()
	m := ginkeyprom.New(ginkeyprom.WithConstLabels(prometheus.Labels{"guard": "partners"}), ginkeyprom.WithBuckets(0.001, 1))
	_, end := m.Admin(bg, "frobnicate")
	end("some_custom_code")
	_, end = m.Admin(bg, "create")
	end("another_code")
	_, end = m.Store(bg, "scan")
	end("ok")
	_, end = m.Store(bg, "notify") // a change announced to the other instances
	end("ok")
	reg := prometheus.NewRegistry()
	if err := reg.Register(m); err != nil { // not watching a guard: store times and admin actions only
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	if len(byName) != 2 {
		t.Errorf("without a guard, %d families, want 2", len(byName))
	}
	if got := promcheck.Value(byName, "ginkey_admin_actions_total", "action=other", "guard=partners", "outcome=other"); got != 1 {
		t.Errorf("admin_actions{other,other} = %v, want 1", got)
	}
	if got := promcheck.Value(byName, "ginkey_admin_actions_total", "action=create", "guard=partners", "outcome=other"); got != 1 {
		t.Errorf("admin_actions{create,other} = %v, want 1", got)
	}
	if got := promcheck.Value(byName, "ginkey_store_seconds", "guard=partners", "op=other"); got != 2 {
		t.Errorf("store_seconds{op=other} count = %v, want 2 (the unknown action and the unknown store op)", got)
	}
	if got := promcheck.Value(byName, "ginkey_store_seconds", "guard=partners", "op=notify"); got != 1 {
		t.Errorf("store_seconds{op=notify} count = %v, want 1", got)
	}
	h := byName["ginkey_store_seconds"].GetMetric()[0].GetHistogram()
	if len(h.GetBucket()) != 2 {
		t.Errorf("WithBuckets(0.001, 1): %d buckets", len(h.GetBucket()))
	}
}

func TestScrapesDuringTrafficRiseMonotonicallyToTheExactTotal(t *testing.T) {
	t.Parallel()
	tg := newTestGuard(t, nil)
	k := guardtest.CreateKey(t, tg.Guard, ginkey.KeySpec{Name: "busy"})
	const clients, each = 4, 200
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for range each {
				if got := tg.hit("/r", fmt.Sprintf("192.0.2.%d:1", i+1), k.Secret); got != 200 {
					t.Errorf("a valid key: %d", got)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	last := 0.0
	for scraping := true; scraping; {
		select {
		case <-done:
			scraping = false
		default:
		}
		fams, _ := tg.scrape(t)
		v := promcheck.Value(fams, "ginkey_verifications_total", "outcome=valid")
		if v < last {
			t.Fatalf("valid went down from %v to %v between scrapes", last, v)
		}
		last = v
	}
	if last != clients*each {
		t.Fatalf("the last scrape has %v valid, want %d", last, clients*each)
	}
}

// What the guard decides without its store or its limiter is scraped on
// series of its own, not only as "valid": requests served on a stale
// record, requests let through unchecked by a limiter that is down, and
// which dependencies are down now.
func TestDecisionsWithoutTheStoreOrTheLimiterAreScraped(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock()
	tg := newTestGuard(t, func(c *ginkey.Config) { c.Limiter, c.Now = guardtest.DownLimiter{}, clock.Now })
	k := guardtest.CreateKey(t, tg.Guard, ginkey.KeySpec{RateLimit: &ginkey.RateLimit{Requests: 9, Per: ginkey.PerMinute}})
	fams, _ := tg.scrape(t)
	for _, d := range observe.DegradedDecisions() {
		if got := promcheck.Value(fams, "ginkey_degraded_decisions_total", "decision="+d); got != 0 {
			t.Errorf("before any outage, %s = %v, want 0", d, got)
		}
	}
	for _, d := range observe.Dependencies() {
		if got := promcheck.Value(fams, "ginkey_dependency_down", "dependency="+d); got != 0 {
			t.Errorf("before any outage, down{%s} = %v, want 0", d, got)
		}
	}
	if got := tg.hit("/r", "192.0.2.1:1", k.Secret); got != 200 { // the limiter fails: let through
		t.Fatalf("limiter down: %d", got)
	}
	clock.Advance(time.Minute) // the cached record is stale, the limiter due for a probe
	tg.store.Fail()
	if got := tg.hit("/r", "192.0.2.1:1", k.Secret); got != 200 { // served on its stale record
		t.Fatalf("store down: %d", got)
	}
	fams, text := tg.scrape(t)
	for _, c := range []struct {
		name, label string
		want        float64
	}{
		{"ginkey_degraded_decisions_total", "decision=served_stale", 1},
		{"ginkey_degraded_decisions_total", "decision=limits_fail_open", 2},
		{"ginkey_degraded_decisions_total", "decision=limits_fail_closed", 0},
		{"ginkey_degraded_decisions_total", "decision=throttle_local", 0},
		{"ginkey_dependency_down", "dependency=store", 1},
		{"ginkey_dependency_down", "dependency=rate_limiter", 1},
		{"ginkey_dependency_down", "dependency=quota_counter", 0},
		{"ginkey_dependency_down", "dependency=failure_counter", 0},
		{"ginkey_verifications_total", "outcome=valid", 2},
	} {
		if got := promcheck.Value(fams, c.name, c.label); got != c.want {
			t.Errorf("%s{%s} = %v, want %v", c.name, c.label, got, c.want)
		}
	}
	promcheck.CheckLabels(t, fams, text, k.ID, k.Prefix, k.Secret)
	tg.store.Heal() // Close flushes
}
