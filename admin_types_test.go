package ginkey

import (
	"net/http"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/envconfig"
	"github.com/ginkey/ginkey/internal/testkit"
)

// The zero values a generated client sends for fields it was not given
// (go-swagger's zero strfmt.DateTime, an empty or all-null limit object)
// mean what leaving the field out means.
func TestCreateAndRenewTakeAGeneratedClientsZeroValuesAsAbsent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, body := range []string{
		`{"name":"a","expires_at":"0001-01-01T00:00:00Z","rate_limit":{},"quota":{}}`,
		`{"name":"b","expires_at":"0001-01-01T00:00:00.000Z","rate_limit":{"per":null,"requests":null},"quota":{"per":null,"requests":null}}`,
		`{"name":"c","expires_at":null,"rate_limit":null,"quota":null}`,
	} {
		before := time.Now()
		k := h.createKey(body)
		if k.RateLimit != nil || k.Quota != nil {
			t.Errorf("%s: rate_limit %v, quota %v; want the defaults (null)", body, k.RateLimit, k.Quota)
		}
		if k.ExpiresAt == nil || k.ExpiresAt.Before(before.Add(envconfig.DefaultTTL-time.Minute)) {
			t.Errorf("%s: expires_at %v; want one TTL from now", body, k.ExpiresAt)
		}
		w := h.Admin(http.MethodPost, "/keys/"+k.ID+"/renew", `{"expires_at":"0001-01-01T00:00:00Z"}`)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: renew with the zero time: %d %s", body, w.Code, w.Body)
		}
	}
	// A limit with only some fields given is still the API's to refuse.
	for _, body := range []string{`{"rate_limit":{"per":"1m"}}`, `{"quota":{"requests":5}}`, `{"expires_at":"0001-01-01T00:00:00+01:00"}`} {
		if w := h.Admin(http.MethodPost, "/keys", body); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s; want 400", body, w.Code, w.Body)
		}
	}
}

// Everything a create or renew can mean is sendable without a JSON null:
// a never-expiring key, renewal by one TTL (no body or {}) and to never.
func TestNeverExpiresAndTheDefaultTTLNeedNoNull(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{"name":"forever","never_expires":true}`)
	if k.ExpiresAt != nil {
		t.Fatalf("never_expires: expires_at %v; want null", k.ExpiresAt)
	}
	for _, body := range []string{"", `{}`} {
		var got Key
		w := h.Admin(http.MethodPost, "/keys/"+k.ID+"/renew", body)
		if w.Code != http.StatusOK {
			t.Fatalf("renew %q: %d %s", body, w.Code, w.Body)
		}
		testkit.Decode(t, w, &got)
		if got.ExpiresAt == nil || time.Until(*got.ExpiresAt) < envconfig.DefaultTTL-time.Minute {
			t.Errorf("renew %q: expires_at %v; want one TTL from now", body, got.ExpiresAt)
		}
	}
	var got Key
	w := h.Admin(http.MethodPost, "/keys/"+k.ID+"/renew", `{"never_expires":true}`)
	testkit.Decode(t, w, &got)
	if w.Code != http.StatusOK || got.ExpiresAt != nil {
		t.Errorf("renew never_expires: %d, expires_at %v; want 200, null", w.Code, got.ExpiresAt)
	}
}
