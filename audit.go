package ginkey

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ginkey/ginkey/keystore"
)

// The audit log. Every key-management call that names a well-formed key id,
// and every CreateKey, appends one entry, whether it succeeded or not (a
// malformed id, refused before any I/O, names no key and is not audited).
// The entry is written after the operation: if the store cannot take it,
// the operation has still happened, so it still succeeds; the failure is
// logged (without keys or secrets) and counted. Failed admin
// authentications are counted per client address and minute, and written
// as one auth_failed entry each by a background goroutine. ginkey never
// changes an entry; entries older than Config.AuditRetention are deleted in
// the background.
//
// An entry names fields, never their values: no key, hash or secret ever
// reaches the log.

// The actions of the audit log.
const (
	actionCreate     = "create"
	actionUpdate     = "update"
	actionRevoke     = "revoke"
	actionRenew      = "renew"
	actionRotate     = "rotate"
	actionDelete     = "delete"
	actionAuthFailed = "auth_failed" // wrong X-Admin-Secret headers, per address and minute
)

// auditActions lists every action, in the order messages name them.
var auditActions = []string{actionCreate, actionUpdate, actionRevoke, actionRenew, actionRotate, actionDelete, actionAuthFailed}

// outcomeOK is the outcome of an operation that succeeded; any other
// outcome is the stable code of the error it failed with (not_found,
// bad_request, key_revoked, unavailable...).
const outcomeOK = "ok"

// AuditEntry is one entry of the audit log.
type AuditEntry struct {
	ID   int64     `json:"id" example:"42"`
	Time time.Time `json:"time" format:"date-time"` // for auth_failed, the start of the minute counted
	// Action is one of create, update, revoke, renew, rotate, delete,
	// auth_failed.
	Action string `json:"action" example:"update" enums:"create,update,revoke,renew,rotate,delete,auth_failed"`
	KeyID  string `json:"key_id" example:"3uV8rKQ0mZ1bXy7wE2tLp4"` // "" for auth_failed and a create that failed
	// Actor is who acted: "http:<client address>" for the admin API,
	// "cli:<OS user>" for the ginkey command, what WithActor gave for Go
	// code, else "go". For auth_failed, the address (IPv6: its /64), a
	// prefix its addresses were folded into ("http:203.0.113.0/24",
	// "http:2001:db8:1::/48") when a minute had more than 1,000, or
	// "http:other" for the failures no entry names.
	Actor string `json:"actor" example:"http:10.0.0.7"`
	// Principal is who the admin API admitted: "secret" (the admin
	// secret's header), "key:<id>" (a key with the admin scope),
	// "basic:<user>" (BasicAuth), "app:<name>" or "app" (another AdminAuth,
	// see SetPrincipal). "" for the ginkey command, Go code and auth_failed.
	Principal string   `json:"principal" example:"key:3uV8rKQ0mZ1bXy7wE2tLp4"`
	Fields    []string `json:"fields" example:"name,scopes"`                                                                                             // the fields given or changed: names, never values
	Outcome   string   `json:"outcome" example:"ok" enums:"ok,bad_request,not_found,key_revoked,key_rotated,key_expired,unavailable,admin_unauthorized"` // "ok" or the error's code
	Count     int64    `json:"count" example:"1"`                                                                                                        // failures counted, for auth_failed; else 1
}

// AuditQuery selects a page of the audit log for Guard.Audit. Every field
// is optional.
type AuditQuery struct {
	KeyID  string    // only entries about this key
	Action string    // only entries of this action: create, update, revoke, renew, rotate, delete or auth_failed
	Since  time.Time // only entries at or after this time
	Limit  int       // page size, 1 to 500; 0 means 50
	Offset int       // entries to skip, 0 to 1073741824
}

// auditList is GET /audit: a page of the audit log, newest first, and the
// number of entries matching the query.
type auditList struct {
	Entries []AuditEntry `json:"entries"`
	Total   int64        `json:"total" example:"1"`
} //	@name	ginkey.AuditList

