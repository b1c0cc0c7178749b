package ginkey

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/gormstore/pgstore"
	"github.com/ginkey/ginkey/internal/testkit"

	"github.com/gin-gonic/gin"
)

const testSecret = testkit.AdminSecret

func init() { gin.SetMode(gin.TestMode) }

// fakeClock is a settable clock for expiry tests.
type fakeClock = testkit.Clock

func newFakeClock() *fakeClock { return testkit.NewClock() }

// syncBuffer is a log sink safe for the guard's goroutines.
type syncBuffer = testkit.Buffer

// harness is testkit's guard under test, a guard on a real SQLite file
// behind a real gin engine.
type harness struct {
	*testkit.Harness[*Guard]
}

// newHarness serves a guard on the harness's SQLite file, with testSecret,
// the harness's logger and no environment; mod (nil: none) changes that
// Config first; a PostgreSQL database set there is opened with pgstore.
// guardtest.New does the same for other packages' tests.
func newHarness(t testing.TB, mod func(*Config)) *harness {
	t.Helper()
	h := &harness{testkit.NewHarness[*Guard](t, keyID)}
	cfg := Config{DBPath: h.DBPath, AdminSecret: testSecret, Logger: h.Logger, LookupEnv: testkit.NoEnv, Postgres: pgstore.Driver{}}
	if mod != nil {
		mod(&cfg)
	}
	h.Serve(New(cfg))
	return h
}

func keyID(c *gin.Context) (string, bool) {
	k, ok := KeyFrom(c)
	return k.ID, ok
}

// createKey creates a key with the admin API from the JSON body.
func (h *harness) createKey(body string) CreatedKey {
	h.T.Helper()
	var out CreatedKey
	h.CreateKey(body, &out)
	return out
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// refuseInserts makes the harness's real SQLite file refuse inserts into
// table, as a full disk would, until the returned function lifts it.
func (h *harness) refuseInserts(table string) (lift func()) {
	h.T.Helper()
	db := h.Guard.store.(*gormstore.Store).DB()
	trigger := "refuse_" + table
	sql := "CREATE TRIGGER " + trigger + " BEFORE INSERT ON " + table +
		" BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
	if err := db.Exec(sql).Error; err != nil {
		h.T.Fatal(err)
	}
	return func() {
		h.T.Helper()
		if err := db.Exec("DROP TRIGGER " + trigger).Error; err != nil {
			h.T.Fatal(err)
		}
	}
}

func wantRetryAfter(t testing.TB, w *httptest.ResponseRecorder, d time.Duration) {
	t.Helper()
	testkit.WantHeader(t, w, "Retry-After", strconv.FormatInt(ceilSeconds(d), 10))
}

// newCountingHarness is a harness whose store counts calls (see
// FailingStore.Calls), to prove a refusal never reached the store.
func newCountingHarness(t *testing.T, mod func(*Config)) (*harness, *testkit.FailingStore) {
	t.Helper()
	st := newFailingStore(t)
	h := newHarness(t, func(c *Config) {
		c.Store = st
		if mod != nil {
			mod(c)
		}
	})
	return h, st
}

// newFailingStore is testkit's FailingStore over a GORM store on a fresh
// SQLite file: nothing fails until the test says so.
func newFailingStore(t *testing.T) *testkit.FailingStore {
	t.Helper()
	return testkit.NewFailingStore(newTestGormStore(t))
}

// newTestGormStore is a GORM store on a fresh SQLite file, for wrapping.
func newTestGormStore(t *testing.T) *gormstore.Store {
	t.Helper()
	s, err := gormstore.Open(context.Background(), t.TempDir()+"/wrapped.db", gormstore.DefaultTablePrefix, slogDiscard(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// keysPage, auditPage and usagePage put a management method's page back
// together as the admin API's body, for tests that compare both.
func keysPage(keys []Key, total int64, err error) (keyList, error) {
	return keyList{Keys: keys, Total: total}, err
}

func auditPage(entries []AuditEntry, total int64, err error) (auditList, error) {
	return auditList{Entries: entries, Total: total}, err
}

func usagePage(rows []UsageSummary, total int64, err error) (usageSummaryList, error) {
	return usageSummaryList{Usage: rows, Total: total}, err
}
