package gormstore

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseDSNTellsAPostgreSQLURLFromASQLiteFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		setting, shown, file string // file "" for PostgreSQL
		postgres             bool
	}{
		{"keys.db", "keys.db", "keys.db", false},
		{"  data/keys.db\n", "data/keys.db", "data/keys.db", false},
		{"/var/lib/ginkey/keys.db?_foo=1", "/var/lib/ginkey/keys.db", "/var/lib/ginkey/keys.db", false},
		{"file:keys.db?cache=shared", "file:keys.db", "keys.db", false},
		{"file::memory:?cache=shared", "file::memory:", "", false},
		{"./dir@2/keys.db", "./dir@2/keys.db", "./dir@2/keys.db", false},
		{"/srv/me@corp/keys.db", "/srv/me@corp/keys.db", "/srv/me@corp/keys.db", false},
		{"a=b.db", "a=b.db", "a=b.db", false},
		{"postgres://app:pw@db:5432/app?sslmode=require", "postgres://app:xxxxx@db:5432/app?sslmode=require", "", true},
		{" POSTGRESQL://app@db/app?password=pw&sslmode=disable\t", "postgresql://app@db/app?password=xxxxx&sslmode=disable", "", true},
		{"postgres://app@h1:5432,h2:5433/app?Password=pw#frag", "postgres://app@h1:5432,h2:5433/app?Password=xxxxx", "", true},
		{"Postgres://app:p%2Fw@db/app", "postgres://app:xxxxx@db/app", "", true},
	} {
		d, err := ParseDSN(tc.setting)
		if err != nil {
			t.Errorf("%q: %v", tc.setting, err)
			continue
		}
		if d.postgres != tc.postgres || d.String() != tc.shown || d.File() != tc.file {
			t.Errorf("%q: postgres %v, shown %q, file %q; want %v, %q, %q", tc.setting, d.postgres, d.String(), d.File(), tc.postgres, tc.shown, tc.file)
		}
	}
}

func TestParseDSNRefusesWhatIsNeitherWithoutShowingIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		setting string
		want    error
	}{
		{"", errBlankDSN},
		{" \t\r\n", errBlankDSN},
		{"postgres://app:s3cret/PW@db/app", errUnparsableURL},
		{"postgres://app:s3cret%PW@db/app", errUnparsableURL},
		{"postgresql://app:s3cret@[::1/app", errUnparsableURL},
		{"postgres://app:/s3cretPW@db/app", errUnparsableURL},
		{"postgres://app:12/s3cretPW@db/app", errUnparsableURL},
		{"postgres://app:?s3cretPW@db/app", errUnparsableURL},
		{"postgres://app:#s3cretPW@db/app", errUnparsableURL},
		{"postgres://app@db/app?password=s3cret@PW", errUnparsableURL},
		{"host=db user=app password=s3cretPW dbname=app", errKeywordDSN},
		{"dbname=app host=db", errKeywordDSN},
		{"keys.db password=s3cretPW", errKeywordDSN},
		{"HOST = db PASSWORD = s3cretPW", errKeywordDSN},
		{"mysql://app:s3cretPW@db/app", errBadScheme},
		{"sqlite://keys.db", errBadScheme},
		{"my db://app:s3cretPW@db/app", errBadScheme},
		{"app:s3cretPW@tcp(db:3306)/app", errSchemelessURL},
		{"app:s3cret/PW@tcp(db:3306)/app", errSchemelessURL},
		{"app:s3cretPW@db:5432/app", errSchemelessURL},
		{"//app:s3cretPW@db/app", errSchemelessURL},
	} {
		_, err := ParseDSN(tc.setting)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want.Error()) {
			t.Errorf("%q: %v, want %v", tc.setting, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: the error shows the password: %v", tc.setting, err)
		}
	}
}

// FuzzParseDSN puts a password into each form a setting may take: it is
// never in what ParseDSN shows, and a refused setting is never echoed.
func FuzzParseDSN(f *testing.F) {
	for _, pw := range []string{"s3cretPW", "s3cret/PW", "s3cret@PW", "s3cret#PW", "s3cret?PW", "s3cret%2FPW", "s3cret PW", "s3cret'PW"} {
		f.Add(pw)
	}
	// %s is the password as it is, %q the password encoded as a query
	// value (unencoded, an & or # makes the rest something else).
	forms := []string{
		"postgres://app:%s@db:5432/app", "postgres://app@db/app?password=%q", "postgresql://app@db/app?sslmode=disable&PASSWORD=%q",
		" postgres://app:%s@db/app\n", "host=db password=%s", "password='%s' host=db", "app:%s@tcp(db)/app", "mysql://app:%s@db/app",
	}
	f.Fuzz(func(t *testing.T, pw string) {
		// A password short enough, or made of the forms' own words, cannot
		// be told from the rest of the text.
		if len(pw) < 8 || strings.ContainsAny(pw, "\x00") || strings.Contains(strings.Join(forms, ""), pw) {
			t.Skip()
		}
		for _, form := range forms {
			setting := strings.ReplaceAll(strings.ReplaceAll(form, "%s", pw), "%q", url.QueryEscape(pw))
			d, err := ParseDSN(setting)
			if err != nil {
				if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), strings.TrimSpace(setting)) {
					t.Fatalf("%q: the error shows it: %v", setting, err)
				}
				continue
			}
			shown := d.String()
			for _, p := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw)} {
				if strings.Contains(shown, p) {
					t.Fatalf("%q shown as %q", setting, shown)
				}
			}
		}
	})
}
