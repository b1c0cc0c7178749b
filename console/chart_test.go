package console_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/console"
)

var segRect = regexp.MustCompile(`<rect class="seg"[^>]* data-day="([0-9-]{10})" data-outcome="([a-z_]+)" data-count="([0-9]+)"`)

// TestChartSegmentsEqualKeyUsage makes requests that end in several
// outcomes, and compares every drawn segment with KeyUsage's numbers, and
// KeyUsage's non-zero numbers with the segments.
func TestChartSegmentsEqualKeyUsage(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	ctx := context.Background()
	k := createKey(t, e, ginkey.KeySpec{Name: "busy", Scopes: []string{"items:read"}, AllowedIPs: []string{"192.0.2.0/24"},
		RateLimit: &ginkey.RateLimit{Requests: 5, Per: ginkey.PerHour}})
	other := createKey(t, e, ginkey.KeySpec{Name: "narrow", Scopes: []string{"other"}})
	key := map[string]string{"X-API-Key": k.Secret}
	for range 3 {
		mustStatus(t, e.do(http.MethodGet, "/api/items", nil, key), http.StatusOK)
	}
	for range 2 {
		mustStatus(t, e.do(http.MethodGet, "/api/open", nil, key), http.StatusOK)
	}
	for range 4 { // past the rate limit of 5
		mustStatus(t, e.do(http.MethodGet, "/api/items", nil, key), http.StatusTooManyRequests)
	}
	narrow := map[string]string{"X-API-Key": other.Secret}
	for range 2 {
		mustStatus(t, e.do(http.MethodGet, "/api/items", nil, narrow), http.StatusForbidden)
	}
	if err := e.guard.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{k.ID, other.ID} {
		rep, err := e.guard.KeyUsage(ctx, id, 30)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{}
		for _, d := range rep.Daily {
			for _, code := range []string{"valid", "expired", "revoked", "insufficient_scope", "ip_not_allowed", "rate_limited", "quota_exceeded"} {
				if n := d.Outcomes.Count(code); n > 0 {
					want[d.Date+" "+code] = n
				}
			}
		}
		body := e.get("/console/keys/" + id).Body.String()
		got := map[string]int64{}
		for _, m := range segRect.FindAllStringSubmatch(body, -1) {
			n, _ := strconv.ParseInt(m[3], 10, 64)
			got[m[1]+" "+m[2]] = n
		}
		if len(got) != len(want) {
			t.Errorf("key %s: segments %v, KeyUsage %v", id, got, want)
		}
		for seg, n := range want {
			if got[seg] != n {
				t.Errorf("key %s: segment %s = %d, KeyUsage %d", id, seg, got[seg], n)
			}
			cell := regexp.MustCompile(`<tr data-day="` + seg[:10] + `">.*?<td class="num" data-outcome="` + seg[11:] + `">([0-9]+)</td>`)
			if m := cell.FindStringSubmatch(body); m == nil || m[1] != strconv.FormatInt(n, 10) {
				t.Errorf("key %s: table cell %s = %v, KeyUsage %d", id, seg, m, n)
			}
		}
	}
	today := time.Now().UTC().Format(time.DateOnly)
	body := e.get("/console/keys/" + k.ID).Body.String()
	for seg, want := range map[string]string{"valid": "5", "rate_limited": "4"} {
		if !regexp.MustCompile(`data-day="` + today + `" data-outcome="` + seg + `" data-count="` + want + `"`).MatchString(body) {
			t.Errorf("today's %s segment is not %s", seg, want)
		}
	}
	body = e.get("/console/keys/" + other.ID).Body.String()
	if !regexp.MustCompile(`data-day="` + today + `" data-outcome="insufficient_scope" data-count="2"`).MatchString(body) {
		t.Error("the narrow key's insufficient_scope segment is not 2")
	}
	// The top keys: by requests the busy key, by refusals both.
	top := e.get("/console/usage").Body.String()
	for _, want := range []string{`<table id="top-requests">`, `<table id="top-refusals">`, `data-key-id="` + k.ID + `"`, `data-key-id="` + other.ID + `"`} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(top) {
			t.Errorf("usage page lacks %s", want)
		}
	}
}

// TestChartOverThirtyDaysAndFirstLoadSize fills every day of the chart
// with four outcomes (on a clock moved a day at a time), checks every
// segment against KeyUsage, and measures the detail page's first load:
// the page, the stylesheet and the script.
func TestChartOverThirtyDaysAndFirstLoadSize(t *testing.T) {
	var mu sync.Mutex
	now := time.Now().UTC().Add(-29 * 24 * time.Hour)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	e := newEnv(t, ginkey.Config{Now: clock}, console.Options{Now: clock})
	e.signIn()
	k := createKey(t, e, ginkey.KeySpec{Name: "daily", Scopes: []string{"items:read"}, NeverExpires: true,
		RateLimit: &ginkey.RateLimit{Requests: 3, Per: ginkey.PerHour}})
	key := map[string]string{"X-API-Key": k.Secret}
	for day := range 30 {
		for range 2 + day%3 { // 2-4 admitted, the rest rate limited
			e.do(http.MethodGet, "/api/items", nil, key)
		}
		e.do(http.MethodGet, "/api/write", nil, key) // insufficient_scope, or rate_limited when the allowance is spent
		e.do(http.MethodGet, "/api/open", nil, key)
		mu.Lock()
		now = now.Add(24 * time.Hour)
		mu.Unlock()
	}
	mu.Lock()
	now = now.Add(-24 * time.Hour) // back to the last day made
	mu.Unlock()
	if err := e.guard.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep, err := e.guard.KeyUsage(context.Background(), k.ID, 30)
	if err != nil {
		t.Fatal(err)
	}
	e.signIn() // a month later: the first session is over
	page := e.get("/console/keys/" + k.ID)
	mustStatus(t, page, http.StatusOK)
	got := map[string]string{}
	for _, m := range segRect.FindAllStringSubmatch(page.Body.String(), -1) {
		got[m[1]+" "+m[2]] = m[3]
	}
	want := 0
	for _, d := range rep.Daily {
		for _, code := range []string{"valid", "insufficient_scope", "rate_limited"} {
			if n := d.Outcomes.Count(code); n > 0 {
				want++
				if got[d.Date+" "+code] != strconv.FormatInt(n, 10) {
					t.Errorf("%s %s: drawn %q, KeyUsage %d", d.Date, code, got[d.Date+" "+code], n)
				}
			}
		}
	}
	if len(rep.Daily) != 30 || len(got) != want {
		t.Errorf("%d days in KeyUsage, %d segments drawn, %d non-zero counts", len(rep.Daily), len(got), want)
	}
	css, js := e.get("/console/assets/console.css"), e.get("/console/assets/console.js")
	total := page.Body.Len() + css.Body.Len() + js.Body.Len()
	t.Logf("first load of a key with 30 days of usage: page %d B, css %d B, js %d B, total %d B", page.Body.Len(), css.Body.Len(), js.Body.Len(), total)
	if total > 150_000 {
		t.Errorf("first load %d B, over 150 KB", total)
	}
}
