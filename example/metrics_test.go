package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit/promcheck"
	"github.com/ginkey/ginkey/observe"

	dto "github.com/prometheus/client_model/go"
)

// scrapeMetrics reads GET /metrics and parses Prometheus' text format.
func scrapeMetrics(t *testing.T, c *http.Client, base string) (map[string]*dto.MetricFamily, []byte) {
	t.Helper()
	status, body, err := call(c, http.MethodGet, base+"/metrics", "", "", "")
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", status, err)
	}
	return promcheck.Parse(t, string(body)), body
}

// TestMetricsEndpointCountsAMixedWorkloadExactly drives the example binary
// through every outcome a client can cause from one address, and reads the
// counts back from a real scrape of /metrics. (unavailable needs a store
// that fails: ginkeyprom's tests produce it through a real gin engine.)
func TestMetricsEndpointCountsAMixedWorkloadExactly(t *testing.T) {
	dir := t.TempDir()
	e := startExample(t, filepath.Join(dir, "keys.db"), freePort(t), filepath.Join(dir, "example.log"))
	c := &http.Client{Timeout: 10 * time.Second}

	fams, _ := scrapeMetrics(t, c, e.base)
	for _, o := range observe.VerificationOutcomes() {
		if v := promcheck.Value(fams, "ginkey_verifications_total", "outcome="+o); v != 0 {
			t.Errorf("before any request, verifications{%s} = %v, want 0", o, v)
		}
	}

	var secrets []string // every key, id and prefix made
	admin := map[string]float64{}
	create := func(body string, wantStatus int) (id, key string) {
		t.Helper()
		status, b, err := call(c, http.MethodPost, e.base+"/auth/keys", "X-Admin-Secret", testSecret, body)
		if err != nil || status != wantStatus {
			t.Fatalf("create %s: %d %v %s", body, status, err, b)
		}
		if status != http.StatusCreated {
			admin["create "+errorCode(b)]++
			return "", ""
		}
		admin["create ok"]++
		var k struct{ ID, Prefix, Key string }
		if err := json.Unmarshal(b, &k); err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, k.ID, k.Prefix, k.Key)
		return k.ID, k.Key
	}
	adminCall := func(method, path, action string, wantStatus int) {
		t.Helper()
		status, b, err := call(c, method, e.base+"/auth"+path, "X-Admin-Secret", testSecret, "")
		if err != nil || status != wantStatus {
			t.Fatalf("%s %s: %d %v %s", method, path, status, err, b)
		}
		out := "ok"
		if status >= 300 {
			out = errorCode(b)
		}
		admin[action+" "+out]++
	}
	verified := map[string]float64{}
	withKey := 0 // requests with a well-formed key: each is one cache lookup
	use := func(method, path, key string, wantStatus int, outcome string) {
		t.Helper()
		header := "X-API-Key"
		if key == "" {
			header = ""
		}
		body := ""
		if method == http.MethodPost {
			body = `{"name":"widget"}`
		}
		status, b, err := call(c, method, e.base+path, header, key, body)
		if err != nil || status != wantStatus {
			t.Fatalf("%s %s: %d %v %s, want %d (%s)", method, path, status, err, b, wantStatus, outcome)
		}
		verified[outcome]++
		if strings.HasPrefix(key, "gk_") && len(key) > 20 {
			withKey++
		}
	}

	expiresAt := time.Now().Add(1500 * time.Millisecond)
	_, expiring := create(fmt.Sprintf(`{"name":"expiring","expires_at":%q}`, expiresAt.UTC().Format(time.RFC3339Nano)), 201)
	plainID, plain := create(`{"name":"plain"}`, 201)
	_, reader := create(`{"name":"reader","scopes":["items:read"]}`, 201)
	_, limited := create(`{"name":"limited","rate_limit":{"requests":1,"per":"1h"}}`, 201)
	_, quota := create(`{"name":"quota","quota":{"requests":1,"per":"day"}}`, 201)
	_, elsewhere := create(`{"name":"elsewhere","allowed_ips":["10.0.0.0/8"]}`, 201)
	create(`{"name":"bad","scopes":["not a scope"]}`, 400)
	goneID, gone := create(`{"name":"gone"}`, 201)
	adminCall(http.MethodDelete, "/keys/"+goneID, "delete", 204)
	adminCall(http.MethodDelete, "/keys/"+goneID, "delete", 404)

	for range 3 {
		use(http.MethodGet, "/secure", plain, 200, "valid")
	}
	use(http.MethodGet, "/secure", "", 401, "key_missing")
	use(http.MethodGet, "/secure", "gk_nope", 401, "key_invalid")
	use(http.MethodGet, "/items", reader, 200, "valid")
	use(http.MethodPost, "/items", reader, 403, "insufficient_scope")
	use(http.MethodGet, "/secure", limited, 200, "valid")
	use(http.MethodGet, "/secure", limited, 429, "rate_limited")
	use(http.MethodGet, "/secure", quota, 200, "valid")
	use(http.MethodGet, "/secure", quota, 429, "quota_exceeded")
	use(http.MethodGet, "/secure", elsewhere, 403, "ip_not_allowed")
	adminCall(http.MethodPost, "/keys/"+plainID+"/revoke", "revoke", 200)
	use(http.MethodGet, "/secure", plain, 401, "revoked")
	adminCall(http.MethodPost, "/keys/"+plainID+"/renew", "renew", 409) // revocation is final
	time.Sleep(time.Until(expiresAt.Add(100 * time.Millisecond)))
	use(http.MethodGet, "/secure", expiring, 401, "expired")
	// Last, as it locks 127.0.0.1 out of keys not in the cache: the
	// throttle allows 30 unknown keys a minute (Config.FailureLimit's
	// default, which the example leaves unset).
	const failureLimit = 30
	for range failureLimit {
		use(http.MethodGet, "/secure", gone, 401, "key_invalid")
	}
	use(http.MethodGet, "/secure", gone, 429, "too_many_failures")

	fams, text := scrapeMetrics(t, c, e.base)
	for _, o := range observe.VerificationOutcomes() {
		if got := promcheck.Value(fams, "ginkey_verifications_total", "outcome="+o); got != verified[o] {
			t.Errorf("ginkey_verifications_total{outcome=%q} = %v, want %v", o, got, verified[o])
		}
	}
	var adminTotal, wantAdminTotal float64
	for _, m := range fams["ginkey_admin_actions_total"].GetMetric() {
		adminTotal += m.GetCounter().GetValue()
	}
	for ao, n := range admin {
		action, out, _ := strings.Cut(ao, " ")
		wantAdminTotal += n
		if got := promcheck.Value(fams, "ginkey_admin_actions_total", "action="+action, "outcome="+out); got != n {
			t.Errorf("ginkey_admin_actions_total{action=%q,outcome=%q} = %v, want %v", action, out, got, n)
		}
	}
	if adminTotal != wantAdminTotal {
		t.Errorf("%v admin actions in all, want %v (%v)", adminTotal, wantAdminTotal, admin)
	}
	var lookups float64
	for _, r := range []string{"hit", "miss", "negative"} {
		lookups += promcheck.Value(fams, "ginkey_cache_lookups_total", "result="+r)
	}
	// The deleted key: read from the store once, then refused from memory.
	if neg := promcheck.Value(fams, "ginkey_cache_lookups_total", "result=negative"); lookups != float64(withKey) || neg != failureLimit {
		t.Errorf("cache lookups: %v in all (want %d), %v negative (want %d)", lookups, withKey, neg, failureLimit)
	}
	if got := promcheck.Value(fams, "ginkey_usage_flush_errors_total"); got != 0 {
		t.Errorf("ginkey_usage_flush_errors_total = %v", got)
	}
	if got := promcheck.Value(fams, "ginkey_store_seconds", "op=create"); got != admin["create ok"]+admin["create bad_request"] {
		t.Errorf("ginkey_store_seconds{op=create} count = %v", got)
	}
	if got := promcheck.Value(fams, "ginkey_store_seconds", "op=lookup"); got < 1 {
		t.Errorf("ginkey_store_seconds{op=lookup} count = %v", got)
	}

	// Bounded labels: exactly the allowed names, and nothing a client sent
	// or a key is made of anywhere in the scrape.
	promcheck.CheckLabels(t, fams, string(text), append(secrets, testSecret, "127.0.0.1", "gk_nope")...)
	// The scrape, for the record (go test -v), without the histograms' buckets.
	var shown strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		if line := sc.Text(); !strings.Contains(line, "_bucket{") {
			shown.WriteString(line + "\n")
		}
	}
	t.Logf("GET /metrics after the workload:\n%s", shown.String())
}

