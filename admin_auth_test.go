package ginkey

import (
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey/internal/testkit"
)

func adminFrom(h *harness, remote, secret string) *httptest.ResponseRecorder {
	h.T.Helper()
	hdr := map[string]string{}
	if secret != "" {
		hdr[adminHeader] = secret
	}
	return h.DoFrom(remote, testkit.Request{Method: http.MethodGet, Path: "/auth/keys", Header: hdr})
}

func TestWrongAdminSecretsAreThrottledPerAddress(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.AdminFailureLimit = 3; c.Now = clock.Now })
	const attacker, neighbour, other = "192.0.2.1:1000", "192.0.2.1:2000", "198.51.100.7:1"
	for i := range 3 {
		testkit.WantError(t, adminFrom(h, attacker, "wrong-secret-guess-"+string(rune('a'+i))), 401, "admin_unauthorized")
	}
	// The allowance is used up: refused before the compare, a right guess too,
	// and from another port of the same address.
	w := adminFrom(h, attacker, "wrong-secret-guess-d")
	testkit.WantError(t, w, 429, "too_many_failures")
	wantRetryAfter(t, w, 20*time.Second)
	// The failures were admin credentials, not keys: the message says so.
	if b := w.Body.String(); !strings.Contains(b, "admin") || strings.Contains(b, "key checks") {
		t.Fatalf("the admin throttle's 429 says %s", b)
	}
	testkit.WantError(t, adminFrom(h, attacker, testSecret), 429, "too_many_failures")
	testkit.WantError(t, adminFrom(h, neighbour, testSecret), 429, "too_many_failures")
	// Other addresses are not affected.
	if w := adminFrom(h, other, testSecret); w.Code != 200 {
		t.Fatalf("another address: %d %s", w.Code, w.Body)
	}
	// One attempt comes back every minute/3; a right secret gives it back.
	clock.Advance(20 * time.Second)
	for range 3 {
		if w := adminFrom(h, attacker, testSecret); w.Code != 200 {
			t.Fatalf("after 20 s with the secret: %d %s", w.Code, w.Body)
		}
	}
	testkit.WantError(t, adminFrom(h, attacker, "wrong-secret-guess-e"), 401, "admin_unauthorized")
	testkit.WantError(t, adminFrom(h, attacker, "wrong-secret-guess-f"), 429, "too_many_failures")

	// IPv6 addresses of one /64 share an allowance.
	for i := range 3 {
		testkit.WantError(t, adminFrom(h, "[2001:db8:1:2::"+string(rune('1'+i))+"]:1", "wrong-secret-guess"), 401, "admin_unauthorized")
	}
	testkit.WantError(t, adminFrom(h, "[2001:db8:1:2:ffff::9]:1", testSecret), 429, "too_many_failures")
	if w := adminFrom(h, "[2001:db8:1:3::1]:1", testSecret); w.Code != 200 {
		t.Fatalf("the next /64: %d %s", w.Code, w.Body)
	}
}

func TestARequestWithoutTheAdminHeaderIsNotCountedAsAGuess(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.AdminFailureLimit = 2 })
	for range 20 {
		testkit.WantError(t, adminFrom(h, "192.0.2.9:1", ""), 401, "admin_unauthorized")
		testkit.WantError(t, h.DoFrom("192.0.2.9:1", testkit.Request{Method: "GET", Path: "/auth/keys?admin_secret=x"}), 401, "admin_unauthorized")
	}
	if w := adminFrom(h, "192.0.2.9:1", testSecret); w.Code != 200 {
		t.Fatalf("with the secret after header-less requests: %d %s", w.Code, w.Body)
	}
	if strings.Contains(h.Logs.String(), "failed admin authentication") {
		t.Fatalf("header-less requests were logged as failures:\n%s", h.Logs)
	}
}

func TestAdminFailureLimitNegativeTurnsTheThrottleOffButNotTheLog(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.AdminFailureLimit = -1 })
	for range 50 {
		testkit.WantError(t, adminFrom(h, "192.0.2.3:1", "wrong-secret-guess"), 401, "admin_unauthorized")
	}
	if w := adminFrom(h, "192.0.2.3:1", testSecret); w.Code != 200 {
		t.Fatalf("throttle off: %d %s", w.Code, w.Body)
	}
	if n := strings.Count(h.Logs.String(), "failed admin authentication"); n != 1 {
		t.Fatalf("%d log lines for 50 failures in a minute, want 1:\n%s", n, h.Logs)
	}
}

var failureLine = regexp.MustCompile(`msg="ginkey: failed admin authentication" client=(\S+) wrong_secrets=(\d+) refused_by_throttle=(\d+)`)

