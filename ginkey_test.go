package ginkey

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/internal/testkit"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

func TestKeyIsAcceptedFromHeaderQueryAndBearer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{"name":"svc"}`)
	cases := []struct {
		name string
		r    testkit.Request
	}{
		{"header", testkit.Request{Method: "GET", Path: "/secure", Header: map[string]string{"X-API-Key": k.Secret}}},
		{"query", testkit.Request{Method: "GET", Path: "/secure?api_key=" + k.Secret}},
		{"bearer", testkit.Request{Method: "GET", Path: "/secure", Header: map[string]string{"Authorization": "Bearer " + k.Secret}}},
		{"bearer lower-case scheme", testkit.Request{Method: "GET", Path: "/secure", Header: map[string]string{"Authorization": "bearer " + k.Secret}}},
	}
	for _, tc := range cases {
		w := h.Do(tc.r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d body %s", tc.name, w.Code, w.Body)
		}
		if !strings.Contains(w.Body.String(), `"key_id":"`+k.ID+`"`) {
			t.Fatalf("%s: KeyFrom did not carry the key id: %s", tc.name, w.Body)
		}
	}
}

func TestConfiguredSourcesReplaceTheDefaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) {
		c.Sources = []string{"header:X-Token", "cookie:tok"}
	})
	k := h.createKey(`{}`)
	if w := h.Do(testkit.Request{Method: "GET", Path: "/secure", Header: map[string]string{"X-Token": k.Secret}}); w.Code != 200 {
		t.Fatalf("custom header: %d", w.Code)
	}
	if w := h.Do(testkit.Request{Method: "GET", Path: "/secure", Header: map[string]string{"Cookie": "tok=" + k.Secret}}); w.Code != 200 {
		t.Fatalf("cookie: %d", w.Code)
	}
	testkit.WantError(t, h.Secure(k.Secret), 401, "key_missing") // X-API-Key is no longer a source
}

func TestRejectedKeysGet401WithCodeAndChallenge(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	good := h.createKey(`{}`).Secret
	unknown := unknownKey(t, h)
	badSum := good[:len(good)-1] + flip(good[len(good)-1])
	cases := []struct {
		name, key, code string
	}{
		{"missing", "", "key_missing"},
		{"unknown but well formed", unknown, "key_invalid"},
		{"checksum mismatch", badSum, "key_invalid"},
		{"wrong prefix", "xx" + good[2:], "key_invalid"},
		{"truncated", good[:len(good)-3], "key_invalid"},
		{"bad alphabet", good[:10] + "!" + good[11:], "key_invalid"},
		{"10 KB key", "gk_" + strings.Repeat("A", 10<<10), "key_invalid"},
		{"sql", "gk_' OR '1'='1", "key_invalid"},
	}
	for _, tc := range cases {
		w := h.Secure(tc.key)
		testkit.WantError(t, w, http.StatusUnauthorized, tc.code)
		challenge := w.Header().Get("WWW-Authenticate")
		if !strings.HasPrefix(challenge, `Bearer realm="ginkey"`) {
			t.Fatalf("%s: WWW-Authenticate = %q", tc.name, challenge)
		}
		if tc.code != "key_missing" && !strings.Contains(challenge, `error="invalid_token"`) {
			t.Fatalf("%s: challenge lacks the error: %q", tc.name, challenge)
		}
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func TestKeyStopsWorkingWhenItExpires(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	at := clock.Now().Add(2 * time.Second).Format(time.RFC3339)
	k := h.createKey(`{"expires_at":"` + at + `"}`)
	if k.ExpiresAt == nil || k.ExpiresAt.Format(time.RFC3339) != at {
		t.Fatalf("expires_at = %v, want %s", k.ExpiresAt, at)
	}
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("fresh key: %d %s", w.Code, w.Body)
	}
	clock.Advance(1900 * time.Millisecond)
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("key 100ms before expiry: %d %s", w.Code, w.Body)
	}
	clock.Advance(100 * time.Millisecond) // the cache still holds the record: expiry is checked per request
	testkit.WantError(t, h.Secure(k.Secret), 401, "key_expired")

	var got Key
	testkit.Decode(t, h.Admin("GET", "/keys/"+k.ID, ""), &got)
	if got.Status != StatusExpired {
		t.Fatalf("status = %s, want expired", got.Status)
	}
}

func TestKeyExpiresAfterTheDefaultTTLOf15Days(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := h.createKey(`{}`)
	if k.ExpiresAt == nil || !k.ExpiresAt.Equal(clock.Now().Add(360*time.Hour)) {
		t.Fatalf("expires_at = %v, want now+360h", k.ExpiresAt)
	}
	clock.Advance(360*time.Hour - time.Second)
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("day 14: %d", w.Code)
	}
	clock.Advance(time.Second)
	testkit.WantError(t, h.Secure(k.Secret), 401, "key_expired")
}

func TestNeverExpiringKeys(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := h.createKey(`{"never_expires":true}`)
	if k.ExpiresAt != nil {
		t.Fatalf("expires_at = %v, want null", k.ExpiresAt)
	}
	if !strings.Contains(h.Admin("GET", "/keys/"+k.ID, "").Body.String(), `"expires_at":null`) {
		t.Fatal("expires_at is not rendered as null")
	}
	clock.Advance(10 * 365 * 24 * time.Hour)
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("after 10 years: %d", w.Code)
	}

	h2 := newHarness(t, func(c *Config) {
		c.LookupEnv = func(k string) (string, bool) {
			if k == "GINKEY_TTL" {
				return "never", true
			}
			return "", false
		}
	})
	if k := h2.createKey(`{}`); k.ExpiresAt != nil {
		t.Fatalf("GINKEY_TTL=never: expires_at = %v", k.ExpiresAt)
	}
}

func TestRevokedKeyIsRejectedOnNextRequestAndRevocationIsFinal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{}`)
	if w := h.Secure(k.Secret); w.Code != 200 { // now cached
		t.Fatalf("before revoke: %d", w.Code)
	}
	w := h.Admin("POST", "/keys/"+k.ID+"/revoke", "")
	if w.Code != 200 {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	var rev Key
	testkit.Decode(t, w, &rev)
	if rev.Status != StatusRevoked || rev.RevokedAt == nil {
		t.Fatalf("revoked key = %+v", rev)
	}
	testkit.WantError(t, h.Secure(k.Secret), 401, "key_revoked")

	w = h.Admin("POST", "/keys/"+k.ID+"/revoke", "")
	var again Key
	testkit.Decode(t, w, &again)
	if w.Code != 200 || !again.RevokedAt.Equal(*rev.RevokedAt) {
		t.Fatalf("second revoke: %d %s", w.Code, w.Body)
	}
	testkit.WantError(t, h.Admin("POST", "/keys/"+k.ID+"/renew", ""), 409, "key_revoked")
	testkit.WantError(t, h.Secure(k.Secret), 401, "key_revoked")
}

