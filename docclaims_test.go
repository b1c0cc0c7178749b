package ginkey

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/ginkey/ginkey/internal/testkit"
)

// The tests below hold claims of the README and the guides to what the code
// does, each by reading the claim from the document and checking it against
// the running code, so that neither can change alone.

// docText returns a document's text.
func docText(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// TestTheReadmesCreatedKeySampleIsTheRealResponse: the JSON the README shows
// for `echo "$CREATED"` has the fields, and the JSON types, of what
// POST /keys answers today (it once lacked owner).
func TestTheReadmesCreatedKeySampleIsTheRealResponse(t *testing.T) {
	t.Parallel()
	var sample map[string]any
	found := false
	for _, f := range fences(t, "README.md") {
		if f.marker == "<!-- created-key-sample -->" {
			found = true
			if err := json.Unmarshal([]byte(f.text), &sample); err != nil {
				t.Fatalf("README.md:%d: the created-key sample is not JSON: %v", f.line, err)
			}
		}
	}
	if !found {
		t.Fatal("README.md has no fenced block after <!-- created-key-sample -->")
	}
	h := newHarness(t, nil)
	w := h.Admin(http.MethodPost, "/keys", `{"name":"my laptop"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("POST /auth/keys = %d %s", w.Code, w.Body)
	}
	var real map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &real); err != nil {
		t.Fatal(err)
	}
	for k, v := range real {
		s, ok := sample[k]
		switch {
		case !ok:
			t.Errorf("the README's sample lacks %q (the response has %s)", k, jsonKind(v))
		case jsonKind(s) != jsonKind(v):
			t.Errorf("the README's sample has %q as %s, the response as %s", k, jsonKind(s), jsonKind(v))
		}
	}
	for k := range sample {
		if _, ok := real[k]; !ok {
			t.Errorf("the README's sample has %q, which the response lacks", k)
		}
	}
}

// sqliteTables lists the tables of a SQLite file whose names start with prefix.
func sqliteTables(t *testing.T, path, prefix string) []string {
	t.Helper()
	db, err := gorm.Open(sqlite.Open(path), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := db.DB(); err == nil {
		defer func() { _ = sqlDB.Close() }()
	}
	var names []string
	if err := db.Raw(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if rest, ok := strings.CutPrefix(n, prefix); ok {
			out = append(out, rest)
		}
	}
	return out
}

// TestTheConfigurationGuideNamesEveryTable: the TablePrefix row of the
// configuration reference names every table New creates (it once named 4
// of 5). The tables are read from a real SQLite file New migrated, so a
// table added later fails this test until the row names it.
func TestTheConfigurationGuideNamesEveryTable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tables.db")
	g, err := New(Config{DBPath: path, AdminSecret: testSecret, TablePrefix: "docs_", LookupEnv: testkit.NoEnv, Logger: slogDiscard()})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	created := sqliteTables(t, path, "docs_")
	if len(created) < 5 {
		t.Fatalf("New created the tables %v; want at least keys, usage, flush_marks, outcomes and audit", created)
	}
	row := ""
	for _, line := range strings.Split(docText(t, "guides/configuration.md"), "\n") {
		if strings.HasPrefix(line, "| `TablePrefix` |") {
			row = line
		}
	}
	if row == "" {
		t.Fatal("guides/configuration.md has no `TablePrefix` row")
	}
	var named []string
	for _, m := range regexp.MustCompile("`<prefix>([a-z_]+)`").FindAllStringSubmatch(row, -1) {
		named = append(named, m[1])
	}
	slices.Sort(named)
	if !slices.Equal(named, created) {
		t.Errorf("guides/configuration.md's TablePrefix row names the tables %v; New creates %v", named, created)
	}
}

// patchBodyFields returns the JSON names of PATCH /keys/{id}'s body.
func patchBodyFields() []string {
	var out []string
	rt := reflect.TypeFor[patchKeyRequest]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); f.IsExported() && name != "" && name != "-" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// TestTheDocumentationListsEveryPatchField: both places that list the
// fields PATCH /keys/{id} takes name exactly the fields its body decodes
// (the scopes guide's once left out owner).
func TestTheDocumentationListsEveryPatchField(t *testing.T) {
	t.Parallel()
	want := patchBodyFields()
	if !slices.Contains(want, "owner") {
		t.Fatalf("PATCH's fields %v lack owner: the test reads the wrong type", want)
	}
	backticked := regexp.MustCompile("`([a-z_]+)`")
	quoted := regexp.MustCompile(`"([a-z_]+)"`)
	for _, c := range []struct {
		file, start, end string
		re               *regexp.Regexp
	}{
		{"guides/authorization.md", "The fields are ", "every one is optional", backticked},
		{"guides/http-api.md", "| `PATCH /keys/{id}` |", "| 200", quoted},
	} {
		text := docText(t, c.file)
		_, rest, ok := strings.Cut(text, c.start)
		claim, _, ok2 := strings.Cut(rest, c.end)
		if !ok || !ok2 {
			t.Errorf("%s: no list of PATCH's fields between %q and %q", c.file, c.start, c.end)
			continue
		}
		var got []string
		for _, m := range c.re.FindAllStringSubmatch(claim, -1) {
			got = append(got, m[1])
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s lists PATCH's fields as %v; the body takes %v", c.file, got, want)
		}
	}
}

// textLimitClaim matches what the documents say of the length of a key's
// name or owner: "`name` is at most 200 characters", "an `owner` (at most
// 200 characters)".
var textLimitClaim = regexp.MustCompile("`(name|owner)`[^.`]{0,20}at most (\\d+) (characters|bytes)")

// TestTheDocumentedNameAndOwnerLimitIsTheOneEnforced: every length the
// documents give for a name or an owner is the one the admin API enforces,
// in the unit they say: a name of 150 "é" (300 bytes) was refused while the
// README said 200 characters.
func TestTheDocumentedNameAndOwnerLimitIsTheOneEnforced(t *testing.T) {
	t.Parallel()
	claims := map[string]bool{}
	for _, doc := range userDocs(t) {
		for _, m := range textLimitClaim.FindAllStringSubmatch(docText(t, doc), -1) {
			claims[m[1]+" "+m[2]+" "+m[3]] = true
		}
	}
	for _, field := range []string{"name", "owner"} {
		if !claims[field+" 200 characters"] && !claims[field+" 200 bytes"] {
			t.Errorf("no document says how long a key's %s may be (claims found: %v)", field, claims)
		}
	}
	h := newHarness(t, nil)
	create := func(field, value string) (int, string) {
		body, err := json.Marshal(map[string]string{field: value})
		if err != nil {
			t.Fatal(err)
		}
		w := h.Admin(http.MethodPost, "/keys", string(body))
		return w.Code, w.Body.String()
	}
	for claim := range claims {
		parts := strings.Fields(claim)
		field, unit := parts[0], parts[2]
		n, err := strconv.Atoi(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		longest := n // in "é", two bytes each
		if unit == "bytes" {
			longest = n / 2
		}
		if code, body := create(field, strings.Repeat("é", longest)); code != http.StatusCreated {
			t.Errorf("the documents say a %s may be %d %s, but %d × \"é\" gets %d %s", field, n, unit, longest, code, body)
		}
		if code, body := create(field, strings.Repeat("é", longest+1)); code != http.StatusBadRequest || !strings.Contains(body, field) {
			t.Errorf("the documents say a %s may be at most %d %s, but %d × \"é\" gets %d %s", field, n, unit, longest+1, code, body)
		}
	}
	// The case the issue measured: 150 × "é" is 150 characters.
	for _, field := range []string{"name", "owner"} {
		if claims[field+" 200 characters"] {
			if code, body := create(field, strings.Repeat("é", 150)); code != http.StatusCreated {
				t.Errorf("a %s of 150 × \"é\" gets %d %s", field, code, body)
			}
		}
	}
}

// TestTheDocumentationSaysHowToSeeSkippedServiceTests: the documents do not
// claim that a plain go test shows the tests that skipped for want of a
// service (it shows them only with -v, which the development guide says,
// with the variable that makes each skip a failure). internal/testkit's
// TestAServiceSkipShowsWithVerboseAndFailsWhenRequired checks the behaviour.
func TestTheDocumentationSaysHowToSeeSkippedServiceTests(t *testing.T) {
	t.Parallel()
	loudly := regexp.MustCompile(`(?i)skips?\s*\(?loudly`)
	for _, doc := range userDocs(t) {
		if m := loudly.FindString(docText(t, doc)); m != "" {
			t.Errorf("%s says service tests %q: a plain go test prints no skip", doc, m)
		}
	}
	dev := docText(t, "guides/development.md")
	for _, want := range []string{"go test -v work 2>&1 | grep SKIPPING", "`GINKEY_REQUIRE_SERVICES=1`", "`GINKEY_TEST_POSTGRES`", "`GINKEY_TEST_MYSQL`", "`GINKEY_TEST_REDIS`"} {
		if !strings.Contains(dev, want) {
			t.Errorf("guides/development.md does not say %s", want)
		}
	}
}
