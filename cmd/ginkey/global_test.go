package main

import (
	"strings"
	"testing"
	"time"
)

// TestTTLFlagGivesKeysTheServersLifetime: --ttl is read as GINKEY_TTL is,
// and wins over it, as --db wins over GINKEY_DB.
func TestTTLFlagGivesKeysTheServersLifetime(t *testing.T) {
	t.Parallel()
	db := tempDB(t)
	env := []string{"GINKEY_TTL=1h"}
	for _, tc := range []struct {
		ttl  string
		want time.Duration
	}{{"2h", 2 * time.Hour}, {"never", 0}, {"", time.Hour}} {
		args := []string{"--db", db, "create", "--json"}
		if tc.ttl != "" {
			args = append(args, "--ttl", tc.ttl)
		}
		r := ginkeyEnv(t, env, "", args...)
		if r.code != 0 {
			t.Fatalf("ginkey %q: exit %d\n%s", args, r.code, r.stderr)
		}
		if got := lifetime(decodeCreated(t, r.stdout).Key); got != tc.want {
			t.Errorf("--ttl %q over GINKEY_TTL=1h: keys last %v, want %v", tc.ttl, got, tc.want)
		}
	}
	if r := ginkeyCmd(t, "", "--db", db, "create", "--ttl", "-1h"); r.code != exitUsage || !strings.Contains(r.stderr, "--ttl") {
		t.Errorf("--ttl -1h: exit %d, stderr %q; want a usage error naming --ttl", r.code, r.stderr)
	}
}
