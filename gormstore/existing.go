package gormstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNoDatabase is wrapped by OpenExisting's error for a SQLite file that
// does not exist: a mistyped path would otherwise become an empty database.
var ErrNoDatabase = errors.New("ginkey: no database")

// MissingTablesError is OpenExisting's error for a database that lacks the
// tables of the prefix it was given, typically because the server names its
// tables with another Config.TablePrefix.
type MissingTablesError struct {
	Prefix   string   // the prefix looked for, e.g. "ginkey_"
	Database string   // the database, as DSN.String shows it (no password)
	Missing  []string // the tables not found
	// Others are the prefixes of the complete sets of ginkey tables the
	// database holds, sorted; nil if none.
	Others []string
}

func (e *MissingTablesError) Error() string {
	var b strings.Builder
	if len(e.Missing) == len(tableSuffixes) {
		fmt.Fprintf(&b, "ginkey: %s has no ginkey tables named with the prefix %q (no %s)", e.Database, e.Prefix, e.Prefix+"keys")
	} else {
		fmt.Fprintf(&b, "ginkey: %s lacks the ginkey tables %s: they were made by an older ginkey, which the server brings up to date when it starts",
			e.Database, strings.Join(e.Missing, ", "))
	}
	switch len(e.Others) {
	case 0:
	case 1:
		fmt.Fprintf(&b, "; it holds ginkey tables with the prefix %q", e.Others[0])
	default:
		fmt.Fprintf(&b, "; it holds ginkey tables with the prefixes %q", e.Others)
	}
	return b.String()
}

// tableSuffixes are the names of the store's tables after the prefix; each
// set of them is one store's.
var tableSuffixes = [...]string{"keys", "usage", "flush_marks", "outcomes", "audit"}

// requireTables fails unless every table of the store exists and has a shape
// the store can work with, creating and altering nothing.
func (s *Store) requireTables(ctx context.Context, d DSN) error {
	db := s.db.WithContext(ctx)
	tables, err := db.Migrator().GetTables()
	if err != nil {
		return fmt.Errorf("ginkey: %s: listing its tables: %w", d, err)
	}
	var missing []string
	for _, suffix := range tableSuffixes {
		if !slices.Contains(tables, s.prefix+suffix) {
			missing = append(missing, s.prefix+suffix)
		}
	}
	if len(missing) > 0 {
		return &MissingTablesError{Prefix: s.prefix, Database: d.String(), Missing: missing, Others: otherPrefixes(tables, s.prefix)}
	}
	return s.checkSchema(db)
}

// otherPrefixes are the prefixes other than prefix of the complete sets of
// ginkey's tables among tables.
func otherPrefixes(tables []string, prefix string) []string {
	var found []string
	for _, t := range tables {
		p, ok := strings.CutSuffix(t, "flush_marks")
		if !ok || p == prefix || checkPrefix(p) != nil {
			continue
		}
		complete := true
		for _, suffix := range tableSuffixes {
			complete = complete && slices.Contains(tables, p+suffix)
		}
		if complete {
			found = append(found, p)
		}
	}
	slices.Sort(found)
	return found
}
