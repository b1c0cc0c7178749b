package ginkey

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/internal/envconfig"
	"github.com/ginkey/ginkey/internal/testkit"
)

// auditAll returns every entry of the harness's audit log, oldest first.
func (h *harness) auditAll(q AuditQuery) []AuditEntry {
	h.T.Helper()
	q.Limit = 500
	l, err := auditPage(h.Guard.Audit(context.Background(), q))
	if err != nil {
		h.T.Fatalf("Audit: %v", err)
	}
	if int(l.Total) != len(l.Entries) {
		h.T.Fatalf("Audit: total %d, %d entries", l.Total, len(l.Entries))
	}
	slices.Reverse(l.Entries)
	return l.Entries
}

// wantEntry is what an entry should say; Count 0 means 1.
type wantEntry struct {
	action, keyID, actor, outcome string
	fields                        []string
	count                         int64
}

func checkEntries(t *testing.T, got []AuditEntry, want []wantEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d:\n%s", len(got), len(want), entriesText(got))
	}
	for i, w := range want {
		g := got[i]
		count := w.count
		if count == 0 {
			count = 1
		}
		if w.fields == nil {
			w.fields = []string{}
		}
		if g.Action != w.action || g.KeyID != w.keyID || g.Actor != w.actor || g.Outcome != w.outcome ||
			!slices.Equal(g.Fields, w.fields) || g.Count != count || g.ID == 0 || g.Time.IsZero() {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
	}
}

func entriesText(es []AuditEntry) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "  %+v\n", e)
	}
	return b.String()
}

