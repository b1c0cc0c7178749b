package ginkey

import (
	"errors"
	"strings"
	"testing"
)

// FuzzScopeMatching gives a key the scopes in keyScopes and a route the
// scopes in wanted (both split at spaces, which no scope may hold). The
// key's scopes go through validateScopes, as the admin API does; a route's
// go through newRequirement, as Require does. Matching must agree with the
// documented rules, written out in grantsByRule: "*" grants every scope, a
// scope grants itself, and "a:*" grants exactly the strings that start
// with "a:".
func FuzzScopeMatching(f *testing.F) {
	g := &Guard{log: slogDiscard(), challenges: wwwAuthenticate("ginkey")}
	f.Fuzz(func(t *testing.T, keyScopes, wanted string, anyOf bool) {
		in := strings.Split(keyScopes, " ")
		scopes, e := validateScopes(in)
		if e != nil {
			if e.Status != 400 || e.Code != "bad_request" || !errors.Is(e, ErrBadRequest) {
				t.Fatalf("%q: refused with %d %s, want 400 bad_request", in, e.Status, e.Code)
			}
			if len(in) <= maxScopes && allWellFormed(in) {
				t.Fatalf("%q: every scope is well formed, yet refused: %v", in, e)
			}
			return
		}
		assertValidatedScopes(t, in, scopes)

		set := newScopeSet(scopes)
		for _, s := range scopes {
			if !set.grants(s) {
				t.Fatalf("scopes %q do not grant their own %q", scopes, s)
			}
		}
		wants := strings.Split(wanted, " ")
		for _, w := range append(wants, wanted) {
			if got, want := set.grants(w), grantsByRule(scopes, w); got != want {
				t.Fatalf("scopes %q grant %q: %v, the rules say %v", scopes, w, got, want)
			}
		}

		if !allWellFormed(wants) { // a programming error: Require panics naming the scope
			assertPanicsNamingAMalformedScope(t, g, wants, anyOf)
			return
		}
		r := g.newRequirement(wants, anyOf, false)
		err := r.check(&set)
		if want := meetsByRule(scopes, wants, anyOf); (err == nil) != want {
			t.Fatalf("scopes %q, requirement %q (any: %v): check = %v, the rules say met = %v", scopes, wants, anyOf, err, want)
		}
		if err != nil && !errors.Is(err, ErrInsufficientScope) {
			t.Fatalf("check refused with %v, want insufficient_scope", err)
		}
	})
}

func assertPanicsNamingAMalformedScope(t *testing.T, g *Guard, wants []string, anyOf bool) {
	t.Helper()
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "is malformed") {
			t.Fatalf("requirement %q: panic %q, want one naming a malformed scope", wants, msg)
		}
	}()
	g.newRequirement(wants, anyOf, false)
}

// assertValidatedScopes fails unless out is in without its duplicates,
// in the order first seen, every entry well formed.
func assertValidatedScopes(t *testing.T, in, out []string) {
	t.Helper()
	seen := make(map[string]bool, len(out))
	var want []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			want = append(want, s)
		}
	}
	if strings.Join(out, " ") != strings.Join(want, " ") || len(out) != len(want) {
		t.Fatalf("validateScopes(%q) = %q, want %q", in, out, want)
	}
	if !allWellFormed(out) {
		t.Fatalf("validateScopes(%q) = %q holds a malformed scope", in, out)
	}
}

// wellFormedScope is the documented scope syntax: 1-128 characters of
// letters, digits and : . _ - / *.
func wellFormedScope(s string) bool {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:._-/*"
	return s != "" && len(s) <= maxScopeLen && strings.Trim(s, alphabet) == ""
}

func allWellFormed(scopes []string) bool {
	for _, s := range scopes {
		if !wellFormedScope(s) {
			return false
		}
	}
	return true
}

func grantsByRule(keyScopes []string, want string) bool {
	for _, s := range keyScopes {
		switch {
		case s == "*", s == want:
			return true
		case strings.HasSuffix(s, ":*") && strings.HasPrefix(want, strings.TrimSuffix(s, "*")):
			return true
		}
	}
	return false
}

// meetsByRule is Require's and RequireAny's documented contract for
// well-formed required scopes: all (or any) of them are granted, and no
// requirement at all is always met.
func meetsByRule(keyScopes, wants []string, anyOf bool) bool {
	if len(wants) == 0 {
		return true
	}
	met := 0
	for _, w := range wants {
		if wellFormedScope(w) && grantsByRule(keyScopes, w) {
			met++
		}
	}
	if anyOf {
		return met > 0
	}
	return met == len(wants)
}
