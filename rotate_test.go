package ginkey

import (
	"net/http"
	"slices"
	"testing"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore/memstore"
)

// auditOf reads the audit log of one key through the admin API.
func auditOf(h *harness, keyID string) AuditList {
	h.T.Helper()
	w := h.Admin(http.MethodGet, "/audit?key_id="+keyID, "")
	if w.Code != http.StatusOK {
		h.T.Fatalf("audit of %s: %d %s", keyID, w.Code, w.Body)
	}
	var out AuditList
	testkit.Decode(h.T, w, &out)
	return out
}

func TestARotatedInKeyIsFoundInTheAuditLogByItsOwnID(t *testing.T) {
	t.Parallel()
	for name, mod := range map[string]func(*Config){
		"sqlite":   nil,
		"memstore": func(c *Config) { c.Store = memstore.New() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, mod)
			old := h.createKey(`{"name":"billing"}`)
			w := h.Admin(http.MethodPost, "/keys/"+old.ID+"/rotate", `{"grace":"24h"}`)
			if w.Code != http.StatusCreated {
				t.Fatalf("rotate: %d %s", w.Code, w.Body)
			}
			var next CreatedKey
			testkit.Decode(t, w, &next)

			got := auditOf(h, next.ID)
			if got.Total != 1 || len(got.Entries) != 1 {
				t.Fatalf("audit of the new key: %+v, want one entry", got)
			}
			e := got.Entries[0]
			if e.Action != actionCreate || e.KeyID != next.ID || !slices.Equal(e.Fields, []string{"rotated_from"}) ||
				e.Outcome != outcomeOK || e.Actor == "" {
				t.Fatalf("the new key's entry: %+v", e)
			}
			if k, err := h.Guard.GetKey(bg, next.ID); err != nil || k.RotatedFrom != old.ID {
				t.Fatalf("the new key names its predecessor: %+v %v", k, err)
			}

			// The old key's entries are as before: its create and its rotate.
			was := auditOf(h, old.ID)
			if was.Total != 2 || was.Entries[0].Action != actionRotate ||
				!slices.Equal(was.Entries[0].Fields, []string{"revoked_at", "rotated_to"}) || was.Entries[1].Action != actionCreate {
				t.Fatalf("audit of the old key: %+v", was)
			}
			if was.Entries[0].Actor != e.Actor {
				t.Fatalf("actors: rotate %q, create %q", was.Entries[0].Actor, e.Actor)
			}
		})
	}
}

func TestAFailedRotationWritesNoEntryForASuccessor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.Store = memstore.New() })
	old := h.createKey(`{}`)
	if w := h.Admin(http.MethodPost, "/keys/"+old.ID+"/revoke", ""); w.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	testkit.WantError(t, h.Admin(http.MethodPost, "/keys/"+old.ID+"/rotate", `{}`), http.StatusConflict, "key_revoked")
	list, err := h.Guard.Audit(bg, AuditQuery{Action: actionCreate})
	if err != nil || list.Total != 1 || list.Entries[0].KeyID != old.ID {
		t.Fatalf("create entries after a refused rotation: %+v %v", list, err)
	}
}
