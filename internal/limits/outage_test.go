package limits

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
)

func TestAnOutageIsLoggedOnceWhenItStartsAndOnceWhenItEnds(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	clock := testkit.NewClock()
	o := NewOutage(slog.New(slog.NewTextHandler(&logs, nil)), clock.Now, OutageLog{
		Start: "down", StartAttrs: []any{"extra", "x"}, End: "up", Counted: "decided", Lasted: "outage",
	})
	o.OK() // no outage: nothing to log
	for range 3 {
		o.Failed(errors.New("refused"), true)
	}
	o.Failed(errors.New("refused"), false) // decides nothing: not counted
	if !o.Down() {
		t.Fatal("not down after failures")
	}
	clock.Advance(1500 * time.Millisecond)
	o.OK()
	o.OK()
	out := logs.String()
	if strings.Count(out, "msg=down") != 1 || strings.Count(out, "msg=up") != 1 {
		t.Fatalf("want one line at each end of the outage:\n%s", out)
	}
	for _, want := range []string{"level=WARN msg=down error=refused extra=x", "level=INFO msg=up decided=3 outage=1.5s"} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q in:\n%s", want, out)
		}
	}
}

func TestAnOutageWithoutACountLogsItsLengthOnly(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	clock := testkit.NewClock()
	o := NewOutage(slog.New(slog.NewTextHandler(&logs, nil)), clock.Now, OutageLog{Start: "lost", End: "back", Lasted: "down_for"})
	o.Failed(errors.New("eof"), false)
	clock.Advance(time.Second)
	o.OK()
	if out := logs.String(); !strings.Contains(out, "msg=back down_for=1s\n") {
		t.Fatalf("end line:\n%s", out)
	}
}
