package limits

import (
	"net/netip"
	"testing"
)

func TestFailureThrottleStaysWithinItsBound(t *testing.T) {
	t.Parallel()
	th := NewFailures(5)
	base := netip.MustParseAddr("10.0.0.0").As4()
	for i := range 3 * throttleMaxAddr {
		b := base
		b[1], b[2], b[3] = byte(i>>16), byte(i>>8), byte(i)
		th.Acquire(netip.AddrFrom4(b), 0)
	}
	n := 0
	for i := range th.shards {
		n += len(th.shards[i].tat)
	}
	if n > throttleMaxAddr {
		t.Fatalf("throttle tracks %d addresses, bound %d", n, throttleMaxAddr)
	}
}
