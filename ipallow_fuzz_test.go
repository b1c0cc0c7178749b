package ginkey

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// FuzzAllowedIPList feeds parseAllowedIPs a whole allow-list (the fuzzer's
// string split at commas). An accepted list must come back in canonical
// form: masked prefixes, no IPv4-mapped ones, no duplicates, in the order
// first seen, each containing the address it was written with, and the
// canonical strings must parse to the same prefixes and strings again. A
// refused list must be refused with a 400 bad_request *Error and nothing
// else, and only when an entry is bad or there are too many.
func FuzzAllowedIPList(f *testing.F) {
	f.Fuzz(func(t *testing.T, list string) {
		entries := strings.Split(list, ",")
		canon, prefixes, e := parseAllowedIPs(entries)
		if e != nil {
			if e.Status/100 != 4 || e.Code != "bad_request" || !errors.Is(e, ErrBadRequest) {
				t.Fatalf("%q: refused with %d %s, want 400 bad_request", entries, e.Status, e.Code)
			}
			if canon != nil || prefixes != nil {
				t.Fatalf("%q: refused, yet returned %q %v", entries, canon, prefixes)
			}
			if len(entries) <= maxAllowedIPs && allEntriesParse(entries) {
				t.Fatalf("%q: every entry parses on its own, yet the list is refused: %v", entries, e)
			}
			return
		}
		if len(entries) > maxAllowedIPs {
			t.Fatalf("%d entries accepted, the limit is %d", len(entries), maxAllowedIPs)
		}
		if len(canon) != len(prefixes) {
			t.Fatalf("%q: %d strings for %d prefixes", entries, len(canon), len(prefixes))
		}

		index := make(map[netip.Prefix]int, len(prefixes))
		for i, p := range prefixes {
			if _, dup := index[p]; dup {
				t.Fatalf("%q: %v twice in %v", entries, p, prefixes)
			}
			index[p] = i
			if p != p.Masked() || p.Addr().Zone() != "" || (p.Addr().Is4In6() && p.Bits() >= 96) {
				t.Fatalf("%q: %v is not canonical", entries, p)
			}
			if strings.Contains(canon[i], "/") == p.IsSingleIP() {
				t.Fatalf("%q: %q stands for %v", entries, canon[i], p)
			}
		}

		next := 0 // entries' prefixes in first-seen order are prefixes
		for _, s := range entries {
			p, ok := parseIPEntry(s)
			if !ok {
				t.Fatalf("%q: list accepted with the bad entry %q", entries, s)
			}
			i, found := index[p]
			if !found || i > next {
				t.Fatalf("%q: %q parsed to %v, which is not in place in %v", entries, s, p, prefixes)
			}
			if i == next {
				next++
			}
			if a := writtenAddr(s); !p.Contains(a) {
				t.Fatalf("%q: %v does not contain %v, the address it was written with", entries, p, a)
			}
		}
		if next != len(prefixes) {
			t.Fatalf("%q: %v holds prefixes no entry gave", entries, prefixes)
		}

		again, prefixes2, e := parseAllowedIPs(canon)
		if e != nil || strings.Join(again, ",") != strings.Join(canon, ",") || len(prefixes2) != len(prefixes) {
			t.Fatalf("canonical %q re-parses to %q (%v)", canon, again, e)
		}
		for i := range prefixes {
			if prefixes2[i] != prefixes[i] {
				t.Fatalf("canonical %q re-parses to %v, want %v", canon, prefixes2, prefixes)
			}
		}
	})
}

func allEntriesParse(entries []string) bool {
	for _, s := range entries {
		if _, ok := parseIPEntry(s); !ok {
			return false
		}
	}
	return true
}

// writtenAddr is the address an accepted entry names, unmapped as client
// addresses are before matching.
func writtenAddr(s string) netip.Addr {
	addr, _, _ := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Addr{}
	}
	if p, err := netip.ParsePrefix(s); err == nil && a.Is4In6() && p.Bits() < 96 {
		return a // a mapped prefix shorter than /96 stays IPv6
	}
	return a.Unmap().WithZone("")
}