func TestEveryKeyOperationFromGoWritesOneAuditEntry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	g := h.Guard
	ctx := WithActor(context.Background(), "job:nightly")
	created, err := g.CreateKey(ctx, KeySpec{Name: "billing", Owner: "user_42", Scopes: []string{"a:b"}, Metadata: map[string]any{"team": "core"}})
	if err != nil {
		t.Fatal(err)
	}
	id := created.ID
	name := "renamed"
	if _, err := g.UpdateKey(ctx, id, KeyUpdate{Name: &name, Metadata: &map[string]any{"x": 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.RenewKey(ctx, id, Renewal{NeverExpires: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.RevokeKey(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := g.RenewKey(ctx, id, Renewal{}); err == nil {
		t.Fatal("a revoked key was renewed")
	}
	if err := g.DeleteKey(context.Background(), id); err != nil { // no actor: "go"
		t.Fatal(err)
	}
	const unknown = "0000000000000000000000"
	if err := g.DeleteKey(ctx, unknown); err == nil {
		t.Fatal("an unknown key was deleted")
	}
	if _, err := g.UpdateKey(ctx, unknown, KeyUpdate{Name: &name}); err == nil {
		t.Fatal("an unknown key was updated")
	}
	if _, err := g.CreateKey(ctx, KeySpec{Name: strings.Repeat("n", 201)}); err == nil {
		t.Fatal("a 201-byte name was accepted")
	}
	// Refused before any I/O, naming no key: not audited.
	if _, err := g.RevokeKey(ctx, "not a key id!"); err == nil {
		t.Fatal("a malformed id was revoked")
	}
	// Reading is not an admin action.
	if _, _, err := g.ListKeys(ctx, KeyQuery{}); err != nil {
		t.Fatal(err)
	}

	checkEntries(t, h.auditAll(AuditQuery{}), []wantEntry{
		{action: actionCreate, keyID: id, actor: "job:nightly", outcome: outcomeOK, fields: []string{"name", "owner", "scopes", "metadata"}},
		{action: actionUpdate, keyID: id, actor: "job:nightly", outcome: outcomeOK, fields: []string{"name", "metadata"}},
		{action: actionRenew, keyID: id, actor: "job:nightly", outcome: outcomeOK},
		{action: actionRevoke, keyID: id, actor: "job:nightly", outcome: outcomeOK},
		{action: actionRenew, keyID: id, actor: "job:nightly", outcome: "key_revoked"},
		{action: actionDelete, keyID: id, actor: "go", outcome: outcomeOK},
		{action: actionDelete, keyID: unknown, actor: "job:nightly", outcome: "not_found"},
		{action: actionUpdate, keyID: unknown, actor: "job:nightly", outcome: "not_found", fields: []string{"name"}},
		{action: actionCreate, actor: "job:nightly", outcome: "bad_request", fields: []string{"name"}},
	})
	if got := h.auditAll(AuditQuery{KeyID: id, Action: actionRenew}); len(got) != 2 {
		t.Errorf("key_id and action filters: %d entries, want 2:\n%s", len(got), entriesText(got))
	}
}

func TestEveryAdminRequestWritesOneAuditEntryWithTheClientAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const from = "10.1.2.3:4567"
	admin := func(method, path, body string) int {
		return h.DoFrom(from, testkit.Request{Method: method, Path: "/auth" + path, Body: body,
			Header: map[string]string{adminHeader: testSecret}}).Code
	}
	if code := admin(http.MethodPost, "/keys", `{"name":"n","quota":{"requests":5,"per":"day"}}`); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	id := h.auditAll(AuditQuery{})[0].KeyID
	for _, r := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodPatch, "/keys/" + id, `{"scopes":["a:b"],"allowed_ips":["10.0.0.0/8"]}`, http.StatusOK},
		{http.MethodPost, "/keys/" + id + "/renew", `{"never_expires":true}`, http.StatusOK},
		{http.MethodPost, "/keys/" + id + "/revoke", "", http.StatusOK},
		{http.MethodPost, "/keys/" + id + "/renew", "", http.StatusConflict},
		{http.MethodDelete, "/keys/" + id, "", http.StatusNoContent},
		{http.MethodDelete, "/keys/" + id, "", http.StatusNotFound},
		{http.MethodGet, "/keys", "", http.StatusOK},
	} {
		if code := admin(r.method, r.path, r.body); code != r.want {
			t.Fatalf("%s %s: %d, want %d", r.method, r.path, code, r.want)
		}
	}
	// httptest's default client address.
	if w := h.Admin(http.MethodPatch, "/keys/"+id, `{"name":"x"}`); w.Code != http.StatusNotFound {
		t.Fatalf("update of a deleted key: %d", w.Code)
	}

	actor := "http:10.1.2.3"
	checkEntries(t, h.auditAll(AuditQuery{}), []wantEntry{
		{action: actionCreate, keyID: id, actor: actor, outcome: outcomeOK, fields: []string{"name", "quota"}},
		{action: actionUpdate, keyID: id, actor: actor, outcome: outcomeOK, fields: []string{"scopes", "allowed_ips"}},
		{action: actionRenew, keyID: id, actor: actor, outcome: outcomeOK},
		{action: actionRevoke, keyID: id, actor: actor, outcome: outcomeOK},
		{action: actionRenew, keyID: id, actor: actor, outcome: "key_revoked"},
		{action: actionDelete, keyID: id, actor: actor, outcome: outcomeOK},
		{action: actionDelete, keyID: id, actor: actor, outcome: "not_found"},
		{action: actionUpdate, keyID: id, actor: "http:192.0.2.1", outcome: "not_found", fields: []string{"name"}},
	})
}

func TestAuditLogAndLogsNeverHoldTheKeyItsHashOrTheAdminSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.AdminFailureLimit = -1 })
	created := h.createKey(`{"name":"n","metadata":{"secret_note":"value-not-logged"}}`)
	h.Admin(http.MethodPatch, "/keys/"+created.ID, `{"metadata":{"other":"value-not-logged"}}`)
	h.Admin(http.MethodPost, "/keys/"+created.ID+"/revoke", "")
	wrong := "wrong-admin-secret-0123456789"
	h.Do(testkit.Request{Method: http.MethodGet, Path: "/auth/keys", Header: map[string]string{adminHeader: wrong}})
	h.Do(testkit.Request{Method: http.MethodGet, Path: "/auth/keys?admin_secret=" + testSecret})
	if err := h.Guard.Close(); err != nil { // writes the failure's entry
		t.Fatal(err)
	}

	st, err := gormstore.Open(context.Background(), h.DBPath, gormstore.DefaultTablePrefix, slogDiscard(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	db := st.DB()
	var rows []map[string]any
	if err := db.Table("ginkey_audit").Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows, want create, update, revoke, auth_failed: %v", len(rows), rows)
	}
	// With the throttle off the address is still known: httptest's.
	if got := rows[3]["actor"]; got != "http:192.0.2.1" || rows[3]["action"] != actionAuthFailed {
		t.Errorf("auth_failed row: %v", rows[3])
	}
	text := fmt.Sprint(rows)
	hash := hashKey(created.Secret)
	for what, s := range map[string]string{
		"the key": created.Secret, "its hash": hash.String(), "the admin secret": testSecret,
		"the wrong secret": wrong, "a metadata value": "value-not-logged",
	} {
		if strings.Contains(text, s) {
			t.Errorf("the audit table holds %s:\n%s", what, text)
		}
		if what != "a metadata value" && strings.Contains(h.Logs.String(), s) {
			t.Errorf("the log holds %s:\n%s", what, h.Logs)
		}
	}
}

