package gormstore

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// DSN is a database setting (ginkey's Config.DBPath, $GINKEY_DB, the CLI's
// --db) as ParseDSN read it: a PostgreSQL URL or a SQLite file. Its String
// is safe to log.
type DSN struct {
	postgres bool
	value    string // as opened: trimmed, a URL's scheme in lower case
	shown    string // no password, no query of a SQLite DSN
}

// String is the setting without its password (a URL's user info and
// password query parameters read xxxxx, its fragment is left out) and, for a
// SQLite DSN, without its query.
func (d DSN) String() string { return d.shown }

// File is the SQLite file the setting names: "" for PostgreSQL or an
// in-memory SQLite database.
func (d DSN) File() string {
	if d.postgres {
		return ""
	}
	return sqliteFile(d.value)
}

// setting is how ParseDSN's errors name what they refuse.
const setting = "ginkey: the database setting (GINKEY_DB, Config.DBPath, --db)"

// The errors of ParseDSN. None shows the setting: what could not be read may
// hold a password anywhere.
var (
	errBlankDSN      = errors.New(setting + " is blank: give a SQLite file or a postgres:// URL")
	errUnparsableURL = errors.New(setting + " is a PostgreSQL URL that cannot be parsed, not shown as it may hold a password " +
		"(percent-encode / ? # @ : % in the user name and password, and @ anywhere after the host: / is %2F, @ is %40)")
	errKeywordDSN = errors.New(setting + " is a keyword/value DSN (host=... dbname=...), which ginkey does not open: " +
		"write it as a URL, postgres://user:password@host:5432/dbname?sslmode=require, or give Config.DB a *gorm.DB")
	errSchemelessURL = errors.New(setting + " names a user@host without a scheme: " +
		"a PostgreSQL URL starts with postgres://; for MySQL or MariaDB give Config.DB a *gorm.DB; " +
		"a SQLite file whose path holds an @ is written ./dir@x/keys.db or /abs@x/keys.db")
	errBadScheme = errors.New(setting + " is a URL of a kind ginkey does not open: " +
		"give a postgres:// (or postgresql://) URL or a SQLite file, or Config.DB a *gorm.DB")
)

// urlScheme is a URL's scheme as RFC 3986 spells it, two characters at least
// so that a Windows drive (C:/) is a path.
var urlScheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]+)://`)

// keywordDSN matches a libpq keyword/value DSN by the keywords a PostgreSQL
// one cannot do without, or its password.
var keywordDSN = regexp.MustCompile(`(?i)(^|\s)(host|hostaddr|port|dbname|user|password|passfile|service|sslmode)\s*=`)

// ParseDSN decides what a database setting names, for the guard and the CLI
// alike. Surrounding whitespace is trimmed. It is a PostgreSQL URL if it
// starts with postgres:// or postgresql:// (in any case) and Go's url.Parse
// reads it; else the path of a SQLite file (optionally a file: URI, and
// ?options). It refuses, without echoing the value, what would otherwise
// become a SQLite file named after a connection string: a blank value, a
// PostgreSQL URL that cannot be parsed (an unencoded / or @ in the
// password), a keyword/value DSN (host=... password=...), a URL of another
// scheme (mysql://, redis://...) and a user@host without a scheme (a MySQL
// DSN, a URL missing postgres://).
func ParseDSN(setting string) (DSN, error) {
	v := strings.TrimSpace(setting)
	if v == "" {
		return DSN{}, errBlankDSN
	}
	if m := urlScheme.FindStringSubmatch(v); m != nil {
		switch scheme := strings.ToLower(m[1]); scheme {
		case "postgres", "postgresql":
			return parsePostgresURL(scheme + v[len(m[1]):])
		case "file": // a SQLite URI
		default:
			return DSN{}, fmt.Errorf("%w (it is %s://)", errBadScheme, scheme)
		}
	} else if strings.Contains(v, "://") {
		return DSN{}, errBadScheme
	}
	if keywordDSN.MatchString(v) {
		return DSN{}, errKeywordDSN
	}
	explicitPath := strings.HasPrefix(v, "./") || strings.HasPrefix(v, "../") ||
		strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//")
	if strings.Contains(v, "@") && !explicitPath {
		return DSN{}, errSchemelessURL
	}
	file, _, _ := strings.Cut(v, "?")
	return DSN{value: v, shown: file}, nil
}

// parsePostgresURL reads a postgres:// URL with Go's parser, which is pgx's
// too: a URL Go cannot read, pgx cannot open. An "@" after the host is
// refused as well: Go reads postgres://app:/pw@db/app, a password that
// begins with an unencoded "/", as the host "app" and the database
// "pw@db/app", which would then be shown.
func parsePostgresURL(v string) (DSN, error) {
	u, err := url.Parse(v)
	if err != nil {
		return DSN{}, errUnparsableURL
	}
	_, rest, _ := strings.Cut(v, "://")
	if end := strings.IndexAny(rest, "/?#"); end >= 0 && strings.Contains(rest[end:], "@") {
		return DSN{}, errUnparsableURL
	}
	shown := *u
	if _, ok := u.User.Password(); ok {
		shown.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	// pgx takes a password from the query too.
	q := u.Query()
	for k := range q {
		if strings.EqualFold(k, "password") {
			q[k] = []string{"xxxxx"}
		}
	}
	shown.RawQuery = q.Encode()
	shown.Fragment, shown.RawFragment = "", ""
	return DSN{postgres: true, value: v, shown: shown.String()}, nil
}
