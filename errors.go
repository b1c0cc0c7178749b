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

	// body is pre-rendered, so rejecting a request costs no reflection and
	// no allocation. net/http adds the Content-Length of so short a body.
	body []byte
	// distinct errors match only themselves under errors.Is: they share a
	// wire code with an error they must not be taken for.
	distinct bool
}

// jsonContentType is shared by every error response, as gin's renderers
// share theirs; header values set from it are never modified in place.
var jsonContentType = []string{"application/json; charset=utf-8"}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is reports whether target is an *Error with the same code, so that an error
// built by BadRequest still matches ErrBadRequest under errors.Is.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || e.distinct || t.distinct {
		return ok && e == t
	}
	return t.Code == e.Code && t.Status == e.Status
}

// ErrorBody is the JSON shape of every error response:
// {"error": {"code": "...", "message": "..."}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inner object of ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code" example:"key_invalid"`
	Message string `json:"message" example:"the API key is not valid"`
}

func newError(status int, code, message string) *Error {
	e := &Error{Status: status, Code: code, Message: message}
	e.body = renderBody(code, message)
	return e
}

// distinct makes e match only itself under errors.Is.
func distinct(e *Error) *Error {
	e.distinct = true
	return e
}

func renderBody(code, message string) []byte {
	b, err := json.Marshal(ErrorBody{Error: ErrorDetail{Code: code, Message: message}})
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
	ErrRevokedConflict         = newError(http.StatusConflict, "key_revoked", "the key is revoked; revocation is final")
	ErrRotatedConflict         = newError(http.StatusConflict, "key_rotated", "the key has been rotated and is in (or past) its grace period; change or rotate the key that replaced it")
	ErrExpiredConflict         = newError(http.StatusConflict, "key_expired", "the key has expired; renew it first")
	errPayloadTooLarge         = newError(http.StatusRequestEntityTooLarge, "payload_too_large", "the request body is too large")
	ErrUnavailable             = newError(http.StatusServiceUnavailable, "unavailable", "the key store is unavailable; try again")
)

// BadRequest returns an ErrBadRequest-class error whose message names what is
// wrong with the request, typically a field.
func BadRequest(message string) *Error {
	return newError(http.StatusBadRequest, "bad_request", message)
}

// badField returns the bad_request error of a field that broke a rule: its
// message is the field's name and then rule ("grace must be ...").
func badField(field, rule string) *Error {
	e := BadRequest(field + " " + rule)
	e.Field = field
	return e
}

// asError maps any error to the *Error a client may see. Anything that is not
// already an *Error is internal: the client gets ErrUnavailable and the detail
// stays in the log.
func asError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return ErrUnavailable, false
}

// writeError renders e and aborts the chain. It writes what c.Data would,
// from pre-rendered values.
func writeError(c *gin.Context, e *Error) {
	h := c.Writer.Header()
	h["Content-Type"] = jsonContentType
	c.Status(e.Status)
	_, _ = c.Writer.Write(e.body) // a client gone away is not an error worth reporting
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
// aborts the chain. An *Error (also wrapped) is written with its status, code
// and message, and an error the guard refused a request with keeps its
// headers (WWW-Authenticate, Retry-After). Anything else, nil included, is
// written as ErrUnavailable: its text never reaches the client, so log it
// first. Use it to answer with an error of the key-management methods.
func WriteError(c *gin.Context, err error) {
	e, _ := asError(err)
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
