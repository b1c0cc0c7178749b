package main

import (
	"strings"
	"testing"
)

func TestCreateQuietPrintsOnlyTheKey(t *testing.T) {
	t.Parallel()
	r := ginkeyCmd(t, "", "--db", tempDB(t), "create", "--quiet", "--expires", "never")
	out := r.stdout
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if r.code != 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "gk_") || len(lines[0]) != 52 {
		t.Fatalf("create --quiet printed %q (exit %d), want one key", out, r.code)
	}
	if strings.Contains(r.stderr, lines[0]) {
		t.Error("the plaintext key reached stderr")
	}
}
