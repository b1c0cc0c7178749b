package ginkey

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/gormstore/pgstore"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
)

// guardSetup opens guards on one database of a dialect: each call of open
// is another instance on the same tables.
type guardSetup struct {
	name string
	open func(t *testing.T, mod func(*Config)) *Guard
}

// guardSetups lists a database of every dialect, and a Store without
// transactions (the GORM store behind an interface that hides them).
func guardSetups(t *testing.T) []guardSetup {
	t.Helper()
	base := func(t *testing.T, cfg Config, mod func(*Config)) *Guard {
		t.Helper()
		cfg.AdminSecret, cfg.LookupEnv, cfg.Logger = testSecret, testkit.NoEnv, slogDiscard()
		if mod != nil {
			mod(&cfg)
		}
		g, err := New(cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { _ = g.Close() })
		return g
	}
	onDB := func(name string, db func(t *testing.T) (Config, bool)) guardSetup {
		var (
			cfg    Config
			opened bool
		)
		return guardSetup{name, func(t *testing.T, mod func(*Config)) *Guard {
			if !opened {
				cfg, opened = db(t)
			}
			return base(t, cfg, mod)
		}}
	}
	return []guardSetup{
		onDB("sqlite", func(t *testing.T) (Config, bool) {
			return Config{DBPath: filepath.Join(t.TempDir(), "keys.db")}, true
		}),
		onDB("postgres", func(t *testing.T) (Config, bool) {
			db, prefix := testkit.OpenPostgres(t)
			return Config{DB: db, TablePrefix: prefix, Postgres: pgstore.Driver{}}, true
		}),
		onDB("mysql", func(t *testing.T) (Config, bool) {
			db, prefix := testkit.OpenMySQL(t)
			return Config{DB: db, TablePrefix: prefix}, true
		}),
		onDB("store-without-transactions", func(t *testing.T) (Config, bool) {
			s := newTestGormStore(t)
			return Config{Store: plainStore{s}}, true
		}),
	}
}

// plainStore is a Store and nothing more: RotateKey takes its path for
// stores it cannot run a transaction on.
type plainStore struct{ keystore.Store }

// forEachSetup runs test on every guard setup, or on those named, in
// parallel.
func forEachSetup(t *testing.T, test func(t *testing.T, s guardSetup), only ...string) {
	for _, s := range guardSetups(t) {
		if len(only) > 0 && !slices.Contains(only, s.name) {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			test(t, s)
		})
	}
}

// rotationTTL is the CacheTTL of twoInstances' guards.
const rotationTTL = 2 * time.Second

// twoInstances opens two guards of s on one database and one fake clock,
// with a CacheTTL of rotationTTL.
func twoInstances(t *testing.T, s guardSetup) (clock *fakeClock, a, b *Guard) {
	t.Helper()
	clock = newFakeClock()
	mod := func(c *Config) { c.Now, c.CacheTTL = clock.Now, rotationTTL }
	return clock, s.open(t, mod), s.open(t, mod)
}

// serveKeys is a gin engine whose /secure route g guards.
func serveKeys(g *Guard) *gin.Engine {
	r := gin.New()
	g.RegisterAdmin(r.Group("/auth"))
	r.GET("/secure", g.Handler(), func(c *gin.Context) {
		k, _ := KeyFrom(c)
		c.JSON(http.StatusOK, gin.H{"key_id": k.ID, "owner": k.Owner})
	})
	return r
}

