package main

// The real-browser harness of the example's tests: a headless Chromium
// (chromedp) with a fresh profile, one tab driven step by step with a
// timeout and a screenshot on failure, and the redaction of keys and the
// admin secret from what reaches a log.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromium finds a Chromium to drive. Without one the test skips, unless
// GINKEY_REQUIRE_BROWSER=1 (set by .ci/run) makes that a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no Chromium (chromium, chromium-browser or google-chrome) on PATH; apt-get install chromium"
	if os.Getenv("GINKEY_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + ", and GINKEY_REQUIRE_BROWSER=1")
	}
	t.Skip("SKIPPING a browser test: " + msg)
	return ""
}

// ui drives one browser tab and keeps numbered screenshots.
type ui struct {
	t     *testing.T
	ctx   context.Context
	dirs  []string // the test's temp dir, and GINKEY_SCREENSHOTS if set
	step  int
	shots []string

	mu       sync.Mutex
	problems []string // console errors and uncaught exceptions (a CSP violation is one)
}

const stepTimeout = 20 * time.Second

func (u *ui) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(u.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		u.shot("FAILED-"+what, chromedp.FullScreenshot(100))
		u.t.Fatalf("%s: %v", what, err)
	}
	u.t.Logf("step %-40s %6.0fms", what, float64(time.Since(start).Microseconds())/1000)
}

// shot saves a PNG (quality 100 means PNG) in every screenshot directory.
func (u *ui) shot(name string, capture chromedp.Action[[]byte]) {
	u.t.Helper()
	u.step++
	ctx, cancel := context.WithTimeout(u.ctx, stepTimeout)
	defer cancel()
	buf, err := chromedp.Run(ctx, capture)
	if err != nil {
		u.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	file := fmt.Sprintf("%02d-%s.png", u.step, strings.NewReplacer("/", "_", " ", "_", "{", "", "}", "").Replace(name))
	for _, dir := range u.dirs {
		p := filepath.Join(dir, file)
		if err := os.WriteFile(p, buf, 0o600); err != nil {
			u.t.Fatal(err)
		}
		u.t.Logf("screenshot: %s", p)
	}
	u.shots = append(u.shots, file)
}

func (u *ui) page(name string) { u.shot(name, chromedp.FullScreenshot(100)) }

// into stores a value-returning action's result, as a step.
func into[T any](a chromedp.Action[T], dst *T) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

func (u *ui) count(css string) int {
	u.t.Helper()
	n, err := chromedp.Run(u.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, css)))
	if err != nil {
		u.t.Fatal(err)
	}
	return n
}

// browser starts headless Chromium with a fresh profile (so nothing an
// earlier run left in localStorage counts) and returns a tab. Cleanup closes the
// browser and waits for it to exit.
func browser(t *testing.T, execPath string) *ui {
	t.Helper()
	u := &ui{t: t, dirs: []string{t.TempDir()}}
	if d := os.Getenv("GINKEY_SCREENSHOTS"); d != "" {
		d = filepath.Join(d, t.Name())
		if err := os.MkdirAll(d, 0o750); err != nil { //nolint:gosec // a directory the developer names for screenshots
			t.Fatal(err)
		}
		u.dirs = append(u.dirs, d)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI runs as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	// The whole browser session is bounded; each step has its own timeout too.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	u.ctx = tab
	consoleDone := make(chan struct{})
	t.Cleanup(func() {
		cancelTab()
		<-consoleDone // no t.Log after the test ends
		cancelAlloc() // waits for Chromium to exit before t.TempDir is removed
		cancel()
	})
	start := time.Now()
	if err := chromedp.Do(tab); err != nil { // the first Do launches Chromium
		close(consoleDone)
		t.Fatalf("start %s: %v", execPath, err)
	}
	t.Logf("Chromium started in %s", time.Since(start).Round(time.Millisecond))
	msgs := chromedp.Console(tab)
	go func() {
		defer close(consoleDone)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleError {
				text := redact(m.Text)
				u.mu.Lock()
				u.problems = append(u.problems, string(m.Type)+": "+text)
				u.mu.Unlock()
				t.Logf("browser console %s: %s", m.Type, text)
			}
		}
	}()
	return u
}

// consoleProblems returns the console errors and uncaught exceptions seen
// so far.
func (u *ui) consoleProblems() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.problems)
}

// forgiveProblem takes the first console problem holding text, one the
// test caused on purpose, out of the list, and reports whether it was there.
func (u *ui) forgiveProblem(text string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	i := slices.IndexFunc(u.problems, func(p string) bool { return strings.Contains(p, text) })
	if i < 0 {
		return false
	}
	u.problems = slices.Delete(u.problems, i, i+1)
	return true
}

// netLog is what blockForeign saw of the tab's network traffic.
type netLog struct {
	origin string

	mu      sync.Mutex
	urls    map[network.RequestID]string
	foreign []string // requests to another origin, failed before they left
	failed  []string // requests that did not complete, with the browser's reason
	allowed int      // requests to the origin let through
}

