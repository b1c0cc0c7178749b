package ginkey

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// userDocs lists the documents a user reads: the README and every guide.
func userDocs(t *testing.T) []string {
	t.Helper()
	guides, err := filepath.Glob(filepath.Join("guides", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(guides) == 0 {
		t.Fatal("no guides/*.md: the test no longer finds the guides")
	}
	return append([]string{"README.md"}, guides...)
}

// fence is one fenced code block of a Markdown file.
type fence struct {
	file string
	line int    // of the opening fence, 1-based
	lang string // the word after the backticks
	text string // indentation of the fence removed
	// marker is the HTML comment on the line before the fence, if any
	// (<!-- created-key-sample -->), which tests use to find a block.
	marker string
}

var fenceOpen = regexp.MustCompile("^( *)```([a-z]*)\\s*$")

// fences returns the fenced blocks of a Markdown file.
func fences(t *testing.T, file string) []fence {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []fence
	var cur *fence
	indent, prev := "", ""
	for i, line := range strings.Split(string(b), "\n") {
		if cur != nil {
			if strings.TrimSpace(line) == "```" {
				out = append(out, *cur)
				cur = nil
				continue
			}
			cur.text += strings.TrimPrefix(line, indent) + "\n"
			continue
		}
		if m := fenceOpen.FindStringSubmatch(line); m != nil {
			indent = m[1]
			cur = &fence{file: file, line: i + 1, lang: m[2]}
			if p := strings.TrimSpace(prev); strings.HasPrefix(p, "<!--") {
				cur.marker = p
			}
		}
		prev = line
	}
	if cur != nil {
		t.Fatalf("%s:%d: a fenced block is never closed", file, cur.line)
	}
	return out
}

// snippetImports are the packages a Go block may use without importing
// them: a block that names pkg.X gets pkg's import.
var snippetImports = map[string]string{
	"ginkey": "github.com/ginkey/ginkey", "gin": "github.com/gin-gonic/gin",
	"context": "context", "errors": "errors", "fmt": "fmt", "http": "net/http", "io": "io",
	"log": "log", "slog": "log/slog", "os": "os", "strings": "strings", "time": "time",
	"gorm": "gorm.io/gorm", "observe": "github.com/ginkey/ginkey/observe",
	"limiter": "github.com/ginkey/ginkey/limiter", "keystore": "github.com/ginkey/ginkey/keystore",
	"ginkeyprom": "github.com/ginkey/ginkey/ginkeyprom", "ginkeyotel": "github.com/ginkey/ginkey/ginkeyotel",
	"ginkeyredis": "github.com/ginkey/ginkey/ginkeyredis", "redis": "github.com/redis/go-redis/v9",
	"prometheus": "github.com/prometheus/client_golang/prometheus",
	"promhttp":   "github.com/prometheus/client_golang/prometheus/promhttp",
	"swag":       "github.com/swaggo/swag", "swaggerFiles": "github.com/swaggo/files",
	"ginSwagger": "github.com/swaggo/gin-swagger", "trace": "go.opentelemetry.io/otel/trace",
	"docs": "github.com/ginkey/ginkey/docs",
}

// snippetGivens are what the documentation's fragments take as given (a
// guard, a router, a handler of the user's), declared beside them unless
// the block declares the name itself.
var snippetGivens = map[string]string{
	"guard": "guard *ginkey.Guard", "r": "r *gin.Engine", "ctx": "ctx context.Context",
	"id": "id string", "scopes": "scopes []string", "db": "db *gorm.DB",
	"listItems": "listItems gin.HandlerFunc", "createItem": "createItem gin.HandlerFunc",
	"rep": "rep gin.HandlerFunc", "deploy": "deploy gin.HandlerFunc",
	"myJWTCheck":     "myJWTCheck ginkey.Authenticator",
	"verifyJWT":      "verifyJWT func(string) (struct{ Subject string }, error)",
	"tracerProvider": "tracerProvider trace.TracerProvider", "metrics": "metrics observe.Observer",
	"logger": "logger *slog.Logger", "Order": "Order struct{ ID string }",
}

// snippetPaths stands in for the import paths of the user's own module.
var snippetPaths = map[string]string{"example.com/myapi/docs": "github.com/ginkey/ginkey/docs"}

// goSnippet turns a Go block into a compilable file of package name: a
// block that is a file is kept; one that starts with imports keeps them;
// statements go into a function; the imports and givens it uses are added.
func goSnippet(name, block string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(block), "package ") {
		return block, nil
	}
	fset := token.NewFileSet()
	head := "package " + name + "\n"
	body := block
	own := map[string]bool{}
	f, err := parser.ParseFile(fset, "", head+block, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		return "", err
	}
	var imports string
	if len(f.Imports) > 0 {
		end := fset.Position(f.Decls[len(f.Decls)-1].End()).Offset - len(head)
		imports, body = block[:end], block[end:]
		for _, spec := range f.Imports {
			path := strings.Trim(spec.Path.Value, `"`)
			local := filepath.Base(path)
			if spec.Name != nil {
				local = spec.Name.Name
			}
			own[local] = true
			if sub, ok := snippetPaths[path]; ok {
				imports = strings.ReplaceAll(imports, `"`+path+`"`, `"`+sub+`"`)
			}
		}
	}
	topLevel := map[string]bool{}
	if full, err := parser.ParseFile(fset, "", head+body, parser.SkipObjectResolution); err == nil {
		for _, d := range full.Decls {
			for _, n := range declNames(d) {
				topLevel[n] = true
			}
		}
	} else {
		body = "func _() {\n" + body + "}\n"
		if _, err := parser.ParseFile(fset, "", head+body, parser.SkipObjectResolution); err != nil {
			return "", fmt.Errorf("neither a file nor statements: %w", err)
		}
	}
	idents, selectors := goIdents(body)
	used := func(name string) bool { return idents[name] }
	var givens []string
	for n, decl := range snippetGivens {
		if !topLevel[n] && used(n) {
			givens = append(givens, decl)
		}
	}
	slices.Sort(givens)
	needed := map[string]bool{}
	_, givenSelectors := goIdents("var (\n" + strings.Join(givens, "\n") + "\n)")
	for n := range snippetImports {
		if (selectors[n] || givenSelectors[n]) && !own[n] && !topLevel[n] {
			needed[n] = true
		}
	}
	var b strings.Builder
	b.WriteString(head)
	for n := range needed {
		fmt.Fprintf(&b, "import %s %q\n", n, snippetImports[n])
	}
	b.WriteString(imports)
	b.WriteString("\n")
	for _, g := range givens {
		name, typ, _ := strings.Cut(g, " ")
		if name == "Order" {
			fmt.Fprintf(&b, "type %s %s\n", name, typ)
			continue
		}
		fmt.Fprintf(&b, "var %s %s\n", name, typ)
	}
	b.WriteString(body)
	return b.String(), nil
}

// TestTheDocumentationsGoBlocksCompile: every Go block of the README and
// the guides compiles, as a file of its own, against this repository's
// modules (the example's, which requires the integrations). Fragments get
// the imports and the givens (guard, r, ctx...) they use; a variable the
// fragment declares and never uses is allowed, since it shows a result.
func TestTheDocumentationsGoBlocksCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING the documentation's Go blocks: go build is not -short")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	overlay := map[string]string{}
	where := map[string]string{} // snippet file -> doc:line
	var pkgs []string
	for _, doc := range userDocs(t) {
		for _, f := range fences(t, doc) {
			if f.lang != "go" {
				continue
			}
			name := fmt.Sprintf("b%03d", len(pkgs))
			src, err := goSnippet(name, f.text)
			if err != nil {
				t.Errorf("%s:%d: the Go block does not parse: %v", f.file, f.line, err)
				continue
			}
			file := filepath.Join(tmp, name+".go")
			if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("example", "internal", "docsnippets", name)
			overlay[filepath.Join(root, dir, "snippet.go")] = file
			where[file] = fmt.Sprintf("%s:%d", f.file, f.line)
			pkgs = append(pkgs, "./"+filepath.ToSlash(dir))
		}
	}
	if len(pkgs) < 10 {
		t.Fatalf("found %d Go blocks; the test no longer reads the documents", len(pkgs))
	}
	o, err := json.Marshal(map[string]any{"Replace": overlay})
	if err != nil {
		t.Fatal(err)
	}
	ovl := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ovl, o, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := append([]string{"build", "-overlay", ovl, "-gcflags=-e", "-o", os.DevNull}, pkgs...)
	out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
	if err == nil {
		return
	}
	errLine := regexp.MustCompile(`^(\S+\.go):(\d+):\d+: (.*)$`)
	reported := 0
	for _, line := range strings.Split(string(out), "\n") {
		m := errLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil || strings.Contains(m[3], "declared and not used") {
			continue
		}
		reported++
		src, _ := os.ReadFile(m[1])
		t.Errorf("%s: %s (line %s of the compiled snippet:\n%s)", where[m[1]], m[3], m[2], src)
	}
	if reported == 0 && !onlyUnusedErrors(string(out)) {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

// onlyUnusedErrors reports whether go build failed for nothing but
// variables a fragment shows and does not use.
func onlyUnusedErrors(out string) bool {
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "go: downloading ") ||
			strings.Contains(line, "declared and not used") {
			continue
		}
		return false
	}
	return true
}

// declNames returns the names a top-level declaration declares.
func declNames(d ast.Decl) []string {
	var out []string
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil {
			out = append(out, d.Name.Name)
		}
	case *ast.GenDecl:
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				out = append(out, s.Name.Name)
			case *ast.ValueSpec:
				for _, n := range s.Names {
					out = append(out, n.Name)
				}
			}
		}
	}
	return out
}

// goIdents returns the identifiers of Go source, comments left out, and
// those of them followed by a dot (a package's name, or a variable's).
func goIdents(src string) (idents, selectors map[string]bool) {
	idents, selectors = map[string]bool{}, map[string]bool{}
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", -1, len(src)), []byte(src), nil, 0)
	prev := ""
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			return idents, selectors
		}
		if tok == token.PERIOD && prev != "" {
			selectors[prev] = true
		}
		prev = ""
		if tok == token.IDENT {
			idents[lit] = true
			prev = lit
		}
	}
}
