package ginkey

import (
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/gormstore/pgstore"
	"github.com/ginkey/ginkey/internal/testkit"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// TestTwoGuardsOnOnePostgresShareKeys is the multi-instance shape: a key
// created on one instance works on the other, and a revoke on one is seen by
// the other at once, announced by NOTIFY; a change the other does not hear
// of (made to the table directly) is seen within CacheTTL.
func TestTwoGuardsOnOnePostgresShareKeys(t *testing.T) {
	t.Parallel()
	db, prefix := testkit.OpenPostgres(t)
	clock := newFakeClock()
	mod := func(c *Config) { c.DB = db; c.TablePrefix = prefix; c.Now = clock.Now }
	a, b := newHarness(t, mod), newHarness(t, mod)
	waitSubscribed(t, b.Guard, 1)
	k := a.createKey(`{"name":"shared"}`)
	if w := b.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("key from instance a on b: %d %s", w.Code, w.Body)
	}
	if w := a.Admin("POST", "/keys/"+k.ID+"/revoke", ""); w.Code != 200 {
		t.Fatal(w.Body)
	}
	testkit.WantError(t, a.Secure(k.Secret), 401, "key_revoked")
	waitStatus(t, b, k.Secret, 401, "revoke")

	unheard := a.createKey(`{"name":"changed behind ginkey's back"}`)
	if w := b.Secure(unheard.Secret); w.Code != 200 {
		t.Fatalf("key from instance a on b: %d %s", w.Code, w.Body)
	}
	if err := db.Table(prefix+"keys").Where("id = ?", unheard.ID).Update("revoked_at", clock.Now()).Error; err != nil {
		t.Fatal(err)
	}
	if w := b.Secure(unheard.Secret); w.Code != 200 {
		t.Fatalf("within CacheTTL instance b may still serve its cached record; got %d", w.Code)
	}
	clock.Advance(defaultCacheTTL)
	testkit.WantError(t, b.Secure(unheard.Secret), 401, "key_revoked")
}

func TestSQLiteOpenedByGuardUsesWAL(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	var mode string
	if err := h.Guard.store.(*gormstore.Store).DB().Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
	var timeout int
	if err := h.Guard.store.(*gormstore.Store).DB().Raw("PRAGMA busy_timeout").Scan(&timeout).Error; err != nil || timeout < 1000 {
		t.Fatalf("busy_timeout = %d (%v)", timeout, err)
	}
}

func TestADatabaseFromTheCoreReleaseIsMigratedAndItsKeysKeepWorking(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := gorm.Open(sqlite.Open(path), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Table("ginkey_keys").AutoMigrate(&coreKeyRow{}); err != nil {
		t.Fatal(err)
	}
	f, _ := newKeyFormat("")
	secret, display, err := f.generate()
	if err != nil {
		t.Fatal(err)
	}
	h := hashKey(secret)
	row := coreKeyRow{ID: "oldkey0000000000000000", Hash: h.String(), Prefix: display, Name: "old", Scopes: `["items:read"]`, Metadata: `{}`, CreatedAt: time.Now().UTC()}
	if err := db.Table("ginkey_keys").Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}

	hs := newHarness(t, func(c *Config) { c.DBPath = path })
	hs.Route("GET", "/items", hs.Guard.Require("items:read"))
	testkit.WantOK(t, hs.Get("10.0.0.1:1", "/items", secret), row.ID)
	var got Key
	testkit.Decode(t, hs.Admin("GET", "/keys/"+row.ID, ""), &got)
	if got.RateLimit != nil || got.Quota != nil || got.AllowedIPs == nil || len(got.AllowedIPs) != 0 {
		t.Fatalf("old key = %+v", got)
	}
	if w := hs.Admin("PATCH", "/keys/"+row.ID, `{"allowed_ips":["192.168.0.0/16"]}`); w.Code != 200 {
		t.Fatalf("PATCH: %d %s", w.Code, w.Body)
	}
	testkit.WantError(t, hs.Get("10.0.0.1:1", "/items", secret), 403, "ip_not_allowed")
}

