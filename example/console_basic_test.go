package main

import (
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
)

// answerBasic answers the browser's HTTP Basic prompts as a user would: the
// first with a wrong password, every later one with pass; it returns the
// number of prompts so far.
func (u *ui) answerBasic(user, pass string) func() int32 {
	u.t.Helper()
	var prompts atomic.Int32
	paused := chromedp.Events(u.ctx, fetch.RequestPaused)
	asked := chromedp.Events(u.ctx, fetch.AuthRequired)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(u.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	go func() {
		for ev, err := range asked {
			if err != nil {
				return
			}
			p := pass
			if prompts.Add(1) == 1 {
				p = "wrong " + pass
			}
			_, _ = chromedp.Call(u.ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID,
				AuthChallengeResponse: &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials, Username: user, Password: p}})
		}
	}()
	handle := true
	if _, err := chromedp.Call(u.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}, HandleAuthRequests: &handle}); err != nil {
		u.t.Fatal(err)
	}
	return prompts.Load
}

// TestConsoleSignsInThroughAdminAuthBasicCredentials: with Config.AdminAuth
// set to HTTP Basic accounts, the sign-in page's link makes the browser ask
// for them (a wrong password is asked again), and the accepted ones open a
// console session in that account's name, which signing out ends.
func TestConsoleSignsInThroughAdminAuthBasicCredentials(t *testing.T) {
	execPath := chromium(t)
	basic, err := ginkey.BasicAuth("ginkey console", map[string]string{"ops": "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	h := guardtest.NewRouted(t, func(c *ginkey.Config) { c.AdminAuth = basic }, newRouter)
	srv := httptest.NewServer(h.Engine)
	t.Cleanup(srv.Close)
	base := srv.URL + "/console"
	u := browser(t, execPath)
	prompts := u.answerBasic("ops", "correct horse battery")

	var who string
	u.run("sign in with the application's accounts",
		chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS(`a#signin-basic`)),
		chromedp.Click(chromedp.CSS(`a#signin-basic`)),
		chromedp.WaitVisible(chromedp.CSS(`table#keys`)),
		into(chromedp.Text(chromedp.CSS(`header`)), &who),
	)
	if n := prompts(); n != 2 {
		t.Errorf("the browser was asked %d times for credentials, want 2 (a wrong password, then the right one)", n)
	}
	if !strings.Contains(who, "ops") {
		t.Errorf("the console's header %q does not name the account ops", who)
	}
	if c := u.consoleCookie(srv.URL); c.Value == "" {
		t.Error("no session after the Basic sign-in")
	}
	u.run("sign out", chromedp.Click(chromedp.CSS(`button#signout`)), chromedp.WaitVisible(chromedp.CSS(`form#signin`)))
}
