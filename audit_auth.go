package ginkey

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/ginkey/ginkey/internal/limits"
)

// authFailures counts failed admin authentications per client address
// (IPv6 grouped by /64, as the throttle groups them) and UTC minute, so that
// a flood of wrong secrets from one address makes one audit entry a minute.
// Memory is bounded: beyond authFailuresMax addresses a minute's failures
// are counted together as "http:other", and beyond authFailuresPending
// finished minutes waiting for the store the oldest are dropped, and logged.
type authFailures struct {
	mu      sync.Mutex
	open    map[netip.Addr]*failureMinute // the minute being counted, per address
	other   failureMinute                 // addresses beyond the bound
	pending []AuditEntry                  // minutes over, not yet written
	head    int64                         // sequence number of pending[0]
	dropped int64                         // failures in entries dropped unwritten
}

type failureMinute struct {
	minute time.Time
	count  int64
}

const (
	authFailuresMax     = 1000
	authFailuresPending = 10_000
)

func newAuthFailures() *authFailures {
	return &authFailures{open: make(map[netip.Addr]*failureMinute)}
}

// adminFailed counts one failed admin authentication of addr: a wrong
// secret, or one the throttle refused. It logs as failureLog does and
// counts for the audit log.
func (g *Guard) adminFailed(addr netip.Addr, now time.Time, refused bool) {
	g.admin.failures.note(addr, now, refused)
	if f := g.audits.failures; f != nil {
		f.note(limits.AddrKey(addr), now)
	}
}

func (f *authFailures) note(addr netip.Addr, now time.Time) {
	minute := now.UTC().Truncate(time.Minute)
	f.mu.Lock()
	defer f.mu.Unlock()
	m, actor := f.open[addr], ""
	if m == nil {
		if len(f.open) < authFailuresMax {
			m = &failureMinute{minute: minute}
			f.open[addr] = m
		} else {
			m, actor = &f.other, "http:other"
		}
	}
	if m.count > 0 && !m.minute.Equal(minute) {
		if actor == "" {
			actor = httpActor(addr)
		}
		f.finish(actor, m)
	}
	m.minute = minute
	m.count++
}

// finish queues m's entry and resets it.
func (f *authFailures) finish(actor string, m *failureMinute) {
	if len(f.pending) >= authFailuresPending {
		f.dropped += f.pending[0].Count
		f.pending = f.pending[1:]
		f.head++
	}
	f.pending = append(f.pending, AuditEntry{
		Time: m.minute, Action: actionAuthFailed, Actor: actor, Fields: []string{},
		Outcome: errAdminUnauthorized.Code, Count: m.count,
	})
	m.count = 0
}

// take returns the entries to write, the sequence number of the first, and
// the failures dropped since the last call: the minutes over before now, or
// every count when all is true. The entries stay queued until done
// confirms them.
func (f *authFailures) take(now time.Time, all bool) ([]AuditEntry, int64, int64) {
	current := now.UTC().Truncate(time.Minute)
	f.mu.Lock()
	defer f.mu.Unlock()
	for addr, m := range f.open {
		if all || m.minute.Before(current) {
			f.finish(httpActor(addr), m)
			delete(f.open, addr)
		}
	}
	if f.other.count > 0 && (all || f.other.minute.Before(current)) {
		f.finish("http:other", &f.other)
	}
	dropped := f.dropped
	f.dropped = 0
	return append([]AuditEntry(nil), f.pending...), f.head, dropped
}

// done removes the n entries from sequence number first on, written, but
// for those dropped meanwhile.
func (f *authFailures) done(first int64, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k := first + int64(n) - f.head; k > 0 {
		k = min(k, int64(len(f.pending)))
		f.pending = f.pending[k:]
		f.head += k
	}
}

// httpActor is the actor of an admin API request from addr.
func httpActor(addr netip.Addr) string {
	if !addr.IsValid() {
		return "http:unknown"
	}
	return "http:" + addr.String()
}

// flushAuthFailures writes the counted failures whose minute is over, or
// all of them (at Close). What the store refuses is kept for the next try.
func (g *Guard) flushAuthFailures(ctx context.Context, all bool) {
	f := g.audits.failures
	if f == nil {
		return
	}
	entries, first, dropped := f.take(g.now(), all)
	if dropped > 0 {
		g.log.Error("ginkey: failed admin authentications not audited: too many waiting for the store", "failures", dropped)
	}
	if len(entries) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, g.adminTimeout())
	defer cancel()
	if err := g.audits.store.AddAudit(ctx, storedAudit(entries)); err != nil {
		if all {
			g.audits.lost.Add(int64(len(entries)))
		}
		g.log.Error("ginkey: failed admin authentications not audited yet", "entries", len(entries), "error", err)
		return
	}
	f.done(first, len(entries))
}
