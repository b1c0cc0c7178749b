package main

import (
	"context"
	"encoding/json"
	"os"
	"os/user"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/keystore"
)

// osUser is the name the CLI records as its actor.
func osUser(t *testing.T) string {
	t.Helper()
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if name := os.Getenv("USER"); name != "" {
		return name
	}
	return "unknown"
}

func auditJSON(t *testing.T, db string, args ...string) auditPage {
	t.Helper()
	var l auditPage
	out := mustRun(t, db, append([]string{"audit", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("audit --json printed no audit list: %v\n%s", err, out)
	}
	return l
}

func TestEveryCLIOperationIsAuditedAsTheOSUser(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	created := createJSON(t, db, "--name", "laptop", "--scope", "items:read")
	id := created.ID
	mustRun(t, db, "update", id, "--name", "renamed", "--rate", "5/s")
	mustRun(t, db, "renew", id, "--expires", "never")
	mustRun(t, db, "revoke", id)
	if r := ginkeyCmd(t, "", "--db", db, "renew", id); r.code != 1 {
		t.Fatalf("renew of a revoked key: exit %d", r.code)
	}
	mustRun(t, db, "delete", id, "--yes")
	mustRun(t, db, "list")

	l := auditJSON(t, db)
	actor := "cli:" + osUser(t)
	want := []struct {
		action, outcome string
		fields          []string
	}{ // newest first
		{"delete", "ok", []string{}},
		{"renew", "key_revoked", []string{}},
		{"revoke", "ok", []string{}},
		{"renew", "ok", []string{}},
		{"update", "ok", []string{"name", "rate_limit"}},
		{"create", "ok", []string{"name", "scopes"}},
	}
	if l.Total != int64(len(want)) || len(l.Entries) != len(want) {
		t.Fatalf("audit: %d entries (total %d), want %d: %+v", len(l.Entries), l.Total, len(want), l.Entries)
	}
	for i, w := range want {
		e := l.Entries[i]
		if e.Action != w.action || e.Outcome != w.outcome || e.KeyID != id || e.Actor != actor ||
			!slices.Equal(e.Fields, w.fields) || e.Count != 1 {
			t.Errorf("entry %d = %+v, want %s %s by %s with %v", i, e, w.action, w.outcome, actor, w.fields)
		}
	}
	out := mustRun(t, db, "audit", "--json")
	if strings.Contains(out, created.Secret) {
		t.Error("the audit log shows the key")
	}
}

func TestAuditFiltersAndPrintsATable(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	a := createJSON(t, db, "--name", "a").ID
	b := createJSON(t, db, "--name", "b").ID
	mustRun(t, db, "revoke", a)

	out := mustRun(t, db, "audit")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "TIME") || lines[4] != "3 entries" {
		t.Fatalf("audit table:\n%s", out)
	}
	for _, col := range []string{"ACTION", "KEY", "ACTOR", "PRINCIPAL", "FIELDS", "OUTCOME", "COUNT"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header lacks %s: %q", col, lines[0])
		}
	}
	// Aligned: every row's action starts in the header's ACTION column.
	col := strings.Index(lines[0], "ACTION")
	for _, l := range lines[1:4] {
		if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("row not aligned under ACTION: %q", l)
		}
	}
	if !strings.Contains(lines[1], "revoke") || !strings.Contains(lines[1], a) || !strings.Contains(lines[3], "name") {
		t.Errorf("rows, newest first:\n%s", out)
	}

	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"--key", a}, 2},
		{[]string{"--key", b, "--action", "create"}, 1},
		{[]string{"--action", "revoke"}, 1},
		{[]string{"--since", "1h"}, 3},
		{[]string{"--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, 0},
		{[]string{"--limit", "2"}, 2},
		{[]string{"--limit", "2", "--offset", "2"}, 1},
	} {
		if l := auditJSON(t, db, c.args...); len(l.Entries) != c.want {
			t.Errorf("audit %q: %d entries, want %d", c.args, len(l.Entries), c.want)
		}
	}
	if out := mustRun(t, db, "audit", "--limit", "1"); !strings.Contains(out, "entries 1-1 of 3 (--offset 1 for more)") {
		t.Errorf("audit --limit 1 footer:\n%s", out)
	}
	if out := mustRun(t, db, "audit", "--action", "rotate"); out != "no entries (0 in all)\n" {
		t.Errorf("audit of nothing: %q", out)
	}
	if out := mustRun(t, db, "audit", "--action", "delete"); !strings.Contains(out, "no entries") {
		t.Errorf("audit --action delete: %q", out)
	}
	mustRun(t, db, "delete", b, "--yes")
	if out := mustRun(t, db, "audit", "--action", "delete"); !strings.HasSuffix(out, "\n1 entry\n") {
		t.Errorf("one entry's footer: %q", out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--action", "frob"}, "--action: action must be one of"},
		{[]string{"audit", "--key", "no/such"}, "--key: key_id"},
		{[]string{"audit", "--since", "yesterday"}, "-since"},
		{[]string{"audit", "--limit", "501"}, "--limit"},
		{[]string{"audit", "extra"}, "usage: ginkey audit"},
	} {
		r := ginkeyCmd(t, "", append([]string{"--db", db}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("ginkey %q: exit %d, stderr %q; want 2 naming %q", c.args, r.code, r.stderr, c.want)
		}
	}
	r := ginkeyCmd(t, "", "help", "audit")
	for _, want := range []string{"-key", "-action", "-since", "-limit", "-offset", "-json", "audit log"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("ginkey help audit lacks %q:\n%s", want, r.stdout)
		}
	}
}

// An entry of the admin API shows its principal beside its actor; the
// command's own entries have none.
func TestAuditShowsThePrincipal(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	id := createJSON(t, db, "--name", "a").ID
	s, err := gormstore.Open(context.Background(), db, "ginkey_", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.AddAudit(context.Background(), []keystore.AuditEntry{{Time: time.Now().UTC(), Action: "revoke", KeyID: id,
		Actor: "http:10.0.0.7", Principal: "basic:alice", Fields: []string{}, Outcome: "ok", Count: 1}})
	if cerr := s.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	lines := strings.Split(strings.TrimSpace(mustRun(t, db, "audit")), "\n")
	col := strings.Index(lines[0], "PRINCIPAL")
	if len(lines) != 4 || col < 0 || !strings.HasPrefix(lines[1][col:], "basic:alice ") || !strings.HasPrefix(lines[2][col:], "- ") {
		t.Fatalf("audit table:\n%s", strings.Join(lines, "\n"))
	}
	l := auditJSON(t, db)
	if l.Entries[0].Principal != "basic:alice" || l.Entries[1].Principal != "" || l.Entries[1].Actor != "cli:"+osUser(t) {
		t.Errorf("audit --json: %+v", l.Entries)
	}
}
