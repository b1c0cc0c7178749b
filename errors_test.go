package ginkey

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// A path with no admin operation answers not_found on the wire, as an
// unknown key does, but a caller comparing errors must not take one for the
// other; errors built by badRequest still match ErrBadRequest.
func TestRouteNotFoundIsNotTheKeyNotFoundError(t *testing.T) {
	t.Parallel()
	if errors.Is(errRouteNotFound, ErrNotFound) || errors.Is(ErrNotFound, errRouteNotFound) {
		t.Fatal("errRouteNotFound and ErrNotFound compare equal")
	}
	if !errors.Is(errRouteNotFound, errRouteNotFound) {
		t.Fatal("errRouteNotFound does not match itself")
	}
	if errRouteNotFound.Code != ErrNotFound.Code || errRouteNotFound.Status != ErrNotFound.Status {
		t.Fatalf("route 404 is %d %s on the wire, want %d %s", errRouteNotFound.Status, errRouteNotFound.Code, ErrNotFound.Status, ErrNotFound.Code)
	}
	if !errors.Is(badRequest("name is too long"), ErrBadRequest) {
		t.Fatal("badRequest(...) does not match ErrBadRequest")
	}
}

// A bad_request about one field names it in Field, as the admin API's JSON
// names it, for the ginkey command to map to its flag; one about no single
// field leaves Field empty. Message keeps its wording either way.
func TestBadRequestNamesTheFieldThatBrokeARule(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	g, ctx := h.Guard, context.Background()
	id := mustCreate(t, g, KeySpec{Name: "n"}).ID
	past := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	tab := "a\tb"
	call := func(_ any, err error) error { return err }
	call3 := func(_ any, _ int64, err error) error { return err }
	for _, tc := range []struct {
		name  string
		err   error
		field string
	}{
		{"name", call(g.CreateKey(ctx, KeySpec{Name: tab})), "name"},
		{"owner", call(g.CreateKey(ctx, KeySpec{Owner: tab})), "owner"},
		{"scopes", call(g.CreateKey(ctx, KeySpec{Scopes: []string{"no spaces"}})), "scopes"},
		{"expires_at", call(g.CreateKey(ctx, KeySpec{ExpiresAt: &past})), "expires_at"},
		{"rate_limit", call(g.CreateKey(ctx, KeySpec{RateLimit: &RateLimit{Requests: 2_000_000, Per: PerSecond}})), "rate_limit"},
		{"allowed_ips", call(g.CreateKey(ctx, KeySpec{AllowedIPs: []string{"nope"}})), "allowed_ips"},
		{"status", call3(g.ListKeys(ctx, KeyQuery{Status: "gone"})), "status"},
		{"prefix", call3(g.ListKeys(ctx, KeyQuery{Prefix: "nope"})), "prefix"},
		{"limit", call3(g.ListKeys(ctx, KeyQuery{Limit: 501})), "limit"},
		{"grace", call(g.RotateKey(ctx, id, 1000*time.Hour)), "grace"},
		{"days", call(g.KeyUsage(ctx, id, 999)), "days"},
		{"action", call3(g.Audit(ctx, AuditQuery{Action: "frob"})), "action"},
		{"no field", call(g.UpdateKey(ctx, id, KeyUpdate{})), ""},
		{"two fields", call(g.CreateKey(ctx, KeySpec{ExpiresAt: &past, NeverExpires: true})), ""},
	} {
		var e *Error
		if !errors.As(tc.err, &e) || !errors.Is(e, ErrBadRequest) {
			t.Errorf("%s: error %v, want a bad_request", tc.name, tc.err)
			continue
		}
		if e.Field != tc.field {
			t.Errorf("%s: Field %q, want %q (message %q)", tc.name, e.Field, tc.field, e.Message)
		}
		if tc.field != "" && !strings.HasPrefix(e.Message, tc.field+" ") {
			t.Errorf("%s: message %q does not start with its field", tc.name, e.Message)
		}
	}
}

// A host's own handlers answer with WriteError in ginkey's error shape:
// an &Error{} literal and NewError render their full body, a copy
// of a sentinel with its own message says that message, and a literal
// without a valid status is a 500, not a panic.
func TestWriteErrorServesTheHostsOwnErrors(t *testing.T) {
	t.Parallel()
	own := *ErrNotFound
	own.Message = "no order with that id"
	cases := map[string]struct {
		err    error
		status int
		code   string
		msg    string
	}{
		"literal":     {&Error{Status: 404, Code: "order_not_found", Message: "no order 7"}, 404, "order_not_found", "no order 7"},
		"constructor": {NewError(http.StatusConflict, "order_shipped", "the order has shipped"), 409, "order_shipped", "the order has shipped"},
		"not found":   {NewError(http.StatusNotFound, "not_found", "no order with that id"), 404, "not_found", "no order with that id"},
		"copy":        {&own, 404, "not_found", "no order with that id"},
		"no status":   {&Error{Code: "oops", Message: "no status"}, 500, "oops", "no status"},
	}
	r := gin.New()
	r.GET("/orders/:case", func(c *gin.Context) { WriteError(c, cases[c.Param("case")].err) })
	for name, tc := range cases {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/orders/"+url.PathEscape(name), nil))
		want, _ := json.Marshal(ErrorBody{Error: errorDetail{Code: tc.code, Message: tc.msg}})
		if w.Code != tc.status || w.Body.String() != string(want) {
			t.Errorf("%s: %d %q, want %d %s", name, w.Code, w.Body, tc.status, want)
		}
	}
	if !errors.Is(NewError(http.StatusNotFound, "not_found", "no order"), ErrNotFound) {
		t.Error("NewError(404, not_found, ...) does not match ErrNotFound")
	}
	if ErrNotFound.Message != "no key with that id" {
		t.Errorf("ErrNotFound changed: %q", ErrNotFound.Message)
	}
}

// Each state conflict matches ErrConflict and keeps its own wire status,
// code and message; no other error matches ErrConflict, a 409 included.
func TestStateConflictsMatchErrConflict(t *testing.T) {
	for _, c := range []struct {
		err           *Error
		code, message string
	}{
		{errRevokedConflict, "key_revoked", "the key is revoked; revocation is final"},
		{errRotatedConflict, "key_rotated", "the key has been rotated and is in (or past) its grace period; change or rotate the key that replaced it"},
		{errExpiredConflict, "key_expired", "the key has expired; renew it first"},
	} {
		if !errors.Is(c.err, ErrConflict) || !errors.Is(errors.Join(errors.New("context"), c.err), ErrConflict) {
			t.Errorf("%s does not match ErrConflict", c.code)
		}
		if c.err.Status != http.StatusConflict || c.err.Code != c.code || c.err.Message != c.message {
			t.Errorf("%s is %d %s %q", c.code, c.err.Status, c.err.Code, c.err.Message)
		}
		if errors.Is(ErrConflict, c.err) {
			t.Errorf("ErrConflict matches %s", c.code)
		}
	}
	for _, other := range []*Error{ErrKeyRevoked, ErrKeyExpired, ErrTooManyKeys, ErrBadRequest, ErrNotFound} {
		if errors.Is(other, ErrConflict) {
			t.Errorf("%s matches ErrConflict", other.Code)
		}
	}
	if errors.Is(errRevokedConflict, ErrKeyRevoked) || errors.Is(errExpiredConflict, ErrKeyExpired) {
		t.Error("a state conflict matches the 401 of the same code")
	}
}
