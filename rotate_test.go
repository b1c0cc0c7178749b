package ginkey

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore/memstore"
)

// auditOf reads the audit log of one key through the admin API.
func auditOf(h *harness, keyID string) auditList {
	h.T.Helper()
	w := h.Admin(http.MethodGet, "/audit?key_id="+keyID, "")
	if w.Code != http.StatusOK {
		h.T.Fatalf("audit of %s: %d %s", keyID, w.Code, w.Body)
	}
	var out auditList
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
	list, err := auditPage(h.Guard.Audit(bg, AuditQuery{Action: actionCreate}))
	if err != nil || list.Total != 1 || list.Entries[0].KeyID != old.ID {
		t.Fatalf("create entries after a refused rotation: %+v %v", list, err)
	}
}

// rotate rotates the key id through the admin API with grace and returns
// the new key.
func rotate(h *harness, id, grace string) CreatedKey {
	h.T.Helper()
	w := h.Admin(http.MethodPost, "/keys/"+id+"/rotate", `{"grace":"`+grace+`"}`)
	if w.Code != http.StatusCreated {
		h.T.Fatalf("rotate %s: %d %s", id, w.Code, w.Body)
	}
	var next CreatedKey
	testkit.Decode(h.T, w, &next)
	return next
}

// useKey makes n requests with key, each of which must be admitted.
func useKey(h *harness, key CreatedKey, n int) {
	h.T.Helper()
	for range n {
		testkit.WantOK(h.T, h.Secure(key.Secret), key.ID)
	}
}

// refused checks that each key's next request is refused 429 with code.
func refused(h *harness, code string, keys ...CreatedKey) {
	h.T.Helper()
	for _, k := range keys {
		testkit.WantError(h.T, h.Secure(k.Secret), http.StatusTooManyRequests, code)
	}
}

func TestARotatedInKeyGoesOnFromItsPredecessorsQuotaAndSharesItInTheGrace(t *testing.T) {
	t.Parallel()
	for name, mod := range map[string]func(*Config){
		"sqlite":   nil,
		"memstore": func(c *Config) { c.Store = memstore.New() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			h := newHarness(t, func(c *Config) {
				c.Now = clock.Now
				if mod != nil {
					mod(c)
				}
			})
			// The whole quota spent, then rotated: the new key has none left.
			spent := h.createKey(`{"quota":{"requests":5,"per":"day"}}`)
			useKey(h, spent, 5)
			next := rotate(h, spent.ID, "24h")
			refused(h, "quota_exceeded", next, spent)

			// Part spent: old and new key together get what was left.
			old := h.createKey(`{"quota":{"requests":5,"per":"day"}}`)
			useKey(h, old, 3)
			next = rotate(h, old.ID, "24h")
			useKey(h, next, 1)
			useKey(h, old, 1) // in its grace
			refused(h, "quota_exceeded", next, old)

			// The next day the chain has its whole quota again, once.
			clock.Advance(24 * time.Hour)
			useKey(h, next, 5)
			refused(h, "quota_exceeded", next)
		})
	}
}

func TestARotatedInKeySharesItsPredecessorsRateLimit(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	old := h.createKey(`{"rate_limit":{"requests":3,"per":"1m"}}`)
	useKey(h, old, 3)
	next := rotate(h, old.ID, "1h")
	refused(h, "rate_limited", next, old)
	// One request back every 20 s, for the two keys together.
	clock.Advance(20 * time.Second)
	useKey(h, old, 1)
	refused(h, "rate_limited", next)
	clock.Advance(20 * time.Second)
	useKey(h, next, 1)
	refused(h, "rate_limited", old)
}

func TestAfterARestartTheQuotaCountsTheWholeRotationChainsUsage(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	first := h.createKey(`{"quota":{"requests":6,"per":"day"}}`)
	useKey(h, first, 2)
	second := rotate(h, first.ID, "24h")
	useKey(h, second, 2)
	third := rotate(h, second.ID, "24h")
	useKey(h, third, 1)
	if err := h.Guard.Close(); err != nil { // writes the usage
		t.Fatal(err)
	}
	// A new guard on the same file reads the chain's count from the usage
	// table: 5 of 6, over three keys.
	h.Serve(New(Config{DBPath: h.DBPath, AdminSecret: testSecret, LookupEnv: testkit.NoEnv, Logger: slogDiscard(), Now: clock.Now}))
	useKey(h, third, 1)
	for _, k := range []CreatedKey{third, second, first} {
		refused(h, "quota_exceeded", k)
	}
}
