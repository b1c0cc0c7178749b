package console_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/console"
)

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func checkHeaders(t *testing.T, path string, h http.Header, page bool) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": wantCSP, "X-Frame-Options": "DENY",
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
	}
	if page {
		want["Cache-Control"] = "no-store"
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", path, k, got, v)
		}
	}
}

var (
	scriptTag   = regexp.MustCompile(`(?i)<script\b[^>]*>`)
	styleInline = regexp.MustCompile(`(?i)\sstyle=|<style`)
	inlineEvent = regexp.MustCompile(`(?i)\son[a-z]+=`)
)

// TestEveryPageHasTheHeadersAndNoInlineScript walks every page of the
// admin console, signed in and not, and both assets.
func TestEveryPageHasTheHeadersAndNoInlineScript(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	for _, path := range []string{"/console/signin", "/console/keys"} {
		w := e.get(path)
		checkHeaders(t, path, w.Header(), true)
	}
	e.signIn()
	k := createKey(t, e, ginkey.KeySpec{Name: "k"})
	pages := []string{"/console/keys", "/console/keys?q=k", "/console/keys/new", "/console/keys/" + k.ID,
		"/console/keys/" + k.ID + "/edit", "/console/audit", "/console/usage", "/console/keys/nope"}
	for _, path := range pages {
		w := e.get(path)
		checkHeaders(t, path, w.Header(), true)
		body := w.Body.String()
		if !strings.Contains(body, "<html") || !strings.Contains(body, `<link rel="icon" href="/console/assets/favicon.svg?v=`) {
			t.Errorf("%s: not a page: %d", path, w.Code)
		}
		for _, tag := range scriptTag.FindAllString(body, -1) {
			if !strings.Contains(tag, `src="/console/assets/console.js?v=`) {
				t.Errorf("%s: inline or foreign script %s", path, tag)
			}
		}
		if styleInline.MatchString(body) || inlineEvent.MatchString(body) {
			t.Errorf("%s: inline style or event handler", path)
		}
	}
	for _, a := range []struct{ path, typ string }{{"/console/assets/console.css", "text/css"}, {"/console/assets/console.js", "text/javascript"}, {"/console/assets/favicon.svg", "image/svg+xml"}} {
		w := e.get(a.path)
		mustStatus(t, w, http.StatusOK)
		checkHeaders(t, a.path, w.Header(), false)
		if !strings.HasPrefix(w.Header().Get("Content-Type"), a.typ) || !strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %q %q", a.path, w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"))
		}
	}
	if w := e.get("/console/assets/other.js"); w.Code != http.StatusNotFound {
		t.Errorf("unknown asset: %d", w.Code)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	for _, o := range []console.Options{
		{Policy: func(string) ginkey.OwnerPolicy { return ginkey.OwnerPolicy{} }},
		{SessionIdle: -1},
		{MaxSessions: -1},
	} {
		if _, err := console.New(e.guard, o); err == nil {
			t.Errorf("New(%+v) = nil error", o)
		}
	}
	if _, err := console.New(nil, console.Options{}); err == nil {
		t.Error("New(nil) = nil error")
	}
}
