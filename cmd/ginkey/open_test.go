package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/gormstore/pgstore"
	"github.com/ginkey/ginkey/internal/testkit"
)

// databases are the kinds of database the tests below run on: a SQLite
// file, and a fresh PostgreSQL schema (skipped loudly without
// GINKEY_TEST_POSTGRES). make returns the setting (--db, GINKEY_DB) of an
// empty database.
var databases = []struct {
	name string
	make func(t *testing.T) string
}{
	{"SQLite", func(t *testing.T) string {
		t.Helper()
		db := tempDB(t)
		if err := os.WriteFile(db, nil, 0o600); err != nil { // an empty file is an empty SQLite database
			t.Fatal(err)
		}
		return db
	}},
	{"PostgreSQL", postgresSchemaURL},
}

// tablesOf lists the tables of the database setting names, as the test sees
// them, through a connection of its own.
func tablesOf(t *testing.T, setting string) []string {
	t.Helper()
	dialector := sqlite.Open(setting)
	if strings.HasPrefix(setting, "postgres") {
		dialector = postgres.Open(setting)
	}
	db, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	}()
	tables, err := db.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tables)
	return tables
}

// jsonError is what --json prints on stderr for a failure.
func jsonError(t *testing.T, r result) errorDetail {
	t.Helper()
	var body ginkey.ErrorBody
	if err := json.Unmarshal([]byte(r.stderr), &body); err != nil || body.Error.Code == "" {
		t.Fatalf("stderr is not one JSON error object: %v\n%s", err, r.stderr)
	}
	return errorDetail(body.Error)
}

// errorDetail is ginkey.ErrorBody's Error.
type errorDetail struct{ Code, Message string }

// TestTheCLIWorksOnAServerWithItsOwnPrefixes runs a server guard with
// KeyPrefix "ms" and TablePrefix "mysvc_", and the CLI given those settings
// by the server's own variables and by flags: the CLI lists the server's
// key, and the key it creates starts "ms_" and passes the server's guarded
// route. Without them, the CLI is refused, names the prefix it looked for and
// how to change it, and creates no second set of tables.
func TestTheCLIWorksOnAServerWithItsOwnPrefixes(t *testing.T) {
	for _, database := range databases {
		t.Run(database.name, func(t *testing.T) {
			db := database.make(t)
			server, err := ginkey.New(ginkey.Config{
				Postgres: pgstore.Driver{}, // as the server is built, for GINKEY_DB=postgres://...
				DBPath:   db, KeyPrefix: "ms", TablePrefix: "mysvc_",
				Logger: slog.New(slog.DiscardHandler), LookupEnv: testkit.NoEnv,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = server.Close() }()
			byServer, err := server.CreateKey(context.Background(), ginkey.KeySpec{Name: "by the server"})
			if err != nil {
				t.Fatal(err)
			}
			gin.SetMode(gin.TestMode)
			r := gin.New()
			r.GET("/secure", server.Handler(), func(c *gin.Context) { c.Status(http.StatusOK) })
			tables := tablesOf(t, db)

			for _, via := range []struct {
				name string
				env  []string
				args []string
			}{
				{"variables", []string{"GINKEY_DB=" + db, "GINKEY_TABLE_PREFIX=mysvc_", "GINKEY_KEY_PREFIX=ms"}, nil},
				{"flags", nil, []string{"--db", db, "--table-prefix", "mysvc_", "--key-prefix", "ms"}},
			} {
				cli := func(args ...string) string {
					t.Helper()
					res := ginkeyEnv(t, via.env, "", append(slices.Clone(via.args), args...)...)
					if res.code != 0 {
						t.Fatalf("%s: ginkey %q: exit %d\n%s", via.name, args, res.code, res.stderr)
					}
					return res.stdout
				}
				var l keyPage
				if err := json.Unmarshal([]byte(cli("list", "--json")), &l); err != nil || !slices.ContainsFunc(l.Keys, func(k ginkey.Key) bool { return k.ID == byServer.ID }) {
					t.Errorf("%s: the CLI's list does not show the server's key %s: %+v %v", via.name, byServer.ID, l, err)
				}
				var created ginkey.CreatedKey
				if err := json.Unmarshal([]byte(cli("create", "--json")), &created); err != nil || !strings.HasPrefix(created.Secret, "ms_") {
					t.Fatalf("%s: create made %q (%v), want a key starting ms_", via.name, created.Secret, err)
				}
				req := httptest.NewRequest(http.MethodGet, "/secure", nil)
				req.Header.Set("X-API-Key", created.Secret)
				w := httptest.NewRecorder()
				r.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					t.Errorf("%s: the server answers the CLI's key with %d %s", via.name, w.Code, w.Body)
				}
			}

			for _, args := range [][]string{{"list"}, {"create", "--name", "x"}} {
				res := ginkeyCmd(t, "", append([]string{"--db", db}, args...)...)
				if res.code != exitFailure || res.stdout != "" {
					t.Errorf("ginkey %q without the server's table prefix: exit %d, stdout %q; want 1 and nothing", args, res.code, res.stdout)
				}
				for _, want := range []string{`"ginkey_"`, `"mysvc_"`, "--table-prefix", "$GINKEY_TABLE_PREFIX"} {
					if !strings.Contains(res.stderr, want) {
						t.Errorf("ginkey %q without the server's table prefix: stderr lacks %s: %s", args, want, res.stderr)
					}
				}
			}
			if after := tablesOf(t, db); !slices.Equal(after, tables) {
				t.Errorf("tables before the CLI: %q; after: %q", tables, after)
			}
		})
	}
}

