package ginkey

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/internal/envconfig"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
)

// The key-management API through a real SQLite file: each method's success
// and error cases, and its effect on the guard's handlers.

var bg = context.Background()

// wantAPIError asserts that err is an *Error matching want (errors.Is: same
// code and status) and returns its message.
func wantAPIError(t *testing.T, err, want error) string {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	return e.Message
}

func mustCreate(t *testing.T, g *Guard, spec KeySpec) CreatedKey {
	t.Helper()
	k, err := g.CreateKey(bg, spec)
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return k
}

func TestCreateKeyWorksOnTheHandlerAtOnce(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := mustCreate(t, h.Guard, KeySpec{
		Name: "acme", Scopes: []string{"items:read", "items:read"}, Metadata: map[string]any{"team": 7},
		RateLimit: &RateLimit{Requests: 10, Per: PerSecond}, AllowedIPs: []string{"192.0.2.1/24"},
	})
	if !h.Guard.format.valid(k.Secret) || k.ID == "" || !strings.HasPrefix(k.Secret, k.Prefix) {
		t.Fatalf("created key %q id %q prefix %q", k.Secret, k.ID, k.Prefix)
	}
	if want := clock.Now().Add(envconfig.DefaultTTL); k.ExpiresAt == nil || !k.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at = %v, want now + TTL %v", k.ExpiresAt, want)
	}
	if k.Status != StatusActive || len(k.Scopes) != 1 || k.AllowedIPs[0] != "192.0.2.0/24" || k.Metadata["team"] != json.Number("7") {
		t.Fatalf("record not validated and normalized: %+v", k.Key)
	}
	testkit.WantOK(t, h.DoFrom("192.0.2.9:1234", testkit.Request{Method: "GET", Path: "/secure", Header: map[string]string{"X-API-Key": k.Secret}}), k.ID)
	if logs := h.Logs.String(); !strings.Contains(logs, `msg="ginkey: key created" key_id=`+k.ID+" prefix="+k.Prefix) || strings.Contains(logs, k.Secret) {
		t.Fatalf("want one INFO line with id and prefix, never the key:\n%s", logs)
	}

	never := mustCreate(t, h.Guard, KeySpec{NeverExpires: true})
	if never.ExpiresAt != nil || never.Metadata == nil {
		t.Fatalf("never_expires: expires_at %v, metadata %v", never.ExpiresAt, never.Metadata)
	}
}

func TestCreateKeyRefusesBadFieldsNamingThem(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	for _, tc := range []struct {
		spec  KeySpec
		field string
	}{
		{KeySpec{Name: "a\u202eb"}, "name"},
		{KeySpec{Scopes: []string{"no spaces"}}, "scopes"},
		{KeySpec{Metadata: map[string]any{"x": strings.Repeat("<", maxMetadataSize)}}, "metadata"},
		{KeySpec{Metadata: map[string]any{"f": func() {}}}, "metadata"},
		{KeySpec{ExpiresAt: &past}, "expires_at"},
		{KeySpec{ExpiresAt: &future, NeverExpires: true}, "expires_at"},
		{KeySpec{RateLimit: &RateLimit{Requests: 1, Per: PerDay}}, "rate_limit"},
		{KeySpec{Quota: &Quota{Requests: 0, Per: PerDay}}, "quota"},
		{KeySpec{AllowedIPs: []string{"10.0.0.0/33"}}, "allowed_ips"},
	} {
		_, err := h.Guard.CreateKey(bg, tc.spec)
		if msg := wantAPIError(t, err, ErrBadRequest); !strings.Contains(msg, tc.field) {
			t.Fatalf("%s: message %q does not name the field", tc.field, msg)
		}
	}
	if list, err := keysPage(h.Guard.ListKeys(bg, KeyQuery{})); err != nil || list.Total != 0 {
		t.Fatalf("refused keys were stored: %v %+v", err, list)
	}
}

func TestGetKeyReturnsTheRecordOrErrNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := mustCreate(t, h.Guard, KeySpec{Name: "acme"})
	got, err := h.Guard.GetKey(bg, k.ID)
	if err != nil || got.ID != k.ID || got.Name != "acme" || got.Status != StatusActive {
		t.Fatalf("GetKey = %+v, %v", got, err)
	}
	for _, id := range []string{"0123456789abcdefABCDEF", "", "not-base62", strings.Repeat("a", 33)} {
		_, err := h.Guard.GetKey(bg, id)
		wantAPIError(t, err, ErrNotFound)
	}
}

func TestListKeysPagesAndFiltersByStatus(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	var ids []string
	for range 3 {
		ids = append(ids, mustCreate(t, h.Guard, KeySpec{}).ID)
		clock.Advance(time.Second)
	}
	if _, err := h.Guard.RevokeKey(bg, ids[0]); err != nil {
		t.Fatal(err)
	}
	all, err := keysPage(h.Guard.ListKeys(bg, KeyQuery{}))
	if err != nil || all.Total != 3 || len(all.Keys) != 3 || all.Keys[0].ID != ids[2] {
		t.Fatalf("ListKeys{} = %+v, %v; want all 3, newest first", all, err)
	}
	page, err := keysPage(h.Guard.ListKeys(bg, KeyQuery{Limit: 1, Offset: 1}))
	if err != nil || page.Total != 3 || len(page.Keys) != 1 || page.Keys[0].ID != ids[1] {
		t.Fatalf("second page = %+v, %v", page, err)
	}
	revoked, err := keysPage(h.Guard.ListKeys(bg, KeyQuery{Status: StatusRevoked}))
	if err != nil || revoked.Total != 1 || revoked.Keys[0].ID != ids[0] || revoked.Keys[0].Status != StatusRevoked {
		t.Fatalf("revoked = %+v, %v", revoked, err)
	}
	for _, q := range []KeyQuery{{Status: "gone"}, {Limit: 501}, {Limit: -1}, {Offset: -1}, {Offset: 1<<30 + 1}} {
		_, _, err := h.Guard.ListKeys(bg, q)
		wantAPIError(t, err, ErrBadRequest)
	}
}

func TestUpdateKeyOfScopesAppliesAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.Engine.GET("/write", h.Guard.Require("items:write"), func(c *gin.Context) { c.Status(http.StatusOK) })
	k := mustCreate(t, h.Guard, KeySpec{Scopes: []string{"items:read"}})
	write := func() *httptest.ResponseRecorder {
		return h.Do(testkit.Request{Method: "GET", Path: "/write", Header: map[string]string{"X-API-Key": k.Secret}})
	}
	testkit.WantError(t, write(), http.StatusForbidden, "insufficient_scope") // and now cached
	got, err := h.Guard.UpdateKey(bg, k.ID, KeyUpdate{Scopes: &[]string{"items:read", "items:write"}})
	if err != nil || len(got.Scopes) != 2 {
		t.Fatalf("UpdateKey = %+v, %v", got, err)
	}
	if w := write(); w.Code != http.StatusOK {
		t.Fatalf("after the update: %d %s", w.Code, w.Body)
	}
	if !strings.Contains(h.Logs.String(), `msg="ginkey: key updated" key_id=`+k.ID+" fields=scopes") {
		t.Fatalf("no update log line:\n%s", h.Logs)
	}
}

