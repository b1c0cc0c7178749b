package ginkey

import (
	"net/http/httptest"
	"testing"
)

// errorMessage returns the message of an error response.
func errorMessage(t testing.TB, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body ErrorBody
	decode(t, w, &body)
	return body.Error.Message
}
