package ginkey

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func FuzzQueryValueMatchesParseQuery(f *testing.F) {
	for _, q := range []string{
		"", "api_key=abc", "a=1&api_key=x&api_key=y", "api_key=a%20b", "api_key=a+b",
		"api%5Fkey=z", "api_key=%zz&api_key=ok", "api_key;x=1&api_key=2", "api_key", "&&api_key=&",
	} {
		f.Add(q, "api_key")
	}
	f.Fuzz(func(t *testing.T, raw, name string) {
		if name == "" {
			return
		}
		vals, _ := url.ParseQuery(raw)
		if got, want := queryValue(raw, name), vals.Get(name); got != want {
			t.Fatalf("queryValue(%q, %q) = %q, url.ParseQuery gives %q", raw, name, got, want)
		}
	})
}

// Config.Sources entries are read as "header:<name>", "query:<name>",
// "cookie:<name>" or "bearer"; anything else is refused by name.
func TestParseSourcesReadsEachFormAndRefusesOthers(t *testing.T) {
	got, err := parseSources([]string{"header:X-Key", "query:key", "cookie:c", "bearer"})
	want := []sourceSpec{{fromHeader, "X-Key"}, {fromQuery, "key"}, {fromCookie, "c"}, {fromBearer, ""}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("parseSources = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"", "header", "header:", "query: ", "Header:X", "bearer:x", "form:x", "header: X-API-Key", "cookie:a b", "query:key\t"} {
		if _, err := parseSources([]string{"bearer", bad}); err == nil || !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Errorf("parseSources(%q) = %v, want an error naming it", bad, err)
		}
	}
}
