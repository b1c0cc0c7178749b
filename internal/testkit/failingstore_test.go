package testkit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/keystore"
	"github.com/ginkey/ginkey/keystore/memstore"
	"github.com/ginkey/ginkey/keystore/storetest"
)

// Healthy, a FailingStore is the store it wraps, every power included.
func TestAHealthyFailingStorePassesTheConformanceSuite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(*testing.T) keystore.Store { return testkit.NewFailingStore(memstore.New()) })
}

func TestFailingStoreFailsTheChosenOperationsUntilHealedAndCountsEveryCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := testkit.NewFailingStore(memstore.New())
	rec := storetest.NewRecord(t, "k1", time.Now().UTC(), nil)
	if err := s.Insert(ctx, rec); err != nil {
		t.Fatal(err)
	}
	s.Fail(testkit.OpByHash)
	if _, err := s.ByHash(ctx, rec.Hash); !errors.Is(err, testkit.ErrDown) {
		t.Fatalf("ByHash while failing: %v, want ErrDown", err)
	}
	if _, err := s.ByID(ctx, rec.ID); err != nil {
		t.Fatalf("ByID, not chosen, failed: %v", err)
	}
	refused := errors.New("connection refused")
	s.FailWith(refused)
	for name, err := range map[string]error{
		"AddUsageOnce": s.AddUsageOnce(ctx, "i", 1, nil),
		"AddAudit":     s.AddAudit(ctx, nil),
		"Delete":       s.Delete(ctx, rec.ID),
	} {
		if !errors.Is(err, refused) {
			t.Errorf("%s while everything fails: %v, want %v", name, err, refused)
		}
	}
	s.Heal()
	if _, err := s.ByHash(ctx, rec.Hash); err != nil {
		t.Fatalf("ByHash after Heal: %v", err)
	}
	if n := s.Calls(testkit.OpByHash); n != 2 {
		t.Errorf("Calls(ByHash) = %d, want 2 (a failed call counts)", n)
	}
	if n := s.Calls(testkit.OpAddUsage); n != 1 {
		t.Errorf("Calls(AddUsage) = %d, want 1", n)
	}
	if n, err := s.Notifier(ctx, time.Second); n != nil || err != nil {
		t.Errorf("Notifier over memstore: %v, %v; want none", n, err)
	}
}
