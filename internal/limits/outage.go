package limits

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// OutageLog is what an Outage writes: Start at WARN when the first call
// fails, End at INFO when one succeeds again, nothing in between.
type OutageLog struct {
	Start      string
	StartAttrs []any  // after the error
	End        string // logged with the calls decided meanwhile (Counted) and the outage's length (Lasted)
	Counted    string // the End line's name for the count; "": no count
	Lasted     string // the End line's name for the outage's length
}

// Outage tracks the outages of one dependency (a shared counter, a
// notifier's subscription) and logs each twice, at its start and at its
// end, however many calls fail in between.
type Outage struct {
	log  *slog.Logger
	now  func() time.Time
	text OutageLog

	down      atomic.Bool
	mu        sync.Mutex
	since     time.Time
	decisions int64
}

// NewOutage returns an Outage writing text to log, timed by now.
func NewOutage(log *slog.Logger, now func() time.Time, text OutageLog) *Outage {
	return &Outage{log: log, now: now, text: text}
}

// Failed notes a failed call. decided is false for a call that decides
// nothing (a charge, a refund), which the End line does not count.
func (o *Outage) Failed(err error, decided bool) {
	o.mu.Lock()
	first := !o.down.Load()
	if first {
		o.down.Store(true)
		o.since, o.decisions = o.now(), 0
	}
	if decided {
		o.decisions++
	}
	o.mu.Unlock()
	if first {
		o.log.Warn(o.text.Start, append([]any{"error", err}, o.text.StartAttrs...)...)
	}
}

// OK notes a successful call: the end of an outage, if there was one.
func (o *Outage) OK() {
	if !o.down.Load() {
		return
	}
	o.mu.Lock()
	if !o.down.Load() {
		o.mu.Unlock()
		return
	}
	o.down.Store(false)
	n, since := o.decisions, o.since
	o.mu.Unlock()
	lasted := o.now().Sub(since).Round(time.Millisecond).String()
	if o.text.Counted == "" {
		o.log.Info(o.text.End, o.text.Lasted, lasted)
		return
	}
	o.log.Info(o.text.End, o.text.Counted, n, o.text.Lasted, lasted)
}

// Down reports whether an outage is under way.
func (o *Outage) Down() bool { return o.down.Load() }
