package keycache

import (
	"errors"
	"testing"
)

func TestConcurrentMissesOfOneKeyShareOneRead(t *testing.T) {
	t.Parallel()
	var f Flights[*record]
	h := testHash(1)
	lead, isLead := f.Join(&h)
	follower, followerLeads := f.Join(&h)
	if !isLead || followerLeads || follower != lead {
		t.Fatalf("lead=%v followerLeads=%v same=%v: want one leader and one follower of one flight", isLead, followerLeads, follower == lead)
	}
	want := &record{id: "k"}
	lead.Val = want
	f.Land(&h, lead)
	select {
	case <-follower.Done():
	default:
		t.Fatal("the follower was not told the read landed")
	}
	if follower.Val != want || follower.Err != nil || f.InFlight() != 0 {
		t.Fatalf("follower got %v, %v; %d flights left", follower.Val, follower.Err, f.InFlight())
	}
}

func TestDroppingAKeyDetachesItsReadInFlight(t *testing.T) {
	t.Parallel()
	var k Keys[*record]
	k.Init(64, 1000)
	h := testHash(1)
	old, _ := k.Flights.Join(&h)
	_, _, gen := k.Verified.Get(&h, 1)
	k.Drop(&h) // the key changed while its read was in flight
	if fl, lead := k.Flights.Join(&h); !lead || fl == old {
		t.Fatal("a request after the change joined the read begun before it")
	}
	old.Err = errors.New("late")
	k.Flights.Land(&h, old) // landing the detached flight leaves the new one alone
	if k.Flights.InFlight() != 1 {
		t.Fatalf("%d flights, want the new one", k.Flights.InFlight())
	}
	k.Verified.Put(&h, &record{}, 1, gen)
	if e, _, _ := k.Verified.Get(&h, 2); e != nil {
		t.Fatal("a record read before the change was cached after it")
	}
}

func TestCachingOffLeavesOnlyTheFlights(t *testing.T) {
	t.Parallel()
	var k Keys[*record]
	k.Init(0, 1000)
	h := testHash(1)
	k.Drop(&h)
	k.ExpireAll(1)
	if k.Verified != nil || k.Unknown != nil {
		t.Fatal("size 0 made a cache")
	}
	if _, lead := k.Flights.Join(&h); !lead {
		t.Fatal("flights do not work without a cache")
	}
}
