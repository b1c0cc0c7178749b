package console

import (
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
	s.done("a", "key-a")
	if prev, fresh := s.claim("a", "w", now); fresh || prev.keyID != "key-a" {
		t.Fatalf("a again: %+v %v", prev, fresh)
	}
	// A fourth token forgets the oldest.
	s.claim("d", "w", now)
	if len(s.seen) != 3 {
		t.Fatalf("%d tokens kept, bound 3", len(s.seen))
	}
	if _, fresh := s.claim("a", "w", now); !fresh {
		t.Error("the oldest token was not forgotten past the bound")
	}
	// A released token is taken again; an hour later, all are forgotten.
	s.release("c")
	if _, fresh := s.claim("c", "w", now); !fresh {
		t.Error("a released token is not taken again")
	}
	s.claim("e", "w", now.Add(time.Hour))
	if len(s.seen) != 1 || len(s.order) != 1 {
		t.Errorf("an hour later: %d tokens, %d in order; want only the new one", len(s.seen), len(s.order))
	}
}
