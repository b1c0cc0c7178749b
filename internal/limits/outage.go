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
// end, however many calls fail in between. It is also the dependency's
// breaker: while it is down, Call lets one call a ProbeEvery through, so
// that a dependency that hangs costs one timeout a second rather than one
// per request.
type Outage struct {
	log  *slog.Logger
	now  func() time.Time
	text OutageLog

	Breaker
	mu      sync.Mutex
	since   time.Time
	atStart int64        // total when this outage began
	total   atomic.Int64 // decisions made without the dependency since NewOutage
}

// NewOutage returns an Outage writing text to log, timed by now.
func NewOutage(log *slog.Logger, now func() time.Time, text OutageLog) *Outage {
	return &Outage{log: log, now: now, text: text}
}

// Failed notes a failed call. decided is false for a call that decides
// nothing (a charge, a refund), which the End line does not count.
func (o *Outage) Failed(err error, decided bool) {
	o.mu.Lock()
	first := !o.Down()
	if first {
		o.since = o.now()
		o.atStart = o.total.Load()
		o.Trip(o.since)
	}
	o.mu.Unlock()
	if decided {
		o.decided()
	}
	if first {
		o.log.Warn(o.text.Start, append([]any{"error", err}, o.text.StartAttrs...)...)
	}
}

// OK notes a successful call: the end of an outage, if there was one.
func (o *Outage) OK() {
	if !o.Down() {
		return
	}
	o.mu.Lock()
	if !o.Down() {
		o.mu.Unlock()
		return
	}
	o.Reset()
	n, since := o.total.Load()-o.atStart, o.since
	o.mu.Unlock()
	lasted := o.now().Sub(since).Round(time.Millisecond).String()
	if o.text.Counted == "" {
		o.log.Info(o.text.End, o.text.Lasted, lasted)
		return
	}
	o.log.Info(o.text.End, o.text.Counted, n, o.text.Lasted, lasted)
}

// Call reports whether to call the dependency now: always while it is up;
// while it is down, once a ProbeEvery (the caller that gets true is the
// probe, and reports its outcome with Failed or OK). A caller told false
// decides without the dependency and says so with Skipped.
func (o *Outage) Call() bool {
	return !o.Down() || o.Allow(o.now().UnixNano())
}

// Skipped notes a call Call held back; decided as for Failed.
func (o *Outage) Skipped(decided bool) {
	if decided {
		o.decided()
	}
}

func (o *Outage) decided() { o.total.Add(1) }

// Decided returns how many decisions were made without the dependency
// since NewOutage: calls that failed and calls Call held back.
func (o *Outage) Decided() int64 { return o.total.Load() }