func TestFailedAdminAuthenticationsAreLoggedOncePerAddressPerMinute(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.AdminFailureLimit = 5; c.Now = clock.Now })
	guess := "not-the-secret-but-a-guess"
	for range 40 { // 5 wrong, then 35 refused by the throttle
		adminFrom(h, "192.0.2.4:1", guess)
	}
	adminFrom(h, "203.0.113.5:1", guess)
	lines := failureLine.FindAllStringSubmatch(h.Logs.String(), -1)
	if len(lines) != 2 || lines[0][1] != "192.0.2.4" || lines[0][2] != "1" || lines[1][1] != "203.0.113.5" {
		t.Fatalf("want the first failure of each address logged at once, got %q\n%s", lines, h.Logs)
	}
	// A minute on, the next failure's line carries what the minute held.
	clock.Advance(time.Minute)
	adminFrom(h, "192.0.2.4:1", guess)
	lines = failureLine.FindAllStringSubmatch(h.Logs.String(), -1)
	if len(lines) != 3 {
		t.Fatalf("want a third line a minute later, got %q", lines)
	}
	// The minute held 4 more wrong secrets and 35 refusals; the new request
	// is one more of either, depending on the allowance it found.
	if got := lines[2][2] + "+" + lines[2][3]; got != "4+36" && got != "5+35" {
		t.Fatalf("aggregated line: wrong+refused = %s, want 4+36 or 5+35", got)
	}
	if strings.Contains(h.Logs.String(), guess) {
		t.Fatal("a guessed secret reached the log")
	}
	if !strings.Contains(h.Logs.String(), "level=WARN") {
		t.Fatalf("not logged at WARN:\n%s", h.Logs)
	}
}

func TestFailureLogStaysBounded(t *testing.T) {
	t.Parallel()
	n := 0
	l := newFailureLog(func(netip.Addr, int, int) { n++ })
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range failureLogMax + 500 {
		l.note(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), now, false)
	}
	if len(l.entries) > failureLogMax {
		t.Fatalf("%d addresses remembered, bound %d", len(l.entries), failureLogMax)
	}
	if n != failureLogMax+500 {
		t.Fatalf("%d lines for %d first failures", n, failureLogMax+500)
	}
}

func TestNewRejectsAnAdminSecretThatCanNeverMatch(t *testing.T) {
	t.Parallel()
	good := "0123456789abcdef-secret"
	for _, tc := range []struct{ name, secret, want string }{
		{"trailing newline", good + "\n", "whitespace"},
		{"trailing space", good + " ", "whitespace"},
		{"leading tab", "\t" + good, "whitespace"},
		{"control character", "0123456789\x00abcdef", "control character"},
		{"too short", "short", "at least 16 bytes"},
	} {
		_, err := New(Config{DBPath: filepath.Join(t.TempDir(), "k.db"), AdminSecret: tc.secret, LookupEnv: testkit.NoEnv})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "GINKEY_SECRET") {
			t.Errorf("%s: err = %v, want one naming GINKEY_SECRET and %q", tc.name, err, tc.want)
		}
	}
	// From the environment, as from a file read with its newline.
	env := func(k string) (string, bool) {
		if k == "GINKEY_SECRET" {
			return good + "\n", true
		}
		return "", false
	}
	if _, err := New(Config{DBPath: filepath.Join(t.TempDir(), "k.db"), LookupEnv: env}); err == nil {
		t.Error("GINKEY_SECRET with a trailing newline was accepted")
	}
	// Inner spaces are fine: they survive HTTP.
	g, err := New(Config{DBPath: filepath.Join(t.TempDir(), "k.db"), AdminSecret: "correct horse battery staple", LookupEnv: testkit.NoEnv})
	if err != nil {
		t.Fatalf("inner spaces: %v", err)
	}
	_ = g.Close()
}

// Not parallel: gin's mode is process-wide, and no parallel test runs
// while a sequential one does.
func TestReleaseModeRefusesAGeneratedAdminSecret(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	defer gin.SetMode(gin.TestMode)
	logs := &syncBuffer{}
	g, err := New(Config{DBPath: filepath.Join(t.TempDir(), "k.db"), LookupEnv: testkit.NoEnv, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatalf("a guard without RegisterAdmin needs no secret: %v", err)
	}
	defer func() { _ = g.Close() }()
	r := gin.New()
	r.GET("/secure", g.Handler(), testkit.Echo(keyID))
	func() {
		defer func() {
			msg, _ := recover().(string)
			if !strings.Contains(msg, "GINKEY_SECRET") || !strings.Contains(msg, "release mode") {
				t.Fatalf("RegisterAdmin in release mode without a secret: panic %q", msg)
			}
		}()
		g.RegisterAdmin(r.Group("/auth"))
	}()
	if strings.Contains(logs.String(), "admin_secret") {
		t.Fatalf("a secret was generated and logged in release mode:\n%s", logs)
	}
	// With a secret, release mode is fine.
	g2, err := New(Config{DBPath: filepath.Join(t.TempDir(), "k.db"), AdminSecret: testSecret, LookupEnv: testkit.NoEnv})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = g2.Close() }()
	g2.RegisterAdmin(gin.New().Group("/auth"))
}

