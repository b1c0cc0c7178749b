package ginkey_test

import (
	"context"
	"fmt"
	"log/slog"

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

	log, err := guard.Audit(context.Background(), ginkey.AuditQuery{KeyID: created.ID})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range log.Entries { // newest first
		fmt.Println(e.Action, e.Actor, e.Fields, e.Outcome)
	}
	// Output:
	// renew: key_revoked: the key is revoked; revocation is final
	// renew job:onboarding [] key_revoked
	// revoke job:onboarding [] ok
	// update job:onboarding [name] ok
	// create job:onboarding [name scopes] ok
}
