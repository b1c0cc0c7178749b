package ginkey

import (
	"fmt"
	"mime"
	"net/http"
)

// browserWrites keeps other sites' pages from changing state through a
// browser that holds a cookie-borne credential (a host session admitted by
// AdminAuth, a key read from a cookie): the CSRF defence of every ginkey
// route that changes state, written once.
//
// A page on another site can make a browser send a "simple" request with
// the user's cookies and no preflight: GET, HEAD or POST with a form,
// multipart or text/plain body, or a body with no Content-Type at all
// (fetch of a Blob). So a request that may change state must
//
//   - not come from another origin: net/http's CrossOriginProtection reads
//     Sec-Fetch-Site (sent by every browser since 2023), else compares
//     Origin with Host; a request with neither header is not a browser's
//     cross-site request (curl, Go clients, generated clients) and passes;
//   - carry its body as application/json, which another site cannot send
//     without a CORS preflight the host would have to allow. A request
//     without a body (revoke, DELETE) may omit Content-Type; a form always
//     sends one, even when it has no fields.
//
// Safe methods (GET, HEAD, OPTIONS) pass both checks: they change nothing,
// and without CORS headers another site cannot read their answers.
type browserWrites struct {
	cop *http.CrossOriginProtection
}

// Refusals of a browser's request that another site could have forged.
var (
	errCrossOrigin = newError(http.StatusForbidden, "cross_origin_refused",
		"a state-changing request from another origin is refused; send it from the same origin, or add the page's origin to Config.TrustedOrigins")
	errUnsupportedMediaType = newError(http.StatusUnsupportedMediaType, "unsupported_media_type",
		"a state-changing request with a body must send it as Content-Type: application/json")
)

// newBrowserWrites prepares the check, with origins (Config.TrustedOrigins)
// allowed beside the request's own.
func newBrowserWrites(origins []string) (*browserWrites, error) {
	cop := http.NewCrossOriginProtection()
	for _, o := range origins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("ginkey: TrustedOrigins: %q is not an origin (scheme://host[:port], no path)", o)
		}
	}
	return &browserWrites{cop: cop}, nil
}

// refuse returns the error a request another site may have forged is
// answered with, or nil. The origin is judged first: a cross-site request is
// refused as such, whatever its body.
func (b *browserWrites) refuse(r *http.Request) *Error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if b.cop.Check(r) != nil {
		return errCrossOrigin
	}
	if !jsonBody(r) {
		return errUnsupportedMediaType
	}
	return nil
}

// jsonBody reports whether r declares its body as JSON, or has no body and
// no Content-Type.
func jsonBody(r *http.Request) bool {
	types := r.Header.Values("Content-Type")
	if len(types) == 0 {
		// Unknown length (chunked) counts as a body: only a request that
		// has said it has none may leave its type unsaid.
		return r.ContentLength == 0
	}
	t, _, err := mime.ParseMediaType(types[0])
	return err == nil && len(types) == 1 && t == "application/json"
}
