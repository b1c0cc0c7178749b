package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/testkit"
)

// binary is the ginkey command built once for the tests that run it.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ginkey-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }() // a temporary directory left behind harms nothing
	binary = filepath.Join(dir, "ginkey")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building ginkey: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

type result struct {
	stdout, stderr string
	code           int
}

// ginkeyCmd runs the binary with args, stdin from a pipe (never a
// terminal), and GINKEY_* variables removed from its environment.
func ginkeyCmd(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return ginkeyEnv(t, nil, stdin, args...)
}

// ginkeyEnv is ginkeyCmd with env (NAME=value) as the only GINKEY_*
// variables of the binary's environment.
func ginkeyEnv(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	return ginkeyIn(t, env, strings.NewReader(stdin), args...)
}

// ginkeyIn is ginkeyEnv reading stdin from in: an *os.File is the
// binary's own stdin, any other reader reaches it through a pipe.
func ginkeyIn(t *testing.T, env []string, in io.Reader, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdin = in
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GINKEY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("ginkey %q: %v", args, err)
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic:") {
		t.Fatalf("ginkey %q printed a stack trace:\n%s", args, r.stderr)
	}
	return r
}

// mustRun runs ginkey on db and fails the test unless it exits 0.
func mustRun(t *testing.T, db string, args ...string) string {
	t.Helper()
	r := ginkeyCmd(t, "", append([]string{"--db", db}, args...)...)
	if r.code != 0 {
		t.Fatalf("ginkey %q: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func tempDB(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "keys.db")
}

func createJSON(t *testing.T, db string, args ...string) ginkey.CreatedKey {
	t.Helper()
	return decodeCreated(t, mustRun(t, db, append([]string{"create", "--json"}, args...)...))
}

// decodeCreated reads the key create --json printed.
func decodeCreated(t *testing.T, out string) ginkey.CreatedKey {
	t.Helper()
	var k ginkey.CreatedKey
	if err := json.Unmarshal([]byte(out), &k); err != nil {
		t.Fatalf("create --json printed no JSON key: %v\n%s", err, out)
	}
	return k
}

// postgresSchemaURL is testkit.PostgresSchemaURL with this package's
// schema prefix.
func postgresSchemaURL(t *testing.T) string {
	t.Helper()
	return testkit.PostgresSchemaURL(t, "gkcli_", "")
}
