// Command docsgen writes the two documents the clients in this module are
// generated from, as the example serves them: the Swagger 2.0 document
// (/docs/doc.json) and the OpenAPI 3.0 document (/docs/openapi3.json) that
// guard.Docs makes of the example's swag output with the admin API mounted
// at /auth. The example's own settings are its defaults, so a guard with
// defaults (and no environment) serves the same documents; the tests check
// that against the running example.
//
//	go run ./docsgen -o .
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/docs"
)

// throwawaySecret makes the guard document the AdminSecret scheme, as the
// example's GINKEY_SECRET does; no request ever carries it.
const throwawaySecret = "docsgen-only-secret-0123456789abcdef" //nolint:gosec // see above

func main() {
	out := flag.String("o", ".", "directory to write swagger.json and openapi3.json into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "docsgen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	dir, err := os.MkdirTemp("", "docsgen-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	guard, err := ginkey.New(ginkey.Config{
		DBPath:      filepath.Join(dir, "keys.db"),
		AdminSecret: throwawaySecret,
		LookupEnv:   func(string) (string, bool) { return "", false },
	})
	if err != nil {
		return err
	}
	defer func() { _ = guard.Close() }()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	guard.RegisterAdmin(r.Group("/auth"))
	r.GET("/docs/*any", guard.Docs(docs.SwaggerInfo, nil))
	for file, path := range map[string]string{"swagger.json": "/docs/doc.json", "openapi3.json": "/docs/openapi3.json"} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			return fmt.Errorf("GET %s: %d", path, w.Code)
		}
		// Indented, so that a change to the document reads as a diff.
		var doc bytes.Buffer
		if err := json.Indent(&doc, w.Body.Bytes(), "", "  "); err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		doc.WriteByte('\n')
		if err := os.WriteFile(filepath.Join(out, file), doc.Bytes(), 0o600); err != nil {
			return err
		}
	}
	return errors.Join(guard.Close())
}
