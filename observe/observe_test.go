package observe

import (
	"slices"
	"testing"
)

func TestVerificationOutcomesStartWithKeyOutcomes(t *testing.T) {
	t.Parallel()
	key, all := KeyOutcomes(), VerificationOutcomes()
	if len(all) <= len(key) || !slices.Equal(all[:len(key)], key) {
		t.Fatalf("VerificationOutcomes() = %q does not start with KeyOutcomes() = %q", all, key)
	}
	if key[0] != "valid" || all[len(all)-1] != "other" {
		t.Fatalf("lists out of order: %q", all)
	}
	seen := map[string]bool{}
	for _, o := range all {
		if seen[o] {
			t.Fatalf("%q listed twice", o)
		}
		seen[o] = true
	}
}

func TestOutcomeListsAreTheCallersOwn(t *testing.T) {
	t.Parallel()
	KeyOutcomes()[0] = "changed"
	VerificationOutcomes()[0] = "changed"
	if KeyOutcomes()[0] != "valid" || VerificationOutcomes()[0] != "valid" {
		t.Fatal("a caller's change to a returned list is seen by the next caller")
	}
}
