package ginkey

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
	"github.com/ginkey/ginkey/observe"
)

// outcomeEngine serves /r behind Handler and /scoped behind Require("s:x").
func outcomeEngine(g *Guard) *gin.Engine {
	r := gin.New()
	g.RegisterAdmin(r.Group("/auth"))
	ok := func(c *gin.Context) { c.String(http.StatusOK, "ok") }
	r.GET("/r", g.Handler(), ok)
	r.GET("/scoped", g.Require("s:x"), ok)
	return r
}

func hit(r *gin.Engine, path, remote, key string) int {
	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
	req.RemoteAddr = remote
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w.Code
}

func TestEveryOutcomeIsCountedPerKeyAndPerGuard(t *testing.T) {
	t.Parallel()
	forEachSetup(t, func(t *testing.T, s guardSetup) {
		clock := newFakeClock()
		g := s.open(t, func(c *Config) { c.Now, c.FailureLimit = clock.Now, 3 })
		r := outcomeEngine(g)
		soon := clock.Now().Add(time.Hour)
		k := mustCreate(t, g, KeySpec{
			Scopes: []string{"a:b"}, RateLimit: &RateLimit{Requests: 3, Per: PerMinute},
			Quota: &Quota{Requests: 4, Per: PerDay}, AllowedIPs: []string{"192.0.2.0/24"}, ExpiresAt: &soon,
		})
		in, out := "192.0.2.7:1000", "198.51.100.7:1000"
		want := map[string]int{}
		step := func(path, remote, key string, status int, outcome string) {
			t.Helper()
			if got := hit(r, path, remote, key); got != status {
				t.Fatalf("%s from %s: %d, want %d (%s)", path, remote, got, status, outcome)
			}
			want[outcome]++
		}
		step("/r", in, k.Secret, 200, outcomeValid)
		step("/r", in, k.Secret, 200, outcomeValid)
		step("/r", out, k.Secret, 403, outcomeIPNotAllowed)
		step("/scoped", in, k.Secret, 403, outcomeInsufficientScope)
		step("/r", in, k.Secret, 200, outcomeValid) // the third of 3 a minute
		step("/r", in, k.Secret, 429, outcomeRateLimited)
		clock.Advance(time.Minute)
		step("/r", in, k.Secret, 200, outcomeValid) // the fourth of 4 a day
		clock.Advance(time.Minute)
		step("/r", in, k.Secret, 429, outcomeQuotaExceeded)
		clock.Advance(time.Hour) // past expires_at
		step("/r", in, k.Secret, 401, outcomeExpired)
		if _, err := g.RenewKey(bg, k.ID, Renewal{NeverExpires: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := g.RevokeKey(bg, k.ID); err != nil {
			t.Fatal(err)
		}
		step("/r", in, k.Secret, 401, outcomeRevoked)
		step("/r", in, "", 401, "key_missing")
		step("/r", in, "gk_nope", 401, "key_invalid")
		for range 3 { // unknown well-formed keys: the throttle allows 3
			other, _, _ := g.format.generate()
			step("/r", "203.0.113.9:1", other, 401, "key_invalid")
		}
		other, _, _ := g.format.generate()
		step("/r", "203.0.113.9:1", other, 429, "too_many_failures")

		// The guard's counters.
		st := g.Stats()
		for _, o := range observe.VerificationOutcomes() {
			if st.Verifications[o] != uint64(want[o]) {
				t.Errorf("Stats.Verifications[%s] = %d, want %d", o, st.Verifications[o], want[o])
			}
		}
		// The key's, through the Go API and the admin endpoints.
		u, err := g.KeyUsage(bg, k.ID, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range observe.KeyOutcomes() {
			if u.Outcomes.Count(o) != int64(want[o]) {
				t.Errorf("KeyUsage.Outcomes[%s] = %d, want %d", o, u.Outcomes.Count(o), want[o])
			}
		}
		if u.TotalRequests != 4 || len(u.Daily) != 1 || u.Daily[0].Requests != 4 || u.Daily[0].Outcomes != u.Outcomes {
			t.Errorf("usage report: %+v", u)
		}
		sum, err := usagePage(g.UsageSummary(bg, 10, 0))
		if err != nil || len(sum.Usage) != 1 {
			t.Fatalf("UsageSummary: %+v %v", sum, err)
		}
		if sum.Usage[0].Outcomes != u.Outcomes {
			t.Errorf("UsageSummary.Outcomes %+v, KeyUsage.Outcomes %+v", sum.Usage[0].Outcomes, u.Outcomes)
		}
	}, "sqlite", "postgres", "mysql") // the store without transactions keeps no usage: TestOutcomesWithoutAnOutcomeStore
}

func TestOutcomesSurviveAFlushAndARestartExactly(t *testing.T) {
	t.Parallel()
	forEachSetup(t, func(t *testing.T, s guardSetup) {
		mod := func(c *Config) { c.FlushInterval = 50 * time.Millisecond }
		g := s.open(t, mod)
		k := mustCreate(t, g, KeySpec{RateLimit: &RateLimit{Requests: 200, Per: PerSecond}})
		r := outcomeEngine(g)
		const clients = 32
		var admitted, limited, other atomic.Int64
		deadline := time.Now().Add(3 * time.Second)
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					switch hit(r, "/r", fmt.Sprintf("192.0.2.%d:1", i), k.Secret) {
					case 200:
						admitted.Add(1)
					case 429:
						limited.Add(1)
					default:
						other.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if err := g.Close(); err != nil { // the final flush
			t.Fatal(err)
		}
		g2 := s.open(t, mod) // a restart on the same database
		u, err := g2.KeyUsage(bg, k.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d admitted, %d rate limited in 3 s by %d clients", s.name, admitted.Load(), limited.Load(), clients)
		if other.Load() != 0 || limited.Load() == 0 {
			t.Fatalf("unexpected answers: %d other, %d limited", other.Load(), limited.Load())
		}
		if u.Outcomes.Valid != admitted.Load() || u.Outcomes.RateLimited != limited.Load() || u.TotalRequests != admitted.Load() {
			t.Fatalf("stored %v (total %d), client saw %d admitted and %d rate limited", u.Outcomes, u.TotalRequests, admitted.Load(), limited.Load())
		}
	}, "sqlite", "postgres")
}

func TestOutcomesWithoutAnOutcomeStore(t *testing.T) {
	t.Parallel()
	// A UsageStore that is not an OutcomeStore: valid only, refusals zero.
	s := newTestGormStore(t)
	g, err := New(Config{Store: usageOnly{s, s}, AdminSecret: testSecret, LookupEnv: testkit.NoEnv, Logger: slogDiscard()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	k := mustCreate(t, g, KeySpec{AllowedIPs: []string{"192.0.2.1"}})
	r := outcomeEngine(g)
	hit(r, "/r", "192.0.2.1:1", k.Secret)
	hit(r, "/r", "192.0.2.2:1", k.Secret)
	u, err := g.KeyUsage(bg, k.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if u.Outcomes != (Outcomes{Valid: 1}) {
		t.Fatalf("outcomes: %v", u.Outcomes)
	}
	if st := g.Stats(); st.Verifications[outcomeIPNotAllowed] != 1 {
		t.Fatalf("the guard's count: %v", st.Verifications)
	}
}

// usageOnly is a Store and a UsageStore, nothing more.
type usageOnly struct {
	keystore.Store
	keystore.UsageStore
}

func TestStatsCountCacheLookupsAndPendingUsage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.FlushInterval = time.Hour })
	k := h.createKey(`{}`)
	for range 3 {
		testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	}
	unknown, _, _ := h.Guard.format.generate()
	h.Secure(unknown)
	h.Secure(unknown)
	st := h.Guard.Stats()
	// The first use reads the store (the create left nothing cached); the
	// unknown key is read once, then refused from memory.
	if st.CacheHits != 2 || st.CacheMisses != 2 || st.CacheNegative != 1 || st.CachedKeys != 1 || st.UsagePending != 3 {
		t.Fatalf("stats: %+v", st)
	}
	if !strings.Contains(fmt.Sprint(observe.VerificationOutcomes()), "too_many_failures") {
		t.Fatal("VerificationOutcomes lacks a code")
	}
}

// recorder is an observe.Observer that notes "kind op outcome" for every operation.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) note(kind, op string) func(string) {
	return func(outcome string) {
		r.mu.Lock()
		r.events = append(r.events, kind+" "+op+" "+outcome)
		r.mu.Unlock()
	}
}

func (r *recorder) Store(ctx context.Context, op string) (context.Context, func(string)) {
	return ctx, r.note("store", op)
}

func (r *recorder) Admin(ctx context.Context, action string) (context.Context, func(string)) {
	return ctx, r.note("admin", action)
}

func (r *recorder) has(event string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.events, event)
}

func TestObserversSeeStoreCallsAndAdminActionsWithOutcomes(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := newHarness(t, func(c *Config) { c.Observers = []observe.Observer{rec, nil} })
	k := h.createKey(`{"name":"o"}`)
	testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	unknown, _, _ := h.Guard.format.generate()
	h.Secure(unknown)
	if err := h.Guard.Flush(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Guard.RotateKey(bg, k.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	_, _ = h.Guard.RenewKey(bg, k.ID, Renewal{}) // rotated: key_rotated
	_ = h.Guard.DeleteKey(bg, "NoSuchKey0123456789abc")
	for _, want := range []string{
		"admin create ok", "store lookup ok", "store lookup not_found", "store flush ok",
		"admin rotate ok", "admin renew key_rotated", "admin delete not_found",
	} {
		if !rec.has(want) {
			t.Errorf("no %q among %q", want, rec.events)
		}
	}
	audit, err := auditPage(h.Guard.Audit(bg, AuditQuery{KeyID: k.ID, Action: actionRotate}))
	if err != nil || audit.Total != 1 || audit.Entries[0].Outcome != outcomeOK {
		t.Fatalf("the rotation's audit entry: %+v %v", audit, err)
	}
}

// GET /usage and GET /keys/{id}/usage report a key's outcomes in one shape:
// an "outcomes" object holding every outcome code of observe.KeyOutcomes,
// valid included, with the same counts, beside total_requests.
func TestUsageSummaryAndKeyUsageReportOutcomesInOneShape(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{"scopes":["items:read"]}`)
	testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	if _, err := h.Guard.RevokeKey(bg, k.ID); err != nil {
		t.Fatal(err)
	}
	testkit.WantError(t, h.Secure(k.Secret), 401, "key_revoked")
	var report, summary struct {
		TotalRequests int64            `json:"total_requests"`
		Outcomes      map[string]int64 `json:"outcomes"`
	}
	testkit.Decode(t, h.Admin(http.MethodGet, "/keys/"+k.ID+"/usage", ""), &report)
	var list struct {
		Usage []json.RawMessage `json:"usage"`
	}
	testkit.Decode(t, h.Admin(http.MethodGet, "/usage", ""), &list)
	if len(list.Usage) != 1 {
		t.Fatalf("GET /usage: %d rows", len(list.Usage))
	}
	if err := json.Unmarshal(list.Usage[0], &summary); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, o := range observe.KeyOutcomes() {
		want[o] = 0
	}
	want[outcomeValid], want[outcomeRevoked] = 2, 1
	if !maps.Equal(report.Outcomes, want) || report.TotalRequests != 2 {
		t.Errorf("GET /keys/{id}/usage: total %d, outcomes %v, want %v", report.TotalRequests, report.Outcomes, want)
	}
	if !maps.Equal(summary.Outcomes, want) || summary.TotalRequests != 2 {
		t.Errorf("GET /usage: total %d, outcomes %v, want %v (row %s)", summary.TotalRequests, summary.Outcomes, want, list.Usage[0])
	}
}

// Outcomes has one JSON field per outcome code, named as observe.KeyOutcomes
// names them, and Count reads each by that name.
func TestOutcomesHasOneFieldPerKeyOutcome(t *testing.T) {
	t.Parallel()
	o := Outcomes{Valid: 1, Expired: 2, Revoked: 3, InsufficientScope: 4, IPNotAllowed: 5, RateLimited: 6, QuotaExceeded: 7}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]int64
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(m)), slices.Sorted(slices.Values(observe.KeyOutcomes()))) {
		t.Fatalf("JSON fields %s, want observe.KeyOutcomes %v", b, observe.KeyOutcomes())
	}
	for _, code := range observe.KeyOutcomes() {
		if o.Count(code) != m[code] {
			t.Errorf("Count(%q) = %d, JSON says %d", code, o.Count(code), m[code])
		}
	}
	if o.Count("key_missing") != 0 || o.Refused() != 2+3+4+5+6+7 {
		t.Errorf("Count(key_missing) %d, Refused %d", o.Count("key_missing"), o.Refused())
	}
}
