package ginkey

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit/swaggercheck"
)

// userMain is a user's main.go: the general info the OpenAPI guide tells users to
// paste, the admin API at /admin (not the annotated /auth) and one route
// protected by either key scheme.
const userMain = `// Command shop is a user's API.
package main

import (
	"log"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey"

	"example.com/shop/docs"
)

// General info of the API document:
//
//	@title						Shop API
//	@version					1.0
//	@BasePath					/
//
//	@securityDefinitions.apikey	APIKeyHeader
//	@in							header
//	@name						X-API-Key
//
//	@securityDefinitions.apikey	APIKeyQuery
//	@in							query
//	@name						api_key
//
//	@securityDefinitions.apikey	AdminSecret
//	@in							header
//	@name						X-Admin-Secret

func main() {
	guard, err := ginkey.New(ginkey.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer guard.Close()
	r := gin.New()
	guard.RegisterAdmin(r.Group("/admin"))
	r.GET("/orders", guard.Handler(), orders)
	r.GET("/openapi.json", guard.Docs(docs.SwaggerInfo, nil))
	_ = r.Run()
}

// Order is one order.
type Order struct {
	ID string ` + "`json:\"id\"`" + `
}

// orders lists orders.
//
//	@Summary	List orders
//	@Produce	json
//	@Success	200	{array}		Order
//	@Failure	401	{object}	ginkey.ErrorBody
//	@Security	APIKeyHeader
//	@Security	APIKeyQuery
//	@Router		/orders [get]
func orders(c *gin.Context) { c.JSON(http.StatusOK, []Order{}) }
`

// swagCLI finds the swag command as .ci/run installs it: on PATH or in
// $(go env GOPATH)/bin. Without it the test skips, unless
// GINKEY_REQUIRE_TOOLS=1 (set by .ci/run) makes that a failure.
func swagCLI(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("swag"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "swag")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	const install = "go install github.com/swaggo/swag/cmd/swag@v1.16.6"
	if os.Getenv("GINKEY_REQUIRE_TOOLS") == "1" {
		t.Fatal("the swag CLI is not installed but GINKEY_REQUIRE_TOOLS=1; " + install)
	}
	t.Skip("SKIPPING the swag CLI test: swag is neither on PATH nor in $(go env GOPATH)/bin; " + install)
	return ""
}

