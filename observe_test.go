package ginkey

import (
	"slices"
	"testing"

	"github.com/ginkey/ginkey/observe"
)

// The verdicts index observe's list: each must land on its own name, and
// the outcomes kept per key must be observe's KeyOutcomes.
func TestVerdictsNameTheirOutcomes(t *testing.T) {
	t.Parallel()
	want := map[verdict]string{
		oValid:             outcomeValid,
		oExpired:           outcomeExpired,
		oRevoked:           outcomeRevoked,
		oInsufficientScope: outcomeInsufficientScope,
		oIPNotAllowed:      outcomeIPNotAllowed,
		oRateLimited:       outcomeRateLimited,
		oQuotaExceeded:     outcomeQuotaExceeded,
		oKeyMissing:        ErrKeyMissing.Code,
		oKeyInvalid:        ErrKeyInvalid.Code,
		oTooManyFailures:   ErrTooManyFailures.Code,
		oUnavailable:       ErrUnavailable.Code,
		oOther:             "other",
	}
	for v, name := range want {
		if outcomeNames[v] != name {
			t.Errorf("outcomeNames[%d] = %q, want %q", v, outcomeNames[v], name)
		}
	}
	if got := observe.KeyOutcomes(); !slices.Equal(got, outcomeNames[:keyOutcomes]) {
		t.Errorf("observe.KeyOutcomes() = %q, want the first %d verdicts' names %q", got, keyOutcomes, outcomeNames[:keyOutcomes])
	}
}
