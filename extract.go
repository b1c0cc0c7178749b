package ginkey

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// sourceKind says where in a request a key may be found.
type sourceKind int

// The places a key may come from.
const (
	fromHeader sourceKind = iota + 1 // "header:<name>", e.g. X-API-Key
	fromQuery                        // "query:<name>", e.g. api_key
	fromBearer                       // "bearer": Authorization: Bearer <key>
	fromCookie                       // "cookie:<name>"
)

// sourceSpec is one entry of Config.Sources as read: the header, parameter
// or cookie name as the host wrote it ("" for a bearer token).
type sourceSpec struct {
	from sourceKind
	name string
}

// defaultSources is Config.Sources' default.
func defaultSources() []string {
	return []string{"header:X-API-Key", "query:api_key", "bearer"}
}

// parseSources reads Config.Sources.
func parseSources(specs []string) ([]sourceSpec, error) {
	out := make([]sourceSpec, len(specs))
	for i, s := range specs {
		if s == "bearer" {
			out[i] = sourceSpec{from: fromBearer}
			continue
		}
		kind, name, _ := strings.Cut(s, ":")
		from := map[string]sourceKind{"header": fromHeader, "query": fromQuery, "cookie": fromCookie}[kind]
		if from == 0 {
			return nil, fmt.Errorf(`ginkey: Sources: %q is none of "header:<name>", "query:<name>", "cookie:<name>", "bearer"`, s)
		}
		if strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf(`ginkey: Sources: %q needs a Name: "%s:<name>"`, s, kind)
		}
		// A name with spaces (" X-API-Key", from a list split on commas)
		// would never match a request: every request would read as
		// key_missing.
		if strings.ContainsAny(name, " \t\r\n") {
			return nil, fmt.Errorf(`ginkey: Sources: %q: the name may not hold spaces`, s)
		}
		out[i] = sourceSpec{from: from, name: name}
	}
	return out, nil
}

// source is a sourceSpec prepared for the request path: a header name is
// canonicalized once, so reading it costs a map lookup and no allocation.
type source struct {
	from sourceKind
	name string
}

func compileSources(specs []sourceSpec) []source {
	out := make([]source, len(specs))
	for i, s := range specs {
		out[i] = source(s)
		switch s.from {
		case fromHeader:
			out[i].name = http.CanonicalHeaderKey(s.name)
		case fromBearer:
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
		case fromHeader:
			v = headerValue(r.Header, s.name)
		case fromQuery:
			v = queryValue(r.URL.RawQuery, s.name)
		case fromBearer:
			v = bearerToken(headerValue(r.Header, s.name))
		case fromCookie:
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