func TestRenewBringsBackAnExpiredKey(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.TTL = time.Hour })
	k := h.createKey(`{}`)
	clock.Advance(2 * time.Hour)
	testkit.WantError(t, h.Secure(k.Secret), 401, "key_expired")

	w := h.Admin("POST", "/keys/"+k.ID+"/renew", "")
	var renewed Key
	testkit.Decode(t, w, &renewed)
	if w.Code != 200 || renewed.Status != StatusActive || !renewed.ExpiresAt.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("renew: %d %s", w.Code, w.Body)
	}
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("after renew: %d", w.Code)
	}

	at := clock.Now().Add(48 * time.Hour).Format(time.RFC3339)
	testkit.Decode(t, h.Admin("POST", "/keys/"+k.ID+"/renew", `{"expires_at":"`+at+`"}`), &renewed)
	if renewed.ExpiresAt.Format(time.RFC3339) != at {
		t.Fatalf("renew to %s gave %v", at, renewed.ExpiresAt)
	}
	testkit.Decode(t, h.Admin("POST", "/keys/"+k.ID+"/renew", `{"never_expires":true}`), &renewed)
	if renewed.ExpiresAt != nil {
		t.Fatalf("renew never_expires gave %v", renewed.ExpiresAt)
	}
	testkit.WantError(t, h.Admin("POST", "/keys/nope/renew", ""), 404, "not_found")
}

