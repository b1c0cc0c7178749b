package ginkey

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// The N+1th active key is refused with a stable code; a revoked key frees
// its place, and a rotation takes none.
func TestSelfServiceCapsAnOwnersActiveKeys(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, db func(*Config)) {
		h := newSelfHarness(t, func(string) OwnerPolicy { return OwnerPolicy{MaxKeys: 2} }, db)
		first := h.mint("alice", "")
		h.mint("alice", "")
		testkit.WantError(t, h.as("alice", http.MethodPost, "/keys", ""), http.StatusConflict, "too_many_keys")
		h.mint("bob", "") // the cap is per owner
		if w := h.as("alice", http.MethodPost, "/keys/"+first.ID+"/rotate", `{"grace":"1h"}`); w.Code != http.StatusCreated {
			t.Fatalf("rotating at the cap: %d %s", w.Code, w.Body)
		}
		testkit.WantError(t, h.as("alice", http.MethodPost, "/keys", ""), http.StatusConflict, "too_many_keys")
		if w := h.as("alice", http.MethodPost, "/keys/"+first.ID+"/revoke", ""); w.Code != http.StatusOK {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}
		// Revoking the rotated-out key changed nothing: its successor still counts.
		testkit.WantError(t, h.as("alice", http.MethodPost, "/keys", ""), http.StatusConflict, "too_many_keys")
		var list keyList
		testkit.Decode(t, h.as("alice", http.MethodGet, "/keys?status=active", ""), &list)
		if w := h.as("alice", http.MethodPost, "/keys/"+list.Keys[0].ID+"/revoke", ""); w.Code != http.StatusOK {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}
		h.mint("alice", "")
	})
}

// Twenty creates at once through two instances on one database (SQLite,
// PostgreSQL, MariaDB; each instance its own connection pool) leave exactly
// MaxKeys keys: the cap is the store's, not an instance's.
func TestSelfServiceCapHoldsUnderConcurrentCreatesOnTwoInstances(t *testing.T) {
	t.Parallel()
	policy := func(string) OwnerPolicy { return OwnerPolicy{CreatesPerHour: 100} }
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		a := newSelfHarness(t, policy, nil)
		b := newSelfHarness(t, policy, func(c *Config) { c.DBPath = a.DBPath })
		raceCreates(t, a, b)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url := postgresURL(t)
		_, prefix := testkit.OpenPostgres(t) // drops the tables when the test ends
		on := func(c *Config) { c.DBPath, c.TablePrefix = url, prefix }
		raceCreates(t, newSelfHarness(t, policy, on), newSelfHarness(t, policy, on))
	})
	t.Run("mariadb", func(t *testing.T) {
		t.Parallel()
		first, prefix := testkit.OpenMySQL(t) // drops the tables when the test ends
		second, err := gorm.Open(mysql.Open(testkit.MySQLDSN(t)), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if sqlDB, err := second.DB(); err == nil {
				_ = sqlDB.Close()
			}
		})
		on := func(db *gorm.DB) func(*Config) {
			return func(c *Config) { c.DB, c.TablePrefix = db, prefix }
		}
		raceCreates(t, newSelfHarness(t, policy, on(first)), newSelfHarness(t, policy, on(second)))
	})
}

func raceCreates(t *testing.T, a, b *harness) {
	t.Helper()
	const racers = 20
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[string]int{}
		start = make(chan struct{})
	)
	for i := range racers {
		h := a
		if i%2 == 1 {
			h = b
		}
		wg.Go(func() {
			<-start
			w := h.as("alice", http.MethodPost, "/keys", `{"name":"racer `+strconv.Itoa(i)+`"}`)
			mu.Lock()
			defer mu.Unlock()
			codes[strconv.Itoa(w.Code)+" "+errorCode(w.Body.String())]++
		})
	}
	close(start)
	wg.Wait()
	if codes["201 "] != defaultMaxKeys || codes["409 too_many_keys"] != racers-defaultMaxKeys {
		t.Fatalf("%d concurrent creates on two instances: %v, want %d created and the rest too_many_keys", racers, codes, defaultMaxKeys)
	}
	for _, h := range []*harness{a, b} {
		var list keyList
		testkit.Decode(t, h.Admin(http.MethodGet, "/keys?owner=alice", ""), &list)
		if list.Total != defaultMaxKeys {
			t.Fatalf("alice has %d keys, want %d", list.Total, defaultMaxKeys)
		}
	}
}

