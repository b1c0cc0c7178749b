package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey"
)

func TestCreateJSONRoundTripsThroughShowJSON(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	created := createJSON(t, db, "--name", "billing", "--scope", "items:read", "--scope", "items:write",
		"--rate", "100/1m", "--quota", "10000/day", "--allow-ip", "10.0.0.0/8", "--metadata", `{"team":"core","n":12345678901234567890}`)
	if !strings.HasPrefix(created.Secret, "gk_") || created.ID == "" {
		t.Fatalf("create --json: key %q, id %q", created.Secret, created.ID)
	}
	var shown ginkey.Key
	out := mustRun(t, db, "show", created.ID, "--json") // --json after the id too
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("show --json: %v\n%s", err, out)
	}
	if strings.Contains(out, created.Secret) || strings.Contains(out, `"key"`) {
		t.Errorf("show --json shows the secret:\n%s", out)
	}
	if shown.ID != created.ID || shown.Name != "billing" || !slices.Equal(shown.Scopes, []string{"items:read", "items:write"}) ||
		shown.Prefix != created.Prefix || shown.Status != ginkey.StatusActive {
		t.Errorf("show --json = %+v, want the created %+v", shown, created.Key)
	}
	if shown.RateLimit == nil || *shown.RateLimit != (ginkey.RateLimit{Requests: 100, Per: ginkey.PerMinute}) ||
		shown.Quota == nil || *shown.Quota != (ginkey.Quota{Requests: 10000, Per: ginkey.PerDay}) ||
		!slices.Equal(shown.AllowedIPs, []string{"10.0.0.0/8"}) {
		t.Errorf("show --json limits: %+v %+v %v", shown.RateLimit, shown.Quota, shown.AllowedIPs)
	}
	if !strings.Contains(out, "12345678901234567890") {
		t.Errorf("metadata number lost digits:\n%s", out)
	}

	var list keyPage
	if err := json.Unmarshal([]byte(mustRun(t, db, "--json", "list")), &list); err != nil {
		t.Fatal(err)
	}
	if list.Total != 1 || len(list.Keys) != 1 || list.Keys[0].ID != created.ID {
		t.Errorf("list --json = %+v", list)
	}
}