// blockForeign intercepts every request of the tab (Fetch.enable with the
// pattern "*"): one to origin goes on, any other fails before it leaves
// the browser and is recorded, as are requests that fail for any reason
// (Network.loadingFailed). It is the air-gapped host of the issue: a page
// that needs a CDN or a web font shows it here.
func (u *ui) blockForeign(origin string) *netLog {
	u.t.Helper()
	l := &netLog{origin: origin, urls: map[network.RequestID]string{}}
	err := chromedp.Listen(u.ctx, func(ev any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			l.urls[ev.RequestID] = ev.Request.URL
		case *network.EventLoadingFailed:
			l.failed = append(l.failed, fmt.Sprintf("%s %s: %s%s", ev.Type, l.urls[ev.RequestID], ev.ErrorText, ev.BlockedReason))
		}
	})
	if err != nil {
		u.t.Fatal(err)
	}
	paused := chromedp.Events(u.ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			if l.sameOrigin(ev.Request.URL) {
				l.mu.Lock()
				l.allowed++
				l.mu.Unlock()
				_, _ = chromedp.Call(u.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
				continue
			}
			l.mu.Lock()
			l.foreign = append(l.foreign, ev.Request.URL)
			l.mu.Unlock()
			_, _ = chromedp.Call(u.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		}
	}()
	if _, err := chromedp.Call(u.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}}); err != nil {
		u.t.Fatal(err)
	}
	return l
}

func (l *netLog) sameOrigin(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme+"://"+u.Host == l.origin
}

// forgive takes one failed request the test caused on purpose out of the
// log, and reports whether it was there.
func (l *netLog) forgive(entry string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := slices.Index(l.failed, entry)
	if i < 0 {
		return false
	}
	l.failed = slices.Delete(l.failed, i, i+1)
	return true
}

// snapshot returns the foreign and the failed requests so far, and the
// number let through.
func (l *netLog) snapshot() (foreign, failed []string, allowed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.foreign), slices.Clone(l.failed), l.allowed
}

// check fails the test for every foreign or failed request so far, and
// for a log that saw no request at all (the interception was not on).
func (l *netLog) check(t *testing.T) {
	t.Helper()
	foreign, failed, allowed := l.snapshot()
	for _, u := range foreign {
		t.Errorf("a request left for another origin than %s: %s", l.origin, u)
	}
	for _, f := range failed {
		t.Errorf("a request failed: %s", f)
	}
	if allowed == 0 {
		t.Errorf("no request went through the interception: it was not on")
	}
	t.Logf("network: %d requests to %s, %d foreign, %d failed", allowed, l.origin, len(foreign), len(failed))
}

// keyShape matches an API key as ginkey makes them.
var keyShape = regexp.MustCompile(`gk_[0-9A-Za-z]{49}`)

// redact blanks keys and the admin secret out of what the browser showed
// before it reaches a test log or a failure message. (Screenshots do show
// them; they outlive the test only in a GINKEY_SCREENSHOTS directory.)
func redact(s string) string {
	return strings.ReplaceAll(keyShape.ReplaceAllString(s, "gk_[redacted]"), testSecret, "[admin secret]")
}

// TestBlockForeignFailsAndRecordsRequestsToOtherOrigins: the network guard
// the console walk relies on lets the server's own requests through and
// fails and records the others (here an image on another host), so that
// a test asserting "no foreign request" can fail.
func TestBlockForeignFailsAndRecordsRequestsToOtherOrigins(t *testing.T) {
	execPath := chromium(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, `<!doctype html><title>t</title><link rel="stylesheet" href="/s.css"><img src="http://cdn.example.invalid/x.png"><p id="done">done</p>`)
		case "/s.css":
			w.Header().Set("Content-Type", "text/css")
			_, _ = io.WriteString(w, `p{color:#333}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	u := browser(t, execPath)
	l := u.blockForeign(srv.URL)
	u.run("load a page with a foreign image", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#done`)))
	var foreign, failed []string
	allowed := 0
	deadline := time.Now().Add(stepTimeout)
	for len(failed) == 0 && time.Now().Before(deadline) { // the image fails after the load event
		time.Sleep(50 * time.Millisecond)
		foreign, failed, allowed = l.snapshot()
	}
	if len(foreign) != 1 || foreign[0] != "http://cdn.example.invalid/x.png" {
		t.Errorf("foreign requests %q, want the image alone", foreign)
	}
	if len(failed) != 1 || !strings.Contains(failed[0], "cdn.example.invalid") {
		t.Errorf("failed requests %q, want the image alone", failed)
	}
	if allowed < 2 { // the page, its style sheet and (Chromium's own) /favicon.ico
		t.Errorf("%d requests let through, want the page and its style sheet at least", allowed)
	}
}
