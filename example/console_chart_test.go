package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
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
	code, body, err := call(srv.Client(), method, srv.URL+"/items", "X-API-Key", key, `{"name":"walk"}`)
	if err != nil {
		t.Fatal(err)
	}
	if code < 300 {
		return "valid"
	}
	if c := errorCode(body); c != "" {
		return c
	}
	t.Fatalf("%s /items: %d without an error code: %s", method, code, body)
	return ""
}

// usageByDay is the admin API's count of the key's verifications per UTC
// day of the last 30, by outcome, the zero ones left out.
func usageByDay(t *testing.T, srv *httptest.Server, id string) map[string]map[string]int64 {
	t.Helper()
	code, body, err := call(srv.Client(), http.MethodGet, srv.URL+"/auth/keys/"+id+"/usage?days=30", "X-Admin-Secret", testSecret, "")
	var r struct {
		Daily []struct {
			Date     string           `json:"date"`
			Outcomes map[string]int64 `json:"outcomes"`
		} `json:"daily"`
	}
	if err != nil || code != http.StatusOK || json.Unmarshal(body, &r) != nil {
		t.Fatalf("GET /auth/keys/%s/usage: %d %v %s", id, code, err, body)
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
