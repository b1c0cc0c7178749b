package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/gormstore/pgstore"
)

// lifetime is how long k was created to last; 0 for a key that never
// expires.
func lifetime(k ginkey.Key) time.Duration {
	if k.ExpiresAt == nil {
		return 0
	}
	return k.ExpiresAt.Sub(k.CreatedAt)
}

// TestTheCLIAndTheServerResolveTheSameDatabaseAndTTL gives a guard, as a
// server would run it, and the binary the same GINKEY_* variables: the CLI
// must show the key the server created (so it opened the server's
// database), the server must read the key the CLI created, and both keys
// must last the same TTL, the one the environment asks for.
func TestTheCLIAndTheServerResolveTheSameDatabaseAndTTL(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // without GINKEY_DB, both open ./ginkey.db: here
	const never = 0
	for _, tc := range []struct {
		name string
		env  map[string]string
		db   string // --db, and the server's Config.DBPath
		ttl  time.Duration
	}{
		{name: "no variables", ttl: 15 * 24 * time.Hour},
		{name: "GINKEY_DB and GINKEY_TTL", env: map[string]string{"GINKEY_DB": filepath.Join(dir, "env.db"), "GINKEY_TTL": "48h"}, ttl: 48 * time.Hour},
		{name: "relative GINKEY_DB", env: map[string]string{"GINKEY_DB": "relative.db", "GINKEY_TTL": "90m"}, ttl: 90 * time.Minute},
		{name: "empty GINKEY_DB, GINKEY_TTL never", env: map[string]string{"GINKEY_DB": "", "GINKEY_TTL": "NEVER"}, ttl: never},
		{name: "empty GINKEY_TTL", env: map[string]string{"GINKEY_TTL": ""}, ttl: 15 * 24 * time.Hour},
		{name: "--db over GINKEY_DB", env: map[string]string{"GINKEY_DB": filepath.Join(dir, "not-this.db"), "GINKEY_TTL": "1h"},
			db: filepath.Join(dir, "flag.db"), ttl: time.Hour},
		{name: "GINKEY_DB a PostgreSQL URL", env: map[string]string{"GINKEY_TTL": "2h"}, ttl: 2 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.name, "PostgreSQL") {
				tc.env["GINKEY_DB"] = postgresSchemaURL(t) // skips without GINKEY_TEST_POSTGRES
			}
			server, err := ginkey.New(ginkey.Config{
				Postgres: pgstore.Driver{}, // as the server is built, for GINKEY_DB=postgres://...
				DBPath:   tc.db,
				Logger:   slog.New(slog.DiscardHandler),
				LookupEnv: func(name string) (string, bool) {
					v, ok := tc.env[name]
					return v, ok
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = server.Close() }()
			ctx := context.Background()
			byServer, err := server.CreateKey(ctx, ginkey.KeySpec{Name: "by the server"})
			if err != nil {
				t.Fatal(err)
			}

			var env, global []string
			for name, v := range tc.env {
				env = append(env, name+"="+v)
			}
			if tc.db != "" {
				global = []string{"--db", tc.db}
			}
			cli := func(args ...string) string {
				t.Helper()
				r := ginkeyEnv(t, env, "", append(global, args...)...)
				if r.code != 0 {
					t.Fatalf("ginkey %q with %q: exit %d\nstderr: %s", args, env, r.code, r.stderr)
				}
				return r.stdout
			}
			var shown ginkey.Key
			if err := json.Unmarshal([]byte(cli("show", byServer.ID, "--json")), &shown); err != nil || shown.ID != byServer.ID {
				t.Fatalf("the CLI's show of the server's key: %+v %v", shown, err)
			}
			var byCLI ginkey.CreatedKey
			if err := json.Unmarshal([]byte(cli("create", "--json")), &byCLI); err != nil {
				t.Fatal(err)
			}
			if _, err := server.GetKey(ctx, byCLI.ID); err != nil {
				t.Fatalf("the server cannot read the key the CLI created: %v", err)
			}
			if got, want := lifetime(byCLI.Key), lifetime(byServer.Key); got != want || got != tc.ttl {
				t.Errorf("keys last %v from the CLI and %v from the server, want %v", got, want, tc.ttl)
			}
		})
	}
}

