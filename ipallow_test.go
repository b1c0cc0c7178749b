package ginkey

import (
	"slices"
	"strings"
	"testing"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/internal/testkit"
)

func TestAllowedIPsAdmitIPv4AndIPv6PrefixesAndAddresses(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	if err := h.Engine.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	k := h.createKey(`{"allowed_ips":["10.0.0.0/8","2001:db8::/32","127.0.0.1","192.168.1.77/24"]}`)
	if want := []string{"10.0.0.0/8", "2001:db8::/32", "127.0.0.1", "192.168.1.0/24"}; !slices.Equal(k.AllowedIPs, want) {
		t.Fatalf("allowed_ips stored as %q, want the canonical %q", k.AllowedIPs, want)
	}
	open := h.createKey(`{}`)
	cases := []struct {
		remote string
		ok     bool
	}{
		{"10.0.0.1:1", true},
		{"10.255.255.255:1", true},
		{"11.0.0.1:1", false},
		{"127.0.0.1:1", true},
		{"127.0.0.2:1", false},
		{"192.168.1.200:1", true},
		{"192.168.2.1:1", false},
		{"[2001:db8::1]:1", true},
		{"[2001:db8:ffff:ffff::1]:1", true},
		{"[2001:db9::1]:1", false},
		{"[::1]:1", false},
		{"[::ffff:10.1.2.3]:1", true}, // an IPv4-mapped peer is its IPv4 address
		{"[::ffff:11.1.2.3]:1", false},
		{"[fe80::1%25eth0]:1", false},
	}
	for _, tc := range cases {
		w := h.Get(tc.remote, "/secure", k.Secret)
		if tc.ok {
			testkit.WantOK(t, w, k.ID)
		} else {
			testkit.WantError(t, w, 403, "ip_not_allowed")
		}
		testkit.WantOK(t, h.Get(tc.remote, "/secure", open.Secret), open.ID)
	}
}

func TestIPv4MappedPrefixMatchesIPv4Clients(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{"allowed_ips":["::ffff:10.0.0.0/104"]}`)
	if !slices.Equal(k.AllowedIPs, []string{"10.0.0.0/8"}) {
		t.Fatalf("allowed_ips = %q", k.AllowedIPs)
	}
	testkit.WantOK(t, h.Get("10.9.9.9:1", "/secure", k.Secret), k.ID)
}

func TestSpoofedForwardedForIsIgnoredUnlessThePeerIsATrustedProxy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{"allowed_ips":["10.0.0.0/8"]}`)
	spoof := func(remote string) int {
		return h.DoFrom(remote, testkit.Request{Method: "GET", Path: "/secure", Header: map[string]string{
			"X-API-Key": k.Secret, "X-Forwarded-For": "10.0.0.1", "X-Real-IP": "10.0.0.1",
		}}).Code
	}
	// No trusted proxies: the peer address is the client address.
	if err := h.Engine.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	if code := spoof("203.0.113.9:1"); code != 403 {
		t.Fatalf("spoofed X-Forwarded-For with no trusted proxy: %d, want 403", code)
	}
	// A trusted proxy's X-Forwarded-For is believed; anyone else's is not.
	if err := h.Engine.SetTrustedProxies([]string{"192.0.2.10"}); err != nil {
		t.Fatal(err)
	}
	if code := spoof("192.0.2.10:1"); code != 200 {
		t.Fatalf("X-Forwarded-For from the trusted proxy: %d, want 200", code)
	}
	if code := spoof("203.0.113.9:1"); code != 403 {
		t.Fatalf("X-Forwarded-For from an untrusted peer: %d, want 403", code)
	}
	// gin passes a forwarded address through as written: an IPv4-mapped one
	// still matches its IPv4 prefix.
	w := h.DoFrom("192.0.2.10:1", testkit.Request{Method: "GET", Path: "/secure", Header: map[string]string{
		"X-API-Key": k.Secret, "X-Forwarded-For": "::ffff:10.0.0.1",
	}})
	testkit.WantOK(t, w, k.ID)
}

func TestPatchedAllowListAppliesOnTheNextRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{}`)
	testkit.WantOK(t, h.Get("10.0.0.1:1", "/secure", k.Secret), k.ID)
	h.Admin("PATCH", "/keys/"+k.ID, `{"allowed_ips":["2001:db8::/32"]}`)
	testkit.WantError(t, h.Get("10.0.0.1:1", "/secure", k.Secret), 403, "ip_not_allowed")
	testkit.WantOK(t, h.Get("[2001:db8::5]:1", "/secure", k.Secret), k.ID)
	h.Admin("PATCH", "/keys/"+k.ID, `{"allowed_ips":[]}`)
	testkit.WantOK(t, h.Get("10.0.0.1:1", "/secure", k.Secret), k.ID)
}

func TestInvalidAllowedIPsAreRejected(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, bad := range []string{
		`"10.0.0.0/33"`, `"300.1.1.1"`, `"10.0.0"`, `""`, `"example.com"`, `"2001:db8::/129"`,
		`"fe80::1%eth0"`, `"10.0.0.0/8 "`, `" 10.0.0.1"`, `"10.0.0.1/"`, `5`,
		`"` + strings.Repeat("1", 70) + `"`,
	} {
		w := h.Admin("POST", "/keys", `{"allowed_ips":[`+bad+`]}`)
		testkit.WantError(t, w, 400, "bad_request")
		if !strings.Contains(w.Body.String(), "allowed_ips") {
			t.Fatalf("%s: message does not name allowed_ips: %s", bad, w.Body)
		}
	}
	many := strings.Repeat(`"10.0.0.1",`, 64) + `"10.0.0.2"`
	testkit.WantError(t, h.Admin("POST", "/keys", `{"allowed_ips":[`+many+`]}`), 400, "bad_request")
	var l keyList
	testkit.Decode(t, h.Admin("GET", "/keys", ""), &l)
	if l.Total != 0 {
		t.Fatalf("bad requests created %d keys", l.Total)
	}
}

func TestAnInvalidStoredAllowListRefusesTheKeyEverywhere(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{}`)
	// As if written by hand or by a buggy tool.
	err := h.Guard.store.(*gormstore.Store).DB().Table("ginkey_keys").Where("id = ?", k.ID).Update("allowed_ips", `["not an address"]`).Error
	if err != nil {
		t.Fatal(err)
	}
	testkit.WantError(t, h.Get("10.0.0.1:1", "/secure", k.Secret), 403, "ip_not_allowed")
	if !strings.Contains(h.Logs.String(), "allowed_ips are invalid") {
		t.Fatal("the invalid allow-list was not logged")
	}
}

func FuzzParseAllowedIPs(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "2001:db8::/32", "127.0.0.1", "::ffff:10.0.0.0/104", "fe80::1%eth0", "1.2.3.4/0", "::/0", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		canon, nets, e := parseAllowedIPs([]string{s})
		if e != nil {
			return
		}
		if len(canon) != 1 || len(nets) != 1 {
			t.Fatalf("%q: %d entries", s, len(canon))
		}
		// The canonical form parses to the same prefix and is its own canonical form.
		again, nets2, e := parseAllowedIPs(canon)
		if e != nil || again[0] != canon[0] || nets2[0] != nets[0] {
			t.Fatalf("%q -> %q -> %q (%v)", s, canon[0], again, e)
		}
		if !nets[0].Contains(nets[0].Addr()) {
			t.Fatalf("%q: prefix %v does not contain its own address", s, nets[0])
		}
	})
}
