package console

import (
	"strconv"
	"testing"
	"time"
)

func TestOnceTokensAreForgottenWhenOldOrPastTheBound(t *testing.T) {
	now := time.Now()
	s := newOnceStore(time.Hour, 3)
	for _, tok := range []string{"a", "b", "c"} {
		if _, fresh := s.claim(tok, "w", now); !fresh {
			t.Fatalf("%s: not fresh", tok)
		}
	}
	s.settle("a", "key-a")
	if prev, fresh := s.claim("a", "w", now); fresh || prev.keyID != "key-a" {
		t.Fatalf("a again: %+v %v", prev, fresh)
	}
	// A fourth token forgets the oldest.
	s.claim("d", "w", now)
	if len(s.seen) != 3 || len(s.order) != 3 {
		t.Fatalf("%d tokens kept (%d in order), bound 3", len(s.seen), len(s.order))
	}
	if _, fresh := s.claim("a", "w", now); !fresh {
		t.Error("the oldest token was not forgotten past the bound")
	}
	// A released token is taken again; an hour later, all are forgotten.
	s.settle("c", "")
	if _, fresh := s.claim("c", "w", now); !fresh {
		t.Error("a released token is not taken again")
	}
	s.claim("e", "w", now.Add(time.Hour))
	if len(s.seen) != 1 || len(s.order) != 1 {
		t.Errorf("an hour later: %d tokens, %d in order; want only the new one", len(s.seen), len(s.order))
	}
}

// TestFailedFormsDoNotGrowTheOnceTokens: a client sending failing forms,
// each with a new token, behind one live token, keeps the store at its
// live tokens (a failed form's token is given back whole).
func TestFailedFormsDoNotGrowTheOnceTokens(t *testing.T) {
	now := time.Now()
	s := newOnceStore(time.Hour, 100)
	s.claim("live", "w", now)
	for i := range 10_000 {
		tok := strconv.Itoa(i)
		s.claim(tok, "w", now)
		s.settle(tok, "")
	}
	if len(s.seen) != 1 || len(s.order) != 1 {
		t.Fatalf("after 10,000 failed forms: %d tokens, %d in order; want 1", len(s.seen), len(s.order))
	}
	// Re-claimed tokens are in order once, and the bound holds.
	for i := range 300 {
		tok := strconv.Itoa(i % 150)
		s.claim(tok, "w", now)
		if i%2 == 0 {
			s.settle(tok, "")
		}
	}
	if len(s.order) > 100 || len(s.seen) != len(s.order) {
		t.Fatalf("%d tokens, %d in order; bound 100", len(s.seen), len(s.order))
	}
}