// TestTheCLIRefusesTheTTLTheServerRefuses runs both on a GINKEY_TTL that is
// no duration: the server does not start, and the CLI exits 1 naming the
// variable, not the database's password.
func TestTheCLIRefusesTheTTLTheServerRefuses(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	mustRun(t, db, "create")
	const leak = "hunter2pw" // must not reach stderr
	env := map[string]string{"GINKEY_TTL": "15x", "GINKEY_DB": "postgres://u:" + leak + "@127.0.0.1:1/db"}
	_, serverErr := ginkey.New(ginkey.Config{
		Postgres:  pgstore.Driver{}, // as the server is built, for GINKEY_DB=postgres://...
		Logger:    slog.New(slog.DiscardHandler),
		LookupEnv: func(name string) (string, bool) { v, ok := env[name]; return v, ok },
	})
	if serverErr == nil || !strings.Contains(serverErr.Error(), `GINKEY_TTL "15x"`) {
		t.Fatalf("the server started on GINKEY_TTL=15x: %v", serverErr)
	}
	r := ginkeyEnv(t, []string{"GINKEY_TTL=15x", "GINKEY_DB=" + env["GINKEY_DB"]}, "", "list")
	if r.code != 1 || r.stderr != "ginkey: list: "+strings.TrimPrefix(serverErr.Error(), "ginkey: ")+"\n" {
		t.Errorf("ginkey list on GINKEY_TTL=15x: exit %d, stderr %q; want 1 and the server's error", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, leak) {
		t.Errorf("stderr shows the database password: %q", r.stderr)
	}
}

// TestTheCLIReadsTheDatabaseSettingAsTheServerDoes gives the CLI, by --db
// and by $GINKEY_DB, settings that hold a password and name no database it
// may open: each is refused by the server's own reading (gormstore.ParseDSN),
// for a command that may create the database and for one that may not,
// without the password on stdout or stderr and without a SQLite file named
// after the setting. Not parallel: it changes the working directory.
func TestTheCLIReadsTheDatabaseSettingAsTheServerDoes(t *testing.T) {
	const pw = "s3cretPW"
	for _, tc := range []struct{ name, setting, want string }{
		{"keyword DSN", "host=127.0.0.1 port=1 user=app password=" + pw + " dbname=app", "keyword"},
		{"keyword DSN, leading space", " password=" + pw + " host=127.0.0.1", "keyword"},
		{"password in the query", "postgres://app@127.0.0.1:1/app?sslmode=disable&connect_timeout=1&password=" + pw, "PostgreSQL"},
		{"unencoded / in the password", "postgres://app:s3cret/PW@127.0.0.1:1/app", "percent-encode"},
		{"leading space", " postgres://app:" + pw + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=1", "PostgreSQL"},
		{"MySQL DSN", "app:" + pw + "@tcp(127.0.0.1:1)/app", "scheme"},
		{"MySQL URL", "mysql://app:" + pw + "@127.0.0.1:1/app", "mysql://"},
	} {
		for _, via := range []string{"--db", "GINKEY_DB"} {
			for _, args := range [][]string{{"list"}, {"create", "--name", "x"}} {
				t.Run(via+"/"+tc.name+"/"+args[0], func(t *testing.T) {
					dir := t.TempDir()
					t.Chdir(dir)
					var stdout, stderr bytes.Buffer
					c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, env: func(string) (string, bool) { return "", false }}
					if via == "GINKEY_DB" {
						c.env = func(name string) (string, bool) { return tc.setting, name == "GINKEY_DB" }
					} else {
						args = append([]string{"--db", tc.setting}, args...)
					}
					if code := run(args, c); code != exitFailure {
						t.Errorf("exit %d, want %d", code, exitFailure)
					}
					out := stdout.String() + stderr.String()
					if strings.Contains(out, "s3cret") {
						t.Errorf("the password is in the output: %s", out)
					}
					if !strings.Contains(stderr.String(), tc.want) {
						t.Errorf("stderr does not say %q: %s", tc.want, stderr.String())
					}
					if left, _ := os.ReadDir(dir); len(left) != 0 {
						t.Errorf("a file was created in the working directory: %s", left[0].Name())
					}
				})
			}
		}
	}
}