func TestEachSubcommandPrintsWhatItDid(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	out := mustRun(t, db, "create", "--name", "laptop", "--scope", "items:read", "--expires", "30d")
	for _, want := range []string{"name:", "laptop", "items:read", "status:", "active", "key: gk_", "cannot be shown again"} {
		if !strings.Contains(out, want) {
			t.Errorf("create output lacks %q:\n%s", want, out)
		}
	}
	id := createJSON(t, db, "--name", "second").ID

	steps := []struct {
		args []string
		want []string
	}{
		{[]string{"list"}, []string{"ID", "PREFIX", "NAME", "STATUS", "laptop", "second", "2 keys"}},
		{[]string{"list", "--limit", "1"}, []string{"second", "keys 1-1 of 2"}},
		{[]string{"show", id}, []string{"id:", id, "second", "rate limit:", "server default", "allowed ips:", "any"}},
		{[]string{"update", id, "--name", "renamed", "--scope", "a:b", "--rate", "5/s", "--quota", "9/month", "--allow-ip", "192.0.2.1"},
			[]string{"renamed", "a:b", "5/1s", "9/month", "192.0.2.1"}},
		{[]string{"update", id, "--clear-scopes", "--rate", "none", "--quota", "none", "--any-ip"},
			[]string{"(none)", "server default", "quota:        none", "allowed ips:  any"}},
		{[]string{"renew", id, "--expires", "never"}, []string{"expires:", "never"}},
		{[]string{"renew", id, "--expires", "2099-01-01T00:00:00Z"}, []string{"2099-01-01T00:00:00Z"}},
		{[]string{"usage"}, []string{"REQUESTS", "LAST USED", "renamed", "laptop"}},
		{[]string{"usage", id, "--days", "7"}, []string{"total requests:  0\n", "last used:", "never"}},
		{[]string{"revoke", id}, []string{"status:", "revoked"}},
		{[]string{"list", "--status", "revoked"}, []string{id, "1 key"}},
		{[]string{"delete", id, "--yes"}, []string{"deleted key " + id}},
		{[]string{"version"}, []string{"ginkey "}},
	}
	for _, s := range steps {
		out := mustRun(t, db, s.args...)
		for _, want := range s.want {
			if !strings.Contains(out, want) {
				t.Errorf("ginkey %q output lacks %q:\n%s", s.args, want, out)
			}
		}
	}
	if r := ginkeyCmd(t, "", "--db", db, "show", id); r.code != 1 {
		t.Errorf("show after delete: exit %d, want 1", r.code)
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	id := createJSON(t, db).ID
	revoked := createJSON(t, db).ID
	mustRun(t, db, "revoke", revoked)
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStderr string
	}{
		{"help", []string{"--help"}, 0, ""},
		{"help for a subcommand", []string{"help", "create"}, 0, ""},
		{"subcommand -h", []string{"update", "-h"}, 0, ""},
		{"show", []string{"show", id}, 0, ""},
		{"unknown id", []string{"show", "NoSuchKey123"}, 1, "no key with id NoSuchKey123"},
		{"malformed id", []string{"revoke", "no/such"}, 1, "no key with id no/such"},
		{"renew revoked", []string{"renew", revoked}, 1, "revoked"},
		{"bad expiry", []string{"create", "--expires", "bogus"}, 2, "-expires"},
		{"past expiry", []string{"create", "--expires", "2001-01-01T00:00:00Z"}, 2, "--expires: expires_at must be in the future"},
		{"bad status", []string{"list", "--status", "gone"}, 2, "--status"},
		{"days without id", []string{"usage", "--days", "3"}, 2, "--days needs a key id"},
		{"days out of range", []string{"usage", id, "--days", "999"}, 2, "--days"},
		{"bad rate unit", []string{"create", "--rate", "5/fortnight"}, 2, "1s, 1m or 1h"},
		{"rate out of range", []string{"create", "--rate", "2000000/1s"}, 2, "rate_limit"},
		{"bad quota", []string{"update", id, "--quota", "5/week"}, 2, "day or month"},
		{"bad scope", []string{"create", "--scope", "no spaces"}, 2, "scopes"},
		{"unknown subcommand", []string{"frobnicate"}, 2, "unknown subcommand"},
		{"unknown flag", []string{"list", "--frob"}, 2, "-frob"},
		{"missing id", []string{"show"}, 2, "usage: ginkey show ID"},
		{"no subcommand", nil, 2, "Usage:"},
		{"empty update", []string{"update", id}, 2, "nothing to change"},
		{"unreachable postgres url", []string{"--db", "postgres://u:hunter2pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", "list"}, 1, "PostgreSQL postgres://u:xxxxx@127.0.0.1:1/db"},
		{"bad postgresql url", []string{"list", "--db", "postgresql://u:hunter2pw@h/db?sslmode=bogus"}, 1, "postgresql://u:xxxxx@h/db?sslmode=bogus is not a valid PostgreSQL URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if !slices.Contains(args, "--db") && args != nil {
				args = append([]string{"--db", db}, args...)
			}
			r := ginkeyCmd(t, "", args...)
			if r.code != tt.code {
				t.Fatalf("ginkey %q: exit %d, want %d\nstderr: %s", args, r.code, tt.code, r.stderr)
			}
			if tt.wantStderr != "" && !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tt.wantStderr)
			}
			if strings.Contains(r.stderr, "hunter2pw") {
				t.Errorf("stderr shows the database password: %q", r.stderr)
			}
			if tt.code != 0 && tt.wantStderr != "Usage:" {
				if !strings.HasPrefix(r.stderr, "ginkey: ") || strings.Count(r.stderr, "\n") != 1 {
					t.Errorf("stderr is not one line starting with \"ginkey: \": %q", r.stderr)
				}
			}
		})
	}
}