// TestCommandsOtherThanCreateNeverCreateOrAlterTables runs every command
// but create on an empty database: each is refused, exit 1, naming the table
// prefix it looked for and how to change it, and the database is left
// without a table. On a SQLite file that does not exist, each is refused and
// the file is not created.
func TestCommandsOtherThanCreateNeverCreateOrAlterTables(t *testing.T) {
	commands := [][]string{
		{"list"}, {"show", "AnyId"}, {"usage"}, {"usage", "AnyId"}, {"audit"},
		{"update", "AnyId", "--name", "x"}, {"revoke", "AnyId"}, {"renew", "AnyId"}, {"rotate", "AnyId"}, {"delete", "AnyId", "--yes"},
	}
	for _, database := range databases {
		t.Run(database.name, func(t *testing.T) {
			db := database.make(t)
			defer func() { // checked even when a check below stops the test
				if tables := tablesOf(t, db); len(tables) != 0 {
					t.Errorf("commands that must not create tables created %q", tables)
				}
			}()
			for _, args := range commands {
				for _, asJSON := range []bool{false, true} {
					argv := append([]string{"--db", db}, args...)
					if asJSON {
						argv = append(argv, "--json")
					}
					r := ginkeyCmd(t, "", argv...)
					if r.code != exitFailure {
						t.Errorf("ginkey %q on an empty database: exit %d, want 1\n%s", argv[2:], r.code, r.stderr)
						continue
					}
					msg := r.stderr
					if asJSON {
						e := jsonError(t, r)
						if e.Code != codeNoTables {
							t.Errorf("ginkey %q: code %q, want %q", argv[2:], e.Code, codeNoTables)
						}
						msg = e.Message
					}
					for _, want := range []string{`"ginkey_"`, "--table-prefix", "$GINKEY_TABLE_PREFIX"} {
						if !strings.Contains(msg, want) {
							t.Errorf("ginkey %q on an empty database: the error lacks %s: %s", argv[2:], want, msg)
						}
					}
				}
			}
		})
	}
	t.Run("missing SQLite file", func(t *testing.T) {
		t.Parallel()
		db := filepath.Join(t.TempDir(), "missing.db")
		for _, args := range commands {
			r := ginkeyCmd(t, "", append([]string{"--db", db, "--json"}, args...)...)
			if e := jsonError(t, r); r.code != exitFailure || e.Code != codeNoDatabase || !strings.Contains(e.Message, db) {
				t.Errorf("ginkey %q on a missing file: exit %d, %+v", args, r.code, e)
			}
			if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("ginkey %q created %s", args, db)
			}
		}
	})
}

// TestCreateSetsUpADatabaseWithoutGinkeyTables keeps the first step of a
// new project working: create on a database that holds no ginkey tables
// makes them, and the key is there to list.
func TestCreateSetsUpADatabaseWithoutGinkeyTables(t *testing.T) {
	for _, database := range databases {
		t.Run(database.name, func(t *testing.T) {
			db := database.make(t)
			id := createJSON(t, db, "--name", "first").ID
			if out := mustRun(t, db, "list"); !strings.Contains(out, id) {
				t.Errorf("list after the first create:\n%s", out)
			}
			if tables := tablesOf(t, db); !slices.Contains(tables, "ginkey_keys") {
				t.Errorf("tables after the first create: %q", tables)
			}
		})
	}
}

func TestReadCommandsDoNotCreateAMissingDatabase(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	r := ginkeyCmd(t, "", "--db", db, "list")
	if r.code != 1 || !strings.Contains(r.stderr, "no database at") {
		t.Errorf("list on a missing file: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("list created %s", db)
	}
}

// TestTheCLIOnPostgreSQLRevokesAKeyThatARunningServerRejectsAtOnce: the
// guard open gives the command announces its changes to running servers.
func TestTheCLIOnPostgreSQLRevokesAKeyThatARunningServerRejectsAtOnce(t *testing.T) {
	dbURL := postgresSchemaURL(t)
	server, err := ginkey.New(ginkey.Config{
		Postgres:  pgstore.Driver{}, // as the server is built, for GINKEY_DB=postgres://...
		DBPath:    dbURL,
		CacheTTL:  30 * time.Second, // only the notification can explain a prompt rejection
		Logger:    slog.New(slog.DiscardHandler),
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = server.Close() }()
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET("/secure", server.Handler(), func(c *gin.Context) { c.Status(http.StatusOK) })
	get := func(key string) int {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/secure", nil)
		req.Header.Set("X-API-Key", key)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w.Code
	}

	created := createJSON(t, dbURL, "--name", "cli on postgres")
	if code := get(created.Secret); code != http.StatusOK {
		t.Fatalf("a key the CLI created: %d", code)
	}
	mustRun(t, dbURL, "revoke", created.ID)
	start := time.Now()
	for get(created.Secret) != http.StatusUnauthorized {
		if time.Since(start) > 100*time.Millisecond {
			t.Fatal("the server still admits the key 100 ms after the CLI revoked it")
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("rejected %s after the CLI returned", time.Since(start).Round(10*time.Microsecond))
}