func use(r *gin.Engine, key string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/secure", nil)
	req.Header.Set("X-API-Key", key)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func TestListKeysFiltersByOwnerPrefixNameAndStatusTogether(t *testing.T) {
	t.Parallel()
	forEachSetup(t, func(t *testing.T, s guardSetup) {
		clock := newFakeClock()
		g := s.open(t, func(c *Config) { c.Now = clock.Now })
		made := map[string]CreatedKey{}
		for _, k := range []struct{ label, owner, name string }{
			{"a1", "user_42", "Billing Service"},
			{"a2", "user_42", "billing-cron"},
			{"a3", "user_42", "100%_off promo"},
			{"b1", "team:acme", "Billing for acme"},
			{"b2", "team:acme", "100x off"},
			{"n1", "", "unowned billing"},
			{"u1", "team:acme", "ÉCOLE Billing"},
		} {
			clock.Advance(time.Second) // a distinct creation time each: newest first is a known order
			made[k.label] = mustCreate(t, g, KeySpec{Name: k.name, Owner: k.owner})
		}
		if _, err := g.RevokeKey(bg, made["a2"].ID); err != nil {
			t.Fatal(err)
		}
		labels := map[string]string{}
		for l, k := range made {
			labels[k.ID] = l
		}
		for _, tc := range []struct {
			q    KeyQuery
			want string
		}{
			{KeyQuery{Owner: "user_42"}, "a3,a2,a1"},
			{KeyQuery{Owner: "user_42", Status: StatusActive}, "a3,a1"},
			{KeyQuery{Owner: "user_42", Status: StatusRevoked}, "a2"},
			{KeyQuery{Owner: "USER_42"}, ""},
			{KeyQuery{Owner: "team:acme", Name: "BILLING"}, "u1,b1"},
			{KeyQuery{Name: "billing"}, "u1,n1,b1,a2,a1"},
			{KeyQuery{Name: "billing", Status: StatusActive}, "u1,n1,b1,a1"},
			{KeyQuery{Name: "ÉCOLE"}, "u1"}, // as stored: found by every dialect's fold
			{KeyQuery{Name: "100%_"}, "a3"}, // % and _ are literal
			{KeyQuery{Name: "_"}, "a3"},
			{KeyQuery{Prefix: made["b2"].Prefix}, "b2"},
			{KeyQuery{Prefix: made["b2"].Prefix, Owner: "user_42"}, ""},
			{KeyQuery{Prefix: strings.ToUpper(made["b2"].Prefix[:3]) + made["b2"].Prefix[3:]}, ""},
			{KeyQuery{Owner: "user_42", Limit: 1, Offset: 1}, "a2"},
		} {
			list, err := keysPage(g.ListKeys(bg, tc.q))
			if err != nil {
				t.Fatalf("%+v: %v", tc.q, err)
			}
			var got []string
			for _, k := range list.Keys {
				got = append(got, labels[k.ID])
			}
			wantTotal := int64(len(strings.Split(tc.want, ",")))
			if tc.want == "" {
				wantTotal = 0
			}
			if tc.q.Limit == 1 {
				wantTotal = 3
			}
			if strings.Join(got, ",") != tc.want || list.Total != wantTotal {
				t.Errorf("ListKeys(%+v) = %v total %d, want %s total %d", tc.q, got, list.Total, tc.want, wantTotal)
			}
		}
		if k, err := g.GetKey(bg, made["b1"].ID); err != nil || k.Owner != "team:acme" {
			t.Fatalf("GetKey: owner %q, %v", k.Owner, err)
		}
		owner := "user_7"
		if k, err := g.UpdateKey(bg, made["n1"].ID, KeyUpdate{Owner: &owner}); err != nil || k.Owner != owner {
			t.Fatalf("UpdateKey(owner): %+v %v", k, err)
		}
		if list, _ := keysPage(g.ListKeys(bg, KeyQuery{Owner: owner})); list.Total != 1 || list.Keys[0].ID != made["n1"].ID {
			t.Fatalf("after the owner changed: %+v", list)
		}
	})
}

func TestListKeysRefusesFiltersNoKeyCouldMatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, tc := range []struct{ q, field string }{
		{"owner=" + strings.Repeat("x", 201), "owner"},
		{"owner=a%E2%80%AEb", "owner"},
		{"name=%00", "name"},
		{"prefix=gk", "prefix"},
		{"prefix=gk_AbC1x%25", "prefix"},
		{"prefix=_AbC1x", "prefix"},
		{"prefix=" + "gk_" + strings.Repeat("A", 30), "prefix"},
	} {
		w := h.Admin(http.MethodGet, "/keys?"+tc.q, "")
		testkit.WantError(t, w, http.StatusBadRequest, "bad_request")
		if !strings.Contains(w.Body.String(), tc.field+` must`) {
			t.Errorf("%s: the message does not name %s: %s", tc.q, tc.field, w.Body)
		}
	}
	if _, err := h.Guard.CreateKey(bg, KeySpec{Owner: "x\u200by"}); err == nil || !strings.Contains(err.Error(), "owner must not contain U+200B") {
		t.Fatalf("CreateKey with an invisible owner: %v", err)
	}
}

