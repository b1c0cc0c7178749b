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
	// The metadata untouched, as a browser sends a textarea: CRLF line breaks.
	form := url.Values{"csrf": {tok}, "version": {e.version("/console/keys/" + k.ID + "/edit")}, "name": {"new"}, "owner": {"acme"}, "scopes": {"a b"},
		"quota_requests": {""}, "quota_per": {"day"}, "rate_per": {"1m"}, "metadata": {"{\r\n  \"tier\": \"gold\"\r\n}"}}
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
	w = e.post("/console/keys/"+k.ID+"/edit", url.Values{"csrf": {tok}, "version": {e.version("/console/keys/" + k.ID + "/edit")}, "name": {"new"},
		"owner": {"acme"}, "scopes": {"a b"}, "metadata": {`{"tier": "gold"}`}, "rate_requests": {"0"}, "rate_per": {"1m"}})
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

// TestSavingAnOldEditFormUndoesNoChange: a key narrowed through the API
// while an admin had its edit form open is not widened again by saving
// that form; the console answers 409 with the key as it is now, whose form
// then saves.
func TestSavingAnOldEditFormUndoesNoChange(t *testing.T) {
	e := newEnv(t, ginkey.Config{}, console.Options{})
	e.signIn()
	k := createKey(t, e, ginkey.KeySpec{Name: "k", Scopes: []string{"read", "write"}})
	edit := "/console/keys/" + k.ID + "/edit"
	tok, shown := e.token(edit), e.version(edit)
	narrowed := []string{"read"}
	if _, err := e.guard.UpdateKey(t.Context(), k.ID, ginkey.KeyUpdate{Scopes: &narrowed}); err != nil {
		t.Fatal(err)
	}
	w := e.post(edit, url.Values{"csrf": {tok}, "version": {shown}, "name": {"renamed"}, "scopes": {"read write"}})
	mustStatus(t, w, http.StatusConflict)
	if !strings.Contains(w.Body.String(), `data-code="conflict"`) || !strings.Contains(w.Body.String(), `id="scopes" name="scopes" value="read"`) {
		t.Errorf("the conflict does not show the key as it is now: %s", w.Body)
	}
	got, _ := e.guard.GetKey(t.Context(), k.ID)
	if got.Name != "k" || strings.Join(got.Scopes, " ") != "read" {
		t.Fatalf("an old form changed the key: %+v", got)
	}
	now := versionInput.FindStringSubmatch(w.Body.String())[1]
	mustStatus(t, e.post(edit, url.Values{"csrf": {tok}, "version": {now}, "name": {"renamed"}, "scopes": {"read"}}), http.StatusSeeOther)
	if got, _ := e.guard.GetKey(t.Context(), k.ID); got.Name != "renamed" || strings.Join(got.Scopes, " ") != "read" {
		t.Fatalf("after the second save: %+v", got)
	}
	// A form without its version is refused as well.
	mustStatus(t, e.post(edit, url.Values{"csrf": {tok}, "name": {"again"}}), http.StatusConflict)
}