// TestSubcommandHelpWritesFlagsWithTwoDashes: as the top-level help and
// the README write them, --name, never -name.
func TestSubcommandHelpWritesFlagsWithTwoDashes(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help", "create"}, {"create", "-h"}, {"list", "--help"}} {
		r := ginkeyCmd(t, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "\n  --scope scope\n") && !strings.Contains(r.stdout, "\n  --status ") {
			t.Errorf("ginkey %q: exit %d, no --scope or --status line:\n%s", args, r.code, r.stdout)
		}
		if single := regexp.MustCompile(`(?m)^\s*-[a-z]`).FindString(r.stdout); single != "" {
			t.Errorf("ginkey %q shows a flag with one dash (%q):\n%s", args, single, r.stdout)
		}
	}
	if r := ginkeyCmd(t, "", "list", "--frob"); !strings.Contains(r.stderr, "--frob") {
		t.Errorf("an unknown flag's error: %q, want it written --frob", r.stderr)
	}
}

func TestHelpPrintsEverySubcommandsFlags(t *testing.T) {
	t.Parallel()
	r := ginkeyCmd(t, "", "--help")
	for _, want := range []string{"create", "list", "show", "update", "revoke", "renew", "delete", "usage", "version", "--db", "--json"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("ginkey --help lacks %q", want)
		}
	}
	for _, args := range [][]string{{"help", "update"}, {"update", "-h"}} {
		r := ginkeyCmd(t, "", args...)
		for _, want := range []string{"-clear-scopes", "-any-ip", "-rate", "-quota", "-allow-ip", "-db", "-json"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("ginkey %q lacks %q:\n%s", args, want, r.stdout)
			}
		}
	}
}

// TestCLIKeysWorkOnARunningGuardAndRevocationReachesIt runs a guard in the
// test process on the file the CLI writes, as a server would.
func TestCLIKeysWorkOnARunningGuardAndRevocationReachesIt(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	created := createJSON(t, db, "--scope", "items:read")

	guard, err := ginkey.New(ginkey.Config{
		DBPath:    db,
		CacheTTL:  100 * time.Millisecond,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = guard.Close() })
	gin.SetMode(gin.TestMode)
	engine := gin.New()
	engine.GET("/items", guard.Handler(), func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	var admitted, revoked int64 // what the client saw
	status := func() int {
		req := httptest.NewRequest(http.MethodGet, "/items", nil)
		req.Header.Set("X-API-Key", created.Secret)
		w := httptest.NewRecorder()
		engine.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK:
			admitted++
		case http.StatusUnauthorized:
			revoked++
		}
		return w.Code
	}

	if got := status(); got != http.StatusOK {
		t.Fatalf("a key created by the CLI: status %d, want 200", got)
	}
	mustRun(t, db, "revoke", created.ID)
	deadline := time.Now().Add(2 * time.Second)
	for status() != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("the guard still accepts the key 2s after the CLI revoked it (CacheTTL 100ms)")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// What the guard counted reaches the CLI's usage once flushed.
	status()
	if err := guard.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var u ginkey.UsageReport
	if err := json.Unmarshal([]byte(mustRun(t, db, "usage", created.ID, "--json")), &u); err != nil {
		t.Fatal(err)
	}
	if u.Outcomes.Valid != admitted || u.Outcomes.Revoked != revoked || revoked < 2 {
		t.Fatalf("usage --json outcomes %v, the client saw %d admitted and %d revoked", u.Outcomes, admitted, revoked)
	}
	out := mustRun(t, db, "usage", created.ID)
	if !strings.Contains(out, "refused:         revoked ") || !strings.Contains(out, "REVOKED") {
		t.Errorf("usage output without the refusals:\n%s", out)
	}
	if out := mustRun(t, db, "usage"); !strings.Contains(out, "REFUSED") {
		t.Errorf("usage summary without REFUSED:\n%s", out)
	}
}