// checkLoadMetrics compares the example's /metrics with what the load
// test's clients saw: every /secure request decided once, every 200
// counted as valid, every key the clients made and revoked counted.
func checkLoadMetrics(t *testing.T, c *http.Client, base string, tr *traffic, ring *keyring) {
	t.Helper()
	fams, _ := scrapeMetrics(t, c, base)
	var decided float64
	for _, m := range fams["ginkey_verifications_total"].GetMetric() {
		decided += m.GetCounter().GetValue()
	}
	var revoked float64
	for _, k := range ring.all() {
		if k.state.Load() == keyRevoked {
			revoked++
		}
	}
	for _, chk := range []struct {
		what      string
		got, want float64
	}{
		{"verifications in all", decided, float64(tr.sent[kindVerify].Load())},
		{`verifications{outcome="valid"}`, promcheck.Value(fams, "ginkey_verifications_total", "outcome=valid"), float64(tr.admitted.Load())},
		{`verifications{outcome="too_many_failures"}`, promcheck.Value(fams, "ginkey_verifications_total", "outcome=too_many_failures"), float64(tr.throttled.Load())},
		{`admin_actions{create,ok}`, promcheck.Value(fams, "ginkey_admin_actions_total", "action=create", "outcome=ok"), float64(len(ring.all()))},
		{`admin_actions{revoke,ok}`, promcheck.Value(fams, "ginkey_admin_actions_total", "action=revoke", "outcome=ok"), revoked},
	} {
		if chk.got != chk.want {
			t.Errorf("after the load, /metrics has %s = %v, the clients saw %v", chk.what, chk.got, chk.want)
		}
	}
	t.Logf("after the load, /metrics: %v verifications (%v valid), %v keys created, %v revoked",
		decided, promcheck.Value(fams, "ginkey_verifications_total", "outcome=valid"), len(ring.all()), revoked)
}
