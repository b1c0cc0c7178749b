package ginkey

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
)

// noteAll counts failures of addrs into f, one each, checking the bound
// after every one.
func noteAll(t *testing.T, f *authFailures, now time.Time, addrs ...netip.Addr) {
	t.Helper()
	for _, a := range addrs {
		f.note(a, now)
		if len(f.open) > authFailuresMax {
			t.Fatalf("%d entries counted apart, bound %d", len(f.open), authFailuresMax)
		}
	}
}

// minuteEntries finishes f's minute and returns its entries by actor,
// checking that they hold every failure counted and no more than the bound.
func minuteEntries(t *testing.T, f *authFailures, now time.Time, failures int64) map[string]int64 {
	t.Helper()
	entries, _, _ := f.take(now.Add(time.Minute), false)
	if len(entries) > authFailuresMax+1 {
		t.Fatalf("%d entries in a minute, bound %d", len(entries), authFailuresMax+1)
	}
	byActor := make(map[string]int64, len(entries))
	var total int64
	for _, e := range entries {
		if _, twice := byActor[e.Actor]; twice {
			t.Errorf("two entries for %s", e.Actor)
		}
		byActor[e.Actor] = e.Count
		total += e.Count
	}
	if total != failures {
		t.Errorf("%d failures in the entries, want %d", total, failures)
	}
	return byActor
}

// decoys48 returns n addresses of one /48, each in a /64 of its own.
func decoys48(n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = netip.MustParseAddr(fmt.Sprintf("2001:db8:bad:%x::1", i))
	}
	return out
}

func TestAFloodOfWrongSecretsMakesOneEntryAMinuteInBoundedMemory(t *testing.T) {
	t.Parallel()
	f := newAuthFailures()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	flood := netip.MustParseAddr("10.9.9.9")
	for i := range 10_000 {
		f.note(flood, now.Add(time.Duration(i)*time.Millisecond))
	}
	var others []netip.Addr // 3,000 addresses in 12 /24s
	for i := range 3 * authFailuresMax {
		others = append(others, netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}))
	}
	noteAll(t, f, now, others...)
	got := minuteEntries(t, f, now, 10_000+3*authFailuresMax)
	if got["http:10.9.9.9"] != 10_000 {
		t.Errorf("flood counted %d, want 10000", got["http:10.9.9.9"])
	}
	// The table filled up at 10.1.3.231: the 231 addresses of its /24
	// counted so far were folded into one entry, which took the rest.
	if n := got["http:10.1.3.0/24"]; n != 256 {
		t.Errorf("10.1.3.0/24 counted %d, want 256", n)
	}
	if n, ok := got["http:other"]; ok {
		t.Errorf("http:other counted %d, want none: folding made room", n)
	}
}

// A guesser's failures are named, with their count, however many decoy
// addresses of one /48 (one failure each) fill the table before and
// between them, and wherever the guesser is.
func TestAGuesserHidingAmongDecoysOfOnePrefixIsNamed(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	const guesses = 200
	decoys := decoys48(authFailuresMax + 1 + 10*guesses)
	for _, c := range []struct {
		name, guesser, named string
	}{
		{"another /48", "2001:db8:900d::7", "http:2001:db8:900d::"},
		{"IPv4", "192.0.2.7", "http:192.0.2.7"},
		{"the decoys' /48", "2001:db8:bad:ffff::7", "http:2001:db8:bad::/48"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newAuthFailures()
			guesser := netip.MustParseAddr(c.guesser)
			// Decoys first, so the table is full before the first guess;
			// then a guess after every 10 decoys.
			noteAll(t, f, now, decoys[:authFailuresMax+1]...)
			rest := decoys[authFailuresMax+1:]
			for i := range guesses {
				noteAll(t, f, now, guesser)
				noteAll(t, f, now, rest[i*10:(i+1)*10]...)
			}
			got := minuteEntries(t, f, now, int64(len(decoys)+guesses))
			want := int64(guesses)
			if c.named == "http:2001:db8:bad::/48" {
				want += int64(len(decoys))
			}
			if got[c.named] != want {
				t.Errorf("%s counted %d, want %d; entries %v", c.named, got[c.named], want, got)
			}
		})
	}
}