// TestSwagInitInAUsersModuleDocumentsGinkey does what a user does: a module
// of its own that requires ginkey (here through a replace directive to this
// repository), the README's general info pasted into main.go, and the
// README's swag command. The generated document must hold ginkey's admin
// operations, their schemas and the three security schemes; served through
// guard.Docs, the operations must move to where the user mounted them.
func TestSwagInitInAUsersModuleDocumentsGinkey(t *testing.T) {
	swag := swagCLI(t)
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	goMod := "module example.com/shop\n\ngo 1.26.8\n\n" +
		"require github.com/ginkey/ginkey v0.0.0\n\n" +
		"replace github.com/ginkey/ginkey => " + root + "\n"
	goSum, err := os.ReadFile("go.sum") // every checksum ginkey's build needs
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"go.mod": []byte(goMod), "go.sum": goSum, "main.go": []byte(userMain)} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := func(name string, args ...string) string {
		t.Helper()
		start := time.Now()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		// -mod=mod lets go fill in the user's go.mod from ginkey's
		// requirements; the proxy settings and the module cache are inherited.
		cmd.Env = append(os.Environ(), "GOFLAGS="+os.Getenv("GOFLAGS")+" -mod=mod", "GOWORK=off")
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				stderr = ee.Stderr
			}
			t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr)
		}
		t.Logf("%s %s: %s", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
		return strings.TrimSpace(string(out))
	}
	// The order the OpenAPI guide gives: main.go imports the docs package
	// swag writes, so nothing that loads main's imports (go mod tidy, go
	// build, go list) works before swag init; go get of ginkey is all swag
	// needs.
	_ = run("go", "get", "github.com/ginkey/ginkey@v0.0.0")
	early := exec.CommandContext(ctx, "go", "build", "-o", os.DevNull, ".")
	early.Dir, early.Env = dir, append(os.Environ(), "GOWORK=off")
	if out, err := early.CombinedOutput(); err == nil || !strings.Contains(string(out), "example.com/shop/docs") {
		t.Errorf("go build before swag init: %v, want a failure naming the missing docs package (why the guide says swag init first):\n%s", err, out)
	}
	if v := run("go", "version", "-m", swag); !strings.Contains(v, "github.com/swaggo/swag\tv1.16.6") {
		if os.Getenv("GINKEY_REQUIRE_TOOLS") == "1" {
			t.Fatalf("swag is not v1.16.6, the version docs/ is generated with:\n%s", v)
		}
		t.Logf("swag is not v1.16.6, the version docs/ is generated with:\n%s", v)
	}
	// The README's command: swag init -g main.go --parseDependencyLevel 2
	// --packagePrefix github.com/ginkey/ginkey,$(go list -m)
	module := run("go", "list", "-m")
	run(swag, "init", "-g", "main.go", "--parseDependencyLevel", "2",
		"--packagePrefix", "github.com/ginkey/ginkey,"+module)

	// Now the module builds: swag's docs package exists.
	_ = run("go", "build", "-o", os.DevNull, ".")

	generated, err := os.ReadFile(filepath.Join(dir, "docs", "swagger.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := parseOpenAPI(t, generated)
	if got, want := d.ginkeyOps(), adminRoutes(t, "/auth"); !slices.Equal(got, want) {
		t.Errorf("ginkey operations in the user's document:\n  %v\nwant (as annotated, below /auth)\n  %v", got, want)
	}
	for _, def := range []string{"ginkey.CreateKeyRequest", "ginkey.CreatedKey", "ginkey.Key", "ginkey.KeyList", "ginkey.ErrorBody", "ginkey.ErrorDetail", "ginkey.UsageReport", "main.Order"} {
		if _, ok := d.Definitions[def]; !ok {
			t.Errorf("definition %s missing from the user's document", def)
		}
	}
	for _, m := range regexp.MustCompile(`"#/definitions/([^"]+)"`).FindAllSubmatch(generated, -1) {
		if _, ok := d.Definitions[string(m[1])]; !ok {
			t.Errorf("dangling reference to %s", m[1])
		}
	}
	// The user's own document holds the schemes the guide tells them to
	// paste; guard.Docs adds APIKeyBearer when it serves it (checked below).
	for name, want := range wantSchemes {
		if s := d.SecurityDefinitions[name]; name != "APIKeyBearer" && (s.Type != "apiKey" || s.In+" "+s.Name != want) {
			t.Errorf("securityDefinitions[%s] = %+v, want apiKey in %s", name, s, want)
		}
	}
	// Two @Security lines are either-or: two requirements of one scheme each.
	if got := d.Paths["/orders"]["get"].Security; len(got) != 2 || len(got[0]) != 1 || len(got[1]) != 1 ||
		got[0]["APIKeyHeader"] == nil || got[1]["APIKeyQuery"] == nil {
		t.Errorf("/orders security = %v, want [{APIKeyHeader} {APIKeyQuery}] (either)", got)
	}
	if err := swaggercheck.Validate(t, generated); err != nil {
		t.Errorf("the user's document is not valid Swagger 2.0: %v", err)
	}

	// At run time guard.Docs moves the operations below /admin.
	_, served := serveDoc(t, Config{}, "/admin", docString(generated))
	sd := parseOpenAPI(t, served)
	if got, want := sd.ginkeyOps(), adminRoutes(t, "/admin"); !slices.Equal(got, want) {
		t.Errorf("served ginkey operations:\n  %v\nwant\n  %v", got, want)
	}
	for name, want := range wantSchemes {
		if s := sd.SecurityDefinitions[name]; s.Type != "apiKey" || s.In+" "+s.Name != want {
			t.Errorf("served securityDefinitions[%s] = %+v, want apiKey in %s", name, s, want)
		}
	}
	if _, ok := sd.Paths["/orders"]; !ok {
		t.Error("the user's /orders operation is not served")
	}
	if err := swaggercheck.Validate(t, served); err != nil {
		t.Errorf("the served document is not valid Swagger 2.0: %v", err)
	}
}