func TestFailedAdminAuthenticationsAreAuditedOncePerAddressAndMinute(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now }) // the throttle's refusals count too
	wrong := func(remote string, n int) {
		for range n {
			w := h.DoFrom(remote, testkit.Request{Method: http.MethodGet, Path: "/auth/keys",
				Header: map[string]string{adminHeader: "wrong-admin-secret-0123456789"}})
			if w.Code != http.StatusUnauthorized && w.Code != http.StatusTooManyRequests {
				t.Fatalf("wrong secret: %d", w.Code)
			}
		}
	}
	ctx := context.Background()
	wrong("10.0.0.1:1000", 50)
	wrong("[2001:db8::1]:1000", 3)
	wrong("[2001:db8::2]:1000", 2) // the same /64
	h.Guard.flushAuthFailures(ctx, false)
	if got := h.auditAll(AuditQuery{Action: actionAuthFailed}); len(got) != 0 {
		t.Fatalf("entries before the minute is over:\n%s", entriesText(got))
	}
	clock.Advance(time.Minute)
	wrong("10.0.0.1:1000", 1)
	h.Guard.flushAuthFailures(ctx, false)
	got := h.auditAll(AuditQuery{Action: actionAuthFailed})
	// Entries of one minute come in no particular order.
	slices.SortFunc(got, func(a, b AuditEntry) int { return strings.Compare(a.Actor, b.Actor) })
	checkEntries(t, got, []wantEntry{
		{action: actionAuthFailed, actor: "http:10.0.0.1", outcome: "admin_unauthorized", count: 50},
		{action: actionAuthFailed, actor: "http:2001:db8::", outcome: "admin_unauthorized", count: 5},
	})
	if want := clock.Now().Add(-time.Minute); !got[0].Time.Equal(want) {
		t.Errorf("time %v, want the minute's start %v", got[0].Time, want)
	}
	if err := h.Guard.Close(); err != nil { // the current minute's count
		t.Fatal(err)
	}
	h.Serve(New(Config{DBPath: h.DBPath, AdminSecret: testSecret, LookupEnv: testkit.NoEnv, Logger: slogDiscard(), Now: clock.Now}))
	got = h.auditAll(AuditQuery{Action: actionAuthFailed, KeyID: ""})
	if len(got) != 3 || got[2].Actor != "http:10.0.0.1" || got[2].Count != 1 || !got[2].Time.Equal(clock.Now()) {
		t.Fatalf("after Close, want a third entry for the second minute:\n%s", entriesText(got))
	}
}