// When the decoys have no prefix in common, nothing can be folded: every
// entry gives up failures to http:other, and a guesser making more than one
// in 1,001 of the minute's failures stays named.
func TestAGuesserAmongDecoysOfDistinctPrefixesIsNamed(t *testing.T) {
	t.Parallel()
	f := newAuthFailures()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	decoy := func(i int) netip.Addr { return netip.MustParseAddr(fmt.Sprintf("2001:db8:%x::1", 0x1000+i)) }
	guesser := netip.MustParseAddr("203.0.113.9")
	const decoys, guesses = 10 * authFailuresMax, 100
	n := 0
	for ; n < authFailuresMax; n++ {
		noteAll(t, f, now, decoy(n))
	}
	for range guesses {
		noteAll(t, f, now, guesser)
		for range (decoys - authFailuresMax) / guesses {
			noteAll(t, f, now, decoy(n))
			n++
		}
	}
	got := minuteEntries(t, f, now, decoys+guesses)
	// At most (decoys+guesses)/1,001 = 10 rounds took one failure each.
	if c := got["http:203.0.113.9"]; c < guesses-(decoys+guesses)/(authFailuresMax+1) {
		t.Errorf("guesser counted %d, want at least %d; http:other %d", c, guesses-(decoys+guesses)/(authFailuresMax+1), got["http:other"])
	}
}

// The same through the admin API: 1,500 addresses of one /48 send one wrong
// secret each, then one address sends 60 (10 refused as wrong, 50 by the
// throttle); the minute's auth_failed entries name it with its 60.
func TestAnAdminSecretGuesserBehindDecoyAddressesIsAudited(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	wrong := func(remote string) {
		w := h.DoFrom(remote, testkit.Request{Method: http.MethodGet, Path: "/auth/keys",
			Header: map[string]string{adminHeader: "wrong-admin-secret-0123456789"}})
		if w.Code != http.StatusUnauthorized && w.Code != http.StatusTooManyRequests {
			t.Fatalf("wrong secret from %s: %d", remote, w.Code)
		}
	}
	const decoys = 1500
	for _, a := range decoys48(decoys) {
		wrong(netip.AddrPortFrom(a, 1000).String())
	}
	for range 60 {
		wrong("[2001:db8:900d::7]:1000")
	}
	if n := len(h.Guard.audits.failures.open); n > authFailuresMax {
		t.Fatalf("%d entries counted apart, bound %d", n, authFailuresMax)
	}
	clock.Advance(time.Minute)
	h.Guard.flushAuthFailures(context.Background(), false)
	got := h.auditAll(AuditQuery{Action: actionAuthFailed})
	var named bool
	var total int64
	for _, e := range got {
		total += e.Count
		if e.Actor == "http:2001:db8:900d::" {
			named = e.Count == 60
		}
	}
	if !named || total != decoys+60 || len(got) > authFailuresMax+1 {
		var b strings.Builder
		for _, e := range got {
			if !strings.HasPrefix(e.Actor, "http:2001:db8:bad:") || strings.HasSuffix(e.Actor, "/48") {
				fmt.Fprintf(&b, "  %s %d\n", e.Actor, e.Count)
			}
		}
		t.Fatalf("guesser named with 60: %v; %d failures in %d entries, want %d; entries but single decoys:\n%s",
			named, total, len(got), decoys+60, b.String())
	}
}

// Pairs of addresses per /48, each pair new: every full table folds a
// pair, and the prefixes left behind must not pile up.
func TestFoldingPairsKeepsItsBookkeepingBounded(t *testing.T) {
	t.Parallel()
	f := newAuthFailures()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i := range 200_000 {
		f.note(netip.MustParseAddr(fmt.Sprintf("2001:%x:%x:%x::1", i>>17, (i>>1)&0xffff, i&1)), now)
		if len(f.open) > authFailuresMax || len(f.crowded) > authFailuresMax || len(f.members) > authFailuresMax {
			t.Fatalf("after %d failures: %d entries, %d crowded, %d prefixes with addresses", i+1, len(f.open), len(f.crowded), len(f.members))
		}
	}
	minuteEntries(t, f, now, 200_000)
}
