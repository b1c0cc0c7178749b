package ginkeyotel_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/ginkeyotel"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
	"github.com/ginkey/ginkey/observe"
)

var bg = context.Background()

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// traced is a guard whose observer records spans in memory, on a store
// whose key reads and updates fail while the test says so (down), behind a
// gin engine that starts a "request" span around each request to /r.
type traced struct {
	*guardtest.H
	exporter *tracetest.InMemoryExporter
	store    *testkit.FailingStore
}

func newTraced(t *testing.T) *traced {
	t.Helper()
	store := guardtest.FailingStore(t)
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	t.Cleanup(func() { _ = tp.Shutdown(bg) })
	h := guardtest.New(t, func(c *ginkey.Config) {
		c.Store, c.FlushInterval, c.Observers = store, time.Hour, []observe.Observer{ginkeyotel.New(tp)}
	})
	requests := tp.Tracer("test")
	h.Engine.Use(func(c *gin.Context) {
		ctx, span := requests.Start(c.Request.Context(), "request")
		defer span.End()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	})
	h.Route(http.MethodGet, "/r", h.Guard.Handler()) // after Use: the span wraps it
	return &traced{H: h, exporter: exporter, store: store}
}

// down makes the store fail to read or update a key.
func (tr *traced) down() {
	tr.store.Fail(testkit.OpByHash, testkit.OpByID, testkit.OpList, testkit.OpModify, testkit.OpRotate)
}

func (tr *traced) hit(key string) int {
	tr.T.Helper()
	return tr.Get("192.0.2.1:1000", "/r", key).Code
}

// spans returns the ended spans named name and forgets every span.
func (tr *traced) take() tracetest.SpanStubs {
	s := tr.exporter.GetSpans()
	tr.exporter.Reset()
	return s
}

