package ginkey

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// Error is the one error type ginkey returns to HTTP clients. It carries the
// HTTP status and a stable machine-readable code; Message is meant for humans
// and may change between versions, Code never does.
type Error struct {
	Status  int    // HTTP status code
	Code    string // stable code, e.g. "key_expired"
	Message string // fixed, human-readable; never contains internal details

	// Field names the request field that broke a rule, as the admin API's
	// JSON names it (e.g. "rate_limit"), for a bad_request about one field;
	// else "". It lets a program point at its own input (the ginkey command
	// names its flag) without reading Message.
	Field string

	// body is pre-rendered from rendered's code and message, so rejecting
	// a request costs no reflection and no allocation. net/http adds the
	// Content-Length of so short a body. An Error built as a literal, or
	// whose Code or Message changed since, is rendered when written.
	body     []byte
	rendered [2]string
	// distinct errors match only themselves under errors.Is: they share a
	// wire code with an error they must not be taken for.
	distinct bool
	// class, when not nil, is a broader error this one also matches under
	// errors.Is: ErrConflict for each state conflict.
	class *Error
}

// jsonContentType is shared by every error response, as gin's renderers
// share theirs; header values set from it are never modified in place.
var jsonContentType = []string{"application/json; charset=utf-8"}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is reports whether target is an *Error with the same status and code, so
// that NewError(404, "not_found", "no order with that id") matches
// ErrNotFound under errors.Is.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if ok && e.class != nil && t == e.class {
		return true
	}
	if !ok || e.distinct || t.distinct {
		return ok && e == t
	}
	return t.Code == e.Code && t.Status == e.Status
}

// ErrorBody is the JSON shape of every error response:
// {"error": {"code": "...", "message": "..."}}. Error.Code is the stable
// code, Error.Message the human-readable text.
type ErrorBody struct {
	Error errorDetail `json:"error"`
}

// errorDetail is the inner object of ErrorBody.
type errorDetail struct {
	Code    string `json:"code" example:"key_invalid"`
	Message string `json:"message" example:"the API key is not valid"`
} //	@name	ginkey.ErrorDetail

// NewError returns an error of the host application's own, to answer with
// WriteError in the shape of every ginkey error (ErrorBody): status is the
// HTTP status (400 to 599), code the stable machine-readable code (e.g.
// "order_not_found"), message the human-readable text. With ginkey's status
// and code, e.g. NewError(404, "not_found", "no order with that id"), it
// matches ginkey's error (ErrNotFound) under errors.Is. Its body is rendered
// once, here; an &Error{...} literal works too, rendered on each write.
func NewError(status int, code, message string) *Error {
	e := &Error{Status: status, Code: code, Message: message}
	e.body, e.rendered = renderBody(code, message), [2]string{code, message}
	return e
}

// newError is NewError for ginkey's own errors.
func newError(status int, code, message string) *Error { return NewError(status, code, message) }

// wire is e's status and body as written: the pre-rendered body while Code
// and Message are what it was rendered from, else a fresh one; a status a
// response error cannot have (a literal without one) is 500.
func (e *Error) wire() (int, []byte) {
	status, body := e.Status, e.body
	if body == nil || e.rendered[0] != e.Code || e.rendered[1] != e.Message {
		body = renderBody(e.Code, e.Message)
	}
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	return status, body
}

// distinct makes e match only itself under errors.Is.
func distinct(e *Error) *Error {
	e.distinct = true
	return e
}

func renderBody(code, message string) []byte {
	b, err := json.Marshal(ErrorBody{Error: errorDetail{Code: code, Message: message}})
	if err != nil { // cannot happen for two strings; keep a valid body regardless
		return []byte(`{"error":{"code":"internal_error","message":"internal error"}}`)
	}
	return b
}

// The errors a client can receive. Compare with errors.Is.
var (
	ErrKeyMissing              = newError(http.StatusUnauthorized, "key_missing", "an API key is required")
	ErrKeyInvalid              = newError(http.StatusUnauthorized, "key_invalid", "the API key is not valid")
	ErrKeyExpired              = newError(http.StatusUnauthorized, "key_expired", "the API key has expired")
	ErrKeyRevoked              = newError(http.StatusUnauthorized, "key_revoked", "the API key has been revoked")
	errAdminUnauthorized       = newError(http.StatusUnauthorized, "admin_unauthorized", "a valid X-Admin-Secret header is required")
	errAdminCredentialsInQuery = newError(http.StatusUnauthorized, "admin_unauthorized", "admin credentials are never accepted in the query string: send the admin secret in the X-Admin-Secret header, a key in a header")
	ErrBadRequest              = newError(http.StatusBadRequest, "bad_request", "the request is not valid")
	ErrNotFound                = newError(http.StatusNotFound, "not_found", "no key with that id")
	errPayloadTooLarge         = newError(http.StatusRequestEntityTooLarge, "payload_too_large", "the request body is too large")
	ErrUnavailable             = newError(http.StatusServiceUnavailable, "unavailable", "the key store is unavailable; try again")
)

