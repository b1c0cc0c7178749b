package clienttest

// The example server as a real process: built once per test binary from
// ../../example, run on 127.0.0.1 with its own SQLite file and the admin
// secret from the environment, as a user runs it.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// adminSecret is the example's GINKEY_SECRET in these tests.
const adminSecret = "clienttest-admin-secret-0123456789abcdef" //nolint:gosec // a test server's throwaway secret

var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// exampleBinary builds the example once per test binary.
func exampleBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "ginkey-clienttest-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "example")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", built.path, ".")
		cmd.Dir = filepath.Join("..", "..", "example")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build the example: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// server is one run of the example.
type server struct {
	host string // 127.0.0.1:port
	base string // http://127.0.0.1:port
}

// startExample runs the example on a free port with a new SQLite file, and
// waits until it answers; Cleanup stops it.
func startExample(t *testing.T) *server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "example.log")
	log, err := os.Create(logPath) //nolint:gosec // a file in t.TempDir
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exampleBinary(t)) //nolint:gosec // the binary this test built
	// The example's defaults, whatever the developer's environment says.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GINKEY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOST=127.0.0.1", "PORT="+port, "GINKEY_DB="+filepath.Join(dir, "keys.db"), "GINKEY_SECRET="+adminSecret)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = log.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil { //nolint:gosec // a file in t.TempDir
				t.Logf("the example's log:\n%s", b)
			}
		}
	})
	s := &server{host: "127.0.0.1:" + port, base: "http://127.0.0.1:" + port}
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := client.Get(s.base + "/public")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-exited:
			t.Fatalf("the example exited at start-up: %v", waitErr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example did not answer within 30s: %v", err)
		}
	}
}

// call is a plain HTTP request (no generated code), for the tests' fixtures
// and for reading what the server holds independently of a client.
func (s *server) call(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Admin-Secret", adminSecret)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// fixtureKey is a key made with plain HTTP, so that a step of a client's
// lifecycle depends on no other step of it.
type fixtureKey struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

func (s *server) fixture(t *testing.T, body string) fixtureKey {
	t.Helper()
	status, b := s.call(t, http.MethodPost, "/auth/keys", body)
	var k fixtureKey
	if status != http.StatusCreated || json.Unmarshal(b, &k) != nil || k.ID == "" {
		t.Fatalf("fixture POST /auth/keys %s: %d %s", body, status, b)
	}
	return k
}

// stored reads one key as the server holds it, as a JSON object.
func (s *server) stored(t *testing.T, id string) map[string]any {
	t.Helper()
	status, b := s.call(t, http.MethodGet, "/auth/keys/"+id, "")
	var m map[string]any
	if status != http.StatusOK || json.Unmarshal(b, &m) != nil {
		t.Fatalf("GET /auth/keys/%s: %d %s", id, status, b)
	}
	return m
}

// TestCommittedDocumentsAreWhatTheExampleServes: the clients are generated
// from what the running example serves, not from a stale copy.
func TestCommittedDocumentsAreWhatTheExampleServes(t *testing.T) {
	s := startExample(t)
	for file, path := range map[string]string{"swagger.json": "/docs/doc.json", "openapi3.json": "/docs/openapi3.json"} {
		committed, err := os.ReadFile(file) //nolint:gosec // a file of this package
		if err != nil {
			t.Fatal(err)
		}
		status, served := s.call(t, http.MethodGet, path, "")
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, status)
		}
		var a, b bytes.Buffer
		if json.Compact(&a, committed) != nil || json.Compact(&b, served) != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s is not what the example serves at %s: run go generate ./internal/clienttest", file, path)
		}
	}
}