func TestUpdateKeySetsAndClearsEachField(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	g := h.Guard
	k := mustCreate(t, g, KeySpec{AllowedIPs: []string{"10.0.0.1"}})
	meta := map[string]any{"n": 1}
	name := "renamed"
	got, err := g.UpdateKey(bg, k.ID, KeyUpdate{
		Name: &name, Metadata: &meta, AllowedIPs: &[]string{},
		RateLimit: &RateLimit{Requests: 5, Per: PerMinute}, Quota: &Quota{Requests: 100, Per: PerDay},
	})
	if err != nil || got.Name != name || len(got.AllowedIPs) != 0 || got.RateLimit == nil || got.Quota == nil {
		t.Fatalf("set: %+v, %v", got, err)
	}
	meta["n"] = 2 // the caller's map is not the stored one
	if got, _ = g.GetKey(bg, k.ID); got.Metadata["n"] != json.Number("1") {
		t.Fatalf("metadata read back as %#v, want json.Number 1", got.Metadata)
	}
	got, err = g.UpdateKey(bg, k.ID, KeyUpdate{ClearRateLimit: true, ClearQuota: true})
	if err != nil || got.RateLimit != nil || got.Quota != nil || got.Name != name {
		t.Fatalf("clear: %+v, %v", got, err)
	}

	for _, u := range []KeyUpdate{
		{},
		{RateLimit: &RateLimit{Requests: 1, Per: PerSecond}, ClearRateLimit: true},
		{Quota: &Quota{Requests: 1, Per: PerDay}, ClearQuota: true},
		{Scopes: &[]string{""}},
	} {
		_, err := g.UpdateKey(bg, k.ID, u)
		wantAPIError(t, err, ErrBadRequest)
	}
	_, err = g.UpdateKey(bg, "0123456789abcdefABCDEF", KeyUpdate{Name: &name})
	wantAPIError(t, err, ErrNotFound)
	if _, err := g.RevokeKey(bg, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = g.UpdateKey(bg, k.ID, KeyUpdate{Name: &name})
	wantAPIError(t, err, errRevokedConflict)
}

func TestRevokedKeyFailsOnTheNextRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := mustCreate(t, h.Guard, KeySpec{})
	testkit.WantOK(t, h.Secure(k.Secret), k.ID) // cached from here
	first, err := h.Guard.RevokeKey(bg, k.ID)
	if err != nil || first.Status != StatusRevoked || first.RevokedAt == nil {
		t.Fatalf("RevokeKey = %+v, %v", first, err)
	}
	testkit.WantError(t, h.Secure(k.Secret), http.StatusUnauthorized, "key_revoked")
	again, err := h.Guard.RevokeKey(bg, k.ID) // idempotent
	if err != nil || !again.RevokedAt.Equal(*first.RevokedAt) {
		t.Fatalf("second RevokeKey = %+v, %v; want the first revocation kept", again, err)
	}
	_, err = h.Guard.RevokeKey(bg, "0123456789abcdefABCDEF")
	wantAPIError(t, err, ErrNotFound)
}

func TestRenewKeySetsTheExpiry(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.TTL = time.Hour })
	g := h.Guard
	k := mustCreate(t, g, KeySpec{})
	clock.Advance(2 * time.Hour)
	testkit.WantError(t, h.Secure(k.Secret), http.StatusUnauthorized, "key_expired")

	got, err := g.RenewKey(bg, k.ID, Renewal{})
	if err != nil || !got.ExpiresAt.Equal(clock.Now().Add(time.Hour)) || got.Status != StatusActive {
		t.Fatalf("RenewKey{} = %+v, %v; want now + TTL", got, err)
	}
	testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	at := clock.Now().Add(48 * time.Hour)
	if got, err = g.RenewKey(bg, k.ID, Renewal{ExpiresAt: &at}); err != nil || !got.ExpiresAt.Equal(at) {
		t.Fatalf("RenewKey(at) = %+v, %v", got, err)
	}
	if got, err = g.RenewKey(bg, k.ID, Renewal{NeverExpires: true}); err != nil || got.ExpiresAt != nil {
		t.Fatalf("RenewKey(never) = %+v, %v", got, err)
	}

	past, far := clock.Now().Add(-time.Second), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range []Renewal{{ExpiresAt: &past}, {ExpiresAt: &far}, {ExpiresAt: &at, NeverExpires: true}} {
		_, err := g.RenewKey(bg, k.ID, r)
		wantAPIError(t, err, ErrBadRequest)
	}
	_, err = g.RenewKey(bg, "0123456789abcdefABCDEF", Renewal{})
	wantAPIError(t, err, ErrNotFound)
	if _, err := g.RevokeKey(bg, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = g.RenewKey(bg, k.ID, Renewal{})
	wantAPIError(t, err, errRevokedConflict)
}

func TestDeleteKeyFailsItOnTheNextRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := mustCreate(t, h.Guard, KeySpec{})
	testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	if err := h.Guard.DeleteKey(bg, k.ID); err != nil {
		t.Fatal(err)
	}
	testkit.WantError(t, h.Secure(k.Secret), http.StatusUnauthorized, "key_invalid")
	wantAPIError(t, h.Guard.DeleteKey(bg, k.ID), ErrNotFound)
	wantAPIError(t, h.Guard.DeleteKey(bg, "../x"), ErrNotFound)
}