func TestDeletedKeyStopsWorking(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{}`)
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("before delete: %d", w.Code)
	}
	if w := h.Admin("DELETE", "/keys/"+k.ID, ""); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	testkit.WantError(t, h.Secure(k.Secret), 401, "key_invalid")
	testkit.WantError(t, h.Admin("GET", "/keys/"+k.ID, ""), 404, "not_found")
	testkit.WantError(t, h.Admin("DELETE", "/keys/"+k.ID, ""), 404, "not_found")
}

func TestListFiltersByStatusAndPages(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	short := h.createKey(`{"expires_at":"` + clock.Now().Add(time.Minute).Format(time.RFC3339) + `"}`)
	revoked := h.createKey(`{}`)
	h.Admin("POST", "/keys/"+revoked.ID+"/revoke", "")
	for range 3 {
		h.createKey(`{}`)
	}
	clock.Advance(2 * time.Minute)

	count := func(query string) (int, int64) {
		t.Helper()
		var l keyList
		w := h.Admin("GET", "/keys"+query, "")
		if w.Code != 200 {
			t.Fatalf("list %s: %d %s", query, w.Code, w.Body)
		}
		testkit.Decode(t, w, &l)
		return len(l.Keys), l.Total
	}
	for _, tc := range []struct {
		query string
		n     int
		total int64
	}{
		{"", 5, 5}, {"?status=active", 3, 3}, {"?status=expired", 1, 1}, {"?status=revoked", 1, 1},
		{"?limit=2", 2, 5}, {"?limit=2&offset=4", 1, 5},
	} {
		if n, total := count(tc.query); n != tc.n || total != tc.total {
			t.Fatalf("%q: %d keys of %d, want %d of %d", tc.query, n, total, tc.n, tc.total)
		}
	}
	body := h.Admin("GET", "/keys", "").Body.String()
	if strings.Contains(body, short.Secret) || strings.Contains(body, "hash") {
		t.Fatal("a listing shows a key or its hash")
	}
}

func TestKeysSurviveARestartOnTheSameFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{"name":"persistent","scopes":["a:b"],"metadata":{"team":"x"}}`)
	if err := h.Guard.Close(); err != nil {
		t.Fatal(err)
	}
	h.Serve(New(Config{DBPath: h.DBPath, AdminSecret: testSecret, LookupEnv: testkit.NoEnv, Logger: h.Guard.log}))
	if w := h.Secure(k.Secret); w.Code != 200 {
		t.Fatalf("after restart: %d %s", w.Code, w.Body)
	}
	var got Key
	testkit.Decode(t, h.Admin("GET", "/keys/"+k.ID, ""), &got)
	if got.Name != "persistent" || len(got.Scopes) != 1 || got.Scopes[0] != "a:b" || got.Metadata["team"] != "x" {
		t.Fatalf("after restart: %+v", got)
	}
}

func TestPlaintextKeyNeverReachesDiskOrLogs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	var keys []string
	for range 5 {
		keys = append(keys, h.createKey(`{"name":"k"}`).Secret)
	}
	for _, k := range keys {
		h.Secure(k)
		h.Do(testkit.Request{Method: "GET", Path: "/secure?api_key=" + k})
	}
	if err := h.Guard.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var files [][]byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(h.DBPath + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	if len(files[0])+len(files[1]) == 0 {
		t.Fatal("the database files are empty: nothing was checked")
	}
	logs := h.Logs.String()
	for _, k := range keys {
		body := k[3:] // the random part, without the public prefix
		for i, b := range files {
			if bytes.Contains(b, []byte(body)) {
				t.Fatalf("key found in database file %d", i)
			}
		}
		if strings.Contains(logs, body) {
			t.Fatal("key found in the log")
		}
		sum := hashKey(k)
		if !bytes.Contains(append(files[0], files[1]...), []byte(sum.String())) {
			t.Fatal("the key's hash is not in the database: the search above proves nothing")
		}
	}
	if strings.Contains(logs, testSecret) {
		t.Fatal("admin secret found in the log")
	}
}