func TestOwnerTravelsThroughHTTPAndKeyFrom(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{"name":"acme","owner":"tenant-9"}`)
	if k.Owner != "tenant-9" {
		t.Fatalf("created: owner %q", k.Owner)
	}
	r := serveKeys(h.Guard)
	if w := use(r, k.Secret); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"owner":"tenant-9"`) {
		t.Fatalf("KeyFrom: %d %s", w.Code, w.Body)
	}
	w := h.Admin(http.MethodPatch, "/keys/"+k.ID, `{"owner":"tenant-10"}`)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"owner":"tenant-10"`) {
		t.Fatalf("PATCH owner: %d %s", w.Code, w.Body)
	}
	w = h.Admin(http.MethodGet, "/keys?owner=tenant-10&status=active", "")
	var list keyList
	testkit.Decode(t, w, &list)
	if list.Total != 1 || list.Keys[0].ID != k.ID {
		t.Fatalf("GET /keys?owner=: %s", w.Body)
	}
	// A fresh SQLite file read by hash (the guard's own fast path) carries it too.
	h2 := newHarness(t, func(c *Config) { c.DBPath = h.DBPath })
	if w := use(serveKeys(h2.Guard), k.Secret); !strings.Contains(w.Body.String(), `"owner":"tenant-10"`) {
		t.Fatalf("KeyFrom on a second guard: %s", w.Body)
	}
}

func TestRotateKeyKeepsTheOldKeyForItsGraceOnEveryInstance(t *testing.T) {
	t.Parallel()
	forEachSetup(t, func(t *testing.T, s guardSetup) {
		clock, a, b := twoInstances(t, s)
		ra, rb := serveKeys(a), serveKeys(b)
		expires := clock.Now().Add(90 * 24 * time.Hour).Truncate(time.Second)
		old := mustCreate(t, a, KeySpec{
			Name: "billing", Owner: "user_42", Scopes: []string{"items:read"}, Metadata: map[string]any{"tier": 2},
			RateLimit: &RateLimit{Requests: 100, Per: PerMinute}, AllowedIPs: []string{"192.0.2.0/24"},
			Quota: &Quota{Requests: 1000, Per: PerDay}, ExpiresAt: &expires,
		})
		// Allowed IPs: the test's requests come from httptest's 192.0.2.1.
		testkit.WantOK(t, use(rb, old.Secret), old.ID) // B caches the old key's record

		clock.Advance(time.Minute)
		next, err := a.RotateKey(bg, old.ID, time.Hour)
		if err != nil {
			t.Fatalf("RotateKey: %v", err)
		}
		if next.ID == old.ID || next.Secret == old.Secret || next.Prefix == old.Prefix || next.RotatedFrom != old.ID || next.RotatedTo != "" {
			t.Fatalf("successor: %+v", next.Key)
		}
		inherited := func(k Key) string {
			b, _ := json.Marshal([]any{k.Name, k.Owner, k.Scopes, k.Metadata, k.RateLimit, k.AllowedIPs, k.Quota, k.ExpiresAt.UTC()})
			return string(b)
		}
		if inherited(next.Key) != inherited(old.Key) {
			t.Fatalf("not inherited:\n old %s\n new %s", inherited(old.Key), inherited(next.Key))
		}
		if !next.CreatedAt.Equal(clock.Now().Truncate(time.Microsecond)) || next.LastUsedAt != nil || next.Status != StatusActive {
			t.Fatalf("successor's own fields: %+v", next.Key)
		}
		was, err := a.GetKey(bg, old.ID)
		if err != nil {
			t.Fatal(err)
		}
		if was.RotatedTo != next.ID || was.RevokedAt == nil || !was.RevokedAt.Equal(clock.Now().Add(time.Hour).Truncate(time.Microsecond)) || was.Status != StatusActive {
			t.Fatalf("old key after rotation: %+v", was)
		}

		// Inside the grace: both keys, on both instances.
		for _, r := range []*gin.Engine{ra, rb} {
			testkit.WantOK(t, use(r, old.Secret), old.ID)
			testkit.WantOK(t, use(r, next.Secret), next.ID)
		}
		// B read the old key's record before the rotation, and keeps it for
		// CacheTTL; then it has the grace's end too.
		clock.Advance(rotationTTL + time.Millisecond)
		testkit.WantOK(t, use(rb, old.Secret), old.ID)

		// Meanwhile the old key is frozen, and cannot be rotated again.
		name := "x"
		if _, err := a.UpdateKey(bg, old.ID, KeyUpdate{Name: &name}); !errors.Is(err, errRotatedConflict) {
			t.Fatalf("UpdateKey in the grace: %v, want errRotatedConflict", err)
		}
		if _, err := a.RenewKey(bg, old.ID, Renewal{}); !errors.Is(err, errRotatedConflict) {
			t.Fatalf("RenewKey in the grace: %v, want errRotatedConflict", err)
		}
		if _, err := b.RotateKey(bg, old.ID, 0); !errors.Is(err, errRotatedConflict) {
			t.Fatalf("rotating a rotated key: %v, want errRotatedConflict", err)
		}

		// After the grace: only the new key, on both instances at once.
		clock.Advance(time.Hour)
		for _, r := range []*gin.Engine{ra, rb} {
			testkit.WantError(t, use(r, old.Secret), http.StatusUnauthorized, "key_revoked")
			testkit.WantOK(t, use(r, next.Secret), next.ID)
		}
		if was, _ := a.GetKey(bg, old.ID); was.Status != StatusRevoked {
			t.Fatalf("old key's status after the grace: %s", was.Status)
		}
		list, err := keysPage(a.ListKeys(bg, KeyQuery{Owner: "user_42", Status: StatusActive}))
		if err != nil || list.Total != 1 || list.Keys[0].ID != next.ID {
			t.Fatalf("active keys of the owner after the grace: %+v %v", list, err)
		}
		if _, err := a.RotateKey(bg, old.ID, 0); !errors.Is(err, errRotatedConflict) {
			t.Fatalf("rotating a rotated key after its grace: %v", err)
		}
	})
}

func TestRotateKeyWithoutGraceStopsTheOldKeyAtOnce(t *testing.T) {
	t.Parallel()
	forEachSetup(t, func(t *testing.T, s guardSetup) {
		clock, a, b := twoInstances(t, s)
		ra, rb := serveKeys(a), serveKeys(b)
		old := mustCreate(t, a, KeySpec{})
		testkit.WantOK(t, use(rb, old.Secret), old.ID)
		next, err := a.RotateKey(bg, old.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		testkit.WantError(t, use(ra, old.Secret), http.StatusUnauthorized, "key_revoked")
		testkit.WantOK(t, use(ra, next.Secret), next.ID)
		// B refuses the old key as soon as it hears of the rotation (NOTIFY on
		// PostgreSQL), else once its record is CacheTTL old.
		if w := use(rb, old.Secret); w.Code != http.StatusOK && w.Code != http.StatusUnauthorized {
			t.Fatalf("B within CacheTTL: %d %s", w.Code, w.Body)
		}
		clock.Advance(rotationTTL + time.Millisecond)
		testkit.WantError(t, use(rb, old.Secret), http.StatusUnauthorized, "key_revoked")
		testkit.WantOK(t, use(rb, next.Secret), next.ID)
	})
}

func TestRevokingARotatedKeyEndsItsGrace(t *testing.T) {
	t.Parallel()
	forEachSetup(t, func(t *testing.T, s guardSetup) {
		clock := newFakeClock()
		g := s.open(t, func(c *Config) { c.Now = clock.Now })
		r := serveKeys(g)
		old := mustCreate(t, g, KeySpec{})
		next, err := g.RotateKey(bg, old.ID, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		testkit.WantOK(t, use(r, old.Secret), old.ID)
		clock.Advance(time.Minute)
		k, err := g.RevokeKey(bg, old.ID)
		if err != nil || k.Status != StatusRevoked || !k.RevokedAt.Equal(clock.Now().Truncate(time.Microsecond)) || k.RotatedTo != next.ID {
			t.Fatalf("RevokeKey in the grace: %+v %v", k, err)
		}
		testkit.WantError(t, use(r, old.Secret), http.StatusUnauthorized, "key_revoked")
		testkit.WantOK(t, use(r, next.Secret), next.ID)
		// Revoking it again changes nothing.
		clock.Advance(time.Minute)
		again, err := g.RevokeKey(bg, old.ID)
		if err != nil || !again.RevokedAt.Equal(*k.RevokedAt) {
			t.Fatalf("second revoke: %+v %v", again, err)
		}
	})
}

func TestARevocationHoldsAtOnceWhateverTheClocks(t *testing.T) {
	t.Parallel()
	forEachSetup(t, func(t *testing.T, s guardSetup) {
		// A's clock runs three minutes ahead of B's: the revoked_at it
		// stores lies in B's future. Only a rotation's grace may do that.
		fast, slow := newFakeClock(), newFakeClock()
		fast.Advance(3 * time.Minute)
		a := s.open(t, func(c *Config) { c.Now = fast.Now })
		b := s.open(t, func(c *Config) { c.Now = slow.Now })
		k := mustCreate(t, a, KeySpec{})
		if _, err := a.RevokeKey(bg, k.ID); err != nil {
			t.Fatal(err)
		}
		testkit.WantError(t, use(serveKeys(b), k.Secret), http.StatusUnauthorized, "key_revoked")
		got, err := b.GetKey(bg, k.ID)
		if err != nil || got.Status != StatusRevoked {
			t.Fatalf("B's view of the key: %s %v", got.Status, err)
		}
		for st, want := range map[Status]int64{StatusRevoked: 1, StatusActive: 0} {
			if list, err := keysPage(b.ListKeys(bg, KeyQuery{Status: st})); err != nil || list.Total != want {
				t.Errorf("B lists %d %s keys, want %d (%v)", list.Total, st, want, err)
			}
		}
	})
}

func TestRotateKeyRefusesWhatCannotBeRotated(t *testing.T) {
	t.Parallel()
	forEachSetup(t, func(t *testing.T, s guardSetup) {
		clock := newFakeClock()
		g := s.open(t, func(c *Config) { c.Now = clock.Now })
		revoked := mustCreate(t, g, KeySpec{})
		if _, err := g.RevokeKey(bg, revoked.ID); err != nil {
			t.Fatal(err)
		}
		soon := clock.Now().Add(time.Hour)
		expired := mustCreate(t, g, KeySpec{ExpiresAt: &soon})
		live := mustCreate(t, g, KeySpec{})
		clock.Advance(2 * time.Hour)
		for _, tc := range []struct {
			id    string
			grace time.Duration
			want  error
		}{
			{revoked.ID, 0, errRevokedConflict},
			{expired.ID, 0, errExpiredConflict},
			{"nosuchkey", 0, ErrNotFound},
			{"not/an/id", 0, ErrNotFound},
			{live.ID, -time.Second, ErrBadRequest},
			{live.ID, maxRotationGrace + time.Second, ErrBadRequest},
		} {
			if _, err := g.RotateKey(bg, tc.id, tc.grace); !errors.Is(err, tc.want) {
				t.Errorf("RotateKey(%s, %v) = %v, want %v", tc.id, tc.grace, err, tc.want)
			}
		}
		// Nothing was half done: the refused rotations left no key behind.
		list, err := keysPage(g.ListKeys(bg, KeyQuery{}))
		if err != nil || list.Total != 3 {
			t.Fatalf("keys after refused rotations: %d %v", list.Total, err)
		}
		if _, err := g.RotateKey(bg, live.ID, maxRotationGrace); err != nil {
			t.Fatalf("the longest grace: %v", err)
		}
	})
}

func TestRotateOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	old := h.createKey(`{"name":"svc","owner":"o1"}`)
	for _, tc := range []struct{ body, code string }{
		{`{"grace":"a day"}`, "bad_request"},
		{`{"grace":"-1s"}`, "bad_request"},
		{`{"grace":"721h"}`, "bad_request"},
		{`{"grace":24}`, "bad_request"},
		{`{"Grace":"1h"}`, "bad_request"},
	} {
		testkit.WantError(t, h.Admin(http.MethodPost, "/keys/"+old.ID+"/rotate", tc.body), http.StatusBadRequest, tc.code)
	}
	w := h.Admin(http.MethodPost, "/keys/"+old.ID+"/rotate", `{"grace":"24h"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("rotate: %d %s", w.Code, w.Body)
	}
	var next CreatedKey
	testkit.Decode(t, w, &next)
	if !h.Guard.format.valid(next.Secret) || next.RotatedFrom != old.ID || next.Owner != "o1" {
		t.Fatalf("rotate answer: %s", w.Body)
	}
	testkit.WantOK(t, h.Secure(old.Secret), old.ID)
	testkit.WantOK(t, h.Secure(next.Secret), next.ID)
	testkit.WantError(t, h.Admin(http.MethodPost, "/keys/"+old.ID+"/rotate", ""), http.StatusConflict, "key_rotated")
	testkit.WantError(t, h.Admin(http.MethodPatch, "/keys/"+old.ID, `{"name":"x"}`), http.StatusConflict, "key_rotated")
	w = h.Admin(http.MethodGet, "/keys/"+old.ID, "")
	if !strings.Contains(w.Body.String(), `"rotated_to":"`+next.ID+`"`) {
		t.Fatalf("old key: %s", w.Body)
	}
	// No body: the old key stops at once.
	w = h.Admin(http.MethodPost, "/keys/"+next.ID+"/rotate", "")
	if w.Code != http.StatusCreated {
		t.Fatalf("rotate without a body: %d %s", w.Code, w.Body)
	}
	testkit.WantError(t, h.Secure(next.Secret), http.StatusUnauthorized, "key_revoked")
	testkit.WantError(t, h.Admin(http.MethodPost, "/keys/nosuchkey/rotate", ""), http.StatusNotFound, "not_found")
	if strings.Contains(h.Logs.String(), next.Secret) || strings.Contains(h.Logs.String(), old.Secret) {
		t.Fatal("a key reached the log")
	}
}

