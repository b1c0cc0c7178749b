package ginkey

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readmeDocs returns the documents whose example keys must be real keys:
// the README, the guides and the changelog. readmeSources adds the Go files,
// scanned whole, doc comments and struct tags (swag's example: values)
// included; tests are left out, since they hold wrong keys on purpose.
func readmeDocs(t *testing.T) []string {
	t.Helper()
	return append(userDocs(t), "CHANGELOG.md")
}

var (
	// keyShaped is a key of any valid prefix with the exact body length.
	keyShaped = regexp.MustCompile(`\b([a-z][a-z0-9]{0,15})_([0-9A-Za-z]{49})\b`)
	// gkLike is anything that starts like a default key, however long, so
	// an example one character short or long is checked too.
	gkLike = regexp.MustCompile(`gk_[0-9A-Za-z]{20,}`)
)

// scannerMarker precedes the fenced block in the documentation (the
// security guide) that holds the regular expression secret scanners are
// told to use.
const scannerMarker = "<!-- scanner-regex -->"

func readmeSources(t *testing.T) []string {
	t.Helper()
	files := readmeDocs(t)
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
// scannerMarker in the README or a guide.
func scannerRegex(t *testing.T) string {
	t.Helper()
	for _, doc := range userDocs(t) {
		for _, f := range fences(t, doc) {
			if f.marker == scannerMarker {
				line, _, _ := strings.Cut(strings.TrimSpace(f.text), "\n")
				return line
			}
		}
	}
	t.Fatalf("neither the README nor a guide has a fenced block after the line %s", scannerMarker)
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
	for _, file := range readmeDocs(t) {
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
		{"the database URL in --db", append(userDocs(t), "cmd/ginkey/main.go", "example/main.go"),
			regexp.MustCompile(`ginkey\b[^\n]*--db[= ]+["']?(\$\{?GINKEY_DB|postgres)`)},
		{"persisted authorization", append(userDocs(t), "openapi.go", "doc.go", "example/main.go"),
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
	inDocs := 0
	for _, file := range append([]string{"doc.go", "example/main.go"}, readmeDocs(t)...) {
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
		if strings.HasSuffix(file, ".md") {
			inDocs += commands
		}
	}
	if inDocs < 3 {
		t.Errorf("the README and guides: found %d curl commands with a body; the test no longer reads them", inDocs)
	}
}

// readmeMaxBytes is the README's budget: the first screen and one short
// section per everyday task; the rest is in the guides.
const readmeMaxBytes = 20_000

func TestTheReadmeIsAtMost20KB(t *testing.T) {
	t.Parallel()
	fi, err := os.Stat("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > readmeMaxBytes {
		t.Errorf("README.md is %d bytes, over its budget of %d: move detail into a guide under guides/", fi.Size(), readmeMaxBytes)
	}
}

var (
	mdLink     = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)\)`)
	codeSpan   = regexp.MustCompile("`[^`]*`")
	mdHeading  = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	slugStrip  = regexp.MustCompile(`[^\p{L}\p{N}\s_-]`)
	fenceStart = regexp.MustCompile("^\\s*```")
)

// markdownLines returns the lines of a Markdown file outside fenced blocks,
// each with its 1-based number, so that a "# comment" in a shell block is
// neither a heading nor a link.
func markdownLines(t *testing.T, file string) map[int]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	inFence := false
	for i, line := range strings.Split(string(b), "\n") {
		if fenceStart.MatchString(line) {
			inFence = !inFence
			continue
		}
		if !inFence {
			out[i+1] = line
		}
	}
	return out
}

// anchors returns the anchors GitHub makes of a Markdown file's headings:
// lower case, punctuation dropped, spaces to hyphens, -1, -2... on repeats.
func anchors(t *testing.T, file string) map[string]bool {
	t.Helper()
	lines := markdownLines(t, file)
	nums := make([]int, 0, len(lines))
	for n := range lines {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	out, seen := map[string]bool{}, map[string]int{}
	for _, n := range nums {
		m := mdHeading.FindStringSubmatch(lines[n])
		if m == nil {
			continue
		}
		text := strings.NewReplacer("`", "", "*", "").Replace(m[1])
		slug := strings.ReplaceAll(slugStrip.ReplaceAllString(strings.ToLower(text), ""), " ", "-")
		if k := seen[slug]; k > 0 {
			out[fmt.Sprintf("%s-%d", slug, k)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

// TestTheDocumentationsLinksResolve: every relative link of the README and
// the guides names a file of the repository, and its #anchor a heading of
// that file, so moving a section cannot leave a link behind.
func TestTheDocumentationsLinksResolve(t *testing.T) {
	t.Parallel()
	links := 0
	for _, doc := range userDocs(t) {
		for n, line := range markdownLines(t, doc) {
			for _, m := range mdLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, "code"), -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				links++
				path, anchor, _ := strings.Cut(target, "#")
				file := doc
				if path != "" {
					file = filepath.Join(filepath.Dir(doc), filepath.FromSlash(path))
					if _, err := os.Stat(file); err != nil {
						t.Errorf("%s:%d: link %q: no file %s", doc, n, target, file)
						continue
					}
				}
				if anchor != "" && !anchors(t, file)[anchor] {
					t.Errorf("%s:%d: link %q: %s has no heading with the anchor #%s", doc, n, target, file, anchor)
				}
			}
		}
	}
	if links < 20 {
		t.Errorf("found %d relative links in the README and guides; the test no longer reads them", links)
	}
}
