package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
)

// TestConsoleChartOfFourWeeksEqualsTheUsageEndpointDayByDay: a key used on
// most of the last 28 days (the guard's clock set back a day at a time),
// for three outcomes in varying numbers, some days not at all. Every
// segment the detail page draws, day by day, is the usage endpoint's
// count, and no day or outcome is missing. With GINKEY_SCREENSHOTS set,
// the page's picture is the one the README shows (guides/img/console.png).
func TestConsoleChartOfFourWeeksEqualsTheUsageEndpointDayByDay(t *testing.T) {
	execPath := chromium(t)
	var back atomic.Int64 // how far the guard's clock is behind
	h := guardtest.NewRouted(t, func(c *ginkey.Config) {
		c.Now = func() time.Time { return time.Now().Add(-time.Duration(back.Load())) }
	}, newRouter)
	srv := httptest.NewServer(h.Engine)
	t.Cleanup(srv.Close)
	base := srv.URL + "/console"

	const days = 28
	day := 24 * time.Hour
	back.Store(int64(days * day))
	k := guardtest.CreateKey(t, h.Guard, ginkey.KeySpec{
		Name: "billing service", Owner: "team-payments", Scopes: []string{"items:read"}, NeverExpires: true,
		RateLimit: &ginkey.RateLimit{Requests: 12, Per: "1m"}, Metadata: map[string]any{"env": "production"},
	})
	made := map[string]map[string]int64{}
	for i := days - 1; i >= 0; i-- {
		if i%5 == 3 {
			continue // a day without requests
		}
		back.Store(int64(time.Duration(i) * day))
		get := 3 + (i*5)%9
		if i%6 == 0 {
			get = 15 // past the 12 a minute: 3 refused
		}
		var calls []string
		for range get {
			calls = append(calls, http.MethodGet)
		}
		for range i % 4 {
			calls = append(calls, http.MethodPost) // needs items:write
		}
		d := time.Now().Add(-time.Duration(i) * day).UTC().Format(time.DateOnly)
		made[d] = map[string]int64{}
		for _, m := range calls {
			made[d][callItems(t, srv, m, k.Secret)]++
		}
	}
	back.Store(0)

	api := usageByDay(t, srv, k.ID)
	if !maps.EqualFunc(api, made, maps.Equal) {
		t.Fatalf("the usage endpoint %v, the requests made %v", api, made)
	}
	u := browser(t, execPath)
	net := u.blockForeign(srv.URL)
	u.signIn(base)
	u.run("open the key's page", chromedp.EmulateViewport(1280, 860), chromedp.Navigate(base+"/keys/"+k.ID), chromedp.WaitVisible(chromedp.CSS(`figure#usage-chart svg`)))
	drawn := u.chartByDay()
	if !maps.EqualFunc(drawn, api, maps.Equal) {
		t.Errorf("the chart draws %v, the usage endpoint says %v", drawn, api)
	}
	t.Logf("%d days drawn, %d segments", len(drawn), u.count(`figure#usage-chart svg rect.seg`))
	u.run("top of the page", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	u.shot("console", chromedp.CaptureScreenshot())
	net.check(t)
}

// callItems calls the example's guarded routes with key and returns the
// outcome as the usage counts name it: "valid" for a 2xx answer, else the
// error's code.
func callItems(t *testing.T, srv *httptest.Server, method, key string) string {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/items", strings.NewReader(`{"name":"walk"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-API-Key", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 300 {
		return "valid"
	}
	var body struct{ Error struct{ Code string } }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error.Code == "" {
		t.Fatalf("%s /items: %d without an error code (%v)", method, resp.StatusCode, err)
	}
	return body.Error.Code
}

// usageByDay is the admin API's count of the key's verifications per UTC
// day of the last 30, by outcome, the zero ones left out.
func usageByDay(t *testing.T, srv *httptest.Server, id string) map[string]map[string]int64 {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/auth/keys/"+id+"/usage?days=30", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Admin-Secret", testSecret)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Daily []struct {
			Date     string           `json:"date"`
			Outcomes map[string]int64 `json:"outcomes"`
		} `json:"daily"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /auth/keys/%s/usage: %d %v", id, resp.StatusCode, err)
	}
	out := map[string]map[string]int64{}
	for _, d := range r.Daily {
		for k, v := range d.Outcomes {
			if v > 0 {
				if out[d.Date] == nil {
					out[d.Date] = map[string]int64{}
				}
				out[d.Date][k] = v
			}
		}
	}
	return out
}

// chartSegment is one drawn segment of the detail page's chart.
type chartSegment struct {
	Day     string `json:"day"`
	Outcome string `json:"outcome"`
	Count   int64  `json:"count"`
}

// chartByDay reads the detail page's chart: its segments by day and outcome.
func (u *ui) chartByDay() map[string]map[string]int64 {
	u.t.Helper()
	var segs []chartSegment
	u.run("read the chart", chromedp.WaitVisible(chromedp.CSS(`figure#usage-chart svg`)),
		into(chromedp.Evaluate[[]chartSegment](`Array.from(document.querySelectorAll("figure#usage-chart svg rect.seg")).map(r => ({day: r.dataset.day, outcome: r.dataset.outcome, count: Number(r.dataset.count)}))`), &segs))
	out := map[string]map[string]int64{}
	for _, s := range segs {
		if s.Count <= 0 {
			u.t.Errorf("a drawn segment with count %d: %+v", s.Count, s)
		}
		if out[s.Day] == nil {
			out[s.Day] = map[string]int64{}
		}
		out[s.Day][s.Outcome] += s.Count
	}
	return out
}