func TestConcurrentRotationsOfOneKeyMakeOneSuccessor(t *testing.T) {
	t.Parallel()
	forEachSetup(t, func(t *testing.T, s guardSetup) {
		a, b := s.open(t, nil), s.open(t, nil)
		old := mustCreate(t, a, KeySpec{})
		const n = 8
		errs := make(chan error, n)
		for i := range n {
			g := a
			if i%2 == 1 {
				g = b
			}
			go func() {
				_, err := g.RotateKey(bg, old.ID, time.Hour)
				errs <- err
			}()
		}
		var won, conflicts int
		for range n {
			switch err := <-errs; {
			case err == nil:
				won++
			case errors.Is(err, errRotatedConflict), errors.Is(err, errRevokedConflict):
				conflicts++
			default:
				t.Errorf("rotation: %v", err)
			}
		}
		list, err := keysPage(a.ListKeys(bg, KeyQuery{}))
		if err != nil {
			t.Fatal(err)
		}
		var successors []string
		for _, k := range list.Keys {
			if k.RotatedFrom == old.ID {
				successors = append(successors, k.ID)
			}
		}
		was, _ := a.GetKey(bg, old.ID)
		if won != 1 || conflicts != n-1 || len(successors) != 1 || !slices.Contains(successors, was.RotatedTo) {
			t.Fatalf("won %d, conflicts %d, successors %v, rotated_to %s", won, conflicts, successors, was.RotatedTo)
		}
	})
}
