package clienttest

// The key lifecycle through the client oapi-codegen generates from the
// OpenAPI 3.0 document (oapi3/).

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/clienttest/oapi3"
)

// answered fails t unless the response has the status and its body decoded
// into the generated type (decoded non-nil).
func answered(t *testing.T, what string, resp interface{ StatusCode() int }, body []byte, status int, decoded bool) {
	t.Helper()
	if resp.StatusCode() != status || !decoded {
		t.Fatalf("%s: %d %s, want %d decoded into the generated type", what, resp.StatusCode(), body, status)
	}
}

// header, query and bearer put a key where the guard looks for it.
func withKey(place, key string) oapi3.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		switch place {
		case "header":
			req.Header.Set("X-API-Key", key)
		case "query":
			q := req.URL.Query()
			q.Set("api_key", key)
			req.URL.RawQuery = q.Encode()
		case "bearer":
			req.Header.Set("Authorization", "Bearer "+key)
		}
		return nil
	}
}

func TestOpenAPI3ClientLifecycle(t *testing.T) {
	s := startExample(t)
	c, err := oapi3.NewClientWithResponses(s.base, oapi3.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		if strings.HasPrefix(req.URL.Path, "/auth/") {
			req.Header.Set("X-Admin-Secret", adminSecret)
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ttl := 360 * time.Hour // the example's default Config.TTL

	t.Run("create with only a name", func(t *testing.T) {
		res, err := c.GinkeyCreateKeyWithResponse(ctx, oapi3.GinkeyCreateKeyRequest{Name: ptr("only a name")})
		if err != nil {
			t.Fatal(err)
		}
		answered(t, "POST /auth/keys", res, res.Body, http.StatusCreated, res.JSON201 != nil)
		k := res.JSON201
		if !strings.HasPrefix(deref(k.Key), "gk_") || deref(k.Id) == "" || deref(k.Name) != "only a name" || deref(k.Status) != oapi3.GinkeyCreatedKeyStatusActive ||
			k.RateLimit != nil || k.Quota != nil || k.RevokedAt != nil || k.LastUsedAt != nil {
			t.Errorf("created key: %s", res.Body)
		}
		expectAround(t, "expires_at", k.ExpiresAt, time.Now().Add(ttl))
	})

	t.Run("create never expiring", func(t *testing.T) {
		res, err := c.GinkeyCreateKeyWithResponse(ctx, oapi3.GinkeyCreateKeyRequest{Name: ptr("forever"), NeverExpires: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		answered(t, "POST /auth/keys", res, res.Body, http.StatusCreated, res.JSON201 != nil)
		if res.JSON201.ExpiresAt != nil || s.stored(t, deref(res.JSON201.Id))["expires_at"] != nil {
			t.Errorf("a never-expiring key expires: %s", res.Body)
		}
	})

	var full *oapi3.GinkeyCreatedKey
	t.Run("create with every field", func(t *testing.T) {
		body := oapi3.GinkeyCreateKeyRequest{
			Name: ptr("every field"), Owner: ptr("team-oapi3"), Scopes: &[]string{"items:read", "items:write"},
			AllowedIps: &[]string{"127.0.0.1", "10.0.0.0/8"}, Metadata: &map[string]any{"env": "test"},
			ExpiresAt: ptr(time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC)),
			RateLimit: &oapi3.GinkeyRateLimit{Requests: 100, Per: oapi3.GinkeyRateLimitPer("1m")},
			Quota:     &oapi3.GinkeyQuota{Requests: 10000, Per: oapi3.GinkeyQuotaPer("day")},
		}
		res, err := c.GinkeyCreateKeyWithResponse(ctx, body)
		if err != nil {
			t.Fatal(err)
		}
		answered(t, "POST /auth/keys", res, res.Body, http.StatusCreated, res.JSON201 != nil)
		full = res.JSON201
		if deref(full.Owner) != "team-oapi3" || !slices.Equal(deref(full.Scopes), *body.Scopes) || len(deref(full.AllowedIps)) != 2 ||
			full.RateLimit == nil || full.RateLimit.Requests != 100 || full.RateLimit.Per != oapi3.GinkeyRateLimitPer("1m") ||
			full.Quota == nil || full.Quota.Requests != 10000 || full.Quota.Per != oapi3.GinkeyQuotaPer("day") ||
			!deref(full.ExpiresAt).Equal(time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC)) || deref(full.Metadata)["env"] != "test" {
			t.Errorf("created key does not carry every field: %s", res.Body)
		}
	})

	t.Run("list with filters", func(t *testing.T) {
		if full == nil {
			t.Skip("needs the key with every field")
		}
		res, err := c.GinkeyListKeysWithResponse(ctx, &oapi3.GinkeyListKeysParams{Owner: ptr("team-oapi3"), Status: ptr(oapi3.GinkeyListKeysParamsStatusActive), Limit: ptr(10)})
		if err != nil {
			t.Fatal(err)
		}
		answered(t, "GET /auth/keys", res, res.Body, http.StatusOK, res.JSON200 != nil)
		if keys := deref(res.JSON200.Keys); deref(res.JSON200.Total) != 1 || len(keys) != 1 || deref(keys[0].Id) != deref(full.Id) || keys[0].Quota == nil {
			t.Errorf("list owner=team-oapi3: %s", res.Body)
		}
		res, err = c.GinkeyListKeysWithResponse(ctx, &oapi3.GinkeyListKeysParams{Prefix: full.Prefix})
		if err != nil || res.JSON200 == nil || deref(res.JSON200.Total) != 1 || deref(deref(res.JSON200.Keys)[0].Name) != "every field" {
			t.Errorf("list prefix=%s: %v %s", deref(full.Prefix), err, res.Body)
		}
	})

	t.Run("patch", func(t *testing.T) {
		k := s.fixture(t, `{"name":"to patch","scopes":["items:read"],"rate_limit":{"requests":5,"per":"1s"}}`)
		res, err := c.GinkeyUpdateKeyWithResponse(ctx, k.ID, oapi3.GinkeyPatchKeyRequest{Name: ptr("patched"), Scopes: &[]string{"items:write"}})
		if err != nil {
			t.Fatal(err)
		}
		answered(t, "PATCH /auth/keys/{id}", res, res.Body, http.StatusOK, res.JSON200 != nil)
		if p := res.JSON200; deref(p.Name) != "patched" || !slices.Equal(deref(p.Scopes), []string{"items:write"}) || p.RateLimit == nil || p.RateLimit.Requests != 5 {
			t.Errorf("patched key: %s", res.Body)
		}
	})

	t.Run("patch resets rate_limit", func(t *testing.T) {
		k := s.fixture(t, `{"name":"reset me","rate_limit":{"requests":5,"per":"1s"}}`)
		res, err := c.GinkeyUpdateKeyWithResponse(ctx, k.ID, oapi3.GinkeyPatchKeyRequest{ClearRateLimit: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		answered(t, "PATCH /auth/keys/{id}", res, res.Body, http.StatusOK, res.JSON200 != nil)
		if res.JSON200.RateLimit != nil || s.stored(t, k.ID)["rate_limit"] != nil {
			t.Errorf("rate_limit not reset: %s", res.Body)
		}
	})

	t.Run("patch lifts allowed_ips and clears quota", func(t *testing.T) {
		k := s.fixture(t, `{"name":"fenced","allowed_ips":["10.0.0.0/8"],"quota":{"requests":9,"per":"day"}}`)
		res, err := c.GinkeyUpdateKeyWithResponse(ctx, k.ID, oapi3.GinkeyPatchKeyRequest{AllowedIps: &[]string{}, ClearQuota: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		answered(t, "PATCH /auth/keys/{id}", res, res.Body, http.StatusOK, res.JSON200 != nil)
		stored := s.stored(t, k.ID)
		ips, _ := stored["allowed_ips"].([]any) // [] or null
		if len(deref(res.JSON200.AllowedIps)) != 0 || res.JSON200.Quota != nil || len(ips) != 0 || stored["quota"] != nil {
			t.Errorf("allow-list or quota left: %s, stored %v", res.Body, stored)
		}
	})

	t.Run("rotate with grace", func(t *testing.T) {
		k := s.fixture(t, `{"name":"to rotate"}`)
		res, err := c.GinkeyRotateKeyWithResponse(ctx, k.ID, oapi3.GinkeyRotateRequest{Grace: ptr("1h")})
		if err != nil {
			t.Fatal(err)
		}
		answered(t, "POST /auth/keys/{id}/rotate", res, res.Body, http.StatusCreated, res.JSON201 != nil)
		n := res.JSON201
		if deref(n.RotatedFrom) != k.ID || !strings.HasPrefix(deref(n.Key), "gk_") || deref(n.Key) == k.Key || deref(n.Name) != "to rotate" {
			t.Errorf("rotated key: %s", res.Body)
		}
		old := s.stored(t, k.ID)
		if old["rotated_to"] != deref(n.Id) || old["status"] != "active" {
			t.Errorf("the old key after a rotation with grace: %v", old)
		}
		expectAround(t, "the old key's revoked_at", old["revoked_at"], time.Now().Add(time.Hour))
	})

	t.Run("revoke", func(t *testing.T) {
		k := s.fixture(t, `{"name":"to revoke"}`)
		res, err := c.GinkeyRevokeKeyWithResponse(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		answered(t, "POST /auth/keys/{id}/revoke", res, res.Body, http.StatusOK, res.JSON200 != nil)
		if deref(res.JSON200.Status) != oapi3.GinkeyKeyStatusRevoked || deref(res.JSON200.Id) != k.ID {
			t.Errorf("revoked key: %s", res.Body)
		}
		expectAround(t, "revoked_at", res.JSON200.RevokedAt, time.Now())
	})

	t.Run("renew with the default TTL", func(t *testing.T) {
		k := s.fixture(t, `{"name":"to renew","expires_at":"2030-01-01T00:00:00Z"}`)
		res, err := c.GinkeyRenewKeyWithResponse(ctx, k.ID, oapi3.GinkeyRenewRequest{})
		if err != nil {
			t.Fatal(err)
		}
		answered(t, "POST /auth/keys/{id}/renew", res, res.Body, http.StatusOK, res.JSON200 != nil)
		expectAround(t, "expires_at", res.JSON200.ExpiresAt, time.Now().Add(ttl))
	})

	t.Run("renew never expiring", func(t *testing.T) {
		k := s.fixture(t, `{"name":"to renew for ever"}`)
		res, err := c.GinkeyRenewKeyWithResponse(ctx, k.ID, oapi3.GinkeyRenewRequest{NeverExpires: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		answered(t, "POST /auth/keys/{id}/renew", res, res.Body, http.StatusOK, res.JSON200 != nil)
		if res.JSON200.ExpiresAt != nil || s.stored(t, k.ID)["expires_at"] != nil {
			t.Errorf("renewed for ever but expires: %s", res.Body)
		}
	})

	t.Run("guarded routes, the key in each documented place", func(t *testing.T) {
		k := s.fixture(t, `{"name":"caller","scopes":["items:read","items:write"]}`)
		for _, place := range []string{"header", "query", "bearer"} {
			sec, err := c.ExampleSecureWithResponse(ctx, withKey(place, k.Key))
			if err != nil || sec.JSON200 == nil || deref(sec.JSON200.Message) != "This is a secure endpoint" {
				t.Errorf("GET /secure, key in the %s: %v %s", place, err, sec.Body)
			}
			item, err := c.ExampleCreateItemWithResponse(ctx, oapi3.MainNewItem{Name: "from " + place}, withKey(place, k.Key))
			if err != nil || item.JSON201 == nil || deref(item.JSON201.Id) < 1 || deref(item.JSON201.Name) != "from "+place {
				t.Errorf("POST /items, key in the %s: %v %s", place, err, item.Body)
			}
		}
		items, err := c.ExampleListItemsWithResponse(ctx, withKey("header", k.Key))
		if err != nil || items.JSON200 == nil || len(*items.JSON200) != 3 {
			t.Errorf("GET /items: %v %s", err, items.Body)
		}
		if sec, err := c.ExampleSecureWithResponse(ctx); err != nil || sec.JSON401 == nil || deref(sec.JSON401.Error.Code) != "key_missing" {
			t.Errorf("GET /secure without a key: %v %s, want the documented 401 key_missing", err, sec.Body)
		}

		usage, err := c.GinkeyKeyUsageWithResponse(ctx, k.ID, &oapi3.GinkeyKeyUsageParams{Days: ptr(7)})
		if err != nil {
			t.Fatal(err)
		}
		answered(t, "GET /auth/keys/{id}/usage", usage, usage.Body, http.StatusOK, usage.JSON200 != nil)
		if u := usage.JSON200; deref(u.Id) != k.ID || deref(u.TotalRequests) != 7 || u.Outcomes == nil || deref(u.Outcomes.Valid) != 7 ||
			len(deref(u.Daily)) == 0 || u.LastUsedAt == nil {
			t.Errorf("usage of the caller key: %s", usage.Body)
		}
		summary, err := c.GinkeyUsageSummaryWithResponse(ctx, &oapi3.GinkeyUsageSummaryParams{})
		if err != nil {
			t.Fatal(err)
		}
		answered(t, "GET /auth/usage", summary, summary.Body, http.StatusOK, summary.JSON200 != nil)
		list := deref(summary.JSON200.Usage)
		i := slices.IndexFunc(list, func(u oapi3.GinkeyUsageSummary) bool { return deref(u.Id) == k.ID })
		if i < 0 || deref(list[i].TotalRequests) != 7 || list[i].Outcomes == nil || deref(list[i].Outcomes.Valid) != 7 || deref(list[i].Name) != "caller" {
			t.Errorf("usage summary: %s", summary.Body)
		}
	})

	t.Run("audit log", func(t *testing.T) {
		k := s.fixture(t, `{"name":"audited"}`)
		s.call(t, http.MethodPost, "/auth/keys/"+k.ID+"/revoke", "")
		res, err := c.GinkeyAuditLogWithResponse(ctx, &oapi3.GinkeyAuditLogParams{KeyId: &k.ID, Action: ptr(oapi3.GinkeyAuditLogParamsActionRevoke)})
		if err != nil {
			t.Fatal(err)
		}
		answered(t, "GET /auth/audit", res, res.Body, http.StatusOK, res.JSON200 != nil)
		entries := deref(res.JSON200.Entries)
		if deref(res.JSON200.Total) != 1 || len(entries) != 1 {
			t.Fatalf("audit log of %s: %s", k.ID, res.Body)
		}
		if e := entries[0]; deref(e.Action) != oapi3.GinkeyAuditEntryActionRevoke || deref(e.KeyId) != k.ID || deref(e.Outcome) != "ok" ||
			deref(e.Principal) != "secret" || !strings.HasPrefix(deref(e.Actor), "http:") {
			t.Errorf("audit entry: %s", res.Body)
		}
	})

	t.Run("delete", func(t *testing.T) {
		k := s.fixture(t, `{"name":"to delete"}`)
		res, err := c.GinkeyDeleteKeyWithResponse(ctx, k.ID)
		if err != nil || res.StatusCode() != http.StatusNoContent {
			t.Fatalf("DELETE /auth/keys/{id}: %v %s", err, res.Body)
		}
		got, err := c.GinkeyGetKeyWithResponse(ctx, k.ID)
		if err != nil || got.JSON404 == nil || deref(got.JSON404.Error.Code) != "not_found" {
			t.Errorf("GET a deleted key: %v %s, want the documented 404 not_found", err, got.Body)
		}
	})
}