// Audit returns a page of the audit log, newest first. A KeyID that is not
// a key id, an Action not among the Action constants, or a Limit or Offset
// out of range is a bad_request naming it; a store that keeps no audit log,
// or cannot be read, is ErrUnavailable (the latter wrapped as an internal
// error). Failed admin authentications appear once their minute is over.
func (g *Guard) Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, int64, error) {
	if q.KeyID != "" && checkID(q.KeyID) != nil {
		return nil, 0, badField("key_id", "must be a key id: 1 to 32 letters and digits")
	}
	if q.Action != "" && !slices.Contains(auditActions, q.Action) {
		return nil, 0, badField("action", "must be one of "+strings.Join(auditActions, ", "))
	}
	var e *Error
	if q.Limit, e = limitRange.value(q.Limit); e != nil {
		return nil, 0, e
	}
	if q.Offset, e = offsetRange.value(q.Offset); e != nil {
		return nil, 0, e
	}
	if g.audits.store == nil {
		return nil, 0, ErrUnavailable
	}
	ctx, cancel := g.adminRead(ctx)
	defer cancel()
	stored, total, err := g.audits.store.Audit(ctx, keystore.AuditQuery{
		KeyID: q.KeyID, Action: q.Action, Since: q.Since, Limit: q.Limit, Offset: q.Offset,
	})
	if err != nil {
		return nil, 0, storeError("read audit log", err)
	}
	entries := make([]AuditEntry, len(stored))
	for i := range stored {
		e := &stored[i]
		entries[i] = AuditEntry{
			ID: e.ID, Time: e.Time, Action: e.Action, KeyID: e.KeyID, Actor: e.Actor, Principal: e.Principal,
			Fields: e.Fields, Outcome: e.Outcome, Count: e.Count,
		}
	}
	return entries, total, nil
}

// auditLog is the guard's part of the audit log.
type auditLog struct {
	store     keystore.AuditStore // nil: no audit log
	retention time.Duration
	failures  *authFailures
	done      chan struct{} // closed when the background goroutine has ended
	lost      atomic.Int64  // entries the store refused
}

// startAudit starts the goroutine that writes failed authentications and
// prunes old entries, if the store keeps an audit log.
func (g *Guard) startAudit(retention time.Duration) {
	g.audits.store, _ = g.store.(keystore.AuditStore)
	g.audits.retention = retention
	g.audits.done = make(chan struct{})
	if g.audits.store == nil {
		close(g.audits.done)
		return
	}
	g.audits.failures = newAuthFailures()
	go g.auditLoop()
}

// auditFlushEvery is how often counted authentication failures whose
// minute is over are written; auditPruneEvery how often old entries are
// looked for.
const (
	auditFlushEvery = 10 * time.Second
	auditPruneEvery = time.Hour
	auditPruneBatch = 1000
)

func (g *Guard) auditLoop() {
	defer close(g.audits.done)
	flush := time.NewTicker(auditFlushEvery)
	defer flush.Stop()
	prune := time.NewTicker(auditPruneEvery)
	defer prune.Stop()
	g.pruneAudit(g.life.ctx)
	for {
		select {
		case <-g.life.ctx.Done():
			return
		case <-flush.C:
			g.flushAuthFailures(g.life.ctx, false)
		case <-prune.C:
			g.pruneAudit(g.life.ctx)
		}
	}
}

// stopAudit waits for the background goroutine, then writes every count of
// failed authentications, the current minute's too.
func (g *Guard) stopAudit() {
	if g.audits.done == nil {
		return
	}
	<-g.audits.done
	if g.audits.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.adminTimeout())
	defer cancel()
	g.flushAuthFailures(ctx, true)
}