// coreKeyRow is keyRow as the core release created it, before the
// authorization columns.
type coreKeyRow struct {
	ID         string `gorm:"primaryKey;size:32"`
	Hash       string `gorm:"size:64;not null"`
	Prefix     string `gorm:"size:32;not null"`
	Name       string `gorm:"size:200;not null"`
	Scopes     string `gorm:"type:text;not null"`
	Metadata   string `gorm:"type:text;not null"`
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

// dbSettingPassword is the password in every database setting of
// TestADatabaseSettingNeverShowsItsPasswordNorFallsBackToSQLite; "s3cret"
// is what the test looks for, so that a password cut short is found too.
const dbSettingPassword = "s3cretPW"

// TestADatabaseSettingNeverShowsItsPasswordNorFallsBackToSQLite gives New,
// through Config.DBPath and through $GINKEY_DB, settings that hold a password
// and cannot be opened: a password in a URL's query (a), a password with an
// unencoded reserved character (b), a keyword/value DSN and other databases'
// URLs and DSNs (c), and stray whitespace (d). Each is an error that names no
// password, in the error or the log, and none leaves a SQLite file behind.
// Not parallel: it changes the working directory, where a relative SQLite
// file would appear.
func TestADatabaseSettingNeverShowsItsPasswordNorFallsBackToSQLite(t *testing.T) {
	const pw = dbSettingPassword
	for _, tc := range []struct {
		name, value string
		want        string // in the error
	}{
		{"a: password in the query", "postgres://app@127.0.0.1:1/app?sslmode=disable&connect_timeout=1&password=" + pw, "PostgreSQL"},
		{"a: password in the query, pgx refuses the URL", "postgres://app@127.0.0.1:1/app?sslmode=bogus&password=" + pw, "sslmode"},
		{"a: password in the query, encoded", "postgresql://app@127.0.0.1:1/app?connect_timeout=1&password=s3cret%2FPW%40", "PostgreSQL"},
		{"a: password in the query, key in capitals", "postgres://app@127.0.0.1:1/app?sslmode=disable&connect_timeout=1&PASSWORD=" + pw, "PostgreSQL"},
		{"a: password in the query and a fragment", "postgres://app@127.0.0.1:1/app?connect_timeout=1&password=s3cret#PW", "PostgreSQL"},
		{"a: password in the user info and the query", "postgres://app:" + pw + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=1&password=" + pw, "PostgreSQL"},
		{"b: unencoded / in the password", "postgres://app:s3cret/PW@127.0.0.1:1/app?sslmode=disable", "percent-encode"},
		{"b: unencoded / in the password, no path", "postgres://app:s3cret/PW@127.0.0.1:1", "percent-encode"},
		{"b: unencoded ? in the password", "postgres://app:s3cret?PW@127.0.0.1:1/app", "percent-encode"},
		{"b: unencoded # in the password", "postgres://app:s3cret#PW@127.0.0.1:1/app", "percent-encode"},
		{"b: unencoded @ in the password", "postgres://app:s3cret@PW@127.0.0.1:1/app", "PostgreSQL"},
		{"b: unencoded % in the password", "postgres://app:s3cret%PW@127.0.0.1:1/app", "percent-encode"},
		{"c: keyword DSN", "host=127.0.0.1 port=1 user=app password=" + pw + " dbname=app sslmode=disable", "keyword"},
		{"c: keyword DSN, password first", "password=" + pw + " host=127.0.0.1 dbname=app", "keyword"},
		{"c: keyword DSN, quoted password", "host=127.0.0.1 dbname=app password='s3cret PW'", "keyword"},
		{"c: keyword DSN, spaces around =", "host = 127.0.0.1 password = " + pw, "keyword"},
		{"c: keyword DSN without a password", "host=127.0.0.1 dbname=app", "keyword"},
		{"c: MySQL URL", "mysql://app:" + pw + "@127.0.0.1:1/app", "mysql://"},
		{"c: Redis URL", "redis://:" + pw + "@127.0.0.1:1/0", "redis://"},
		{"c: another scheme", "my-db://app:" + pw + "@127.0.0.1:1/app", "my-db://"},
		{"c: a scheme Go cannot parse", "my db://app:" + pw + "@127.0.0.1:1/app", "URL"},
		{"c: MySQL DSN", "app:" + pw + "@tcp(127.0.0.1:1)/app?parseTime=true", "scheme"},
		{"c: MySQL DSN, / in the password", "app:s3cret/PW@tcp(127.0.0.1:1)/app", "scheme"},
		{"c: a URL without its scheme", "app:" + pw + "@127.0.0.1:1/app", "scheme"},
		{"c: a URL without its scheme, //", "//app:" + pw + "@127.0.0.1:1/app", "scheme"},
		{"d: leading space", " postgres://app:" + pw + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=1", "PostgreSQL"},
		{"d: leading tab, trailing newline", "\tpostgres://app:" + pw + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=1\n", "PostgreSQL"},
		{"d: trailing CRLF", "postgresql://app:" + pw + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=1\r\n", "PostgreSQL"},
		{"d: leading space, bad URL", " postgres://app:s3cret/PW@127.0.0.1:1/app", "percent-encode"},
		{"d: leading space, keyword DSN", "  host=127.0.0.1 password=" + pw, "keyword"},
		{"d: blank", " \t\n", "blank"},
	} {
		for _, via := range []string{"Config.DBPath", "GINKEY_DB"} {
			t.Run(via+"/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				t.Chdir(dir)
				logs := &testkit.Buffer{}
				cfg := Config{AdminSecret: testSecret, Postgres: pgstore.Driver{}, Logger: slog.New(slog.NewTextHandler(logs, nil)), LookupEnv: testkit.NoEnv}
				if via == "GINKEY_DB" {
					cfg.LookupEnv = func(name string) (string, bool) {
						if name == "GINKEY_DB" {
							return tc.value, true
						}
						return "", false
					}
				} else {
					cfg.DBPath = tc.value
				}
				g, err := New(cfg)
				if err == nil {
					_ = g.Close()
					t.Error("New succeeded")
					err = errors.New("")
				}
				for what, text := range map[string]string{"error": err.Error(), "log": logs.String()} {
					if strings.Contains(text, "s3cret") {
						t.Errorf("the password is in the %s: %s", what, text)
					}
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("the error does not say %q: %v", tc.want, err)
				}
				if left, _ := os.ReadDir(dir); len(left) != 0 {
					t.Errorf("a file was created in the working directory: %s", left[0].Name())
				}
				if left, _ := os.ReadDir(os.TempDir()); slices.ContainsFunc(left, func(e os.DirEntry) bool { return strings.Contains(e.Name(), "s3cret") }) {
					t.Error("a file named after the setting was created in the temporary directory")
				}
			})
		}
	}
}

// TestWithoutPostgresNewRefusesPostgreSQL: a program that does not set
// Config.Postgres has not compiled pgx, so New refuses a PostgreSQL URL
// (from Config.DBPath or GINKEY_DB), a PostgreSQL Config.DB and a GORM
// Config.Store on PostgreSQL made without pgstore.Driver{}, saying what to
// import, rather than opening it without hearing the other instances.
func TestWithoutPostgresNewRefusesPostgreSQL(t *testing.T) {
	t.Parallel()
	const url = "postgres://app:" + dbSettingPassword + "@127.0.0.1:1/app?sslmode=disable"
	wantRefusal := func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, gormstore.ErrNoPostgres) {
			t.Fatalf("New: %v, want ErrNoPostgres", err)
		}
		for _, want := range []string{"github.com/ginkey/ginkey/gormstore/pgstore", "Config.Postgres", "pgstore.Driver{}"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error does not name %s: %v", want, err)
			}
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the password is in the error: %v", err)
		}
	}
	t.Run("Config.DBPath", func(t *testing.T) {
		t.Parallel()
		_, err := New(Config{DBPath: url, AdminSecret: testSecret, Logger: slogDiscard(), LookupEnv: testkit.NoEnv})
		wantRefusal(t, err)
	})
	t.Run("GINKEY_DB", func(t *testing.T) {
		t.Parallel()
		env := func(name string) (string, bool) { return url, name == "GINKEY_DB" }
		_, err := New(Config{AdminSecret: testSecret, Logger: slogDiscard(), LookupEnv: env})
		wantRefusal(t, err)
	})
	t.Run("Config.DB", func(t *testing.T) {
		t.Parallel()
		db, prefix := testkit.OpenPostgres(t)
		_, err := New(Config{DB: db, TablePrefix: prefix, AdminSecret: testSecret, Logger: slogDiscard(), LookupEnv: testkit.NoEnv})
		wantRefusal(t, err)
		// A Notifier of the caller's own carries the changes instead.
		g, err := New(Config{DB: db, TablePrefix: prefix, Notifier: &hub{}, AdminSecret: testSecret, Logger: slogDiscard(), LookupEnv: testkit.NoEnv})
		if err != nil {
			t.Fatalf("New with a Notifier: %v", err)
		}
		_ = g.Close()
	})
	t.Run("Config.Store", func(t *testing.T) {
		t.Parallel()
		db, prefix := testkit.OpenPostgres(t)
		s, err := gormstore.New(t.Context(), db, prefix, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = New(Config{Store: s, AdminSecret: testSecret, Logger: slogDiscard(), LookupEnv: testkit.NoEnv})
		wantRefusal(t, err)
	})
}

// TestTheRootCompilesNoPostgreSQLDriver: a program that imports ginkey (and
// gormstore) without naming pgstore links neither pgx nor GORM's PostgreSQL
// dialect.
func TestTheRootCompilesNoPostgreSQLDriver(t *testing.T) {
	t.Parallel()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("SKIPPING: no go command to list the dependencies with")
	}
	deps := func(pkgs ...string) string {
		out, err := exec.Command(goCmd, append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkgs, err, out)
		}
		return string(out)
	}
	const pgx, dialect = "github.com/jackc/pgx/", "gorm.io/driver/postgres"
	root := deps("github.com/ginkey/ginkey", "github.com/ginkey/ginkey/gormstore")
	for _, pkg := range []string{pgx, dialect} {
		if strings.Contains(root, pkg) {
			t.Errorf("ginkey and gormstore depend on %s", pkg)
		}
	}
	if pg := deps("github.com/ginkey/ginkey/gormstore/pgstore"); !strings.Contains(pg, pgx) || !strings.Contains(pg, dialect) {
		t.Errorf("pgstore's dependencies lack %s or %s:\n%s", pgx, dialect, pg)
	}
}