func TestUsageIsCountedInBatches(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.FlushInterval = time.Hour })
	a, b := h.createKey(`{"name":"a"}`), h.createKey(`{"name":"b"}`)
	for range 7 {
		h.Secure(a.Secret)
	}
	clock.Advance(24 * time.Hour)
	for range 3 {
		h.Secure(a.Secret)
	}
	h.Secure(b.Secret)
	testkit.WantError(t, h.Secure("gk_nope"), 401, "key_invalid") // failures are not usage

	// Nothing is written on the request path.
	var rows int64
	if err := h.Guard.store.(*gormstore.Store).DB().Table("ginkey_usage").Count(&rows).Error; err != nil || rows != 0 {
		t.Fatalf("usage rows before a flush: %d (%v)", rows, err)
	}

	var rep UsageReport
	w := h.Admin("GET", "/keys/"+a.ID+"/usage", "") // reads flush this instance first
	testkit.Decode(t, w, &rep)
	if w.Code != 200 || rep.TotalRequests != 10 || len(rep.Daily) != 2 ||
		rep.Daily[0].Requests != 7 || rep.Daily[1].Requests != 3 || rep.Daily[1].Date != "2026-11-26" {
		t.Fatalf("usage of a: %d %s", w.Code, w.Body)
	}
	if rep.LastUsedAt == nil || !rep.LastUsedAt.Equal(clock.Now()) {
		t.Fatalf("last_used_at = %v, want %v", rep.LastUsedAt, clock.Now())
	}
	var sum usageSummaryList
	testkit.Decode(t, h.Admin("GET", "/usage", ""), &sum)
	got := map[string]int64{}
	for _, r := range sum.Usage {
		got[r.Name] = r.TotalRequests
	}
	if sum.Total != 2 || got["a"] != 10 || got["b"] != 1 {
		t.Fatalf("usage summary: %+v", sum)
	}
}

// The flusher writes on its own, with no Flush call: with a 200 ms interval
// the count lands long before the 10 s deadline, which only bounds a hang
// on a loaded test machine.
func TestUsageFlushesByItself(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.FlushInterval = 200 * time.Millisecond })
	k := h.createKey(`{}`)
	h.Secure(k.Secret)
	st := h.Guard.usageStore
	deadline := time.Now().Add(10 * time.Second)
	for {
		total, _, err := st.Usage(context.Background(), k.ID, "2000-01-01")
		if err != nil {
			t.Fatal(err)
		}
		if total == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage not flushed after 10s (total %d)", total)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAdminAPIRequiresTheSecretInTheHeader(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	cases := []struct {
		name string
		r    testkit.Request
	}{
		{"no secret", testkit.Request{Method: "GET", Path: "/auth/keys"}},
		{"wrong secret", testkit.Request{Method: "GET", Path: "/auth/keys", Header: map[string]string{adminHeader: testSecret + "x"}}},
		{"prefix of the secret", testkit.Request{Method: "GET", Path: "/auth/keys", Header: map[string]string{adminHeader: testSecret[:10]}}},
		{"secret in the query", testkit.Request{Method: "GET", Path: "/auth/keys?admin_secret=" + testSecret}},
		{"secret in query and header", testkit.Request{Method: "POST", Path: "/auth/keys?X-Admin-Secret=" + testSecret, Header: map[string]string{adminHeader: testSecret}}},
		{"api key is no admin secret", testkit.Request{Method: "POST", Path: "/auth/keys", Header: map[string]string{"X-API-Key": testSecret}}},
	}
	for _, tc := range cases {
		testkit.WantError(t, h.Do(tc.r), 401, "admin_unauthorized")
	}
	if w := h.Admin("GET", "/keys", ""); w.Code != 200 || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("with the secret: %d, Cache-Control %q", w.Code, w.Header().Get("Cache-Control"))
	}
}

