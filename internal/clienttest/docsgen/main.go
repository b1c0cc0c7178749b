// Command docsgen writes the two documents the clients in this module are
// generated from, exactly as the example serves them: it builds the example
// (../../example), runs it on 127.0.0.1 with a throwaway SQLite file and
// admin secret and none of the developer's GINKEY_ variables, and saves
// /docs/doc.json (Swagger 2.0) as swagger.json and /docs/openapi3.json
// (OpenAPI 3.0) as openapi3.json, indented so that a change reads as a diff.
//
//	go run ./docsgen -o .    (from internal/clienttest)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// throwawaySecret makes the example document the AdminSecret scheme, as
// GINKEY_SECRET does in production; no request ever carries it.
const throwawaySecret = "docsgen-only-secret-0123456789abcdef" //nolint:gosec // see above

func main() {
	out := flag.String("o", ".", "directory to write swagger.json and openapi3.json into")
	example := flag.String("example", filepath.Join("..", "..", "example"), "the example's directory")
	flag.Parse()
	if err := run(*example, *out); err != nil {
		fmt.Fprintln(os.Stderr, "docsgen:", err)
		os.Exit(1)
	}
}

func run(exampleDir, out string) error {
	dir, err := os.MkdirTemp("", "docsgen-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	bin := filepath.Join(dir, "example")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".") //nolint:gosec // go build into this run's temp dir
	build.Dir = exampleDir
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build the example: %w\n%s", err, b)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin) //nolint:gosec // the binary built above
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GINKEY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOST=127.0.0.1", "PORT="+port, "GINKEY_DB="+filepath.Join(dir, "keys.db"), "GINKEY_SECRET="+throwawaySecret)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	base := "http://127.0.0.1:" + port
	if err := waitFor(ctx, base+"/public"); err != nil {
		return fmt.Errorf("%w; the example's output:\n%s", err, log.String())
	}
	for file, path := range map[string]string{"swagger.json": "/docs/doc.json", "openapi3.json": "/docs/openapi3.json"} {
		body, err := get(ctx, base+path)
		if err != nil {
			return err
		}
		var doc bytes.Buffer
		if err := json.Indent(&doc, body, "", "  "); err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		doc.WriteByte('\n')
		if err := os.WriteFile(filepath.Join(out, file), doc.Bytes(), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port), nil
}

// waitFor polls url until it answers 200, for at most 30 s.
func waitFor(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := get(ctx, url)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the example did not answer within 30s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New("GET " + url + ": " + resp.Status)
	}
	return body, nil
}
