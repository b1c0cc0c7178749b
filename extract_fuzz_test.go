package ginkey

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// FuzzExtractKey puts the fuzzer's header, query string, Authorization and
// Cookie values in one request, asks extractKey for the key through the
// sources that order picks, and checks the answer against what the standard
// library and gin read from the same request: the header's first value,
// url.ParseQuery's first value, the token after a case-insensitive
// "Bearer ", and gin's Context.Cookie. Each of those is present in the
// request in some decoded form, so extractKey can return nothing else.
//
// One deliberate difference: url.ParseQuery gives up on a query of more
// than 10,000 parameters (GODEBUG urlmaxqueryparams); queryValue looks at
// pairs one at a time, builds no map and so has no such limit. Such queries
// are compared with a pair-by-pair reading of the same rules instead.
func FuzzExtractKey(f *testing.F) {
	f.Fuzz(func(t *testing.T, order uint16, name, header, rawQuery, authorization, cookie string) {
		sources, err := parseSources(sourcesFromOrder(order, name))
		if err != nil {
			return
		}
		r := &http.Request{
			Method: http.MethodGet,
			URL:    &url.URL{Path: "/", RawQuery: rawQuery},
			Header: http.Header{},
		}
		r.Header[http.CanonicalHeaderKey(name)] = []string{header}
		if authorization != "" {
			r.Header.Add("Authorization", authorization)
		}
		r.Header["Cookie"] = []string{cookie}

		want := ""
		for _, s := range sources {
			if want = expectedFrom(t, r, s); want != "" {
				break
			}
		}
		if got := extractKey(r, compileSources(sources)); got != want {
			t.Fatalf("extractKey via %v = %q, the request holds %q there", sources, got, want)
		}
	})
}

// sourcesFromOrder reads the low byte of order as four 2-bit source kinds
// and the next two bits as how many of them to use, so that the fuzzer
// explores the kinds, their order and repeats.
func sourcesFromOrder(order uint16, name string) []string {
	kinds := [4]string{"header:" + name, "query:" + name, "bearer", "cookie:" + name}
	n := 1 + int(order>>8)&3
	out := make([]string, n)
	for i := range out {
		out[i] = kinds[(order>>(2*i))&3]
	}
	return out
}

// expectedFrom reads s from r with the standard library and gin, not with
// the code under test.
func expectedFrom(t *testing.T, r *http.Request, s sourceSpec) string {
	t.Helper()
	switch s.from {
	case fromHeader:
		return r.Header.Get(s.name)
	case fromQuery:
		vals, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil && strings.Contains(err.Error(), "exceeded limit") {
			return firstQueryValue(r.URL.RawQuery, s.name)
		}
		return vals.Get(s.name)
	case fromBearer:
		h := r.Header.Get("Authorization")
		if len(h) > len("Bearer ") && strings.EqualFold(h[:len("Bearer ")], "Bearer ") {
			return strings.TrimSpace(h[len("Bearer "):])
		}
		return ""
	case fromCookie:
		v, err := (&gin.Context{Request: r}).Cookie(s.name)
		if err != nil {
			return ""
		}
		return v
	}
	t.Fatalf("unknown source kind %d", s.from)
	return ""
}

// firstQueryValue is url.ParseQuery's loop for one name, without the
// parameter limit.
func firstQueryValue(raw, name string) string {
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil || k != name {
			continue
		}
		if v, err = url.QueryUnescape(v); err == nil {
			return v
		}
	}
	return ""
}
