package testkit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// childEnv marks the go test this test starts as the child that skips.
const childEnv = "GINKEY_TESTKIT_SKIP_CHILD"

// TestAServiceSkipShowsWithVerboseAndFailsWhenRequired checks what the
// development guide says of tests that need a service, by running go test
// as a user does on a test that needs PostgreSQL without GINKEY_TEST_POSTGRES:
// a plain run passes and prints no skip (go test shows a passing package's
// output only with -v), -v shows the SKIPPING line, and
// GINKEY_REQUIRE_SERVICES=1 turns the skip into a failure.
func TestAServiceSkipShowsWithVerboseAndFailsWhenRequired(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		PostgresDSN(t)
		t.Fatal("PostgresDSN returned without GINKEY_TEST_POSTGRES")
	}
	if testing.Short() {
		t.Skip("SKIPPING: builds a test binary")
	}
	// The test binary go test would build and run; built once, it answers
	// as go test does: a passing run prints no skip unless -test.v.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "testkit.test")
	if out, err := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	run := func(verbose bool, require string) (string, error) {
		t.Helper()
		args := []string{"-test.count=1", "-test.run=^" + t.Name() + "$"}
		if verbose {
			args = append(args, "-test.v")
		}
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), childEnv+"=1", "GINKEY_TEST_POSTGRES=", "GINKEY_REQUIRE_SERVICES="+require)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(false, ""); err != nil || strings.Contains(out, "SKIPPING") {
		t.Errorf("without -v: err %v, want a pass without the skip line:\n%s", err, out)
	}
	if out, err := run(true, ""); err != nil || !strings.Contains(out, "SKIPPING PostgreSQL test: set GINKEY_TEST_POSTGRES") || !strings.Contains(out, "--- SKIP") {
		t.Errorf("with -v: err %v, want a pass that shows the SKIPPING line:\n%s", err, out)
	}
	if out, err := run(false, "1"); err == nil || !strings.Contains(out, "GINKEY_TEST_POSTGRES is not set but GINKEY_REQUIRE_SERVICES=1") {
		t.Errorf("with GINKEY_REQUIRE_SERVICES=1: err %v, want a failure naming the variable:\n%s", err, out)
	}
}
