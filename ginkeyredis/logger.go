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
// while Redis is down. It writes them to a *slog.Logger at WARN, at most
// one line a LogEvery, with how many it left out since the last one
// (suppressed), so that they read like ginkey's own outage log.
//
// ginkeyredis never installs it: go-redis's logger belongs to the whole
// process, and a host that uses go-redis elsewhere may want its lines as
// they are. Install it yourself, once, if ginkeyredis is the process's only
// go-redis user or you want all of them so:
//
//	redis.SetLogger(ginkeyredis.NewLogger(logger))
type Logger struct {
	log        *slog.Logger
	now        func() time.Time
	mu         sync.Mutex
	last       time.Time
	suppressed int64
}

// NewLogger returns a Logger writing to log (nil: slog.Default()).
func NewLogger(log *slog.Logger) *Logger {
	if log == nil {
		log = slog.Default()
	}
	return &Logger{log: log, now: time.Now}
}

// Printf implements go-redis's logger interface (redis.SetLogger).
func (l *Logger) Printf(ctx context.Context, format string, v ...any) {
	now := l.now()
	l.mu.Lock()
	if !l.last.IsZero() && now.Sub(l.last) < LogEvery {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	l.log.WarnContext(ctx, "ginkeyredis: go-redis: "+msg, "suppressed", n)
}