func TestAdminAPIListsTheAuditLogWithFilters(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	a := h.createKey(`{"name":"a"}`)
	clock.Advance(time.Hour)
	b := h.createKey(`{"name":"b"}`)
	h.Admin(http.MethodPost, "/keys/"+a.ID+"/revoke", "")

	list := func(query string) auditList {
		t.Helper()
		w := h.Admin(http.MethodGet, "/audit"+query, "")
		if w.Code != http.StatusOK {
			t.Fatalf("GET /audit%s: %d %s", query, w.Code, w.Body)
		}
		if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		var l auditList
		testkit.Decode(t, w, &l)
		return l
	}
	all := list("")
	if all.Total != 3 || len(all.Entries) != 3 || all.Entries[0].Action != actionRevoke || all.Entries[2].KeyID != a.ID {
		t.Fatalf("all, newest first: %+v", all)
	}
	for _, c := range []struct {
		query string
		total int64
		n     int
	}{
		{"?key_id=" + a.ID, 2, 2},
		{"?key_id=" + b.ID + "&action=create", 1, 1},
		{"?action=revoke", 1, 1},
		{"?action=rotate", 0, 0},
		{"?since=" + clock.Now().Format(time.RFC3339), 2, 2},
		{"?since=" + clock.Now().Add(time.Second).Format(time.RFC3339Nano), 0, 0},
		{"?limit=1&offset=1", 3, 1},
		{"?offset=3", 3, 0},
	} {
		if l := list(c.query); l.Total != c.total || len(l.Entries) != c.n {
			t.Errorf("GET /audit%s: total %d, %d entries; want %d, %d", c.query, l.Total, len(l.Entries), c.total, c.n)
		}
	}
	if l := list("?limit=1&offset=1"); l.Entries[0].Action != actionCreate || l.Entries[0].KeyID != b.ID {
		t.Errorf("second page: %+v", l.Entries)
	}
	if w := h.Admin(http.MethodGet, "/audit?action=rotate", ""); !strings.Contains(w.Body.String(), `"entries":[]`) {
		t.Errorf("an empty page is not an empty list: %s", w.Body)
	}

	for query, param := range map[string]string{
		"?action=bogus": "action", "?since=yesterday": "since", "?since=2026-01-02": "since",
		"?limit=0": "limit", "?limit=501": "limit", "?limit=x": "limit", "?offset=-1": "offset",
		"?key_id=not-an-id": "key_id", "?key_id=" + strings.Repeat("a", 33): "key_id",
	} {
		w := h.Admin(http.MethodGet, "/audit"+query, "")
		testkit.WantError(t, w, http.StatusBadRequest, "bad_request")
		if !strings.Contains(w.Body.String(), `"message":"`+param) {
			t.Errorf("GET /audit%s: the message does not start with %s: %s", query, param, w.Body)
		}
	}
	w := h.Do(testkit.Request{Method: http.MethodGet, Path: "/auth/audit"})
	testkit.WantError(t, w, http.StatusUnauthorized, "admin_unauthorized")
	if w := h.Admin(http.MethodPost, "/audit", ""); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /audit: %d", w.Code)
	}
}

func TestAuditRetentionPrunesOldEntriesInBatches(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.AuditRetention = 24 * time.Hour })
	ctx := context.Background()
	store := h.Guard.audits.store
	old := make([]AuditEntry, 2*auditPruneBatch+5)
	for i := range old {
		old[i] = AuditEntry{Time: clock.Now().Add(-time.Duration(i) * time.Second), Action: actionCreate, Actor: "go", Outcome: outcomeOK, Count: 1}
	}
	if err := store.AddAudit(ctx, storedAudit(old)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(24 * time.Hour)
	kept := h.createKey(`{}`)
	h.Guard.pruneAudit(ctx)
	got := h.auditAll(AuditQuery{})
	if len(got) != 2 || got[1].KeyID != kept.ID {
		// The newest old entry is exactly 24h old: kept.
		t.Fatalf("after pruning, want the entry at the cut-off and the new one:\n%s", entriesText(got))
	}
	// The guard's own pruning at start may have taken part: the count may
	// be split between two lines.
	if !strings.Contains(h.Logs.String(), "audit log pruned") {
		t.Errorf("the pruning was not logged:\n%s", h.Logs)
	}
}

func TestNegativeAuditRetentionKeepsEveryEntry(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.AuditRetention = -1 })
	h.createKey(`{}`)
	clock.Advance(10 * 365 * 24 * time.Hour)
	h.Guard.pruneAudit(context.Background())
	if got := h.auditAll(AuditQuery{}); len(got) != 1 {
		t.Fatalf("%d entries, want 1", len(got))
	}
}

