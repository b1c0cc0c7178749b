package main

// Helpers for the tests that run the example as a real process: build it
// once per test binary, start it on 127.0.0.1 with its own SQLite file,
// kill it or stop it, and talk to it over HTTP.

import (
	"bytes"
	"context"
	"database/sql"
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

	_ "github.com/mattn/go-sqlite3" // PRAGMA integrity_check on the example's database
)

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

// exampleBinary builds the example (without -race) once per test binary.
func exampleBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		start := time.Now()
		if built.dir, built.err = os.MkdirTemp("", "ginkey-example-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "example")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", built.path, ".").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
		t.Logf("built the example in %s", time.Since(start).Round(time.Millisecond))
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// freePort finds a port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// example is one run of the example binary.
type example struct {
	t       *testing.T
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:port
	log     *os.File
	exited  chan struct{}
	waitErr error
}

// startExample runs the binary on db and port, with env's variables
// ("NAME=value") added, appending its stdout and stderr to logPath, and
// waits until it answers.
func startExample(t *testing.T, db, port, logPath string, env ...string) *example {
	t.Helper()
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600) //nolint:gosec // a file in t.TempDir
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exampleBinary(t)) //nolint:gosec // the binary this test built
	cmd.Env = append(os.Environ(), "HOST=127.0.0.1", "PORT="+port, "GINKEY_DB="+db, "GINKEY_SECRET="+testSecret)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		t.Fatal(err)
	}
	e := &example{t: t, cmd: cmd, base: "http://127.0.0.1:" + port, log: log, exited: make(chan struct{})}
	go func() { e.waitErr = cmd.Wait(); close(e.exited) }()
	t.Cleanup(func() { e.kill() })

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get(e.base + "/public")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return e
			}
		}
		select {
		case <-e.exited:
			t.Fatalf("the example exited at start-up: %v; log %s", e.waitErr, logPath)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example did not answer within 20s: %v", err)
		}
	}
}

// kill sends SIGKILL and waits for the process to go.
func (e *example) kill() {
	select {
	case <-e.exited:
	default:
		_ = e.cmd.Process.Signal(syscall.SIGKILL)
		<-e.exited
	}
	_ = e.log.Close()
}

// stop sends SIGTERM and waits (at most 20 s) for a clean exit.
func (e *example) stop() {
	e.t.Helper()
	if err := e.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		e.t.Fatal(err)
	}
	select {
	case <-e.exited:
	case <-time.After(20 * time.Second):
		e.t.Fatal("the example did not stop within 20s of SIGTERM")
	}
	_ = e.log.Close()
	if e.waitErr != nil {
		e.t.Fatalf("the example did not exit cleanly on SIGTERM: %v", e.waitErr)
	}
}

// loadClient keeps enough idle connections for n concurrent clients.
func loadClient(n int) *http.Client {
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConns: 2 * n, MaxIdleConnsPerHost: n, IdleConnTimeout: 30 * time.Second},
	}
}

// call makes one request and returns the status and the body.
func call(c *http.Client, method, url, header, value, body string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if header != "" {
		req.Header.Set(header, value)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// errorCode is the code of a ginkey error body, or "".
func errorCode(body []byte) string {
	var e struct{ Error struct{ Code string } }
	_ = json.Unmarshal(body, &e)
	return e.Error.Code
}

// storedUsage reads every key's total_requests through GET /auth/usage.
func storedUsage(t *testing.T, c *http.Client, base string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for offset := 0; ; offset += 500 {
		status, body, err := call(c, http.MethodGet, fmt.Sprintf("%s/auth/usage?limit=500&offset=%d", base, offset), "X-Admin-Secret", testSecret, "")
		if err != nil || status != http.StatusOK {
			t.Fatalf("GET /auth/usage: %d %v %s", status, err, body)
		}
		var page struct {
			Usage []struct {
				ID            string `json:"id"`
				TotalRequests int64  `json:"total_requests"`
			} `json:"usage"`
			Total int `json:"total"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Usage {
			out[u.ID] = u.TotalRequests
		}
		if len(page.Usage) == 0 || offset+len(page.Usage) >= page.Total {
			return out
		}
	}
}

// integrityCheck runs PRAGMA integrity_check on a database no process has open.
func integrityCheck(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0] != "ok" {
		t.Fatalf("PRAGMA integrity_check on %s: %q", path, out)
	}
}

// logMentions reports the lines of a log file that contain any of words.
func logMentions(t *testing.T, path string, words ...string) []string {
	t.Helper()
	b, err := os.ReadFile(path) //nolint:gosec // a file in t.TempDir
	if err != nil {
		t.Fatal(err)
	}
	var hits []string
	for _, line := range bytes.Split(b, []byte("\n")) {
		for _, w := range words {
			if bytes.Contains(bytes.ToLower(line), []byte(strings.ToLower(w))) {
				hits = append(hits, string(line))
				break
			}
		}
	}
	return hits
}
