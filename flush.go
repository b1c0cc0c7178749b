package ginkey

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

// usage is the guard's usage component: the counts of the request path in
// memory, and the batches the flusher writes from them. It owns its locks;
// the quota and Stats read what is unwritten through its methods.
type usage struct {
	usageRecorder // counts not yet drained; the request path records here

	run      chan struct{} // held by the Flush under way: one at a time
	mu       sync.RWMutex  // guards unsent and seq, and the recorder's drain against quota reads; never held across I/O
	flushed  atomic.Uint64 // batches written: a quota read that sees it move re-reads
	errors   atomic.Uint64 // usage flushes that failed
	instance string        // this guard's id in the store's flush marks
	seq      int64         // the last batch's sequence number; under mu
	unsent   *unsentBatch  // the batch being written, or kept to be written again; under mu
	done     chan struct{} // closed when the flusher has stopped
}

func newUsage(instance string) *usage {
	u := &usage{instance: instance, run: make(chan struct{}, 1), done: make(chan struct{})}
	u.init(100_000)
	return u
}

// unwritten counts key id's requests on UTC days from..to that are pending
// or in a batch being written, and returns the flush generation it saw:
// a read of the store that sees another generation after it may overlap.
func (u *usage) unwritten(id string, from, to time.Time) (n int64, gen uint64) {
	fromDay, toDay := from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly)
	u.mu.RLock()
	defer u.mu.RUnlock()
	n = u.pending(id, from.Unix()/86400, to.Unix()/86400) + u.unsent.count(id, fromDay, toDay)
	return n, u.flushed.Load()
}

// generation is the number of batches written so far.
func (u *usage) generation() uint64 { return u.flushed.Load() }

// total is the number of requests counted and not yet written.
func (u *usage) total() int64 {
	n := u.pendingTotal()
	u.mu.Lock()
	if u.unsent != nil {
		for _, d := range u.unsent.deltas {
			n += d.Requests
		}
	}
	u.mu.Unlock()
	return n
}

// hasUnsent reports whether a failed batch waits to be written again.
func (u *usage) hasUnsent() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.unsent != nil
}

// next returns the batch to write: the one a failure left, else a new one
// of what is pending; nil when there is nothing to write.
func (u *usage) next() *unsentBatch {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.unsent == nil {
		batch := u.drain()
		if len(batch) == 0 {
			return nil
		}
		u.seq++
		u.unsent = &unsentBatch{seq: u.seq, deltas: batch}
	}
	return u.unsent
}

// settle notes how the write of b ended. A batch whose write failed stays
// to be sent again under its sequence number (once), or goes back into the
// counts, to be sent anew (a plain store cannot tell a retry).
func (u *usage) settle(b *unsentBatch, err error, once bool) {
	if err != nil {
		u.errors.Add(1)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case err == nil:
		u.unsent = nil
		u.flushed.Add(1)
	case !once:
		u.restore(b.deltas)
		u.unsent = nil
	}
}

// dropAll takes every count out, written or not, and returns how many
// requests they held.
func (u *usage) dropAll() int64 {
	u.mu.Lock()
	pending := u.drain()
	if u.unsent != nil {
		pending, u.unsent = append(pending, u.unsent.deltas...), nil
	}
	u.mu.Unlock()
	var dropped int64
	for _, d := range pending {
		dropped += d.Requests
	}
	return dropped
}

// finalFlush writes pending usage, retrying for up to five StoreTimeouts
// (10 s by default) while the store fails; what still cannot be written is
// dropped, and its size logged.
func (g *Guard) finalFlush() error {
	if g.usage == nil {
		return nil
	}
	deadline := time.Now().Add(5 * g.storeTimeout)
	for {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := g.Flush(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if wait := time.Until(deadline); wait > 0 {
			time.Sleep(min(wait, 500*time.Millisecond))
			continue
		}
		dropped := g.usage.dropAll()
		g.log.Error("ginkey: usage could not be written before closing; dropped", "requests", dropped, "error", err)
		return err
	}
}

// Flush writes pending usage counts to the store now. The flusher calls it
// every FlushInterval; counts that cannot be written are kept for the next try.
// With an OnceUsageStore (the GORM store) a batch whose write failed is
// retried as it was, under its sequence number, so a write that in fact
// committed before its reply was lost is not counted twice.
func (g *Guard) Flush(ctx context.Context) error {
	if g.usage == nil {
		return nil
	}
	// One flush at a time, waited for no longer than ctx allows: a usage
	// read behind the flusher's write to a frozen store answers within its
	// own deadline. The usage's lock is held only around the bookkeeping,
	// never across the store's I/O, so quota reads never wait for a slow
	// store.
	select {
	case g.usage.run <- struct{}{}: // free: taken, whatever ctx says
	default:
		select {
		case g.usage.run <- struct{}{}:
		case <-ctx.Done():
			return &storeFailure{what: "flush usage: waiting for the flush under way", err: ctx.Err()}
		}
	}
	defer func() { <-g.usage.run }()
	once, _ := g.usageStore.(keystore.OnceUsageStore)
	retry := g.usage.hasUnsent()
	for range 2 { // the batch a failure left, if any, then what came since
		b := g.usage.next()
		if b == nil {
			return nil
		}
		var err error
		octx, end := g.observed(ctx, "flush", false)
		// The store gets a copy: b.deltas is read under u.mu while the write
		// runs (quota reads, Stats), and a store may reorder its batch (the
		// GORM store sorts it, so that writers lock rows in one order).
		deltas := slices.Clone(b.deltas)
		if once != nil {
			err = once.AddUsageOnce(octx, g.usage.instance, b.seq, deltas)
		} else {
			err = g.usageStore.AddUsage(octx, deltas)
		}
		end(err)
		g.usage.settle(b, err, once != nil)
		if err != nil {
			return &storeFailure{what: "flush usage", err: err}
		}
		if !retry {
			return nil
		}
	}
	return nil
}

// unsentBatch is a batch of usage being written, or whose write failed,
// kept whole to be written again under the same sequence number.
type unsentBatch struct {
	seq    int64
	deltas []keystore.UsageDelta
}

// count sums key id's requests in the batch on days from..to (YYYY-MM-DD).
func (b *unsentBatch) count(id, from, to string) int64 {
	if b == nil {
		return 0
	}
	var n int64
	for _, d := range b.deltas {
		if d.KeyID == id && d.Day >= from && d.Day <= to {
			n += d.Requests
		}
	}
	return n
}

func (g *Guard) flushLoop(every time.Duration) {
	defer close(g.usage.done)
	t := time.NewTicker(every)
	defer t.Stop()
	failed := false
	for {
		kick := g.usage.kick
		if failed { // while the store fails, retry on the ticker only: no flush (and no log line) per request
			kick = nil
		}
		select {
		case <-g.life.ctx.Done():
			return
		case <-t.C:
		case <-kick:
		}
		// Close cancels a flush under way rather than wait for it and then
		// make its own: a batch cut short is sent again, and counted once.
		ctx, cancel := context.WithTimeout(g.life.ctx, 5*g.storeTimeout)
		err := g.Flush(ctx)
		cancel()
		if failed = err != nil; failed {
			g.log.Error("ginkey: usage flush failed; counts kept for the next try", "error", err)
		}
	}
}
