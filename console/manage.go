package console

import (
	"context"
	"time"

	"github.com/ginkey/ginkey"
)

// keyManager is the management API as the console's user may call it: the
// admin's (the Guard's own methods) or one owner's (ginkey.OwnerKeys). The
// console's pages call nothing else, so what an owner may do is decided by
// ginkey, not by which buttons a page shows.
type keyManager interface {
	list(ctx context.Context, q ginkey.KeyQuery) ([]ginkey.Key, int64, error)
	get(ctx context.Context, id string) (ginkey.Key, error)
	create(ctx context.Context, spec ginkey.KeySpec) (ginkey.CreatedKey, error)
	rotate(ctx context.Context, id string, grace time.Duration) (ginkey.CreatedKey, error)
	revoke(ctx context.Context, id string) (ginkey.Key, error)
	renew(ctx context.Context, id string, r ginkey.Renewal) (ginkey.Key, error)
	usage(ctx context.Context, id string, days int) (ginkey.UsageReport, error)
	keyAudit(ctx context.Context, id string, limit int) ([]ginkey.AuditEntry, error)
}

// adminKeys is the admin's keyManager, with the admin's extra powers.
type adminKeys struct{ g *ginkey.Guard }

var _ keyManager = adminKeys{}

func (a adminKeys) list(ctx context.Context, q ginkey.KeyQuery) ([]ginkey.Key, int64, error) {
	return a.g.ListKeys(ctx, q)
}

func (a adminKeys) get(ctx context.Context, id string) (ginkey.Key, error) {
	return a.g.GetKey(ctx, id)
}

func (a adminKeys) create(ctx context.Context, spec ginkey.KeySpec) (ginkey.CreatedKey, error) {
	return a.g.CreateKey(ctx, spec)
}

func (a adminKeys) rotate(ctx context.Context, id string, grace time.Duration) (ginkey.CreatedKey, error) {
	return a.g.RotateKey(ctx, id, grace)
}

func (a adminKeys) revoke(ctx context.Context, id string) (ginkey.Key, error) {
	return a.g.RevokeKey(ctx, id)
}

func (a adminKeys) renew(ctx context.Context, id string, r ginkey.Renewal) (ginkey.Key, error) {
	return a.g.RenewKey(ctx, id, r)
}

func (a adminKeys) usage(ctx context.Context, id string, days int) (ginkey.UsageReport, error) {
	return a.g.KeyUsage(ctx, id, days)
}

func (a adminKeys) keyAudit(ctx context.Context, id string, limit int) ([]ginkey.AuditEntry, error) {
	entries, _, err := a.g.Audit(ctx, ginkey.AuditQuery{KeyID: id, Limit: limit})
	return entries, err
}

func (a adminKeys) audit(ctx context.Context, q ginkey.AuditQuery) ([]ginkey.AuditEntry, int64, error) {
	return a.g.Audit(ctx, q)
}

func (a adminKeys) summary(ctx context.Context, limit, offset int) ([]ginkey.UsageSummary, int64, error) {
	return a.g.UsageSummary(ctx, limit, offset)
}

// ownerKeys is one owner's keyManager.
type ownerKeys struct{ o *ginkey.OwnerKeys }

var _ keyManager = ownerKeys{}

func (o ownerKeys) list(ctx context.Context, q ginkey.KeyQuery) ([]ginkey.Key, int64, error) {
	return o.o.List(ctx, q)
}

func (o ownerKeys) get(ctx context.Context, id string) (ginkey.Key, error) {
	return o.o.Get(ctx, id)
}

func (o ownerKeys) create(ctx context.Context, spec ginkey.KeySpec) (ginkey.CreatedKey, error) {
	return o.o.Create(ctx, spec)
}

func (o ownerKeys) rotate(ctx context.Context, id string, grace time.Duration) (ginkey.CreatedKey, error) {
	return o.o.Rotate(ctx, id, grace)
}

func (o ownerKeys) revoke(ctx context.Context, id string) (ginkey.Key, error) {
	return o.o.Revoke(ctx, id)
}

func (o ownerKeys) renew(ctx context.Context, id string, r ginkey.Renewal) (ginkey.Key, error) {
	return o.o.Renew(ctx, id, r)
}

func (o ownerKeys) usage(ctx context.Context, id string, days int) (ginkey.UsageReport, error) {
	return o.o.Usage(ctx, id, days)
}

// keyAudit is what was done to the owner's key; of actions the owner did
// not take, ginkey names neither actor nor principal.
func (o ownerKeys) keyAudit(ctx context.Context, id string, limit int) ([]ginkey.AuditEntry, error) {
	entries, _, err := o.o.Audit(ctx, id, ginkey.AuditQuery{Limit: limit})
	return entries, err
}
