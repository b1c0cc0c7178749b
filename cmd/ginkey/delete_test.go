package main

import (
	"os"
	"strings"
	"testing"
)

func TestDeleteWithoutYesRefusesWhenStdinIsNotATerminal(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	id := createJSON(t, db).ID
	r := ginkeyCmd(t, id+"\n", "--db", db, "delete", id)
	if r.code != 2 || !strings.Contains(r.stderr, "--yes") {
		t.Fatalf("delete without --yes: exit %d, stderr %q; want 2 naming --yes", r.code, r.stderr)
	}
	mustRun(t, db, "show", id) // still there
}

// TestDeleteFromDevNullAsksForYesBeforePrompting runs delete with stdin
// from /dev/null, a character device but no terminal: it must say that
// --yes is needed, without a prompt nobody can answer.
func TestDeleteFromDevNullAsksForYesBeforePrompting(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	id := createJSON(t, db).ID
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = null.Close() }()
	r := ginkeyIn(t, nil, null, "--db", db, "delete", id)
	if r.code != exitUsage || !strings.Contains(r.stderr, "pass --yes") || strings.Contains(r.stderr, "Type the key id") {
		t.Fatalf("delete < /dev/null: exit %d, stderr %q; want 2, --yes named and no prompt", r.code, r.stderr)
	}
	mustRun(t, db, "show", id) // still there
}
