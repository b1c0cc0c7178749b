package ginkey

import (
	"net/http"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
	"github.com/ginkey/ginkey/keystore/memstore"
)

// storesUnderTest are the stores a two-instance test shares: a real SQLite
// file, and memory.
func storesUnderTest(t *testing.T) map[string]func(t *testing.T) keystore.Store {
	t.Helper()
	return map[string]func(t *testing.T) keystore.Store{
		"sqlite":   func(t *testing.T) keystore.Store { return newTestGormStore(t) },
		"memstore": func(*testing.T) keystore.Store { return memstore.New() },
	}
}

func TestRevokingASuccessorEndsItsPredecessorsGraceOnEveryInstance(t *testing.T) {
	t.Parallel()
	for name, open := range storesUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, n, clock := open(t), &hub{}, newFakeClock()
			mod := func(c *Config) { c.Store, c.Notifier, c.CacheTTL, c.Now = st, n, time.Hour, clock.Now }
			a, b := newHarness(t, mod), newHarness(t, mod)
			waitSubscribed(t, b.Guard, 1)

			old := a.createKey(`{"name":"billing"}`)
			w := a.Admin(http.MethodPost, "/keys/"+old.ID+"/rotate", `{"grace":"720h"}`)
			if w.Code != http.StatusCreated {
				t.Fatalf("rotate: %d %s", w.Code, w.Body)
			}
			var next CreatedKey
			testkit.Decode(t, w, &next)
			for _, h := range []*harness{a, b} { // both instances cache both keys
				testkit.WantOK(t, h.Secure(old.Secret), old.ID)
				testkit.WantOK(t, h.Secure(next.Secret), next.ID)
			}

			clock.Advance(time.Minute)
			if w := a.Admin(http.MethodPost, "/keys/"+next.ID+"/revoke", ""); w.Code != http.StatusOK {
				t.Fatalf("revoke the new key: %d %s", w.Code, w.Body)
			}
			for _, h := range []*harness{a, b} {
				testkit.WantError(t, h.Secure(next.Secret), http.StatusUnauthorized, "key_revoked")
				testkit.WantError(t, h.Secure(old.Secret), http.StatusUnauthorized, "key_revoked")
			}
			was, err := a.Guard.GetKey(bg, old.ID)
			now := clock.Now().UTC().Truncate(time.Microsecond)
			if err != nil || was.Status != StatusRevoked || was.RevokedAt == nil || !was.RevokedAt.Equal(now) || was.RotatedTo != next.ID {
				t.Fatalf("the old key after its successor's revocation: %+v %v", was, err)
			}
			list, err := auditPage(a.Guard.Audit(bg, AuditQuery{KeyID: old.ID, Action: actionRevoke}))
			if err != nil || list.Total != 1 || list.Entries[0].Outcome != outcomeOK {
				t.Fatalf("the old key's revoke entry: %+v %v", list, err)
			}
		})
	}
}

func TestRevokingTheLastKeyOfARotationChainEndsEveryGraceInIt(t *testing.T) {
	t.Parallel()
	for name, open := range storesUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			g := newHarness(t, func(c *Config) { c.Store, c.Now = open(t), clock.Now }).Guard
			first := mustCreate(t, g, KeySpec{Name: "chain"})
			second, err := g.RotateKey(bg, first.ID, 720*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			third, err := g.RotateKey(bg, second.ID, 720*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			// An unrelated rotation that ended long ago keeps its own end.
			other := mustCreate(t, g, KeySpec{Name: "other"})
			if _, err := g.RotateKey(bg, other.ID, 0); err != nil {
				t.Fatal(err)
			}
			before, _ := g.GetKey(bg, other.ID)

			clock.Advance(time.Hour)
			if _, err := g.RevokeKey(bg, third.ID); err != nil {
				t.Fatalf("RevokeKey: %v", err)
			}
			now := clock.Now().UTC().Truncate(time.Microsecond)
			for _, k := range []CreatedKey{first, second, third} {
				got, err := g.GetKey(bg, k.ID)
				if err != nil || got.Status != StatusRevoked || !got.RevokedAt.Equal(now) {
					t.Fatalf("%s after revoking the last key: %+v %v", k.ID, got, err)
				}
			}
			if after, _ := g.GetKey(bg, other.ID); !after.RevokedAt.Equal(*before.RevokedAt) {
				t.Fatalf("an unrelated rotated key: revoked at %v, was %v", after.RevokedAt, before.RevokedAt)
			}
		})
	}
}

func TestRevokingAPredecessorLeavesItsSuccessorActive(t *testing.T) {
	t.Parallel()
	g := newHarness(t, func(c *Config) { c.Store = memstore.New() }).Guard
	old := mustCreate(t, g, KeySpec{})
	next, err := g.RotateKey(bg, old.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.RevokeKey(bg, old.ID); err != nil {
		t.Fatal(err)
	}
	if k, _ := g.GetKey(bg, next.ID); k.Status != StatusActive {
		t.Fatalf("successor after revoking its predecessor: %+v", k)
	}
}