func TestKeyUsageAndUsageSummaryIncludePendingCounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.FlushInterval = time.Hour })
	g := h.Guard
	k := mustCreate(t, g, KeySpec{Name: "acme"})
	for range 3 {
		testkit.WantOK(t, h.Secure(k.Secret), k.ID)
	}
	rep, err := g.KeyUsage(bg, k.ID, 0)
	if err != nil || rep.TotalRequests != 3 || rep.LastUsedAt == nil || len(rep.Daily) != 1 {
		t.Fatalf("KeyUsage = %+v, %v", rep, err)
	}
	sum, err := usagePage(g.UsageSummary(bg, 0, 0))
	if err != nil || sum.Total != 1 || sum.Usage[0].TotalRequests != 3 || sum.Usage[0].Name != "acme" {
		t.Fatalf("UsageSummary = %+v, %v", sum, err)
	}
	for _, days := range []int{-1, 367} {
		_, err := g.KeyUsage(bg, k.ID, days)
		wantAPIError(t, err, ErrBadRequest)
	}
	_, err = g.KeyUsage(bg, "0123456789abcdefABCDEF", 1)
	wantAPIError(t, err, ErrNotFound)
	_, _, err = g.UsageSummary(bg, 501, 0)
	wantAPIError(t, err, ErrBadRequest)
	_, _, err = g.UsageSummary(bg, 1, -1)
	wantAPIError(t, err, ErrBadRequest)
}

// A store failure is an internal error: errors.As finds no *Error, the
// cause stays reachable for the caller's log, and over HTTP it is a 503
// whose body says nothing of it.
func TestStoreFailuresAreInternalErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.refuseInserts("ginkey_keys")
	_, err := h.Guard.CreateKey(bg, KeySpec{})
	var e *Error
	if err == nil || errors.As(err, &e) || !strings.Contains(err.Error(), "database or disk is full") {
		t.Fatalf("CreateKey = %v; want an internal error with its cause", err)
	}
	w := h.Admin("POST", "/keys", `{}`)
	testkit.WantError(t, w, http.StatusServiceUnavailable, "unavailable")
	if strings.Contains(w.Body.String(), "database or disk is full") || !strings.Contains(h.Logs.String(), "database or disk is full") {
		t.Fatalf("the cause must reach the log, not the client: %s", w.Body)
	}
}

// deadlineStore records the deadline of each ByID call.
type deadlineStore struct {
	*gormstore.Store
	deadline chan time.Time
}

func (s *deadlineStore) ByID(ctx context.Context, id string) (*keystore.Record, error) {
	d, _ := ctx.Deadline()
	s.deadline <- d
	return s.Store.ByID(ctx, id)
}

func TestGoCallersGetTheAdminDeadlineUnlessTheirsIsSooner(t *testing.T) {
	t.Parallel()
	st := &deadlineStore{Store: newTestGormStore(t), deadline: make(chan time.Time, 1)}
	h := newHarness(t, func(c *Config) { c.Store = st; c.StoreTimeout = time.Minute })
	id := mustCreate(t, h.Guard, KeySpec{}).ID

	start := time.Now()
	_, _ = h.Guard.GetKey(bg, id)
	if d := <-st.deadline; d.Before(start.Add(h.Guard.adminTimeout())) || d.After(time.Now().Add(h.Guard.adminTimeout())) {
		t.Fatalf("deadline %v, want now + %v", d.Sub(start), h.Guard.adminTimeout())
	}
	ctx, cancel := context.WithTimeout(bg, time.Second)
	defer cancel()
	want, _ := ctx.Deadline()
	_, _ = h.Guard.GetKey(ctx, id)
	if d := <-st.deadline; !d.Equal(want) {
		t.Fatalf("deadline %v, want the caller's own %v", d, want)
	}
}

