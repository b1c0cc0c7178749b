package clienttest

// The key lifecycle through the client go-swagger generates from the
// Swagger 2.0 document (swagger2/).

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-openapi/runtime"
	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"

	"github.com/ginkey/ginkey/internal/clienttest/swagger2/client"
	"github.com/ginkey/ginkey/internal/clienttest/swagger2/client/example"
	"github.com/ginkey/ginkey/internal/clienttest/swagger2/client/ginkey"
	"github.com/ginkey/ginkey/internal/clienttest/swagger2/models"
)

// timeOf is go-swagger's nullable date-time as a time (zero for null).
func timeOf(d *strfmt.DateTime) time.Time {
	if d == nil {
		return time.Time{}
	}
	return time.Time(*d)
}

func TestSwagger2ClientLifecycle(t *testing.T) {
	s := startExample(t)
	c := client.New(httptransport.New(s.host, "/", []string{"http"}), strfmt.Default)
	admin := httptransport.APIKeyAuth("X-Admin-Secret", "header", adminSecret)
	ttl := 360 * time.Hour // the example's default Config.TTL

	t.Run("create with only a name", func(t *testing.T) {
		res, err := c.Ginkey.GinkeyCreateKey(ginkey.NewGinkeyCreateKeyParams().WithBody(&models.GinkeyCreateKeyRequest{Name: "only a name"}), admin)
		if err != nil {
			t.Fatal(err)
		}
		k := res.Payload
		// rate_limit and quota null (the guard's default, none): go-swagger
		// decodes them into empty structs whose required fields stay nil.
		if !strings.HasPrefix(k.Key, "gk_") || k.ID == "" || k.Name != "only a name" || k.Status != "active" ||
			k.RateLimit.Requests != nil || k.Quota.Requests != nil || k.RevokedAt != nil || k.LastUsedAt != nil || time.Time(k.CreatedAt).IsZero() {
			t.Errorf("created key: %+v", k)
		}
		expectAround(t, "expires_at", timeOf(k.ExpiresAt), time.Now().Add(ttl))
	})

	t.Run("create never expiring", func(t *testing.T) {
		res, err := c.Ginkey.GinkeyCreateKey(ginkey.NewGinkeyCreateKeyParams().WithBody(&models.GinkeyCreateKeyRequest{Name: "forever", NeverExpires: true}), admin)
		if err != nil {
			t.Fatal(err)
		}
		if res.Payload.ExpiresAt != nil || s.stored(t, res.Payload.ID)["expires_at"] != nil {
			t.Errorf("a never-expiring key expires: %v", res.Payload.ExpiresAt)
		}
	})

	var full *models.GinkeyCreatedKey
	t.Run("create with every field", func(t *testing.T) {
		body := &models.GinkeyCreateKeyRequest{
			Name: "every field", Owner: "team-swagger2", Scopes: []string{"items:read", "items:write"},
			AllowedIps: []string{"127.0.0.1", "10.0.0.0/8"}, Metadata: map[string]any{"env": "test"},
			ExpiresAt: ptr(strfmt.DateTime(time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC))),
			RateLimit: &models.GinkeyRateLimit{Requests: ptr[int64](100), Per: ptr("1m")},
			Quota:     &models.GinkeyQuota{Requests: ptr[int64](10000), Per: ptr("day")},
		}
		res, err := c.Ginkey.GinkeyCreateKey(ginkey.NewGinkeyCreateKeyParams().WithBody(body), admin)
		if err != nil {
			t.Fatal(err)
		}
		full = res.Payload
		if full.Owner != "team-swagger2" || !slices.Equal(full.Scopes, body.Scopes) || len(full.AllowedIps) != 2 ||
			deref(full.RateLimit.Requests) != 100 || deref(full.RateLimit.Per) != "1m" || deref(full.Quota.Requests) != 10000 || deref(full.Quota.Per) != "day" ||
			!timeOf(full.ExpiresAt).Equal(time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC)) || full.Metadata.(map[string]any)["env"] != "test" {
			t.Errorf("created key does not carry every field: %+v", full)
		}
	})

	t.Run("list with filters", func(t *testing.T) {
		if full == nil {
			t.Skip("needs the key with every field")
		}
		owner, status, limit := "team-swagger2", "active", int64(10)
		res, err := c.Ginkey.GinkeyListKeys(ginkey.NewGinkeyListKeysParams().WithOwner(&owner).WithStatus(&status).WithLimit(&limit), admin)
		if err != nil {
			t.Fatal(err)
		}
		if res.Payload.Total != 1 || len(res.Payload.Keys) != 1 || res.Payload.Keys[0].ID != full.ID || deref(res.Payload.Keys[0].Quota.Per) != "day" {
			t.Errorf("list owner=%s: %+v", owner, res.Payload)
		}
		prefix := full.Prefix
		res, err = c.Ginkey.GinkeyListKeys(ginkey.NewGinkeyListKeysParams().WithPrefix(&prefix), admin)
		if err != nil || res.Payload.Total != 1 || res.Payload.Keys[0].Name != "every field" {
			t.Errorf("list prefix=%s: %v %+v", prefix, err, res)
		}
	})

	t.Run("patch", func(t *testing.T) {
		k := s.fixture(t, `{"name":"to patch","scopes":["items:read"],"rate_limit":{"requests":5,"per":"1s"}}`)
		res, err := c.Ginkey.GinkeyUpdateKey(ginkey.NewGinkeyUpdateKeyParams().WithID(k.ID).
			WithBody(&models.GinkeyPatchKeyRequest{Name: ptr("patched"), Scopes: []string{"items:write"}}), admin)
		if err != nil {
			t.Fatal(err)
		}
		if res.Payload.Name != "patched" || !slices.Equal(res.Payload.Scopes, []string{"items:write"}) || deref(res.Payload.RateLimit.Requests) != 5 {
			t.Errorf("patched key: %+v", res.Payload)
		}
	})

	t.Run("patch resets rate_limit", func(t *testing.T) {
		k := s.fixture(t, `{"name":"reset me","rate_limit":{"requests":5,"per":"1s"}}`)
		res, err := c.Ginkey.GinkeyUpdateKey(ginkey.NewGinkeyUpdateKeyParams().WithID(k.ID).
			WithBody(&models.GinkeyPatchKeyRequest{ClearRateLimit: true}), admin)
		if err != nil {
			t.Fatal(err)
		}
		if res.Payload.RateLimit.Requests != nil || s.stored(t, k.ID)["rate_limit"] != nil {
			t.Errorf("rate_limit not reset: %+v, stored %v", res.Payload.RateLimit, s.stored(t, k.ID)["rate_limit"])
		}
	})

	// go-swagger's clients send a nil slice as null (left alone): the
	// document's x-omitempty false on allowed_ips is what lets an empty
	// one go out as [], which lifts the allow-list.
	t.Run("patch lifts allowed_ips and clears quota", func(t *testing.T) {
		k := s.fixture(t, `{"name":"fenced","allowed_ips":["10.0.0.0/8"],"quota":{"requests":9,"per":"day"}}`)
		res, err := c.Ginkey.GinkeyUpdateKey(ginkey.NewGinkeyUpdateKeyParams().WithID(k.ID).
			WithBody(&models.GinkeyPatchKeyRequest{AllowedIps: []string{}, ClearQuota: true}), admin)
		if err != nil {
			t.Fatal(err)
		}
		stored := s.stored(t, k.ID)
		ips, _ := stored["allowed_ips"].([]any) // [] or null
		if len(res.Payload.AllowedIps) != 0 || res.Payload.Quota.Requests != nil || len(ips) != 0 || stored["quota"] != nil {
			t.Errorf("allow-list or quota left: %+v, stored %v", res.Payload, stored)
		}
	})

	t.Run("rotate with grace", func(t *testing.T) {
		k := s.fixture(t, `{"name":"to rotate"}`)
		res, err := c.Ginkey.GinkeyRotateKey(ginkey.NewGinkeyRotateKeyParams().WithID(k.ID).WithBody(&models.GinkeyRotateRequest{Grace: "1h"}), admin)
		if err != nil {
			t.Fatal(err)
		}
		n := res.Payload
		if n.RotatedFrom != k.ID || !strings.HasPrefix(n.Key, "gk_") || n.Key == k.Key || n.Name != "to rotate" {
			t.Errorf("rotated key: %+v", n)
		}
		old := s.stored(t, k.ID)
		if old["rotated_to"] != n.ID || old["status"] != "active" {
			t.Errorf("the old key after a rotation with grace: %v", old)
		}
		expectAround(t, "the old key's revoked_at", old["revoked_at"], time.Now().Add(time.Hour))
	})

	t.Run("revoke", func(t *testing.T) {
		k := s.fixture(t, `{"name":"to revoke"}`)
		res, err := c.Ginkey.GinkeyRevokeKey(ginkey.NewGinkeyRevokeKeyParams().WithID(k.ID), admin)
		if err != nil {
			t.Fatal(err)
		}
		if res.Payload.Status != "revoked" || res.Payload.ID != k.ID {
			t.Errorf("revoked key: %+v", res.Payload)
		}
		expectAround(t, "revoked_at", timeOf(res.Payload.RevokedAt), time.Now())
	})

	t.Run("renew with the default TTL", func(t *testing.T) {
		k := s.fixture(t, `{"name":"to renew","expires_at":"2030-01-01T00:00:00Z"}`)
		res, err := c.Ginkey.GinkeyRenewKey(ginkey.NewGinkeyRenewKeyParams().WithID(k.ID).WithBody(&models.GinkeyRenewRequest{}), admin)
		if err != nil {
			t.Fatal(err)
		}
		expectAround(t, "expires_at", timeOf(res.Payload.ExpiresAt), time.Now().Add(ttl))
	})

	t.Run("renew never expiring", func(t *testing.T) {
		k := s.fixture(t, `{"name":"to renew for ever"}`)
		res, err := c.Ginkey.GinkeyRenewKey(ginkey.NewGinkeyRenewKeyParams().WithID(k.ID).WithBody(&models.GinkeyRenewRequest{NeverExpires: true}), admin)
		if err != nil {
			t.Fatal(err)
		}
		if res.Payload.ExpiresAt != nil || s.stored(t, k.ID)["expires_at"] != nil {
			t.Errorf("renewed for ever but expires: %v", res.Payload.ExpiresAt)
		}
	})

	t.Run("guarded routes, the key in each documented place", func(t *testing.T) {
		k := s.fixture(t, `{"name":"caller","scopes":["items:read","items:write"]}`)
		for name, auth := range map[string]runtime.ClientAuthInfoWriter{
			"header": httptransport.APIKeyAuth("X-API-Key", "header", k.Key),
			"query":  httptransport.APIKeyAuth("api_key", "query", k.Key),
			// APIKeyBearer: an apiKey scheme for the Authorization header.
			"bearer": httptransport.APIKeyAuth("Authorization", "header", "Bearer "+k.Key),
		} {
			sec, err := c.Example.ExampleSecure(example.NewExampleSecureParams(), auth)
			if err != nil || sec.Payload.Message != "This is a secure endpoint" {
				t.Errorf("GET /secure, key in the %s: %v %+v", name, err, sec)
			}
			item, err := c.Example.ExampleCreateItem(example.NewExampleCreateItemParams().WithBody(&models.MainNewItem{Name: ptr("from " + name)}), auth)
			if err != nil || item.Payload.ID < 1 || item.Payload.Name != "from "+name {
				t.Errorf("POST /items, key in the %s: %v %+v", name, err, item)
			}
		}
		items, err := c.Example.ExampleListItems(example.NewExampleListItemsParams(), httptransport.APIKeyAuth("X-API-Key", "header", k.Key))
		if err != nil || len(items.Payload) != 3 {
			t.Errorf("GET /items: %v %+v", err, items)
		}
		if _, err := c.Example.ExampleSecure(example.NewExampleSecureParams(), nil); !isStatus(err, http.StatusUnauthorized) {
			t.Errorf("GET /secure without a key: %v, want the documented 401", err)
		}

		days := int64(7)
		usage, err := c.Ginkey.GinkeyKeyUsage(ginkey.NewGinkeyKeyUsageParams().WithID(k.ID).WithDays(&days), admin)
		if err != nil {
			t.Fatal(err)
		}
		if u := usage.Payload; u.ID != k.ID || u.TotalRequests != 7 || deref(u.Outcomes.Valid) != 7 || deref(u.Outcomes.RateLimited) != 0 ||
			len(u.Daily) == 0 || u.LastUsedAt == nil || time.Time(*u.LastUsedAt).IsZero() {
			t.Errorf("usage of the caller key: %+v", usage.Payload)
		}
		summary, err := c.Ginkey.GinkeyUsageSummary(ginkey.NewGinkeyUsageSummaryParams(), admin)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(summary.Payload.Usage, func(u *models.GinkeyUsageSummary) bool { return u.ID == k.ID })
		if i < 0 || summary.Payload.Usage[i].TotalRequests != 7 || deref(summary.Payload.Usage[i].Outcomes.Valid) != 7 || summary.Payload.Usage[i].Name != "caller" {
			t.Errorf("usage summary: %+v", summary.Payload)
		}
	})

	t.Run("audit log", func(t *testing.T) {
		k := s.fixture(t, `{"name":"audited"}`)
		s.call(t, http.MethodPost, "/auth/keys/"+k.ID+"/revoke", "")
		action := "revoke"
		res, err := c.Ginkey.GinkeyAuditLog(ginkey.NewGinkeyAuditLogParams().WithKeyID(&k.ID).WithAction(&action), admin)
		if err != nil {
			t.Fatal(err)
		}
		if res.Payload.Total != 1 || len(res.Payload.Entries) != 1 {
			t.Fatalf("audit log of %s: %+v", k.ID, res.Payload)
		}
		e := res.Payload.Entries[0]
		if e.Action != "revoke" || e.KeyID != k.ID || e.Outcome != "ok" || e.Principal != "secret" || !strings.HasPrefix(e.Actor, "http:") {
			t.Errorf("audit entry: %+v", e)
		}
	})

	t.Run("delete", func(t *testing.T) {
		k := s.fixture(t, `{"name":"to delete"}`)
		if _, err := c.Ginkey.GinkeyDeleteKey(ginkey.NewGinkeyDeleteKeyParams().WithID(k.ID), admin); err != nil {
			t.Fatal(err)
		}
		_, err := c.Ginkey.GinkeyGetKey(ginkey.NewGinkeyGetKeyParams().WithID(k.ID), admin)
		var nf *ginkey.GinkeyGetKeyNotFound
		if !errors.As(err, &nf) || nf.Payload.Error.Code != "not_found" {
			t.Errorf("GET a deleted key: %v, want the documented 404 not_found", err)
		}
	})
}
