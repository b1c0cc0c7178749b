package testkit

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Request is a request to a Harness's engine.
type Request struct {
	Method, Path, Body string            // a Body is sent as JSON
	Header             map[string]string // set on the request
}

// Do serves r from httptest's default client address.
func (h *Harness[G]) Do(r Request) *httptest.ResponseRecorder {
	h.T.Helper()
	return h.DoFrom("", r)
}

// DoFrom serves r as if from the client at remote ("10.1.2.3:4567"; ""
// keeps httptest's default).
func (h *Harness[G]) DoFrom(remote string, r Request) *httptest.ResponseRecorder {
	h.T.Helper()
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	hr := httptest.NewRequestWithContext(context.Background(), r.Method, r.Path, body)
	if remote != "" {
		hr.RemoteAddr = remote
	}
	if r.Body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.Header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.Engine.ServeHTTP(w, hr)
	return w
}

// Get sends GET path with key in X-API-Key (none for "") from remote.
func (h *Harness[G]) Get(remote, path, key string) *httptest.ResponseRecorder {
	h.T.Helper()
	r := Request{Method: http.MethodGet, Path: path}
	if key != "" {
		r.Header = map[string]string{"X-API-Key": key}
	}
	return h.DoFrom(remote, r)
}

// Secure sends GET /secure with key.
func (h *Harness[G]) Secure(key string) *httptest.ResponseRecorder {
	h.T.Helper()
	return h.Get("", "/secure", key)
}

// Admin calls the admin API at /auth+path with AdminSecret.
func (h *Harness[G]) Admin(method, path, body string) *httptest.ResponseRecorder {
	h.T.Helper()
	return h.Do(Request{Method: method, Path: "/auth" + path, Body: body, Header: map[string]string{AdminHeader: AdminSecret}})
}

// AdminAs lists keys (GET /auth/keys) from remote with secret as the admin
// secret ("" sends none).
func (h *Harness[G]) AdminAs(remote, secret string) *httptest.ResponseRecorder {
	h.T.Helper()
	hdr := map[string]string{}
	if secret != "" {
		hdr[AdminHeader] = secret
	}
	return h.DoFrom(remote, Request{Method: http.MethodGet, Path: "/auth/keys", Header: hdr})
}

// CreateKey creates a key with the admin API from the JSON body and decodes
// the answer (a ginkey.CreatedKey) into created, failing the test, with the
// guard's log, unless it is a 201.
func (h *Harness[G]) CreateKey(body string, created any) {
	h.T.Helper()
	w := h.Admin(http.MethodPost, "/keys", body)
	if w.Code != http.StatusCreated {
		h.T.Fatalf("create key: %d %s\nlogs:\n%s", w.Code, w.Body, h.Logs)
	}
	Decode(h.T, w, created)
}

// Decode decodes w's JSON body into dst.
func Decode(t testing.TB, w *httptest.ResponseRecorder, dst any) {
	t.Helper()
	if err := json.Unmarshal(w.Body.Bytes(), dst); err != nil {
		t.Fatalf("decode %q: %v", w.Body.String(), err)
	}
}

// WantError asserts the status and the stable code of an error response,
// and that it has a message.
func WantError(t testing.TB, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	Decode(t, w, &body)
	if body.Error.Code != code {
		t.Fatalf("code = %q, want %q; body %s", body.Error.Code, code, w.Body)
	}
	if body.Error.Message == "" {
		t.Fatalf("empty error message: %s", w.Body)
	}
}

// WantOK asserts a 200 from Echo (or /secure) naming the key keyID.
func WantOK(t testing.TB, w *httptest.ResponseRecorder, keyID string) {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
	}
	if want := `"key_id":"` + keyID + `"`; !strings.Contains(w.Body.String(), want) {
		t.Fatalf("body %s does not hold %s", w.Body, want)
	}
}

// WantHeader asserts a response header.
func WantHeader(t testing.TB, w *httptest.ResponseRecorder, name, want string) {
	t.Helper()
	if got := w.Header().Get(name); got != want {
		t.Fatalf("%s = %q, want %q (status %d, body %s)", name, got, want, w.Code, w.Body)
	}
}
