package console_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
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