func errorCode(body string) string {
	_, rest, ok := strings.Cut(body, `"code":"`)
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(rest, `"`)
	return code
}

// Creates beyond CreatesPerHour wait, told how long by Retry-After; the
// allowance comes back a create at a time.
func TestSelfServiceThrottlesAnOwnersCreates(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, db func(*Config)) {
		clock := newFakeClock()
		h := newSelfHarness(t, func(string) OwnerPolicy { return OwnerPolicy{CreatesPerHour: 2} }, both(db, func(c *Config) { c.Now = clock.Now }))
		h.mint("alice", "")
		h.mint("alice", "")
		w := h.as("alice", http.MethodPost, "/keys", "")
		testkit.WantError(t, w, http.StatusTooManyRequests, "too_many_creates")
		wantRetryAfter(t, w, 30*time.Minute)
		h.mint("bob", "") // per owner
		clock.Advance(30 * time.Minute)
		h.mint("alice", "")
		testkit.WantError(t, h.as("alice", http.MethodPost, "/keys", ""), http.StatusTooManyRequests, "too_many_creates")
		var list keyList
		if testkit.Decode(t, h.as("alice", http.MethodGet, "/keys", ""), &list); list.Total != 3 {
			t.Fatalf("alice has %d keys, want 3", list.Total)
		}
	})
}

// Every self-service action is in the audit log under owner:<id>, for the
// admin; a probe of another owner's key is too. The owner reading a key's
// history sees who else acted only as "other".
func TestSelfServiceActionsAreAuditedUnderTheOwner(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, db func(*Config)) {
		h := newSelfHarness(t, nil, db)
		k := h.mint("alice", `{"name":"audited"}`)
		h.as("mallory", http.MethodPost, "/keys/"+k.ID+"/revoke", "")
		h.Admin(http.MethodPost, "/keys/"+k.ID+"/renew", "")
		h.as("alice", http.MethodPost, "/keys/"+k.ID+"/revoke", "")

		var admin auditList
		testkit.Decode(t, h.Admin(http.MethodGet, "/audit?key_id="+k.ID, ""), &admin)
		got := auditTrail(admin)
		if want := "revoke owner:alice ok,renew http:192.0.2.1 ok,revoke owner:mallory not_found,create owner:alice ok"; got != want {
			t.Fatalf("the admin reads %s, want %s", got, want)
		}
		var mine auditList
		testkit.Decode(t, h.as("alice", http.MethodGet, "/keys/"+k.ID+"/audit", ""), &mine)
		if got, want := auditTrail(mine), "revoke owner:alice ok,renew other ok,revoke other not_found,create owner:alice ok"; got != want {
			t.Fatalf("alice reads %s, want %s", got, want)
		}
		for _, e := range mine.Entries {
			if e.Principal != "" {
				t.Fatalf("alice sees a principal: %+v", e)
			}
		}
	})
}

func auditTrail(l auditList) string {
	out := make([]string, len(l.Entries))
	for i, e := range l.Entries {
		out[i] = e.Action + " " + e.Actor + " " + e.Outcome
	}
	return strings.Join(out, ",")
}