func TestAuditRetentionDefaultsAndEnvironment(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env  string
		want time.Duration
		bad  bool
	}{
		{"", envconfig.DefaultAuditRetention, false},
		{"720h", 720 * time.Hour, false},
		{"never", -1, false},
		{"-1h", 0, true},
		{"90d", 90 * 24 * time.Hour, false},
		{"90x", 0, true},
	} {
		cfg := Config{LookupEnv: func(name string) (string, bool) {
			if name == "GINKEY_AUDIT_RETENTION" && c.env != "" {
				return c.env, true
			}
			return "", false
		}}
		err := applyEnv(&cfg)
		if c.bad {
			if err == nil || !strings.Contains(err.Error(), "GINKEY_AUDIT_RETENTION") {
				t.Errorf("%q: error %v, want one naming GINKEY_AUDIT_RETENTION", c.env, err)
			}
			continue
		}
		applyDefaults(&cfg)
		if err != nil || cfg.AuditRetention != c.want {
			t.Errorf("%q: %v %v, want %v", c.env, cfg.AuditRetention, err, c.want)
		}
	}
}

func TestAFailedAuditWriteLeavesTheOperationDoneAndIsLogged(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	lift := h.refuseInserts("ginkey_audit")
	created := h.createKey(`{"name":"n"}`)
	if w := h.Secure(created.Secret); w.Code != http.StatusOK {
		t.Fatalf("the key created while the audit log failed: %d", w.Code)
	}
	if n := h.Guard.audits.lost.Load(); n != 1 {
		t.Errorf("%d lost entries counted, want 1", n)
	}
	logs := h.Logs.String()
	if !strings.Contains(logs, "audit entry not written") || !strings.Contains(logs, created.ID) || strings.Contains(logs, created.Secret) {
		t.Errorf("want the failure logged with the key id, not the key:\n%s", logs)
	}
	lift()
	if got := h.auditAll(AuditQuery{}); len(got) != 0 {
		t.Errorf("entries: %s", entriesText(got))
	}
}

func TestWithActorKeepsActorsPrintableAndShort(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                        "go",
		"ops:alice":               "ops:alice",
		"a\nb\tc\x00d\u202ee":     "a?b?c?d?e",
		"bad\xffutf8":             "bad?utf8",
		strings.Repeat("é", 150):  strings.Repeat("é", 100),
		strings.Repeat("x", 1000): strings.Repeat("x", 200),
	} {
		if got := actorFrom(WithActor(context.Background(), in)); got != want {
			t.Errorf("WithActor(%q) = %q, want %q", in, got, want)
		}
	}
	if got := actorFrom(context.Background()); got != "go" {
		t.Errorf("no actor: %q", got)
	}
}

func TestTheAuditEndpointIsInTheGeneratedOpenAPIDocument(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"docs/ginkey_swagger.json", "docs/swagger.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		d := parseOpenAPI(t, b)
		op, ok := d.Paths["/auth/audit"]["get"]
		if !ok {
			t.Fatalf("%s: no GET /auth/audit", file)
		}
		if op.OperationID != "ginkeyAuditLog" || len(op.Security) != 1 || op.Security[0]["AdminSecret"] == nil ||
			!strings.HasSuffix(op.Responses["200"].Schema.Ref, "AuditList") {
			t.Errorf("%s: GET /auth/audit = %+v", file, op)
		}
		for _, code := range []string{"400", "401", "503"} {
			if _, ok := op.Responses[code]; !ok {
				t.Errorf("%s: GET /auth/audit documents no %s", file, code)
			}
		}
		var params struct {
			Paths map[string]map[string]struct {
				Parameters []struct{ Name, In string } `json:"parameters"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(b, &params); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range params.Paths["/auth/audit"]["get"].Parameters {
			names = append(names, p.In+":"+p.Name)
		}
		if want := []string{"query:key_id", "query:action", "query:since", "query:limit", "query:offset"}; !slices.Equal(names, want) {
			t.Errorf("%s: parameters %v, want %v", file, names, want)
		}
	}
}
