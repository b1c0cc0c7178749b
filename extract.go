package ginkey

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// SourceKind says where in a request a key may be found.
type SourceKind int

// The places a key may come from.
const (
	FromHeader SourceKind = iota + 1 // a request header, e.g. X-API-Key
	FromQuery                        // a query parameter, e.g. api_key
	FromBearer                       // Authorization: Bearer <key>
	FromCookie                       // a cookie
)

// Source is one place a key may come from. Name is the header, parameter or
// cookie name; FromBearer ignores it.
type Source struct {
	From SourceKind
	Name string
}

// DefaultSources are used when Config.Sources is empty: the X-API-Key header,
// the api_key query parameter and an Authorization bearer token, in that order.
func DefaultSources() []Source {
	return []Source{
		{From: FromHeader, Name: "X-API-Key"},
		{From: FromQuery, Name: "api_key"},
		{From: FromBearer},
	}
}

func validateSources(sources []Source) error {
	for _, s := range sources {
		switch s.From {
		case FromHeader, FromQuery, FromCookie:
			if strings.TrimSpace(s.Name) == "" {
				return errors.New("ginkey: a header, query or cookie Source needs a Name")
			}
		case FromBearer:
		default:
			return errors.New("ginkey: unknown Source kind")
		}
	}
	return nil
}

// source is a Source prepared for the request path: a header name is
// canonicalized once, so reading it costs a map lookup and no allocation.
type source struct {
	from SourceKind
	name string
}

func compileSources(sources []Source) []source {
	out := make([]source, len(sources))
	for i, s := range sources {
		out[i] = source{from: s.From, name: s.Name}
		switch s.From {
		case FromHeader:
			out[i].name = http.CanonicalHeaderKey(s.Name)
		case FromBearer:
			out[i].name = "Authorization"
		}
	}
	return out
}

// extractKey returns the first credential found in the sources, or "" when
// there is none. It allocates only for a percent-encoded query parameter or
// a cookie.
func extractKey(r *http.Request, sources []source) string {
	for _, s := range sources {
		var v string
		switch s.from {
		case FromHeader:
			v = headerValue(r.Header, s.name)
		case FromQuery:
			v = queryValue(r.URL.RawQuery, s.name)
		case FromBearer:
			v = bearerToken(headerValue(r.Header, s.name))
		case FromCookie:
			if ck, err := r.Cookie(s.name); err == nil {
				v, _ = unescapeQuery(ck.Value) // as gin's Context.Cookie reads it
			}
		}
		if v != "" {
			return v
		}
	}
	return ""
}

// headerValue is http.Header.Get for a name already in canonical form.
func headerValue(h http.Header, canonical string) string {
	if vs := h[canonical]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// queryValue returns the first value of the parameter name in a raw query
// string, as url.ParseQuery would read it (pairs holding a semicolon are
// dropped), without building the whole map. "" when absent or malformed.
func queryValue(raw, name string) string {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, ok := unescapeQuery(k)
		if !ok || k != name {
			continue
		}
		v, ok = unescapeQuery(v)
		if !ok {
			continue
		}
		return v
	}
	return ""
}

// unescapeQuery decodes s only when it holds an escape, so the common case
// returns s itself.
func unescapeQuery(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}

func bearerToken(h string) string {
	const scheme = "Bearer "
	if len(h) > len(scheme) && strings.EqualFold(h[:len(scheme)], scheme) {
		return strings.TrimSpace(h[len(scheme):])
	}
	return ""
}
