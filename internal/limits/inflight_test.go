package limits

import (
	"net/netip"
	"testing"
)

func TestInFlightBoundsEachAddressAndEveryoneTogether(t *testing.T) {
	t.Parallel()
	f := NewInFlight(5, 2)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	bSibling := netip.MustParseAddr("2001:db8::ffff") // the same /64
	none := netip.Addr{}                              // a client without an address
	enter := func(x netip.Addr, wantOK, wantOverall bool) {
		t.Helper()
		if ok, overall := f.Enter(x); ok != wantOK || overall != wantOverall {
			t.Fatalf("Enter(%v) = %v, %v; want %v, %v", x, ok, overall, wantOK, wantOverall)
		}
	}
	enter(a, true, false)
	enter(a, true, false)
	enter(a, false, false) // a's share
	enter(b, true, false)
	enter(bSibling, true, false)
	enter(b, false, false)
	enter(none, true, false) // counts overall only
	enter(netip.MustParseAddr("198.51.100.1"), false, true)
	f.Leave(a)
	enter(a, true, false)
	f.Leave(a)
	f.Leave(a)
	f.Leave(b)
	f.Leave(bSibling)
	f.Leave(none)
	if f.total != 0 || len(f.by) != 0 {
		t.Fatalf("after every Leave: total %d, %d addresses held", f.total, len(f.by))
	}
	if NewInFlight(0, 4) != nil || NewInFlight(-1, 4) != nil {
		t.Fatal("a bound of 0 or less must be no bound")
	}
	if g := NewInFlight(3, 0); g.perAddr != 1 {
		t.Fatalf("per-address share %d, want at least 1", g.perAddr)
	}
}
