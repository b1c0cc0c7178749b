// Package envconfig resolves the settings ginkey's environment variables may
// give: the one place both ginkey.New and the ginkey command learn them, so
// that the command opens the database and the tables the server opens, makes
// keys the server accepts and gives them the server's lifetime.
//
// Each variable fills only what the code left unset, and a default fills
// what neither set:
//
//	Settings field  variable                default
//	AdminSecret     GINKEY_SECRET           none
//	DBPath          GINKEY_DB               gormstore.DefaultDBPath ("ginkey.db")
//	TablePrefix     GINKEY_TABLE_PREFIX     gormstore.DefaultTablePrefix ("ginkey_")
//	KeyPrefix       GINKEY_KEY_PREFIX       none: ginkey's own, "gk"
//	TTL             GINKEY_TTL              15d (360h); "never" is negative
//	AuditRetention  GINKEY_AUDIT_RETENTION  90d (2160h); "never" is negative
//	HideDocs        GINKEY_HIDE_DOCS        false; "1" or "true" is true
package envconfig

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ginkey/ginkey/gormstore"
)

// Defaults of the settings neither the code nor the environment set; the
// database's is gormstore.DefaultDBPath.
const (
	DefaultTTL            = 15 * 24 * time.Hour
	DefaultAuditRetention = 90 * 24 * time.Hour
)

// Never is what "never" resolves to for TTL and AuditRetention: a negative
// duration, which ginkey reads as no expiry and no pruning.
const Never time.Duration = -1

// Settings are the fields of ginkey.Config the environment may fill, named
// as there. A zero field is unset.
type Settings struct {
	AdminSecret    string
	DBPath         string
	TablePrefix    string
	KeyPrefix      string
	TTL            time.Duration
	AuditRetention time.Duration
	HideDocs       bool
}

// Resolve returns s with each unset field taken from the environment, as
// lookup reads it (os.LookupEnv if nil), else given its default. A set but
// empty variable counts as unset. The error names the variable and its
// value for a TTL or retention that is neither a positive duration (see
// ParseDuration: 15d, 36h) nor "never"; no other value, the secret and the
// database URL least of all, reaches an error.
func Resolve(s Settings, lookup func(string) (string, bool)) (Settings, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	get := func(name string) string {
		if v, ok := lookup(name); ok {
			return v
		}
		return ""
	}
	if s.AdminSecret == "" {
		s.AdminSecret = get("GINKEY_SECRET")
	}
	if s.DBPath == "" {
		s.DBPath = get("GINKEY_DB")
	}
	if s.DBPath == "" {
		s.DBPath = gormstore.DefaultDBPath
	}
	if s.TablePrefix == "" {
		s.TablePrefix = get("GINKEY_TABLE_PREFIX")
	}
	if s.TablePrefix == "" {
		s.TablePrefix = gormstore.DefaultTablePrefix
	}
	if s.KeyPrefix == "" {
		s.KeyPrefix = get("GINKEY_KEY_PREFIX")
	}
	var err error
	if s.TTL, err = duration(s.TTL, "GINKEY_TTL", get("GINKEY_TTL"), DefaultTTL); err != nil {
		return Settings{}, err
	}
	if s.AuditRetention, err = duration(s.AuditRetention, "GINKEY_AUDIT_RETENTION", get("GINKEY_AUDIT_RETENTION"), DefaultAuditRetention); err != nil {
		return Settings{}, err
	}
	if !s.HideDocs {
		v := get("GINKEY_HIDE_DOCS")
		s.HideDocs = v == "1" || strings.EqualFold(v, "true")
	}
	return s, nil
}

// duration is set if it is not zero, else the variable name's value v (see
// Lifetime), else def.
func duration(set time.Duration, name, v string, def time.Duration) (time.Duration, error) {
	switch {
	case set != 0:
		return set, nil
	case v == "":
		return def, nil
	}
	d, err := Lifetime(v)
	if err != nil {
		return 0, fmt.Errorf("ginkey: %s %q is %w", name, v, err)
	}
	return d, nil
}

// Lifetime's errors complete one that names the value they refuse.
var (
	errNotLifetime   = errors.New(`not a duration: use ` + DurationForms + `; or "never"`)
	errShortLifetime = errors.New(`not more than 0s: use a positive duration, e.g. 15d; or "never"`)
	errLongLifetime  = errors.New(`too long a duration: ` + longest + `; or "never"`)
)

// Lifetime reads a TTL or a retention as GINKEY_TTL and
// GINKEY_AUDIT_RETENTION give them: a positive duration in ParseDuration's
// syntax (15d, 36h), or "never" (in any case), which is Never. The ginkey
// command reads its --ttl with it.
func Lifetime(v string) (time.Duration, error) {
	if strings.EqualFold(v, "never") {
		return Never, nil
	}
	d, err := ParseDuration(v)
	var de *DurationError
	switch {
	case errors.As(err, &de) && de.outOfRange:
		return 0, errLongLifetime
	case err != nil:
		return 0, errNotLifetime
	case d <= 0:
		return 0, errShortLifetime
	}
	return d, nil
}