func TestGeneratedAdminSecretIsLoggedOnceAndWorks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.AdminSecret = "" })
	m := regexp.MustCompile(`admin_secret=([0-9A-Za-z]+)`).FindAllStringSubmatch(h.Logs.String(), -1)
	if len(m) != 1 || len(m[0][1]) < 32 {
		t.Fatalf("want one generated secret in the log, got %q", h.Logs.String())
	}
	secret := m[0][1]
	w := h.Do(testkit.Request{Method: "POST", Path: "/auth/keys", Header: map[string]string{adminHeader: secret}})
	if w.Code != 201 {
		t.Fatalf("generated secret: %d %s", w.Code, w.Body)
	}
	testkit.WantError(t, h.Do(testkit.Request{Method: "GET", Path: "/auth/keys", Header: map[string]string{adminHeader: testSecret}}), 401, "admin_unauthorized")

	h2 := newHarness(t, func(c *Config) { c.AdminSecret = "" })
	if strings.Contains(h2.Logs.String(), secret) {
		t.Fatal("two guards generated the same secret")
	}
}

func TestBadAdminInputGetsAClearError(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	k := h.createKey(`{}`)
	past := clock.Now().Add(-time.Minute).Format(time.RFC3339)
	cases := []struct {
		name, method, path, body string
		status                   int
		code, mention            string
	}{
		{"malformed JSON", "POST", "/keys", `{"name":`, 400, "bad_request", "JSON"},
		{"not an object", "POST", "/keys", `[1,2]`, 400, "bad_request", "object"},
		{"wrong type name", "POST", "/keys", `{"name":5}`, 400, "bad_request", "name"},
		{"wrong type scopes", "POST", "/keys", `{"scopes":"a"}`, 400, "bad_request", "scopes"},
		{"wrong type metadata", "POST", "/keys", `{"metadata":[1]}`, 400, "bad_request", "metadata"},
		{"wrong type never_expires", "POST", "/keys", `{"never_expires":"yes"}`, 400, "bad_request", "never_expires"},
		{"unknown field", "POST", "/keys", `{"bogus":"x"}`, 400, "bad_request", "bogus"},
		{"two objects", "POST", "/keys", `{}{}`, 400, "bad_request", "one JSON object"},
		{"both expiries", "POST", "/keys", `{"expires_at":"2099-01-01T00:00:00Z","never_expires":true}`, 400, "bad_request", "not both"},
		{"past expiry", "POST", "/keys", `{"expires_at":"` + past + `"}`, 400, "bad_request", "future"},
		{"expiry not RFC 3339", "POST", "/keys", `{"expires_at":"tomorrow"}`, 400, "bad_request", "expires_at"},
		{"expiry in the year 10000 UTC", "POST", "/keys", `{"expires_at":"9999-12-31T23:59:59-23:59"}`, 400, "bad_request", "expires_at"},
		{"renew to the year 10000 UTC", "POST", "/keys/" + k.ID + "/renew", `{"expires_at":"9999-12-31T23:59:59-23:59"}`, 400, "bad_request", "expires_at"},
		{"long name", "POST", "/keys", `{"name":"` + strings.Repeat("n", 201) + `"}`, 400, "bad_request", "name"},
		{"control characters", "POST", "/keys", `{"name":"a\u0000b"}`, 400, "bad_request", "name"},
		{"bad scope", "POST", "/keys", `{"scopes":["ok","no spaces"]}`, 400, "bad_request", "scopes"},
		{"big metadata", "POST", "/keys", `{"metadata":{"x":"` + strings.Repeat("m", 5000) + `"}}`, 400, "bad_request", "metadata"},
		{"2 MB body", "POST", "/keys", `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "payload_too_large", ""},
		{"renew past", "POST", "/keys/" + k.ID + "/renew", `{"expires_at":"` + past + `"}`, 400, "bad_request", "future"},
		{"renew wrong type", "POST", "/keys/" + k.ID + "/renew", `{"never_expires":1}`, 400, "bad_request", "never_expires"},
		{"bad status", "GET", "/keys?status=gone", "", 400, "bad_request", "status"},
		{"bad limit", "GET", "/keys?limit=0", "", 400, "bad_request", "limit"},
		{"huge limit", "GET", "/keys?limit=100000", "", 400, "bad_request", "limit"},
		{"negative offset", "GET", "/keys?offset=-1", "", 400, "bad_request", "offset"},
		{"bad days", "GET", "/keys/" + k.ID + "/usage?days=abc", "", 400, "bad_request", "days"},
		{"unknown id", "GET", "/keys/AAAAAAAAAAAAAAAAAAAAAA", "", 404, "not_found", ""},
		{"sql id", "GET", "/keys/1%27%20OR%20%271%27=%271", "", 404, "not_found", ""},
		{"overlong id", "GET", "/keys/" + strings.Repeat("a", 100), "", 404, "not_found", ""},
	}
	for _, tc := range cases {
		w := h.Admin(tc.method, tc.path, tc.body)
		testkit.WantError(t, w, tc.status, tc.code)
		if tc.mention != "" && !strings.Contains(w.Body.String(), tc.mention) {
			t.Fatalf("%s: message does not mention %q: %s", tc.name, tc.mention, w.Body)
		}
	}
	var l keyList
	testkit.Decode(t, h.Admin("GET", "/keys", ""), &l)
	if l.Total != 1 {
		t.Fatalf("bad requests created keys: total %d", l.Total)
	}
}

func TestSQLLookingInputIsStoredVerbatim(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	names := []string{`'; DROP TABLE ginkey_keys; --`, `" OR 1=1 --`, `Robert'); DELETE FROM ginkey_usage;--`}
	for _, n := range names {
		k := h.createKey(fmt.Sprintf(`{"name":%q,"metadata":{"q":%q}}`, n, n))
		var got Key
		testkit.Decode(t, h.Admin("GET", "/keys/"+k.ID, ""), &got)
		if got.Name != n || got.Metadata["q"] != n {
			t.Fatalf("stored %q as %q", n, got.Name)
		}
		if w := h.Secure(k.Secret); w.Code != 200 {
			t.Fatalf("key named %q: %d", n, w.Code)
		}
	}
	var l keyList
	testkit.Decode(t, h.Admin("GET", "/keys", ""), &l)
	if l.Total != int64(len(names)) {
		t.Fatalf("total = %d", l.Total)
	}
}

func TestConcurrentCreateVerifyRevokeLosesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) {
		c.FlushInterval = 100 * time.Millisecond
		// Every worker is one address; more uncached lookups in flight than
		// FailureLimit would be throttled, which is not what this tests.
		c.FailureLimit = -1
		// Likewise MaxLookups: 32 workers from one address verify fresh
		// keys, more uncached lookups than an address's share (429
		// too_many_lookups), which throttle_test.go tests.
		c.MaxLookups = -1
	})
	const workers = 32
	dur := 3 * time.Second
	if testing.Short() {
		dur = time.Second
	}
	stop := time.Now().Add(dur)
	var (
		wg                         sync.WaitGroup
		created, verified, revoked atomic.Int64
		mu                         sync.Mutex
		live                       = map[string]string{} // id -> key, not revoked
		failures                   []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var own []CreatedKey
			for n := 0; time.Now().Before(stop); n++ {
				w := h.Admin("POST", "/keys", fmt.Sprintf(`{"name":"w%d-%d"}`, i, n))
				if w.Code != 201 {
					fail("create: %d %s", w.Code, w.Body)
					return
				}
				var k CreatedKey
				if err := json.Unmarshal(w.Body.Bytes(), &k); err != nil { // not decode: t.Fatal belongs to the test's goroutine
					fail("decode the created key: %v", err)
					return
				}
				created.Add(1)
				own = append(own, k)
				for _, o := range own[max(0, len(own)-3):] {
					if w := h.Secure(o.Secret); w.Code != 200 {
						fail("verify %s: %d %s", o.ID, w.Code, w.Body)
						return
					}
					verified.Add(1)
				}
				if n%3 == 2 {
					victim := own[0]
					own = own[1:]
					if w := h.Admin("POST", "/keys/"+victim.ID+"/revoke", ""); w.Code != 200 {
						fail("revoke: %d %s", w.Code, w.Body)
						return
					}
					revoked.Add(1)
					if w := h.Secure(victim.Secret); w.Code != 401 {
						fail("revoked key %s still works: %d", victim.ID, w.Code)
						return
					}
				}
			}
			mu.Lock()
			for _, o := range own {
				live[o.ID] = o.Secret
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d failures, first: %s", len(failures), failures[0])
	}
	if created.Load() < workers {
		t.Fatalf("only %d keys created", created.Load())
	}
	var l keyList
	testkit.Decode(t, h.Admin("GET", "/keys?limit=1", ""), &l)
	if l.Total != created.Load() {
		t.Fatalf("store holds %d keys, %d were created", l.Total, created.Load())
	}
	testkit.Decode(t, h.Admin("GET", "/keys?status=revoked&limit=1", ""), &l)
	if l.Total != revoked.Load() {
		t.Fatalf("store holds %d revoked keys, %d were revoked", l.Total, revoked.Load())
	}
	for id, k := range live {
		if w := h.Secure(k); w.Code != 200 {
			t.Fatalf("live key %s: %d", id, w.Code)
		}
	}
	if err := h.Guard.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var (
		counted int64
		rows    int64
	)
	for offset := 0; ; offset += 500 {
		var sum usageSummaryList
		testkit.Decode(t, h.Admin("GET", fmt.Sprintf("/usage?limit=500&offset=%d", offset), ""), &sum)
		for _, r := range sum.Usage {
			counted += r.TotalRequests
		}
		rows += int64(len(sum.Usage))
		if len(sum.Usage) < 500 {
			if rows != sum.Total {
				t.Fatalf("paged through %d usage rows of %d", rows, sum.Total)
			}
			break
		}
	}
	if counted != verified.Load()+int64(len(live)) {
		t.Fatalf("usage counted %d requests, %d succeeded", counted, verified.Load()+int64(len(live)))
	}
	t.Logf("created %d, verified %d, revoked %d", created.Load(), verified.Load(), revoked.Load())
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	env := func(k, v string) func(string) (string, bool) {
		return func(name string) (string, bool) {
			if name == k {
				return v, true
			}
			return "", false
		}
	}
	dir := t.TempDir()
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"short secret", Config{AdminSecret: "short"}, "at least 16"},
		{"short secret from env", Config{LookupEnv: env("GINKEY_SECRET", "short")}, "at least 16"},
		{"bad TTL env", Config{LookupEnv: env("GINKEY_TTL", "fortnight")}, "GINKEY_TTL"},
		{"negative TTL env", Config{LookupEnv: env("GINKEY_TTL", "-5h")}, "GINKEY_TTL"},
		{"bad key prefix", Config{KeyPrefix: "Bad_"}, "KeyPrefix"},
		{"bad table prefix", Config{TablePrefix: "x; DROP"}, "TablePrefix"},
		{"bad source", Config{Sources: []string{"header:"}}, "Name"},
		{"bad realm", Config{Realm: `a"b`}, "Realm"},
		{"unopenable db", Config{DBPath: dir + "/no/such/dir/x.db"}, "SQLite"},
	}
	for _, tc := range cases {
		cfg := tc.cfg
		if cfg.LookupEnv == nil {
			cfg.LookupEnv = testkit.NoEnv
		}
		if cfg.DBPath == "" {
			cfg.DBPath = dir + "/ok.db"
		}
		g, err := New(cfg)
		if err == nil {
			_ = g.Close()
			t.Fatalf("%s: New succeeded", tc.name)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: error %q does not mention %q", tc.name, err, tc.want)
		}
	}
}

