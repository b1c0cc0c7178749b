package ginkey

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/binding"
	"github.com/ginkey/ginkey/keystore"
	"github.com/go-playground/validator/v10"
)

// errInternal is what a client sees of an error nobody classified: a fixed
// message, never the error's text.
var errInternal = newError(http.StatusInternalServerError, "internal_error", "the server could not complete the request")

// errBodyNotJSON is the bad_request of a body encoding/json could not read.
var errBodyNotJSON = badRequest("the request body is not valid JSON")

// storeFailure is a key-management method's failure of the store: the one
// kind of unclassified error a client sees as ErrUnavailable.
type storeFailure struct {
	what string // what was attempted, e.g. "insert key"
	err  error
}

func (f *storeFailure) Error() string { return "ginkey: " + f.what + ": " + f.err.Error() }
func (f *storeFailure) Unwrap() error { return f.err }

// asError maps any error to the *Error a client may see, and reports whether
// err was the client's to see (an *Error, or a request the client got
// wrong) rather than an internal failure whose detail belongs in the log.
// Internal failures are ErrUnavailable when the store failed, else
// errInternal.
func asError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	var sf *storeFailure
	if errors.As(err, &sf) {
		return ErrUnavailable, false
	}
	if e := requestError(err); e != nil {
		return e, true
	}
	return errInternal, false
}

// requestError is the *Error of a request body or query that gin's binding
// or encoding/json refused, or nil for any other error. Its messages name
// at most a field: a decoder's own text can quote Go type names.
func requestError(err error) *Error {
	if err == nil {
		return nil
	}
	var (
		tooLarge   *http.MaxBytesError
		syntax     *json.SyntaxError
		typ        *json.UnmarshalTypeError
		invalid    validator.ValidationErrors
		sliceInval binding.SliceValidationError
		num        *strconv.NumError
		ge         *gin.Error
	)
	switch {
	case errors.As(err, &tooLarge):
		return errPayloadTooLarge
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("a value in the request body has the wrong type")
		}
		return badField(typ.Field, "has the wrong type")
	case errors.As(err, &invalid) && len(invalid) > 0:
		return badField(invalid[0].Field(), `breaks its rule "`+invalid[0].Tag()+`"`)
	case errors.As(err, &sliceInval), errors.As(err, &num):
		return ErrBadRequest
	// An empty or cut-short body: gin's JSON binding returns the decoder's
	// io.EOF unwrapped, so only an unwrapped one counts (a wrapped EOF is
	// more likely a connection the host lost).
	case errors.As(err, &syntax), err == io.EOF, err == io.ErrUnexpectedEOF: //nolint:errorlint // see above
		return errBodyNotJSON
	// encoding/json's error for a field DisallowUnknownFields refuses has
	// no type of its own; its text has been this since Go 1.10.
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("the request body has an unknown field")
	case errors.As(err, &ge) && ge.IsType(gin.ErrorTypeBind):
		return ErrBadRequest
	}
	return nil
}

// storeError returns a client-facing *Error (see fromStore) as it is and
// wraps anything else as a store failure, which a client sees only as
// ErrUnavailable.
func storeError(what string, err error) error {
	var r *rejection // an answer with when to retry (Retry-After), kept whole
	if errors.As(err, &r) {
		return r
	}
	var e *Error
	if errors.As(fromStore(err), &e) {
		return e
	}
	return &storeFailure{what: what, err: err}
}

// fromStore is the one place a store's own errors become the API's:
// keystore.ErrNotFound is ErrNotFound; anything else stays as it is.
func fromStore(err error) error {
	if errors.Is(err, keystore.ErrNotFound) {
		return ErrNotFound
	}
	return err
}
