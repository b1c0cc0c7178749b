package envconfig

import (
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestResolveFillsWhatCodeLeftUnsetFromTheEnvironmentThenDefaults(t *testing.T) {
	t.Parallel()
	defaults := Settings{DBPath: gormstore.DefaultDBPath, TablePrefix: gormstore.DefaultTablePrefix, TTL: DefaultTTL, AuditRetention: DefaultAuditRetention}
	for _, tc := range []struct {
		name string
		set  Settings
		vars map[string]string
		want Settings
	}{
		{"nothing", Settings{}, nil, defaults},
		{"empty variables are unset", Settings{}, map[string]string{
			"GINKEY_SECRET": "", "GINKEY_DB": "", "GINKEY_TTL": "", "GINKEY_AUDIT_RETENTION": "", "GINKEY_HIDE_DOCS": "",
			"GINKEY_TABLE_PREFIX": "", "GINKEY_KEY_PREFIX": "",
		}, defaults},
		{"every variable", Settings{}, map[string]string{
			"GINKEY_SECRET": "s3cret-s3cret-s3cret", "GINKEY_DB": "postgres://h/db", "GINKEY_TTL": "48h",
			"GINKEY_AUDIT_RETENTION": "720h", "GINKEY_HIDE_DOCS": "TRUE", "GINKEY_TABLE_PREFIX": "mysvc_", "GINKEY_KEY_PREFIX": "ms",
		}, Settings{
			AdminSecret: "s3cret-s3cret-s3cret", DBPath: "postgres://h/db", TablePrefix: "mysvc_", KeyPrefix: "ms",
			TTL: 48 * time.Hour, AuditRetention: 720 * time.Hour, HideDocs: true,
		}},
		{"never", Settings{}, map[string]string{"GINKEY_TTL": "never", "GINKEY_AUDIT_RETENTION": "Never", "GINKEY_HIDE_DOCS": "1"},
			Settings{DBPath: gormstore.DefaultDBPath, TablePrefix: gormstore.DefaultTablePrefix, TTL: Never, AuditRetention: Never, HideDocs: true}},
		{"days, as the ginkey command's flags and the admin API take them", Settings{}, map[string]string{"GINKEY_TTL": "30d", "GINKEY_AUDIT_RETENTION": "1d12h"},
			Settings{DBPath: gormstore.DefaultDBPath, TablePrefix: gormstore.DefaultTablePrefix, TTL: 30 * 24 * time.Hour, AuditRetention: 36 * time.Hour}},
		{"hide docs is 1 or true only", Settings{}, map[string]string{"GINKEY_HIDE_DOCS": "yes"}, defaults},
		{"code wins, and bad variables it overrides are not read", Settings{
			AdminSecret: "from-code-from-code", DBPath: "code.db", TablePrefix: "code_", KeyPrefix: "code",
			TTL: time.Hour, AuditRetention: -1, HideDocs: true,
		}, map[string]string{
			"GINKEY_SECRET": "env", "GINKEY_DB": "env.db", "GINKEY_TTL": "bogus", "GINKEY_AUDIT_RETENTION": "bogus", "GINKEY_HIDE_DOCS": "0",
			"GINKEY_TABLE_PREFIX": "env_", "GINKEY_KEY_PREFIX": "env",
		}, Settings{
			AdminSecret: "from-code-from-code", DBPath: "code.db", TablePrefix: "code_", KeyPrefix: "code",
			TTL: time.Hour, AuditRetention: -1, HideDocs: true,
		}},
	} {
		got, err := Resolve(tc.set, env(tc.vars))
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v %v, want %+v", tc.name, got, err, tc.want)
		}
	}
	unset := func(string) (string, bool) { return "bogus", false } // a value without ok is no value
	if got, err := Resolve(Settings{}, unset); err != nil || got != defaults {
		t.Errorf("variables not set: %+v %v, want %+v", got, err, defaults)
	}
}

func TestResolveRefusesADurationThatIsNotPositiveNamingOnlyIt(t *testing.T) {
	t.Parallel()
	const leak, secret = "hunter2pw", "s3cret-s3cret-s3cret" // neither may reach the error
	for _, name := range []string{"GINKEY_TTL", "GINKEY_AUDIT_RETENTION"} {
		for _, v := range []string{"15x", "-1h", "0s", "soon", "1h2d"} {
			_, err := Resolve(Settings{}, env(map[string]string{
				name: v, "GINKEY_DB": "postgres://u:" + leak + "@h/db", "GINKEY_SECRET": secret,
			}))
			if err == nil || !strings.Contains(err.Error(), name+` "`+v+`"`) {
				t.Errorf("%s=%s: error %v, want one naming it", name, v, err)
				continue
			}
			if msg := err.Error(); strings.Contains(msg, leak) || strings.Contains(msg, secret) {
				t.Errorf("%s=%s: the error shows a secret: %q", name, v, msg)
			}
		}
		// A duration past time.Duration's range is one, only too long:
		// the error says so rather than that it is no duration.
		_, err := Resolve(Settings{}, env(map[string]string{name: "200000d"}))
		if err == nil || !strings.Contains(err.Error(), "too long a duration: at most 106751d") {
			t.Errorf("%s=200000d: error %v, want one naming the longest duration", name, err)
		}
	}
}
