// Command vulndb builds a Go vulnerability database in the v1 layout that
// govulncheck reads with -db file:///dir, from a folder of OSV entries such
// as data/osv of the golang.org/x/vulndb module (which the Go module proxy
// serves like any module):
//
//	dir/index/db.json       {"modified": ...}
//	dir/index/modules.json  [{"path": ..., "vulns": [{"id": ..., "modified": ...}]}]
//	dir/ID/<GO-ID>.json     each OSV entry, unchanged
//
// The modules index leaves out each vulnerability's "fixed" version. It is
// only a shortcut that lets govulncheck skip entries fixed before the
// version in use; without it govulncheck reads every entry of the module
// and decides from the entry's own ranges, so no finding can be lost.
//
// Usage: go run .ci/vulndb/main.go -osv DIR -out DIR [-modified RFC3339]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Affected []struct {
		Package struct {
			Name      string `json:"name"`
			Ecosystem string `json:"ecosystem"`
		} `json:"package"`
	} `json:"affected"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
}

type module struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

var goID = regexp.MustCompile(`^GO-[0-9]{4}-[0-9]{4,}$`)

func main() {
	osvDir := flag.String("osv", "", "folder of OSV JSON entries, e.g. the vulndb module's data/osv")
	outDir := flag.String("out", "", "folder to write the database to (created if absent; start from an empty one)")
	modified := flag.String("modified", "", "the database's modified time (RFC 3339); default: the newest entry's")
	flag.Parse()
	if *osvDir == "" || *outDir == "" {
		flag.Usage()
		os.Exit(2)
	}
	n, err := build(*osvDir, *outDir, *modified)
	if err != nil {
		log.Fatalf("vulndb: %v", err)
	}
	fmt.Printf("vulndb: %d entries from %s written to %s\n", n, *osvDir, *outDir)
}

func build(osvDir, outDir, modified string) (int, error) {
	files, err := filepath.Glob(filepath.Join(osvDir, "*.json"))
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("no OSV entries in %s", osvDir)
	}
	if err := os.MkdirAll(filepath.Join(outDir, "ID"), 0o750); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Join(outDir, "index"), 0o750); err != nil {
		return 0, err
	}

	modules := map[string]*module{}
	var newest time.Time
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return 0, err
		}
		var e entry
		if err := json.Unmarshal(raw, &e); err != nil {
			return 0, fmt.Errorf("%s: %w", f, err)
		}
		if !goID.MatchString(e.ID) || e.ID+".json" != filepath.Base(f) {
			return 0, fmt.Errorf("%s: id %q does not match the file name", f, e.ID)
		}
		if len(e.Affected) == 0 {
			return 0, fmt.Errorf("%s: no affected packages", f)
		}
		if e.Modified.After(newest) {
			newest = e.Modified
		}
		seen := map[string]bool{} // an entry may list one module in several ranges
		for _, a := range e.Affected {
			path := a.Package.Name
			if path == "" || a.Package.Ecosystem != "Go" {
				return 0, fmt.Errorf("%s: affected package %q in ecosystem %q", f, path, a.Package.Ecosystem)
			}
			if seen[path] {
				continue
			}
			seen[path] = true
			m := modules[path]
			if m == nil {
				m = &module{Path: path}
				modules[path] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified})
		}
		if err := os.WriteFile(filepath.Join(outDir, "ID", e.ID+".json"), raw, 0o600); err != nil {
			return 0, err
		}
	}

	if modified != "" {
		if newest, err = time.Parse(time.RFC3339, modified); err != nil {
			return 0, fmt.Errorf("-modified: %w", err)
		}
	}
	index := make([]*module, 0, len(modules))
	for _, m := range modules {
		sort.Slice(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		index = append(index, m)
	}
	sort.Slice(index, func(i, j int) bool { return index[i].Path < index[j].Path })
	if err := writeJSON(filepath.Join(outDir, "index", "modules.json"), index); err != nil {
		return 0, err
	}
	if err := writeJSON(filepath.Join(outDir, "index", "db.json"), map[string]time.Time{"modified": newest.UTC()}); err != nil {
		return 0, err
	}
	return len(files), nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
