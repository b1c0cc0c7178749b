package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/console"
)

func TestEditChangesOnlyWhatTheFormChanged(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	k := createKey(t, e, ginkey.KeySpec{Name: "old", Owner: "acme", Scopes: []string{"a"}, Metadata: map[string]any{"tier": "gold"},
		Quota: &ginkey.Quota{Requests: 10, Per: ginkey.PerDay}})
	page := e.get("/console/keys/" + k.ID + "/edit").Body.String()
	for _, want := range []string{`<form id="edit"`, `id="name" name="name" value="old"`, `id="owner" name="owner" value="acme"`, `id="quota-requests" name="quota_requests" inputmode="numeric" value="10"`, `id="edit-submit"`} {
		if !strings.Contains(page, want) {
			t.Errorf("edit form lacks %s", want)
		}
	}
	tok := e.token("/console/keys/" + k.ID + "/edit")
	form := url.Values{"csrf": {tok}, "name": {"new"}, "owner": {"acme"}, "scopes": {"a b"}, "quota_requests": {""}, "quota_per": {"day"},
		"rate_per": {"1m"}, "metadata": {"{\n  \"tier\": \"gold\"\n}"}}
	w := e.post("/console/keys/"+k.ID+"/edit", form)
	mustStatus(t, w, http.StatusSeeOther)
	if loc := w.Header().Get("Location"); loc != "/console/keys/"+k.ID+"?done=updated" {
		t.Errorf("Location %q", loc)
	}
	got, _ := e.guard.GetKey(t.Context(), k.ID)
	if got.Name != "new" || strings.Join(got.Scopes, " ") != "a b" || got.Quota != nil || got.Metadata["tier"] != "gold" || got.Owner != "acme" {
		t.Errorf("after edit: %+v", got)
	}
	after := e.get(w.Header().Get("Location")).Body.String()
	if !strings.Contains(after, `<div id="notice" role="status">`) {
		t.Error("no notice after the edit")
	}
	if !strings.Contains(after, `<td>update</td><td>http:192.0.2.1 (secret)</td><td>name, scopes, quota</td>`) {
		t.Errorf("the key's audit entries lack the edit: %s", after)
	}
	entries, _, err := e.guard.Audit(t.Context(), ginkey.AuditQuery{KeyID: k.ID, Action: "update"})
	if err != nil || len(entries) != 1 || entries[0].Principal != "secret" || !strings.HasPrefix(entries[0].Actor, "http:") {
		t.Errorf("the edit's audit entry: %+v %v", entries, err)
	}
	// A rule the API enforces comes back as its message, the form kept.
	w = e.post("/console/keys/"+k.ID+"/edit", url.Values{"csrf": {tok}, "name": {"new"}, "rate_requests": {"0"}, "rate_per": {"1m"}})
	mustStatus(t, w, http.StatusBadRequest)
	if !strings.Contains(w.Body.String(), `id="error" role="alert" data-code="bad_request"`) || !strings.Contains(w.Body.String(), "rate_limit") {
		t.Errorf("bad rate limit: %s", w.Body)
	}
}

func TestDeleteAndAuditFilters(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	keep := createKey(t, e, ginkey.KeySpec{Name: "keep"})
	gone := createKey(t, e, ginkey.KeySpec{Name: "gone"})
	tok := e.token("/console/keys")
	w := e.post("/console/keys/"+gone.ID+"/delete", url.Values{"csrf": {tok}})
	mustStatus(t, w, http.StatusSeeOther)
	if w.Header().Get("Location") != "/console/keys?done=deleted" {
		t.Errorf("Location %q", w.Header().Get("Location"))
	}
	mustStatus(t, e.get("/console/keys/"+gone.ID), http.StatusNotFound)
	// A second delete is the API's 404, shown.
	w = e.post("/console/keys/"+gone.ID+"/delete", url.Values{"csrf": {tok}})
	mustStatus(t, w, http.StatusNotFound)
	if !strings.Contains(w.Body.String(), ginkey.ErrNotFound.Message) {
		t.Errorf("404 without the API's message: %s", w.Body)
	}
	page := e.get("/console/audit?action=delete").Body.String()
	if !strings.Contains(page, `<table id="audit">`) || !strings.Contains(page, gone.ID) || strings.Contains(page, keep.ID) {
		t.Errorf("action filter: %s", page)
	}
	page = e.get("/console/audit?key=" + keep.ID).Body.String()
	if !strings.Contains(page, keep.ID) || strings.Contains(page, gone.ID) {
		t.Error("key filter shows another key")
	}
	page = e.get("/console/audit?outcome=not_found").Body.String()
	if strings.Contains(page, keep.ID) || !strings.Contains(page, "not_found") {
		t.Error("outcome filter")
	}
	w = e.get("/console/audit?key=not-an-id")
	mustStatus(t, w, http.StatusBadRequest)
	if !strings.Contains(w.Body.String(), `id="error" role="alert"`) {
		t.Error("a bad filter is not shown")
	}
}
