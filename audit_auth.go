package ginkey

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// authFailures counts failed admin authentications per client address
// (IPv6 grouped by /64, as the throttle groups them) and UTC minute, so that
// a flood of wrong secrets from one address makes one audit entry a minute.
//
// Memory is bounded at authFailuresMax entries, and the heaviest guessers
// stay named however many decoy addresses come with them. When the table is
// full, a new address is folded with the addresses of its /48 (IPv6) or /24
// (IPv4) into one entry for the prefix; if no prefix has two entries to
// fold, every entry gives up one failure to "http:other", with the new
// address's (Misra-Gries), and entries left with none are dropped. Each
// such round takes authFailuresMax+1 failures, so an address, or its
// prefix, that makes more than one in authFailuresMax+1 of a minute's
// failures is always named, with at least its count less that share.
// Nothing is lost: what no entry names is in "http:other". Beyond
// authFailuresPending finished minutes waiting for the store, the oldest
// are dropped, and logged.
type authFailures struct {
	mu      sync.Mutex
	minute  time.Time                       // the minute being counted
	open    map[netip.Prefix]*authCount     // its counts: an address (/32, /64) or a folded prefix (/24, /48)
	members map[netip.Prefix][]netip.Prefix // addresses in open, per prefix they would fold into
	crowded []netip.Prefix                  // prefixes that had two addresses in open, some since folded
	other   int64                           // its failures no entry names
	pending []AuditEntry                    // minutes over, not yet written
	head    int64                           // sequence number of pending[0]
	dropped int64                           // failures in entries dropped unwritten
}

type authCount struct {
	count  int64
	folded bool // a prefix's entry, not an address's
}

const (
	authFailuresMax     = 1000
	authFailuresPending = 10_000
)

func newAuthFailures() *authFailures {
	return &authFailures{open: make(map[netip.Prefix]*authCount), members: make(map[netip.Prefix][]netip.Prefix)}
}

// adminFailed counts one failed admin authentication of addr: a wrong
// secret, or one the throttle refused. It logs as failureLog does and
// counts for the audit log.
func (g *Guard) adminFailed(addr netip.Addr, now time.Time, refused bool) {
	g.admin.failures.note(addr, now, refused)
	if f := g.audits.failures; f != nil {
		f.note(addr, now)
	}
}

// failureKeys returns the entry key of addr (IPv6: its /64) and the prefix
// it folds into (/48, /24); both are the zero Prefix for no address.
func failureKeys(addr netip.Addr) (own, fold netip.Prefix) {
	ownBits, foldBits := 64, 48
	if addr.Is4() {
		ownBits, foldBits = 32, 24
	}
	// Prefix masks, and returns the zero Prefix for no address.
	own, _ = addr.WithZone("").Prefix(ownBits)
	fold, _ = addr.WithZone("").Prefix(foldBits)
	return own, fold
}

func (f *authFailures) note(addr netip.Addr, now time.Time) {
	minute := now.UTC().Truncate(time.Minute)
	own, fold := failureKeys(addr)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.minute.Equal(minute) {
		f.finishAll()
		f.minute = minute
	}
	if e := f.open[own]; e != nil {
		e.count++
		return
	}
	if e := f.open[fold]; e != nil { // the prefix was folded this minute
		e.count++
		return
	}
	if len(f.open) >= authFailuresMax {
		switch {
		case len(f.members[fold]) > 0:
			f.fold(fold).count++
			return
		case !f.foldCrowded():
			f.spread()
			return
		}
	}
	f.open[own] = &authCount{count: 1}
	if own.IsValid() {
		f.members[fold] = append(f.members[fold], own)
		if len(f.members[fold]) == 2 {
			f.crowd(fold)
		}
	}
}

// fold merges the addresses of prefix p into one entry, and returns it.
func (f *authFailures) fold(p netip.Prefix) *authCount {
	merged := &authCount{folded: true}
	for _, k := range f.members[p] {
		merged.count += f.open[k].count
		delete(f.open, k)
	}
	delete(f.members, p)
	f.open[p] = merged
	return merged
}

// crowd notes that p has two addresses in the table. Prefixes folded
// since are left behind in crowded; when they pile up, they are dropped.
// At most authFailuresMax/2 prefixes have two addresses, so a stack of
// authFailuresMax halves at least.
func (f *authFailures) crowd(p netip.Prefix) {
	if len(f.crowded) >= authFailuresMax {
		f.crowded = slices.DeleteFunc(f.crowded, func(q netip.Prefix) bool { return len(f.members[q]) < 2 })
	}
	f.crowded = append(f.crowded, p)
}

// foldCrowded folds a prefix with two addresses or more in the table,
// freeing a place, and reports whether there was one.
func (f *authFailures) foldCrowded() bool {
	for len(f.crowded) > 0 {
		p := f.crowded[len(f.crowded)-1]
		f.crowded = f.crowded[:len(f.crowded)-1]
		if len(f.members[p]) >= 2 {
			f.fold(p)
			return true
		}
	}
	return false
}

// spread takes one failure from every entry, and the new address's, into
// "other", dropping the entries left with none. The table is full, so this
// takes authFailuresMax+1 failures. No prefix has two addresses in the
// table (foldCrowded), so dropping one is cheap.
func (f *authFailures) spread() {
	f.other++
	for k, e := range f.open {
		f.other++
		if e.count--; e.count == 0 {
			f.forget(k, e)
		}
	}
}

func (f *authFailures) forget(k netip.Prefix, e *authCount) {
	delete(f.open, k)
	if e.folded || !k.IsValid() {
		return
	}
	_, fold := failureKeys(k.Addr())
	f.members[fold] = slices.DeleteFunc(f.members[fold], func(m netip.Prefix) bool { return m == k })
	if len(f.members[fold]) == 0 {
		delete(f.members, fold)
	}
}

// finishAll queues the entries of the minute being counted, and empties
// the table.
func (f *authFailures) finishAll() {
	for k, e := range f.open {
		f.finish(failureActor(k, e.folded), e.count)
	}
	if f.other > 0 {
		f.finish("http:other", f.other)
	}
	clear(f.open)
	clear(f.members)
	f.crowded = f.crowded[:0]
	f.other = 0
}

// finish queues the entry of actor's count for the minute being counted.
func (f *authFailures) finish(actor string, count int64) {
	if len(f.pending) >= authFailuresPending {
		f.dropped += f.pending[0].Count
		f.pending = f.pending[1:]
		f.head++
	}
	f.pending = append(f.pending, AuditEntry{
		Time: f.minute, Action: actionAuthFailed, Actor: actor, Fields: []string{},
		Outcome: errAdminUnauthorized.Code, Count: count,
	})
}

// failureActor names an entry of the table: an address as httpActor does,
// a folded prefix with its length.
func failureActor(k netip.Prefix, folded bool) string {
	if folded {
		return "http:" + k.String()
	}
	return httpActor(k.Addr())
}

// take returns the entries to write, the sequence number of the first, and
// the failures dropped since the last call: the minutes over before now, or
// every count when all is true. The entries stay queued until done
// confirms them.
func (f *authFailures) take(now time.Time, all bool) ([]AuditEntry, int64, int64) {
	current := now.UTC().Truncate(time.Minute)
	f.mu.Lock()
	defer f.mu.Unlock()
	if all || f.minute.Before(current) {
		f.finishAll()
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