func TestAGuardWithoutTheAdminAPILogsNoSecret(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	g, err := New(Config{DBPath: filepath.Join(t.TempDir(), "k.db"), LookupEnv: testkit.NoEnv, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = g.Close() }()
	if strings.Contains(logs.String(), "admin_secret") {
		t.Fatalf("secret logged without RegisterAdmin:\n%s", logs)
	}
}

func TestEveryAnswerUnderTheAdminGroupIsJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	secret := map[string]string{adminHeader: testSecret}
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/auth/nope", 404, "not_found", ""},
		{"GET", "/auth", 404, "not_found", ""},
		{"GET", "/auth/", 404, "not_found", ""},
		{"GET", "/auth/keys/", 404, "not_found", ""},
		{"GET", "/auth/keys/abc/nope", 404, "not_found", ""},
		{"GET", "/auth/keys/abc/usage/more", 404, "not_found", ""},
		{"POST", "/auth/usage/x", 404, "not_found", ""},
		{"PUT", "/auth/keys", 405, "method_not_allowed", "POST, GET"},
		{"DELETE", "/auth/usage", 405, "method_not_allowed", "GET"},
		{"GET", "/auth/keys/abc/revoke", 405, "method_not_allowed", "POST"},
		{"HEAD", "/auth/keys", 405, "method_not_allowed", "POST, GET"},
	} {
		w := h.Do(testkit.Request{Method: tc.method, Path: tc.path, Header: secret})
		if tc.method == "HEAD" {
			if w.Code != tc.status || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Errorf("%s %s: %d %q", tc.method, tc.path, w.Code, w.Header().Get("Content-Type"))
			}
			continue
		}
		testkit.WantError(t, w, tc.status, tc.code)
		testkit.WantHeader(t, w, "Allow", tc.allow)
		// Without the secret, nothing tells which paths exist.
		testkit.WantError(t, h.Do(testkit.Request{Method: tc.method, Path: tc.path}), 401, "admin_unauthorized")
	}
	// Every operation of the route table is reached, not answered by the router.
	for _, rt := range h.Guard.adminRoutes() {
		path := "/auth" + strings.ReplaceAll(rt.pattern, ":id", "0000000000000000000000")
		w := h.Do(testkit.Request{Method: rt.method, Path: path, Header: secret, Body: "{}"})
		if strings.Contains(w.Body.String(), errRouteNotFound.Message) || w.Code == 405 {
			t.Errorf("%s %s is not served: %d %s", rt.method, path, w.Code, w.Body)
		}
	}
}

func TestTheSQLiteFilesAreReadableByTheirOwnerOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.createKey(`{"name":"a write, so the WAL exists"}`)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		fi, err := os.Stat(h.DBPath + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", filepath.Base(h.DBPath+suffix), fs.FileMode(perm))
		}
	}
}

// The admin secret is changed without downtime by accepting the old and the
// new one for a while.
func TestSeveralAdminSecretsAreEachAccepted(t *testing.T) {
	t.Parallel()
	const old, next = "old-admin-secret-0123456789", "new-admin-secret-9876543210"
	h := newHarness(t, func(c *Config) {
		c.AdminSecret = ""
		c.LookupEnv = func(k string) (string, bool) {
			if k == "GINKEY_SECRET" {
				return old + "," + next, true
			}
			return "", false
		}
	})
	for _, s := range []string{old, next} {
		if w := adminFrom(h, "192.0.2.20:1", s); w.Code != 200 {
			t.Fatalf("secret %q...: %d %s", s[:3], w.Code, w.Body)
		}
	}
	for _, wrong := range []string{old + "," + next, "old-admin-secret", testSecret} {
		testkit.WantError(t, adminFrom(h, "192.0.2.21:1", wrong), 401, "admin_unauthorized")
	}
	// A bad one among several is named by its position, never shown.
	_, err := New(Config{DBPath: filepath.Join(t.TempDir(), "k.db"), AdminSecret: old + ", " + next, LookupEnv: testkit.NoEnv})
	if err == nil || !strings.Contains(err.Error(), "secret 2 of 2") || strings.Contains(err.Error(), next) {
		t.Fatalf("err = %v, want one naming secret 2 of 2 without its value", err)
	}
	if _, err := New(Config{DBPath: filepath.Join(t.TempDir(), "k.db"), AdminSecret: old + ",short", LookupEnv: testkit.NoEnv}); err == nil {
		t.Fatal("a short second secret was accepted")
	}
}
