package ginkey

import (
	"context"
	"fmt"
	"time"
)

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
		var dropped int64
		g.flushMu.Lock()
		pending := g.usage.drain()
		if g.unsent != nil {
			pending, g.unsent = append(pending, g.unsent.deltas...), nil
		}
		g.flushMu.Unlock()
		for _, d := range pending {
			dropped += d.Requests
		}
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
	// One flush at a time; flushMu is held only around the bookkeeping, never
	// across the store's I/O, so quota reads never wait for a slow store.
	g.flushRun.Lock()
	defer g.flushRun.Unlock()
	once, _ := g.usageStore.(OnceUsageStore)
	g.flushMu.Lock()
	retry := g.unsent != nil
	g.flushMu.Unlock()
	for range 2 { // the batch a failure left, if any, then what came since
		g.flushMu.Lock()
		if g.unsent == nil {
			batch := g.usage.drain()
			if len(batch) == 0 {
				g.flushMu.Unlock()
				return nil
			}
			g.flushSeq++
			g.unsent = &unsentBatch{seq: g.flushSeq, deltas: batch}
		}
		b := g.unsent
		g.flushMu.Unlock()

		var err error
		octx, end := g.observed(ctx, "flush", false)
		if once != nil {
			err = once.AddUsageOnce(octx, g.instance, b.seq, b.deltas)
		} else {
			err = g.usageStore.AddUsage(octx, b.deltas)
		}
		end(err)
		if err != nil {
			g.flushErrors.Add(1)
		}
		g.flushMu.Lock()
		switch {
		case err == nil:
			g.unsent = nil
			g.flushed.Add(1)
		case once == nil: // a plain store cannot tell a retry: the counts go back, to be sent anew
			g.usage.restore(b.deltas)
			g.unsent = nil
		}
		g.flushMu.Unlock()
		if err != nil {
			return fmt.Errorf("ginkey: flush usage: %w", err)
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
	deltas []UsageDelta
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
	defer close(g.done)
	t := time.NewTicker(every)
	defer t.Stop()
	failed := false
	for {
		kick := g.usage.kick
		if failed { // while the store fails, retry on the ticker only: no flush (and no log line) per request
			kick = nil
		}
		select {
		case <-g.stop:
			return
		case <-t.C:
		case <-kick:
		}
		// Close cancels a flush under way rather than wait for it and then
		// make its own: a batch cut short is sent again, and counted once.
		ctx, cancel := context.WithTimeout(g.stopCtx, 5*g.storeTimeout)
		err := g.Flush(ctx)
		cancel()
		if failed = err != nil; failed {
			g.log.Error("ginkey: usage flush failed; counts kept for the next try", "error", err)
		}
	}
}
