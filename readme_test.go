package ginkey

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The documents whose example keys must be real keys. The Go files are
// scanned whole, doc comments and struct tags (swag's example: values)
// included; tests are left out, since they hold wrong keys on purpose.
var readmeDocs = []string{"README.md", "PERFORMANCE.md", "CHANGELOG.md"}

var (
	// keyShaped is a key of any valid prefix with the exact body length.
	keyShaped = regexp.MustCompile(`\b([a-z][a-z0-9]{0,15})_([0-9A-Za-z]{49})\b`)
	// gkLike is anything that starts like a default key, however long, so
	// an example one character short or long is checked too.
	gkLike = regexp.MustCompile(`gk_[0-9A-Za-z]{20,}`)
)

// scannerMarker precedes the fenced block in README.md that holds the
// regular expression secret scanners are told to use.
const scannerMarker = "<!-- scanner-regex -->"

func readmeSources(t *testing.T) []string {
	t.Helper()
	files := append([]string{}, readmeDocs...)
	goFiles, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range goFiles {
		if !strings.HasSuffix(f, "_test.go") {
			files = append(files, f)
		}
	}
	return append(files, filepath.Join("example", "main.go"))
}

// exampleKeys returns every key-shaped string of the file, deduplicated.
func exampleKeys(text string) []string {
	seen := map[string]bool{}
	var out []string
	for _, re := range []*regexp.Regexp{keyShaped, gkLike} {
		for _, k := range re.FindAllString(text, -1) {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

func validExampleKey(k string) bool {
	prefix, _, ok := strings.Cut(k, "_")
	if !ok {
		return false
	}
	f, err := newKeyFormat(prefix)
	return err == nil && f.valid(k)
}

func TestReadmeExampleKeysPassTheChecksum(t *testing.T) {
	t.Parallel()
	inReadme := 0
	for _, file := range readmeSources(t) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range exampleKeys(string(b)) {
			if !validExampleKey(k) {
				t.Errorf("%s: example key %q (%d characters) is not a valid key: wrong length or checksum", file, k, len(k))
			}
			if file == "README.md" {
				inReadme++
			}
		}
	}
	if inReadme == 0 {
		t.Error("README.md shows no example key")
	}
}

// scannerRegex returns the first line of the fenced block after
// scannerMarker in README.md.
func scannerRegex(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	marked, fenced := false, false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case !marked:
			marked = line == scannerMarker
		case !fenced:
			fenced = strings.HasPrefix(line, "```")
		case line != "":
			return line
		}
	}
	t.Fatalf("README.md has no fenced block after the line %s", scannerMarker)
	return ""
}

func TestReadmeScannerRegexMatchesRealKeys(t *testing.T) {
	t.Parallel()
	expr := scannerRegex(t)
	re, err := regexp.Compile(expr)
	if err != nil {
		t.Fatalf("the README's scanner regex %q does not compile: %v", expr, err)
	}
	f, err := newKeyFormat("gk")
	if err != nil {
		t.Fatal(err)
	}
	fresh, _, err := f.generate()
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{fresh}
	for _, file := range readmeDocs {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range exampleKeys(string(b)) {
			if strings.HasPrefix(k, "gk_") && f.valid(k) {
				keys = append(keys, k)
			}
		}
	}
	for _, k := range keys {
		for _, in := range []string{k, "X-API-Key: " + k, `"key":"` + k + `"`} {
			if got := re.FindString(in); got != k {
				t.Errorf("scanner regex %q finds %q in %q, want the key %q", expr, got, in, k)
			}
		}
		// A string one character too long is not a key; a regex that
		// matches part of it would have passed the old, wrong example.
		if got := re.FindString(k + "A"); got != "" {
			t.Errorf("scanner regex %q matches %q inside the 53-character %q", expr, got, k+"A")
		}
	}
}

// TestTheDocumentationKeepsSecretsOutOfPsAndLocalStorage: no snippet puts
// the database URL, password included, on a command line, where ps shows it
// to every user, nor turns on Swagger UI's persisted authorization, which
// keeps the admin secret in the browser's localStorage.
func TestTheDocumentationKeepsSecretsOutOfPsAndLocalStorage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		what    string
		files   []string
		snippet *regexp.Regexp
	}{
		{"the database URL in --db", []string{"README.md", "cmd/ginkey/main.go", "example/main.go"},
			regexp.MustCompile(`ginkey\b[^\n]*--db[= ]+["']?(\$\{?GINKEY_DB|postgres)`)},
		{"persisted authorization", []string{"README.md", "openapi.go", "doc.go", "example/main.go"},
			regexp.MustCompile(`,\s*ginSwagger\.PersistAuthorization\(true\)`)},
	} {
		for _, file := range tc.files {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if m := tc.snippet.Find(b); m != nil {
				t.Errorf("%s shows %s: %s", file, tc.what, m)
			}
		}
	}
}

// TestTheDocumentationsCurlSendsBodiesAsJSON: every curl command of the
// documentation that sends a body says it is JSON, as the admin API requires
// (curl -d alone sends a form's type, which gets 415).
func TestTheDocumentationsCurlSendsBodiesAsJSON(t *testing.T) {
	t.Parallel()
	sendsBody := regexp.MustCompile(`\s(-d|--data(-raw|-binary)?|--json)\s`)
	for _, file := range append([]string{"doc.go", "example/main.go"}, readmeDocs...) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		commands := 0
		// A command continues over lines that end in a backslash.
		for _, line := range strings.Split(strings.ReplaceAll(string(b), "\\\n", " "), "\n") {
			_, cmd, ok := strings.Cut(line, "curl ")
			if !ok || !sendsBody.MatchString(cmd) {
				continue
			}
			commands++
			if !strings.Contains(cmd, "--json ") && !strings.Contains(cmd, "Content-Type: application/json") {
				t.Errorf("%s: curl sends a body without Content-Type: application/json: curl %s", file, cmd)
			}
		}
		if file == "README.md" && commands < 3 {
			t.Errorf("README.md: found %d curl commands with a body; the test no longer reads them", commands)
		}
	}
}