// audit appends the entry of one key operation: err is its outcome. It
// does not fail: the operation is done, so a failure is logged and counted.
func (g *Guard) audit(ctx context.Context, action, keyID string, fields []string, err error) {
	if g.audits.store == nil {
		return
	}
	e := AuditEntry{
		Time: g.now().UTC(), Action: action, KeyID: keyID, Actor: actorFrom(ctx), Principal: principalFrom(ctx),
		Fields: fields, Outcome: outcome(err), Count: 1,
	}
	// The operation has happened even if its caller has gone since: the
	// entry is written within what is left of the call's deadline, never
	// past it, and in the background if that runs out (typically waiting
	// for a store that does not answer).
	g.inTimeOrLater(ctx, func(ctx context.Context) error {
		return g.audits.store.AddAudit(ctx, storedAudit([]AuditEntry{e}))
	}, func(err error) { g.auditLost(e, err) })
}

// outcome is err's stable code, outcomeOK for nil.
func outcome(err error) string {
	if err == nil {
		return outcomeOK
	}
	e, _ := asError(err)
	return e.Code
}

// pruneAudit deletes the entries older than the retention, a batch at a
// time so that no statement holds the table long.
func (g *Guard) pruneAudit(ctx context.Context) {
	if g.audits.retention <= 0 {
		return
	}
	before := g.now().UTC().Add(-g.audits.retention)
	var total int64
	for ctx.Err() == nil {
		batchCtx, cancel := context.WithTimeout(ctx, g.adminTimeout())
		n, err := g.audits.store.PruneAudit(batchCtx, before, auditPruneBatch)
		cancel()
		total += n
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				g.log.Warn("ginkey: pruning the audit log failed; next try in an hour", "error", err)
			}
			break
		}
		if n < auditPruneBatch {
			break
		}
	}
	if total > 0 {
		g.log.Info("ginkey: audit log pruned", "entries", total, "before", before)
	}
}

// actorKey is where WithActor puts the actor in a context.
type actorKey struct{}

// maxActorLen bounds an actor, in bytes.
const maxActorLen = 200

// WithActor returns a copy of ctx under which the key-management methods
// record actor as who acted, e.g. "job:nightly-cleanup" or a user's name.
// Without it they record "go"; the admin API records "http:<client
// address>" and the ginkey command "cli:<OS user>". Characters that are not
// printable become '?', and the actor is cut to 200 bytes; "" means "go".
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, cleanActor(actor))
}

// actorFrom is the actor WithActor put in ctx, or "go".
func actorFrom(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "go"
}

func cleanActor(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsGraphic(r) || (unicode.IsSpace(r) && r != ' ') {
			r = '?'
		}
		if b.Len()+utf8.RuneLen(r) > maxActorLen {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// given names the fields spec sets, for CreateKey's audit entry.
func (spec *KeySpec) given() []string {
	fields := []string{}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"name", spec.Name != ""},
		{"owner", spec.Owner != ""},
		{"scopes", len(spec.Scopes) > 0},
		{"metadata", len(spec.Metadata) > 0},
		{"expires_at", spec.ExpiresAt != nil},
		{"never_expires", spec.NeverExpires},
		{"rate_limit", spec.RateLimit != nil},
		{"allowed_ips", len(spec.AllowedIPs) > 0},
		{"quota", spec.Quota != nil},
	} {
		if f.set {
			fields = append(fields, f.name)
		}
	}
	return fields
}

// storedAudit is entries as the store keeps them.
func storedAudit(entries []AuditEntry) []keystore.AuditEntry {
	out := make([]keystore.AuditEntry, len(entries))
	for i := range entries {
		e := &entries[i]
		out[i] = keystore.AuditEntry{
			ID: e.ID, Time: e.Time, Action: e.Action, KeyID: e.KeyID, Actor: e.Actor, Principal: e.Principal,
			Fields: e.Fields, Outcome: e.Outcome, Count: e.Count,
		}
	}
	return out
}