func named(spans tracetest.SpanStubs, name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// wantSpan fails t unless spans hold exactly one span name, with outcome
// as its only attribute and the given status, and returns it.
func wantSpan(t *testing.T, spans tracetest.SpanStubs, name, outcome string, status codes.Code) tracetest.SpanStub {
	t.Helper()
	got := named(spans, name)
	if len(got) != 1 {
		t.Fatalf("%d spans %s among %d, want 1", len(got), name, len(spans))
	}
	s := got[0]
	if len(s.Attributes) != 1 || s.Attributes[0].Key != ginkeyotel.OutcomeKey || s.Attributes[0].Value.AsString() != outcome {
		t.Errorf("%s: attributes %v, want only ginkey.outcome=%s", name, s.Attributes, outcome)
	}
	if s.Status.Code != status {
		t.Errorf("%s (%s): status %v, want %v", name, outcome, s.Status.Code, status)
	}
	return s
}

// noSecrets fails t if a span's name, attributes, status or events hold
// any of secrets.
func noSecrets(t *testing.T, spans tracetest.SpanStubs, secrets ...string) {
	t.Helper()
	for _, s := range spans {
		texts := []string{s.Name, s.Status.Description}
		for _, a := range s.Attributes {
			texts = append(texts, string(a.Key), a.Value.String())
		}
		for _, e := range s.Events {
			texts = append(texts, e.Name)
			for _, a := range e.Attributes {
				texts = append(texts, string(a.Key), a.Value.String())
			}
		}
		for _, text := range texts {
			for _, secret := range secrets {
				if secret != "" && strings.Contains(text, secret) {
					t.Errorf("span %s holds %q in %q", s.Name, secret, text)
				}
			}
		}
	}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestSpansOfLookupsOnACacheMissAndOfAdminActionsCarryTheOutcomeAndNoKey(t *testing.T) {
	t.Parallel()
	tr := newTraced(t)
	g := tr.Guard
	k, err := g.CreateKey(bg, ginkey.KeySpec{Name: "traced"})
	if err != nil {
		t.Fatal(err)
	}
	var all tracetest.SpanStubs
	spans := tr.take()
	all = append(all, spans...)
	wantSpan(t, spans, "ginkey.admin.create", "ok", codes.Unset)

	// A cache miss reads the store inside the request's span; a hit does not.
	if got := tr.hit(k.Secret); got != 200 {
		t.Fatalf("a valid key: %d", got)
	}
	spans = tr.take()
	all = append(all, spans...)
	lookup := wantSpan(t, spans, "ginkey.store.lookup", "ok", codes.Unset)
	request := named(spans, "request")
	if len(request) != 1 || lookup.Parent.SpanID() != request[0].SpanContext.SpanID() || lookup.SpanKind != trace.SpanKindClient {
		t.Errorf("the lookup span is not a client child of the request's: parent %v, kind %v", lookup.Parent.SpanID(), lookup.SpanKind)
	}
	if got := tr.hit(k.Secret); got != 200 {
		t.Fatalf("a valid key, cached: %d", got)
	}
	if spans = tr.take(); len(named(spans, "ginkey.store.lookup")) != 0 {
		t.Errorf("a cache hit made a lookup span: %v", spans)
	}

	// An unknown key is a normal answer, not an error.
	gone, err := g.CreateKey(bg, ginkey.KeySpec{Name: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.DeleteKey(bg, gone.ID); err != nil {
		t.Fatal(err)
	}
	tr.hit(gone.Secret)
	if err := g.DeleteKey(bg, gone.ID); !errors.Is(err, ginkey.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
	if err := g.Flush(bg); err != nil {
		t.Fatal(err)
	}
	spans = tr.take()
	all = append(all, spans...)
	wantSpan(t, spans, "ginkey.store.lookup", "not_found", codes.Unset)
	if got := named(spans, "ginkey.admin.delete"); len(got) != 2 || got[0].Attributes[0].Value.AsString() != "ok" ||
		got[1].Attributes[0].Value.AsString() != "not_found" || got[1].Status.Code != codes.Unset {
		t.Errorf("delete spans: %+v", got)
	}
	wantSpan(t, spans, "ginkey.store.flush", "ok", codes.Unset)

	// A store that fails: the span is an error.
	other, err := g.CreateKey(bg, ginkey.KeySpec{Name: "never used"})
	if err != nil {
		t.Fatal(err)
	}
	tr.exporter.Reset()
	tr.down()
	if got := tr.hit(other.Secret); got != http.StatusServiceUnavailable {
		t.Fatalf("a lookup in a store that is down: %d", got)
	}
	if _, err := g.RevokeKey(bg, k.ID); err == nil {
		t.Fatal("revoked a key in a store that is down")
	}
	tr.store.Heal()
	spans = tr.take()
	all = append(all, spans...)
	wantSpan(t, spans, "ginkey.store.lookup", "unavailable", codes.Error)
	wantSpan(t, spans, "ginkey.admin.revoke", "unavailable", codes.Error)

	noSecrets(t, all, k.Secret, k.ID, k.Prefix, sha(k.Secret), gone.Secret, gone.ID, gone.Prefix, sha(gone.Secret),
		other.Secret, other.ID, sha(other.Secret), "192.0.2.1")
}

func TestWithoutAProviderTheGlobalNoopMakesNoSpans(t *testing.T) {
	t.Parallel()
	o := ginkeyotel.New(nil)
	ctx, end := o.Admin(bg, "create")
	if trace.SpanFromContext(ctx).SpanContext().IsValid() {
		t.Error("the global no-op provider made a recording span")
	}
	end("ok")
	_, end = o.Store(bg, "lookup")
	end("unavailable")
}

func TestEveryStoreOperationOfTheGuardHasItsOwnSpanName(t *testing.T) {
	t.Parallel()
	exporter := tracetest.NewInMemoryExporter()
	o := ginkeyotel.New(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter)))
	for _, op := range []string{"lookup", "flush", "notify"} {
		_, end := o.Store(bg, op)
		end("ok")
	}
	spans := exporter.GetSpans()
	for _, name := range []string{"ginkey.store.lookup", "ginkey.store.flush", "ginkey.store.notify"} {
		wantSpan(t, spans, name, "ok", codes.Unset)
	}
}
