package ginkey

import (
	"net/http"
	"testing"

	"github.com/ginkey/ginkey/internal/testkit"
)

// A generated client cannot send null: clear_rate_limit and clear_quota
// reset what "rate_limit": null and "quota": null reset (both still work),
// and the empty or all-null limit objects such a client sends for a limit it
// was not given leave the key's limit alone.
func TestPatchResetsLimitsWithoutNullAndIgnoresEmptyLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const limited = `{"name":"l","rate_limit":{"requests":5,"per":"1m"},"quota":{"requests":9,"per":"day"}}`
	patch := func(id, body string) Key {
		t.Helper()
		w := h.Admin(http.MethodPatch, "/keys/"+id, body)
		if w.Code != http.StatusOK {
			t.Fatalf("PATCH %s: %d %s", body, w.Code, w.Body)
		}
		var k Key
		testkit.Decode(t, w, &k)
		return k
	}
	for _, body := range []string{
		`{"name":"m","rate_limit":{},"quota":{}}`,
		`{"name":"m","rate_limit":{"per":null,"requests":null},"quota":{"per":null,"requests":null}}`,
	} {
		k := patch(h.createKey(limited).ID, body)
		if k.Name != "m" || k.RateLimit == nil || k.RateLimit.Requests != 5 || k.Quota == nil || k.Quota.Requests != 9 {
			t.Errorf("%s: name %q, rate_limit %v, quota %v; want the name changed and the limits kept", body, k.Name, k.RateLimit, k.Quota)
		}
	}
	for _, body := range []string{
		`{"clear_rate_limit":true,"clear_quota":true}`,
		`{"rate_limit":null,"quota":null}`,
		`{"rate_limit":null,"clear_rate_limit":true,"quota":{},"clear_quota":true}`,
	} {
		k := patch(h.createKey(limited).ID, body)
		if k.RateLimit != nil || k.Quota != nil {
			t.Errorf("%s: rate_limit %v, quota %v; want both cleared", body, k.RateLimit, k.Quota)
		}
	}
	id := h.createKey(limited).ID
	for _, body := range []string{
		`{"rate_limit":{"requests":1,"per":"1s"},"clear_rate_limit":true}`,
		`{"quota":{"requests":1,"per":"day"},"clear_quota":true}`,
		`{"rate_limit":{},"quota":{}}`, // nothing given
		`{"clear_rate_limit":false}`,   // nothing given
	} {
		if w := h.Admin(http.MethodPatch, "/keys/"+id, body); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s; want 400", body, w.Code, w.Body)
		}
	}
}
