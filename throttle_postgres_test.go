package ginkey

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/gormstore/pgstore"
	"github.com/ginkey/ginkey/internal/testkit"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// pgRoleDB connects to the test PostgreSQL server as a login role of the
// test's own, which may open at most limit connections (the server's
// max_connections stays as it is), through a pool of at most poolSize.
// The role and everything it owns are dropped when the test ends.
func pgRoleDB(t *testing.T, limit, poolSize int) *gorm.DB {
	t.Helper()
	dsn := testkit.PostgresDSN(t)
	super, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	role := strings.TrimSuffix(testkit.UniquePrefix(t), "_")
	for _, sql := range []string{
		fmt.Sprintf("CREATE ROLE %s LOGIN CONNECTION LIMIT %d", role, limit),
		"GRANT USAGE, CREATE ON SCHEMA public TO " + role,
	} {
		if err := super.Exec(sql).Error; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { // last: after the guard and the pool are closed
		super.Exec("DROP OWNED BY " + role)
		super.Exec("DROP ROLE " + role)
		if db, err := super.DB(); err == nil {
			_ = db.Close()
		}
	})
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.User = url.User(role)
		dsn = u.String()
	} else {
		dsn += " user=" + role // a keyword DSN: the last user= counts
	}
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(poolSize)
	t.Cleanup(func() { _ = sqlDB.Close() })
	return db
}

// A burst of unknown keys from one address on PostgreSQL, through a pool
// that may open more connections than the database lets it have: the burst
// reaches the store only within its address's allowance, and never holds
// more than its share of the lookups in flight, so the pool is never
// exhausted and first-time keys of another address all pass meanwhile.
func TestABurstOfUnknownKeysOnPostgreSQLLeavesThePoolToOthers(t *testing.T) {
	t.Parallel()
	// The role may have 15 connections, the pool would open 20: the burst's
	// 8 lookups at most, the other address's 4, the listener's and the
	// usage flush's connections fit.
	db := pgRoleDB(t, 15, 20)
	prefix := testkit.UniquePrefix(t)
	gs, err := gormstore.New(context.Background(), db, prefix, pgstore.Driver{})
	if err != nil {
		t.Fatal(err)
	}
	st := testkit.NewFailingStore(gs)
	h := newHarness(t, func(c *Config) { c.Store = st })
	if err := h.Engine.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	good := make([]CreatedKey, 40)
	for i := range good {
		good[i] = h.createKey(`{}`)
	}
	unknown := make([]string, 1000)
	for i := range unknown {
		unknown[i] = unknownKey(t, h)
	}
	const attacker, other = "203.0.113.7:1", "198.51.100.1:1"
	before := st.Calls(testkit.OpByHash)
	burst := make([]string, len(unknown))
	goodAnswers := make([]string, len(good))
	var start, wg sync.WaitGroup
	start.Add(1)
	for i, k := range unknown {
		wg.Go(func() {
			start.Wait()
			burst[i] = answer(h.Get(attacker, "/secure", k))
		})
	}
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			start.Wait()
			for i := w; i < len(good); i += workers { // spread over the burst
				goodAnswers[i] = answer(h.Get(other, "/secure", good[i].Secret))
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	start.Done()
	wg.Wait()
	tally := map[string]int{}
	for _, a := range burst {
		tally[a]++
	}
	lookups := st.Calls(testkit.OpByHash) - before - int64(len(good))
	t.Logf("PostgreSQL, %d unknown keys at once from one address: %v; %d reached the store", len(unknown), tally, lookups)
	refused := 0
	for i, a := range goodAnswers {
		if a != "200" {
			refused++
			t.Errorf("first-time good key %d from another address during the burst: %s, want 200", i, a)
		}
	}
	if lookups > defaultFailureLimit {
		t.Errorf("%d unknown keys of the burst reached the store, the allowance is %d", lookups, defaultFailureLimit)
	}
	if n := tally["401 key_invalid"] + tally["429 too_many_failures"] + tally["429 too_many_lookups"]; n != len(unknown) {
		t.Errorf("the burst got other answers: %v", tally)
	}
	if logs := h.Logs.String(); strings.Contains(logs, "too many") {
		t.Errorf("the store ran out of connections:\n%s", logs)
	}
	if refused > 0 {
		t.Fatalf("%d of %d first-time good keys refused", refused, len(good))
	}
}