func TestOwnerSearchAndRotate(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	a := createJSON(t, db, "--name", "Billing API", "--owner", "user_42", "--scope", "items:read", "--rate", "10/1m")
	b := createJSON(t, db, "--name", "cron", "--owner", "user_42")
	c := createJSON(t, db, "--name", "billing export", "--owner", "team:acme")
	if a.Owner != "user_42" {
		t.Fatalf("create --owner: %+v", a.Key)
	}
	ids := func(args ...string) string {
		var l keyPage
		if err := json.Unmarshal([]byte(mustRun(t, db, append([]string{"list", "--json"}, args...)...)), &l); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range l.Keys {
			out = append(out, k.ID)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--owner", "user_42"}, b.ID + "," + a.ID},
		{[]string{"--name", "BILLING"}, c.ID + "," + a.ID},
		{[]string{"--owner", "user_42", "--name", "billing"}, a.ID},
		{[]string{"--prefix", c.Prefix}, c.ID},
	} {
		if got := ids(tc.args...); got != tc.want {
			t.Errorf("list %q = %s, want %s", tc.args, got, tc.want)
		}
	}
	if out := mustRun(t, db, "list", "--owner", "team:acme"); !strings.Contains(out, "OWNER") || !strings.Contains(out, "team:acme") {
		t.Errorf("list table without the owner:\n%s", out)
	}
	mustRun(t, db, "update", b.ID, "--owner", "")
	if got := ids("--owner", "user_42"); got != a.ID {
		t.Errorf("after update --owner \"\": %s", got)
	}

	out := mustRun(t, db, "rotate", a.ID, "--grace", "2d") // days, as --expires takes them
	var old ginkey.Key
	if err := json.Unmarshal([]byte(mustRun(t, db, "show", a.ID, "--json")), &old); err != nil || old.RevokedAt == nil ||
		time.Until(*old.RevokedAt) < 47*time.Hour || time.Until(*old.RevokedAt) > 48*time.Hour {
		t.Errorf("rotate --grace 2d: the old key's grace ends at %v (%v)", old.RevokedAt, err)
	}
	for _, want := range []string{"rotated from:", a.ID, "key: gk_", "cannot be shown again", "The old key " + a.ID + " works until "} {
		if !strings.Contains(out, want) {
			t.Errorf("rotate output lacks %q:\n%s", want, out)
		}
	}
	if show := mustRun(t, db, "show", a.ID); !strings.Contains(show, "rotated to:") || !strings.Contains(show, "active (grace)") || !strings.Contains(show, "(end of the rotation's grace)") {
		t.Errorf("the old key in its grace:\n%s", show)
	}
	r := ginkeyCmd(t, "", "--db", db, "rotate", a.ID)
	if r.code != 1 || !strings.Contains(r.stderr, "has been rotated") {
		t.Errorf("rotating twice: exit %d, %s", r.code, r.stderr)
	}
	var next ginkey.CreatedKey
	if err := json.Unmarshal([]byte(mustRun(t, db, "rotate", c.ID, "--json")), &next); err != nil || next.RotatedFrom != c.ID || next.Owner != "team:acme" || next.Secret == "" {
		t.Fatalf("rotate --json: %+v %v", next, err)
	}
	key := strings.TrimSpace(mustRun(t, db, "rotate", next.ID, "--quiet"))
	if !strings.HasPrefix(key, "gk_") || strings.Contains(key, "\n") {
		t.Errorf("rotate --quiet printed %q", key)
	}
	if show := mustRun(t, db, "show", c.ID); !strings.Contains(show, "revoked") {
		t.Errorf("a key rotated without grace:\n%s", show)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rotate", b.ID, "--grace", "1000h"}, "--grace: grace must be a duration from 0s to 30d"},
		{[]string{"rotate", b.ID, "--grace", "31d"}, "--grace: grace must be a duration from 0s to 30d"},
		{[]string{"rotate", b.ID, "--grace", "soon"}, `"soon" is not a duration: use a number with d, h, m or s, e.g. 30d or 12h`},
		{[]string{"list", "--prefix", "nope"}, "--prefix: prefix must be"},
		{[]string{"create", "--owner", "a\tb"}, "--owner: owner must not contain"},
	} {
		r := ginkeyCmd(t, "", append([]string{"--db", db}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("ginkey %q: exit %d, stderr %q, want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
