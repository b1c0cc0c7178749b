package ginkey

import (
	"net/url"
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
