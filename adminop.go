package ginkey

import (
	"context"
	"errors"
	"sync"
)

// adminOp starts a call of the management API; every method calls it
// first, whoever called the method (the admin API, the CLI, Go code). The
// call's store calls, the flush before a usage read and the call's audit
// entry share one deadline: the admin deadline (adminTimeout) or ctx's own,
// whichever is sooner. For an action (not "" as for a read), the observers
// see the call start, and done appends it to the audit log and ends it for
// them. done must be called once: it releases the deadline.
func (g *Guard) adminOp(ctx context.Context, action string) (context.Context, func(keyID string, fields []string, err error)) {
	ctx, cancel := context.WithTimeout(ctx, g.adminTimeout())
	if action == "" {
		return ctx, func(string, []string, error) { cancel() }
	}
	ctx, end := g.observed(ctx, action, true)
	return ctx, func(keyID string, fields []string, err error) {
		g.audit(ctx, action, keyID, fields, err) // timed with the action
		cancel()
		end(err)
	}
}

// auditLate holds the audit entries being written in the background.
type auditLate struct {
	slots   chan struct{} // one per entry being written; full: the next is dropped
	writers sync.WaitGroup
}

// maxAuditLate bounds the entries written in the background at once: an
// outage's admin calls, each holding one for up to StoreTimeout.
const maxAuditLate = 256

// auditLater writes e in the background within StoreTimeout, once the call
// it records has answered. An entry that cannot be written is counted and
// logged at ERROR, never lost silently; Close waits for the writes.
func (g *Guard) auditLater(e AuditEntry) {
	select {
	case g.audits.late.slots <- struct{}{}:
	default:
		g.auditLost(e, errAuditBacklog)
		return
	}
	g.audits.late.writers.Go(func() {
		defer func() { <-g.audits.late.slots }()
		ctx, cancel := context.WithTimeout(context.Background(), g.storeTimeout)
		defer cancel()
		if err := g.audits.store.AddAudit(ctx, storedAudit([]AuditEntry{e})); err != nil {
			g.auditLost(e, err)
		}
	})
}

// errAuditBacklog: too many entries already wait for the store.
var errAuditBacklog = errors.New("too many audit entries waiting for the store")

// auditLost counts and logs an entry that was not written.
func (g *Guard) auditLost(e AuditEntry, err error) {
	g.audits.lost.Add(1)
	g.log.Error("ginkey: audit entry not written", "action", e.Action, "key_id", e.KeyID,
		"outcome", e.Outcome, "error", err)
}
