package ginkeyredis

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// LogEvery is how often a Logger writes at most one line.
const LogEvery = time.Second

// Logger is a logger for go-redis's own lines ("failed to dial after 1
// attempts: connection refused"...), which go-redis writes to stderr
// through one process-wide logger, some 30 lines a second per instance
// while Redis is down. It writes them to a *slog.Logger at WARN, each kind
// of line (go-redis's format string) at most once a LogEvery, with how many
// of that kind it left out since (suppressed), so that they read like
// ginkey's own outage log and a flood of one kind never hides another (a
// recovered panic, a failover). The line is the attribute "line".
//
// ginkeyredis never installs it: go-redis's logger belongs to the whole
// process, and a host that uses go-redis elsewhere may want its lines as
// they are. Install it yourself, once, if ginkeyredis is the process's only
// go-redis user or you want all of them so:
//
//	redis.SetLogger(ginkeyredis.NewLogger(logger))
type Logger struct {
	log   *slog.Logger
	now   func() time.Time
	mu    sync.Mutex
	kinds map[string]*logKind // by format; beyond maxLogKinds, "" holds the rest
}

type logKind struct {
	last       time.Time
	suppressed int64
}

// maxLogKinds bounds the kinds of line a Logger tells apart; go-redis has
// a few dozen format strings.
const maxLogKinds = 128

// NewLogger returns a Logger writing to log (nil: slog.Default()).
func NewLogger(log *slog.Logger) *Logger {
	if log == nil {
		log = slog.Default()
	}
	return &Logger{log: log, now: time.Now, kinds: make(map[string]*logKind)}
}

// Printf implements go-redis's logger interface (redis.SetLogger).
func (l *Logger) Printf(ctx context.Context, format string, v ...any) {
	now := l.now()
	l.mu.Lock()
	kind := format
	if _, ok := l.kinds[kind]; !ok && len(l.kinds) >= maxLogKinds {
		kind = ""
	}
	k := l.kinds[kind]
	if k == nil {
		k = &logKind{}
		l.kinds[kind] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < LogEvery {
		k.suppressed++
		l.mu.Unlock()
		return
	}
	n := k.suppressed
	k.last, k.suppressed = now, 0
	l.mu.Unlock()
	line := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	l.log.WarnContext(ctx, "ginkeyredis: go-redis", "line", line, "suppressed", n)
}