// The Go form gives a host's own pages the same checks as the routes.
func TestForOwnerAppliesTheSameChecksAsTheRoutes(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, func(t *testing.T, db func(*Config)) {
		h := newSelfHarness(t, nil, db)
		ctx := context.Background()
		alice, err := h.Guard.ForOwner("alice", OwnerPolicy{Scopes: []string{"items:read"}, MaxKeys: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = alice.Create(ctx, KeySpec{RateLimit: &RateLimit{Requests: 9, Per: "1s"}})
		if e, ok := errors.AsType[*Error](err); !ok || e.Field != "rate_limit" {
			t.Fatalf("a rate limit from the owner: %v", err)
		}
		if _, err := alice.Create(ctx, KeySpec{Scopes: []string{"items:write"}}); !errors.Is(err, ErrBadRequest) {
			t.Fatalf("a scope beyond the plan: %v", err)
		}
		k, err := alice.Create(ctx, KeySpec{Name: "mine"})
		if err != nil || k.Owner != "alice" {
			t.Fatalf("create: %+v %v", k, err)
		}
		if _, err := alice.Create(ctx, KeySpec{}); !errors.Is(err, ErrTooManyKeys) {
			t.Fatalf("past MaxKeys: %v", err)
		}
		bob, err := h.Guard.ForOwner("bob", OwnerPolicy{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bob.Get(ctx, k.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("bob reads alice's key: %v", err)
		}
		if _, err := bob.Revoke(ctx, k.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("bob revokes alice's key: %v", err)
		}
		if _, _, err := bob.List(ctx, KeyQuery{Owner: "alice"}); !errors.Is(err, ErrBadRequest) {
			t.Fatalf("bob lists alice's keys: %v", err)
		}
		for _, p := range []OwnerPolicy{{Scopes: []string{"bad scope"}}, {MaxKeys: -1}, {AllowedIPs: []string{"nowhere"}}} {
			if _, err := h.Guard.ForOwner("alice", p); err == nil {
				t.Fatalf("policy %+v was accepted", p)
			}
		}
		for _, owner := range []string{"", "tab\there"} {
			if _, err := h.Guard.ForOwner(owner, OwnerPolicy{}); err == nil {
				t.Fatalf("owner %q was accepted", owner)
			}
		}
	})
}

// TestAPlanWildcardDoesNotGrantTheAdminScope: the admin gate holds
// AdminKeyScope literally, so a plan granting "*" or "ginkey:*" must not
// let an owner mint a key scoped "ginkey:admin", which would administer
// every key; a plan naming it does (the host's own choice).
func TestAPlanWildcardDoesNotGrantTheAdminScope(t *testing.T) {
	t.Parallel()
	plans := map[string][]string{"alice": {"*"}, "bob": {"ginkey:*", "items:read"}, "carol": {"ginkey:admin"}}
	h := newSelfHarness(t, func(owner string) OwnerPolicy { return OwnerPolicy{Scopes: plans[owner]} },
		func(c *Config) { c.AdminKeyScope = "ginkey:admin" })
	for _, owner := range []string{"alice", "bob"} {
		w := h.as(owner, http.MethodPost, "/keys", `{"scopes":["ginkey:admin"]}`)
		testkit.WantError(t, w, http.StatusBadRequest, "bad_request")
		if w := h.as(owner, http.MethodPost, "/keys", `{"scopes":["ginkey:reports"]}`); w.Code != http.StatusCreated {
			t.Errorf("%s: another scope the wildcard grants: %d %s", owner, w.Code, w.Body)
		}
	}
	if w := h.as("carol", http.MethodPost, "/keys", `{"scopes":["ginkey:admin"]}`); w.Code != http.StatusCreated {
		t.Errorf("a plan naming the admin scope: %d %s", w.Code, w.Body)
	}
}

// TestACreateTheRequestDoomsCostsNoneOfTheHourlyAllowance: creates refused
// for a scope beyond the plan or a too long expiry do not count against
// CreatesPerHour.
func TestACreateTheRequestDoomsCostsNoneOfTheHourlyAllowance(t *testing.T) {
	t.Parallel()
	h := newSelfHarness(t, func(string) OwnerPolicy {
		return OwnerPolicy{Scopes: []string{"items:read"}, CreatesPerHour: 2, MaxLifetime: time.Hour}
	}, nil)
	for range 3 {
		testkit.WantError(t, h.as("alice", http.MethodPost, "/keys", `{"scopes":["items:write"]}`), http.StatusBadRequest, "bad_request")
		testkit.WantError(t, h.as("alice", http.MethodPost, "/keys", `{"expires_at":"2999-01-01T00:00:00Z"}`), http.StatusBadRequest, "bad_request")
	}
	h.mint("alice", "")
	h.mint("alice", "")
	w := h.as("alice", http.MethodPost, "/keys", "")
	testkit.WantError(t, w, http.StatusTooManyRequests, "too_many_creates")
	if w.Header().Get("Retry-After") == "" {
		t.Error("too_many_creates without Retry-After")
	}
}

// TestRenewingExpiredKeysDoesNotEscapeTheCap: an owner at MaxKeys whose
// keys expired creates new ones; renewing the expired ones as well would
// bring them back past the cap, so it is refused (409 key_expired).
func TestRenewingExpiredKeysDoesNotEscapeTheCap(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newSelfHarness(t, func(string) OwnerPolicy { return OwnerPolicy{MaxKeys: 2, MaxLifetime: time.Hour} },
		func(c *Config) { c.Now = clock.Now })
	old := []CreatedKey{h.mint("alice", ""), h.mint("alice", "")}
	clock.Advance(2 * time.Hour)
	h.mint("alice", "")
	h.mint("alice", "")
	for _, k := range old {
		testkit.WantError(t, h.as("alice", http.MethodPost, "/keys/"+k.ID+"/renew", ""), http.StatusConflict, "key_expired")
	}
	var list keyList
	if testkit.Decode(t, h.as("alice", http.MethodGet, "/keys?status=active", ""), &list); list.Total != 2 {
		t.Fatalf("alice has %d active keys, cap 2", list.Total)
	}
	// An active key is renewed as before.
	var active keyList
	testkit.Decode(t, h.as("alice", http.MethodGet, "/keys?status=active", ""), &active)
	if w := h.as("alice", http.MethodPost, "/keys/"+active.Keys[0].ID+"/renew", ""); w.Code != http.StatusOK {
		t.Fatalf("renewing an active key: %d %s", w.Code, w.Body)
	}
}

// TestRotatingAgainAndAgainGivesAtMostTwoWorkingKeys: each rotation of a
// successor ends its predecessor's grace, so an owner with MaxKeys 1 who
// rotates five times with 30-day graces holds two working keys, not six.
func TestRotatingAgainAndAgainGivesAtMostTwoWorkingKeys(t *testing.T) {
	t.Parallel()
	h := newSelfHarness(t, func(string) OwnerPolicy { return OwnerPolicy{MaxKeys: 1} }, nil)
	chain := []CreatedKey{h.mint("alice", "")}
	for range 5 {
		w := h.as("alice", http.MethodPost, "/keys/"+chain[len(chain)-1].ID+"/rotate", `{"grace":"720h"}`)
		if w.Code != http.StatusCreated {
			t.Fatalf("rotate: %d %s", w.Code, w.Body)
		}
		var next CreatedKey
		testkit.Decode(t, w, &next)
		chain = append(chain, next)
	}
	working := 0
	for i, k := range chain {
		w := h.Secure(k.Secret)
		if w.Code == http.StatusOK {
			working++
		} else if i >= len(chain)-2 {
			t.Errorf("key %d of the chain (the newest two work) refused: %d %s", i, w.Code, w.Body)
		}
	}
	if working != 2 {
		t.Fatalf("%d working keys in a chain of %d rotations, want 2", working, len(chain)-1)
	}
}

// TestAnOwnersCreateIsAuditedWithTheFieldsTheOwnerGave: the plan's rate
// limit, quota and addresses, and the owner, are not the owner's fields.
func TestAnOwnersCreateIsAuditedWithTheFieldsTheOwnerGave(t *testing.T) {
	t.Parallel()
	h := newSelfHarness(t, nil, nil)
	ctx := context.Background()
	alice, err := h.Guard.ForOwner("alice", OwnerPolicy{Scopes: []string{"items:read"}, RateLimit: &RateLimit{Requests: 5, Per: "1s"},
		Quota: &Quota{Requests: 100, Per: "day"}, AllowedIPs: []string{"10.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := alice.Create(ctx, KeySpec{Name: "mine"})
	if err != nil || k.Owner != "alice" || k.RateLimit == nil || k.Quota == nil || len(k.AllowedIPs) != 1 {
		t.Fatalf("create: %+v %v", k, err)
	}
	if err := h.Guard.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	entries, _, err := h.Guard.Audit(ctx, AuditQuery{KeyID: k.ID, Action: actionCreate})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit: %+v %v", entries, err)
	}
	if got := strings.Join(entries[0].Fields, ","); got != "name" {
		t.Errorf("the create's audited fields are %q, want the owner's own: name", got)
	}
}
