package ginkey

import (
	"context"
	"errors"
	"sync"
	"time"
)

// adminOp starts an action of the management API (create, update,
// revoke...); every such method calls it first, whoever called the method
// (the admin API, the CLI, Go code). The action's store calls and its audit
// entry share one deadline, adminRead's. The observers see the action
// start; done appends it to the audit log and ends it for them. done must be
// called once: it releases the deadline.
func (g *Guard) adminOp(ctx context.Context, action string) (context.Context, func(keyID string, fields []string, err error)) {
	ctx, cancel := g.adminRead(ctx)
	ctx, end := g.observed(ctx, action, true)
	return ctx, func(keyID string, fields []string, err error) {
		g.audit(ctx, action, keyID, fields, err) // timed with the action
		cancel()
		end(err)
	}
}

// adminRead starts a call of the management API that reads: its store
// calls and the flush before a usage read share one deadline, the admin
// deadline (adminTimeout) or ctx's own, whichever is sooner.
func (g *Guard) adminRead(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, g.adminTimeout())
}

// lateWork runs, in the background, store calls that a management call
// committed to but whose answer must not wait for them: the audit entry and
// the announcement to other instances of a call that used up its deadline.
// Close waits for them.
type lateWork struct {
	slots chan struct{} // one per call running; full: the next is given up
	calls sync.WaitGroup
}

// maxLate bounds the calls running in the background at once: an outage's
// admin calls, each holding one for up to StoreTimeout.
const maxLate = 256

// errLateBacklog: too many calls already wait for the store.
var errLateBacklog = errors.New("too many calls waiting for the store in the background")

// later runs work in the background within StoreTimeout; lost is told of
// an error, errLateBacklog when there is no room for it.
func (g *Guard) later(work func(context.Context) error, lost func(error)) {
	select {
	case g.life.late.slots <- struct{}{}:
	default:
		lost(errLateBacklog)
		return
	}
	g.life.late.calls.Go(func() {
		defer func() { <-g.life.late.slots }()
		ctx, cancel := context.WithTimeout(context.Background(), g.storeTimeout)
		defer cancel()
		if err := work(ctx); err != nil {
			lost(err)
		}
	})
}

// inTimeOrLater runs work within what is left of ctx's deadline (the
// management call's, see adminOp), even if ctx's caller has gone. When the
// deadline ends it (or had passed, or ctx has none), work runs again later,
// in the background with a StoreTimeout of its own, so that the answer does
// not wait and nothing committed is left unsaid. lost is told of an error
// from a store that answered.
func (g *Guard) inTimeOrLater(ctx context.Context, work func(context.Context) error, lost func(error)) {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) > 0 {
		wctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
		err := work(wctx)
		outOfTime := wctx.Err() != nil
		cancel()
		if err == nil {
			return
		}
		if !outOfTime { // the store answered: another try would fare no better
			lost(err)
			return
		}
	}
	g.later(work, lost)
}

// auditLost counts and logs an entry that was not written.
func (g *Guard) auditLost(e AuditEntry, err error) {
	g.audits.lost.Add(1)
	g.log.Error("ginkey: audit entry not written", "action", e.Action, "key_id", e.KeyID,
		"outcome", e.Outcome, "error", err)
}