// ErrConflict is what a key-management method returns when the key's state
// forbids the change: every such error matches it under errors.Is, and is
// answered 409 with a code naming the state: key_revoked (revocation is
// final), key_rotated (the key was rotated: change the one that replaced
// it) or key_expired (renew it first). Compare Error.Code to tell them
// apart.
var ErrConflict = newError(http.StatusConflict, "conflict", "the key's state does not allow this change")

// The state conflicts, each matching ErrConflict.
var (
	errRevokedConflict = conflict("key_revoked", "the key is revoked; revocation is final")
	errRotatedConflict = conflict("key_rotated", "the key has been rotated and is in (or past) its grace period; change or rotate the key that replaced it")
	errExpiredConflict = conflict("key_expired", "the key has expired; renew it first")
)

func conflict(code, message string) *Error {
	e := newError(http.StatusConflict, code, message)
	e.class = ErrConflict
	return e
}

// badRequest returns an ErrBadRequest-class error whose message names what
// is wrong with the request, typically a field.
func badRequest(message string) *Error {
	return newError(http.StatusBadRequest, "bad_request", message)
}

// badField returns the bad_request error of a field that broke a rule: its
// message is the field's name and then rule ("grace must be ...").
func badField(field, rule string) *Error {
	e := badRequest(field + " " + rule)
	e.Field = field
	return e
}

// writeError renders e and aborts the chain. It writes what c.Data would,
// from pre-rendered values.
func writeError(c *gin.Context, e *Error) {
	status, body := e.wire()
	h := c.Writer.Header()
	h["Content-Type"] = jsonContentType
	c.Status(status)
	_, _ = c.Writer.Write(body) // a client gone away is not an error worth reporting
	c.Abort()
}

// Errors of authorization and abuse control. Compare with errors.Is.
var (
	ErrInsufficientScope  = newError(http.StatusForbidden, "insufficient_scope", "the API key lacks a scope this route requires")
	ErrIPNotAllowed       = newError(http.StatusForbidden, "ip_not_allowed", "the API key may not be used from this address")
	ErrRateLimited        = newError(http.StatusTooManyRequests, "rate_limited", "too many requests with this API key; retry later")
	ErrQuotaExceeded      = newError(http.StatusTooManyRequests, "quota_exceeded", "the API key's usage quota for this period is used up")
	ErrTooManyFailures    = newError(http.StatusTooManyRequests, "too_many_failures", "too many failed key checks from this address; retry later")
	ErrCredentialsMissing = newError(http.StatusUnauthorized, "credentials_missing", "credentials are required")
	ErrCredentialsInvalid = newError(http.StatusUnauthorized, "credentials_invalid", "the credentials are not valid")
)

// errAdminTooManyFailures is ErrTooManyFailures of the admin API's gate,
// whose failures are wrong admin credentials, not keys.
var errAdminTooManyFailures = newError(http.StatusTooManyRequests, "too_many_failures", "too many failed admin authentication attempts from this address; retry later")

// rejection is an *Error plus the headers of one particular refusal: the
// challenge naming the missing scopes, or when to retry.
type rejection struct {
	err        *Error
	challenge  string        // WWW-Authenticate, if not ""
	retryAfter time.Duration // Retry-After, if > 0
}

func (r *rejection) Error() string { return r.err.Error() }
func (r *rejection) Unwrap() error { return r.err }

func retryLater(e *Error, after time.Duration) error {
	return &rejection{err: e, retryAfter: after}
}

// WriteError writes err as the response, in the shape of ErrorBody, and
// aborts the chain. Use it in the host's own handlers as ginkey uses it:
//
//   - An *Error (also wrapped) is written with its status, code and message:
//     ginkey's, or the host's own from NewError. An
//     error the guard refused a request with keeps its headers
//     (WWW-Authenticate, Retry-After).
//   - A store failure of a key-management method is 503 unavailable.
//   - An error of gin's binding (ShouldBind, ShouldBindJSON...) or of
//     encoding/json reading the body is 400 bad_request; a body over
//     http.MaxBytesReader's limit is 413 payload_too_large.
//   - Anything else, nil included, is 500 internal_error with a fixed
//     message: its text never reaches the client. It is added to c.Errors
//     (gin's Logger prints it), so log it there or before.
func WriteError(c *gin.Context, err error) {
	e, known := asError(err)
	if !known && err != nil {
		_ = c.Error(err) // the detail, for the host's log; returns err's *gin.Error
	}
	var r *rejection
	if errors.As(err, &r) {
		if r.challenge != "" {
			c.Header("WWW-Authenticate", r.challenge)
		}
		if r.retryAfter > 0 {
			c.Header("Retry-After", strconv.FormatInt(ceilSeconds(r.retryAfter), 10))
		}
	}
	writeError(c, e)
}

// ceilSeconds rounds d up to whole seconds, as Retry-After and RateLimit-Reset
// count: a client that waits that long is never early.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
