package ginkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey/internal/testkit"
)

// WriteError classifies an error that is not an *Error by where it came
// from: a store failure of the management API is 503 unavailable, a request
// the client got wrong is 400 (or 413), anything else 500 internal_error
// with a fixed message; no internal error's text reaches the client, and the
// detail lands in c.Errors for the host's log.
func TestWriteErrorRendersAnyErrorInTheDocumentedShape(t *testing.T) {
	t.Parallel()
	internal := errors.New("dial tcp 10.0.0.7:5432: password authentication failed for user admin")
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
		logged bool // in c.Errors
	}{
		{"sentinel", ErrNotFound, 404, "not_found", ErrNotFound.Message, false},
		{"bad request", badRequest("name must be short"), 400, "bad_request", "name must be short", false},
		{"wrapped", errors.Join(errors.New("context"), errRevokedConflict), 409, "key_revoked", errRevokedConflict.Message, false},
		{"host's own failure", internal, 500, "internal_error", errInternal.Message, true},
		{"store failure", storeError("insert key", internal), 503, "unavailable", ErrUnavailable.Message, true},
		{"nil", nil, 500, "internal_error", errInternal.Message, false},
		{"rejection", retryLater(ErrRateLimited, 1500*time.Millisecond), 429, "rate_limited", ErrRateLimited.Message, false},
	} {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		WriteError(c, tc.err)
		var body ErrorBody
		testkit.Decode(t, w, &body)
		if !c.IsAborted() || w.Code != tc.status || body.Error.Code != tc.code || body.Error.Message != tc.msg {
			t.Fatalf("%s: WriteError(%v): aborted %v, %d %s", tc.name, tc.err, c.IsAborted(), w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("%s: Content-Type %q", tc.name, ct)
		}
		if strings.Contains(w.Body.String(), "password") || strings.Contains(w.Body.String(), "10.0.0.7") {
			t.Fatalf("%s: an internal error's text reached the client: %s", tc.name, w.Body)
		}
		if logged := len(c.Errors) == 1 && errors.Is(c.Errors[0].Err, internal); logged != tc.logged {
			t.Fatalf("%s: c.Errors %v, want the error there: %v", tc.name, c.Errors, tc.logged)
		}
		if tc.status == 429 && w.Header().Get("Retry-After") != "2" {
			t.Fatalf("%s: a rejection's Retry-After was lost: %q", tc.name, w.Header().Get("Retry-After"))
		}
	}
}

// The errors gin's binding returns to a host handler that hands them to
// WriteError are the client's: 400 bad_request with a message naming at
// most a field (never a Go type), 413 for a body over MaxBytesReader's limit.
func TestWriteErrorAnswersABindingErrorWithBadRequest(t *testing.T) {
	t.Parallel()
	type order struct {
		Item string `json:"item" binding:"required"`
		Qty  int    `json:"qty"`
	}
	r := gin.New()
	r.POST("/orders", func(c *gin.Context) {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 64)
		var in order
		if err := c.ShouldBindJSON(&in); err != nil {
			WriteError(c, err)
			return
		}
		c.Status(http.StatusCreated)
	})
	r.POST("/strict", func(c *gin.Context) {
		d := json.NewDecoder(c.Request.Body)
		d.DisallowUnknownFields()
		var in order
		if err := d.Decode(&in); err != nil {
			WriteError(c, err)
			return
		}
		c.Status(http.StatusCreated)
	})
	for _, tc := range []struct {
		path, body string
		status     int
		code, msg  string
	}{
		{"/orders", `{"item":"tea","qty":2}`, 201, "", ""},
		{"/orders", `{"item":`, 400, "bad_request", "the request body is not valid JSON"},
		{"/orders", `{"item" "tea"}`, 400, "bad_request", "the request body is not valid JSON"},
		{"/orders", ``, 400, "bad_request", "the request body is not valid JSON"},
		{"/orders", `{"item":"tea","qty":"two"}`, 400, "bad_request", "qty has the wrong type"},
		{"/orders", `{"qty":2}`, 400, "bad_request", `Item breaks its rule "required"`},
		{"/orders", `{"item":"` + strings.Repeat("t", 100) + `"}`, 413, "payload_too_large", errPayloadTooLarge.Message},
		{"/strict", `{"item":"tea","colour":"red"}`, 400, "bad_request", "the request body has an unknown field"},
	} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, tc.path, bytes.NewBufferString(tc.body))
		req.Header.Set("Content-Type", "application/json")
		r.ServeHTTP(w, req)
		if tc.status == 201 {
			if w.Code != 201 {
				t.Fatalf("%s: %d %s", tc.body, w.Code, w.Body)
			}
			continue
		}
		var body ErrorBody
		testkit.Decode(t, w, &body)
		if w.Code != tc.status || body.Error.Code != tc.code || body.Error.Message != tc.msg {
			t.Errorf("%s %s: %d %s, want %d %s %q", tc.path, tc.body, w.Code, w.Body, tc.status, tc.code, tc.msg)
		}
	}
}
