package ginkey

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/ginkey/ginkey/internal/testkit"

	"github.com/gin-gonic/gin"
)

// sessionAuth is a host application's own admin check: it admits the
// header X-Session: ok, naming as principal what X-User says, if anything.
type sessionAuth struct{}

func (sessionAuth) Authenticate(c *gin.Context) error {
	if c.GetHeader("X-Session") != "ok" {
		return ErrCredentialsMissing
	}
	if u := c.GetHeader("X-User"); u != "" {
		SetPrincipal(c, u)
	}
	return nil
}

// principalOfUpdate renames the key id through the admin API with header
// and returns the principal of the update's audit entry.
func principalOfUpdate(h *harness, id string, header map[string]string) string {
	h.T.Helper()
	w := h.DoFrom("10.1.2.3:4567", testkit.Request{Method: http.MethodPatch, Path: "/auth/keys/" + id,
		Body: `{"name":"renamed"}`, Header: header})
	if w.Code != http.StatusOK {
		h.T.Fatalf("update with %v: %d %s", header, w.Code, w.Body)
	}
	got := h.auditAll(AuditQuery{KeyID: id, Action: actionUpdate})
	e := got[len(got)-1]
	if e.Actor != "http:10.1.2.3" {
		h.T.Errorf("actor %q, want http:10.1.2.3 beside the principal", e.Actor)
	}
	return e.Principal
}

func TestTheAuditLogNamesWhoTheAdminAPIAdmittedBesideTheAddress(t *testing.T) {
	t.Parallel()
	basic, err := BasicAuth("ops", map[string]string{"alice": "pw-for-alice-0123"})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *Config) { c.AdminAuth = basic; c.AdminKeyScope = "ginkey:admin" })
	target := h.createKey(`{"name":"target"}`).ID
	admin := h.createKey(`{"name":"admin","scopes":["ginkey:admin"]}`)
	wildcard := h.createKey(`{"name":"wild","scopes":["*"]}`).Secret

	for _, c := range []struct {
		name   string
		header map[string]string
		want   string
	}{
		{"the admin secret", map[string]string{adminHeader: testSecret}, "secret"},
		{"a key with the admin scope", map[string]string{"X-API-Key": admin.Secret}, "key:" + admin.ID},
		{"BasicAuth", map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:pw-for-alice-0123"))}, "basic:alice"},
	} {
		if got := principalOfUpdate(h, target, c.header); got != c.want {
			t.Errorf("%s: principal %q, want %q", c.name, got, c.want)
		}
	}

	// Refused credentials make an auth_failed entry, which names no one.
	h.Do(testkit.Request{Method: http.MethodGet, Path: "/auth/keys", Header: map[string]string{"X-API-Key": wildcard}})
	h.Do(testkit.Request{Method: http.MethodGet, Path: "/auth/keys", Header: map[string]string{adminHeader: "wrong-admin-secret-0123456789"}})
	if err := h.Guard.Close(); err != nil {
		t.Fatal(err)
	}
	h.Serve(New(Config{DBPath: h.DBPath, AdminSecret: testSecret, LookupEnv: testkit.NoEnv, Logger: slogDiscard()}))
	failed := h.auditAll(AuditQuery{Action: actionAuthFailed})
	if len(failed) != 1 || failed[0].Count != 2 || failed[0].Principal != "" {
		t.Errorf("auth_failed entries: %s", entriesText(failed))
	}
	// Go code names none: its actor says who acted.
	if _, err := h.Guard.UpdateKey(WithActor(context.Background(), "job:x"), target, KeyUpdate{Name: ptr("again")}); err != nil {
		t.Fatal(err)
	}
	all := h.auditAll(AuditQuery{KeyID: target, Action: actionUpdate})
	if last := all[len(all)-1]; last.Actor != "job:x" || last.Principal != "" {
		t.Errorf("Go call's entry: %+v", last)
	}
}

func TestAHostAuthenticatorNamesItsPrincipalWithSetPrincipal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.AdminAuth = sessionAuth{} })
	id := h.createKey(`{"name":"target"}`).ID
	for _, c := range []struct {
		user, want string
	}{
		{"ops@example.com", "app:ops@example.com"},
		{"", "app"},                          // admitted, no name given
		{"secret", "app:secret"},             // cannot pass for the admin secret
		{"key:x\u202e\u0007", "app:key:x??"}, // nor hide control characters
		{strings.Repeat("u", 300), "app:" + strings.Repeat("u", 196)},
	} {
		hdr := map[string]string{"X-Session": "ok"}
		if c.user != "" {
			hdr["X-User"] = c.user
		}
		if got := principalOfUpdate(h, id, hdr); got != c.want {
			t.Errorf("X-User %q: principal %q, want %q", c.user, got, c.want)
		}
	}
}
