package ginkey_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/keystore/memstore"
)

// Key operations from Go name their actor with WithActor; the audit log
// records each one, failed ones too, with the names of the fields changed.
func ExampleGuard_Audit() {
	guard, err := ginkey.New(ginkey.Config{Store: memstore.New(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = guard.Close() }()

	ctx := ginkey.WithActor(context.Background(), "job:onboarding")
	created, err := guard.CreateKey(ctx, ginkey.KeySpec{Name: "acme", Scopes: []string{"items:read"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	name := "acme corp"
	_, _ = guard.UpdateKey(ctx, created.ID, ginkey.KeyUpdate{Name: &name})
	_, _ = guard.RevokeKey(ctx, created.ID)
	_, err = guard.RenewKey(ctx, created.ID, ginkey.Renewal{}) // revocation is final
	fmt.Println("renew:", err)

	entries, _, err := guard.Audit(context.Background(), ginkey.AuditQuery{KeyID: created.ID})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range entries { // newest first
		fmt.Println(e.Action, e.Actor, e.Fields, e.Outcome)
	}
	// Output:
	// renew: key_revoked: the key is revoked; revocation is final
	// renew job:onboarding [] key_revoked
	// revoke job:onboarding [] ok
	// update job:onboarding [name] ok
	// create job:onboarding [name scopes] ok
}

// The host application's own admin check names who it admitted with
// SetPrincipal; the audit log records that principal beside the address.
func ExampleSetPrincipal() {
	sso, err := ginkey.BearerAuth("ops", func(c *gin.Context, token string) error {
		if token != "token-of-carol" { // a real verifier checks a signature
			return errors.New("bad token")
		}
		ginkey.SetPrincipal(c, "carol")
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	guard, err := ginkey.New(ginkey.Config{Store: memstore.New(), AdminAuth: sso, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = guard.Close() }()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	guard.RegisterAdmin(r.Group("/auth"))

	req := httptest.NewRequest(http.MethodPost, "/auth/keys", strings.NewReader(`{"name":"ci"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer token-of-carol")
	req.RemoteAddr = "10.0.0.7:5555"
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	fmt.Println(w.Code)

	entries, _, err := guard.Audit(context.Background(), ginkey.AuditQuery{})
	if err != nil {
		fmt.Println(err)
		return
	}
	e := entries[0]
	fmt.Println(e.Action, e.Actor, e.Principal, e.Outcome)
	// Output:
	// 201
	// create http:10.0.0.7 app:carol ok
}
