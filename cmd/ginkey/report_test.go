package main

import (
	"strings"
	"testing"
)

// TestJSONErrorsAreObjectsWithAStableCodeAndTheSameExitStatus runs failing
// commands with and without --json: with it, stderr holds one JSON error
// object, in the HTTP API's shape, with the code a script can test, stdout
// nothing, and the exit status is the one the plain command ends with.
func TestJSONErrorsAreObjectsWithAStableCodeAndTheSameExitStatus(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	id := createJSON(t, db).ID
	mustRun(t, db, "revoke", id)
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code string
		exit int
	}{
		{"unknown id", nil, []string{"show", "NoSuchKey123"}, "not_found", exitFailure},
		{"revoked key", nil, []string{"renew", id}, "key_revoked", exitFailure},
		{"unknown flag", nil, []string{"list", "--frob"}, codeUsage, exitUsage},
		{"unknown subcommand", nil, []string{"frobnicate"}, codeUsage, exitUsage},
		{"missing id", nil, []string{"show"}, codeUsage, exitUsage},
		{"a rule of the API", nil, []string{"create", "--rate", "2000000/1s"}, "bad_request", exitUsage},
		{"bad GINKEY_TTL", []string{"GINKEY_TTL=soon"}, []string{"list"}, codeBadSetting, exitFailure},
		{"bad table prefix", nil, []string{"list", "--table-prefix", "No Such"}, codeBadSetting, exitFailure},
		{"other table prefix", nil, []string{"list", "--table-prefix", "other_"}, codeNoTables, exitFailure},
		{"missing file", nil, []string{"list", "--db", t.TempDir() + "/none.db"}, codeNoDatabase, exitFailure},
		{"delete without --yes", nil, []string{"delete", id}, codeNeedsYes, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"--db", db}, tc.args...)
			plain := ginkeyEnv(t, tc.env, "", args...)
			if plain.code != tc.exit || !strings.HasPrefix(plain.stderr, "ginkey: ") || strings.Count(plain.stderr, "\n") != 1 {
				t.Fatalf("ginkey %q: exit %d, stderr %q; want %d and one line", tc.args, plain.code, plain.stderr, tc.exit)
			}
			for _, where := range [][]string{append([]string{"--json"}, args...), append(args, "--json")} {
				r := ginkeyEnv(t, tc.env, "", where...)
				e := jsonError(t, r)
				if r.code != tc.exit || e.Code != tc.code || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
					t.Errorf("ginkey %q: exit %d, %+v, stdout %q; want exit %d and code %q", where, r.code, e, r.stdout, tc.exit, tc.code)
				}
				if want := strings.TrimSuffix(strings.TrimPrefix(plain.stderr, "ginkey: "), "\n"); e.Message != want {
					t.Errorf("ginkey %q: message %q, want the plain one, %q", where, e.Message, want)
				}
			}
		})
	}
}

// TestJSONWithoutASubcommandIsAUsageErrorObject: the plain command prints
// its help there; with --json, the error object.
func TestJSONWithoutASubcommandIsAUsageErrorObject(t *testing.T) {
	t.Parallel()
	r := ginkeyCmd(t, "", "--json")
	if e := jsonError(t, r); r.code != exitUsage || e.Code != codeUsage {
		t.Errorf("ginkey --json: exit %d, %+v; want 2 and %s", r.code, e, codeUsage)
	}
}

// TestQuietAndJSONTogetherAreRefused: each asks for its own output; the
// command refuses the pair before it creates or rotates anything.
func TestQuietAndJSONTogetherAreRefused(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	id := createJSON(t, db).ID
	for _, args := range [][]string{{"create", "--quiet", "--json"}, {"--json", "rotate", id, "--quiet"}} {
		r := ginkeyCmd(t, "", append([]string{"--db", db}, args...)...)
		if e := jsonError(t, r); r.code != exitUsage || e.Code != codeUsage || !strings.Contains(e.Message, "--quiet") || r.stdout != "" {
			t.Errorf("ginkey %q: exit %d, %+v, stdout %q; want 2 and a usage error naming --quiet", args, r.code, e, r.stdout)
		}
	}
	if out := mustRun(t, db, "list"); !strings.Contains(out, "1 key\n") || !strings.Contains(out, id) {
		t.Errorf("a key was created or rotated:\n%s", out)
	}
}