func TestEnvironmentFillsOnlyWhatCodeLeftUnset(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vars := map[string]string{"GINKEY_DB": dir + "/env.db", "GINKEY_SECRET": "env-secret-0123456789", "GINKEY_TTL": "1h"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	g, err := New(Config{LookupEnv: lookup, Logger: slogDiscard()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = g.Close() }()
	if g.ttl != time.Hour || !g.adminAuthorized("env-secret-0123456789") {
		t.Fatalf("env not applied: ttl %v", g.ttl)
	}
	if _, err := os.Stat(dir + "/env.db"); err != nil {
		t.Fatalf("GINKEY_DB not used: %v", err)
	}
	g2, err := New(Config{LookupEnv: lookup, DBPath: dir + "/code.db", AdminSecret: "code-secret-0123456789", TTL: 2 * time.Hour, Logger: slogDiscard()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = g2.Close() }()
	if g2.ttl != 2*time.Hour || g2.adminAuthorized("env-secret-0123456789") || !g2.adminAuthorized("code-secret-0123456789") {
		t.Fatal("env overrode code")
	}
}

func TestCallersDatabaseIsMigratedWithPrefixAndNotClosed(t *testing.T) {
	t.Parallel()
	db, err := gorm.Open(sqlite.Open(t.TempDir()+"/own.db"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"app_", "other_"} {
		h := newHarness(t, func(c *Config) { c.DB = db; c.TablePrefix = prefix })
		k := h.createKey(`{}`)
		if w := h.Secure(k.Secret); w.Code != 200 {
			t.Fatalf("%s: %d", prefix, w.Code)
		}
		if err := h.Guard.Close(); err != nil {
			t.Fatal(err)
		}
		if !db.Migrator().HasTable(prefix+"keys") || !db.Migrator().HasTable(prefix+"usage") {
			t.Fatalf("tables with prefix %s missing", prefix)
		}
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.Ping(); err != nil {
		t.Fatalf("the caller's DB was closed: %v", err)
	}
	var n int64
	if err := db.Table("app_keys").Count(&n).Error; err != nil || n != 1 {
		t.Fatalf("app_keys holds %d (%v)", n, err)
	}
}

func TestCloseIsIdempotentAndFlushes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.FlushInterval = time.Hour })
	k := h.createKey(`{}`)
	h.Secure(k.Secret)
	h.Secure(k.Secret)
	if err := h.Guard.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Guard.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	h.Serve(New(Config{DBPath: h.DBPath, AdminSecret: testSecret, LookupEnv: testkit.NoEnv, Logger: slogDiscard()}))
	var rep UsageReport
	testkit.Decode(t, h.Admin("GET", "/keys/"+k.ID+"/usage", ""), &rep)
	if rep.TotalRequests != 2 {
		t.Fatalf("usage after Close and restart: %d, want 2", rep.TotalRequests)
	}
}

// Over a real connection a refusal is complete: status, WWW-Authenticate,
// a JSON content type and the Content-Length net/http derives from the
// pre-rendered body. Both a malformed key and a well-formed unknown one
// (refused the second time from the table of unknown keys).
func TestRefusalOverARealConnection(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	srv := httptest.NewServer(h.Engine)
	defer srv.Close()
	unknown := unknownKey(t, h)
	for _, key := range []string{"gk_not-a-key", unknown, unknown} {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/secure", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-API-Key", key)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusUnauthorized || resp.ContentLength != int64(len(body)) || len(body) == 0 {
			t.Fatalf("status %d, Content-Length %d, body %d bytes: %s", resp.StatusCode, resp.ContentLength, len(body), body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		if wa := resp.Header.Get("WWW-Authenticate"); !strings.Contains(wa, `error_description="key_invalid"`) {
			t.Fatalf("WWW-Authenticate %q", wa)
		}
		var eb ErrorBody
		if err := json.Unmarshal(body, &eb); err != nil || eb.Error.Code != "key_invalid" {
			t.Fatalf("body %s (%v)", body, err)
		}
	}
}