// Every error the admin API answers with is the Go API's error for the same
// input: status, code and message.
func TestHTTPAdminErrorsAreTheGoAPIErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	g := h.Guard
	live := mustCreate(t, g, KeySpec{}).ID
	revoked := mustCreate(t, g, KeySpec{}).ID
	if _, err := g.RevokeKey(bg, revoked); err != nil {
		t.Fatal(err)
	}
	const unknown = "0123456789abcdefABCDEF"
	past := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	future := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	name := "x"
	cases := []struct {
		method, path, body string
		call               func() error
	}{
		{"POST", "/keys", `{"name":"a\u200bb"}`, func() error { _, err := g.CreateKey(bg, KeySpec{Name: "a\u200bb"}); return err }},
		{"POST", "/keys", `{"scopes":["a b"]}`, func() error { _, err := g.CreateKey(bg, KeySpec{Scopes: []string{"a b"}}); return err }},
		{"POST", "/keys", `{"metadata":` + metadataWith(maxMetadataSize+1, false) + `}`, func() error {
			_, err := g.CreateKey(bg, KeySpec{Metadata: map[string]any{"x": strings.Repeat("<", maxMetadataSize+1-len(`{"x":""}`))}})
			return err
		}},
		{"POST", "/keys", `{"expires_at":"2000-01-01T00:00:00Z"}`, func() error { _, err := g.CreateKey(bg, KeySpec{ExpiresAt: &past}); return err }},
		{"POST", "/keys", `{"expires_at":"2099-01-01T00:00:00Z","never_expires":true}`, func() error {
			_, err := g.CreateKey(bg, KeySpec{ExpiresAt: &future, NeverExpires: true})
			return err
		}},
		{"POST", "/keys", `{"rate_limit":{"requests":0,"per":"1s"}}`, func() error {
			_, err := g.CreateKey(bg, KeySpec{RateLimit: &RateLimit{Per: PerSecond}})
			return err
		}},
		{"POST", "/keys", `{"quota":{"requests":1,"per":"1h"}}`, func() error {
			_, err := g.CreateKey(bg, KeySpec{Quota: &Quota{Requests: 1, Per: PerHour}})
			return err
		}},
		{"POST", "/keys", `{"allowed_ips":["nope"]}`, func() error { _, err := g.CreateKey(bg, KeySpec{AllowedIPs: []string{"nope"}}); return err }},
		{"GET", "/keys?status=gone", "", func() error { _, _, err := g.ListKeys(bg, KeyQuery{Status: "gone"}); return err }},
		{"GET", "/keys?limit=501", "", func() error { _, _, err := g.ListKeys(bg, KeyQuery{Limit: 501}); return err }},
		{"GET", "/keys?limit=ten", "", func() error { _, _, err := g.ListKeys(bg, KeyQuery{Limit: -1}); return err }},
		{"GET", "/keys?offset=-1", "", func() error { _, _, err := g.ListKeys(bg, KeyQuery{Offset: -1}); return err }},
		{"GET", "/keys?limit=0", "", func() error { _, _, err := g.ListKeys(bg, KeyQuery{Limit: 501}); return err }},
		{"GET", "/keys?status=gone&limit=ten", "", func() error { _, _, err := g.ListKeys(bg, KeyQuery{Status: "gone", Limit: -1}); return err }},
		{"GET", "/keys/" + unknown, "", func() error { _, err := g.GetKey(bg, unknown); return err }},
		{"GET", "/keys/not_base62", "", func() error { _, err := g.GetKey(bg, "not_base62"); return err }},
		{"PATCH", "/keys/" + live, `{}`, func() error { _, err := g.UpdateKey(bg, live, KeyUpdate{}); return err }},
		{"PATCH", "/keys/" + live, `{"scopes":[""]}`, func() error { _, err := g.UpdateKey(bg, live, KeyUpdate{Scopes: &[]string{""}}); return err }},
		{"PATCH", "/keys/" + unknown, `{"name":"x"}`, func() error { _, err := g.UpdateKey(bg, unknown, KeyUpdate{Name: &name}); return err }},
		{"PATCH", "/keys/" + revoked, `{"name":"x"}`, func() error { _, err := g.UpdateKey(bg, revoked, KeyUpdate{Name: &name}); return err }},
		{"POST", "/keys/" + live + "/renew", `{"expires_at":"2000-01-01T00:00:00Z"}`, func() error {
			_, err := g.RenewKey(bg, live, Renewal{ExpiresAt: &past})
			return err
		}},
		{"POST", "/keys/" + revoked + "/renew", "", func() error { _, err := g.RenewKey(bg, revoked, Renewal{}); return err }},
		{"POST", "/keys/" + unknown + "/renew", "", func() error { _, err := g.RenewKey(bg, unknown, Renewal{}); return err }},
		{"POST", "/keys/" + unknown + "/revoke", "", func() error { _, err := g.RevokeKey(bg, unknown); return err }},
		{"DELETE", "/keys/" + unknown, "", func() error { return g.DeleteKey(bg, unknown) }},
		{"GET", "/keys/" + live + "/usage?days=367", "", func() error { _, err := g.KeyUsage(bg, live, 367); return err }},
		{"GET", "/keys/" + live + "/usage?days=0", "", func() error { _, err := g.KeyUsage(bg, live, -1); return err }},
		{"GET", "/keys/" + unknown + "/usage", "", func() error { _, err := g.KeyUsage(bg, unknown, 0); return err }},
		{"GET", "/usage?limit=501", "", func() error { _, _, err := g.UsageSummary(bg, 501, 0); return err }},
		{"GET", "/usage?offset=-1", "", func() error { _, _, err := g.UsageSummary(bg, 0, -1); return err }},
		{"GET", "/keys?owner=a%E2%80%8Bb", "", func() error { _, _, err := g.ListKeys(bg, KeyQuery{Owner: "a\u200bb"}); return err }},
		{"GET", "/keys?prefix=nope", "", func() error { _, _, err := g.ListKeys(bg, KeyQuery{Prefix: "nope"}); return err }},
		{"GET", "/keys?name=" + strings.Repeat("n", 201), "", func() error { _, _, err := g.ListKeys(bg, KeyQuery{Name: strings.Repeat("n", 201)}); return err }},
		{"POST", "/keys", `{"owner":"` + strings.Repeat("o", 201) + `"}`, func() error { _, err := g.CreateKey(bg, KeySpec{Owner: strings.Repeat("o", 201)}); return err }},
		{"PATCH", "/keys/" + live, `{"owner":"a\tb"}`, func() error { o := "a\tb"; _, err := g.UpdateKey(bg, live, KeyUpdate{Owner: &o}); return err }},
		{"POST", "/keys/" + live + "/rotate", `{"grace":"721h"}`, func() error { _, err := g.RotateKey(bg, live, 721*time.Hour); return err }},
		{"POST", "/keys/" + revoked + "/rotate", "", func() error { _, err := g.RotateKey(bg, revoked, 0); return err }},
		{"POST", "/keys/" + unknown + "/rotate", "", func() error { _, err := g.RotateKey(bg, unknown, 0); return err }},
	}
	for _, tc := range cases {
		var e *Error
		if err := tc.call(); !errors.As(err, &e) {
			t.Fatalf("%s %s: Go API returned %v, want an *Error", tc.method, tc.path, err)
		}
		w := h.Admin(tc.method, tc.path, tc.body)
		var body ErrorBody
		testkit.Decode(t, w, &body)
		if w.Code != e.Status || body.Error.Code != e.Code || body.Error.Message != e.Message {
			t.Fatalf("%s %s: HTTP %d %s, Go API %d %s: %s", tc.method, tc.path, w.Code, w.Body, e.Status, e.Code, e.Message)
		}
	}
}

// A malformed id is refused before any I/O: even while the pending usage
// cannot be written, KeyUsage answers ErrNotFound, not the flush's failure.
func TestKeyUsageRefusesAMalformedIDBeforeFlushing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.FlushInterval = time.Hour; c.StoreTimeout = 50 * time.Millisecond })
	k := h.createKey(`{}`)
	testkit.WantOK(t, h.Secure(k.Secret), k.ID) // a count is pending
	h.refuseInserts("ginkey_usage")
	if _, err := h.Guard.KeyUsage(bg, "not an id!", 7); !errors.Is(err, ErrNotFound) {
		t.Fatalf("KeyUsage(malformed id) = %v, want ErrNotFound", err)
	}
}
