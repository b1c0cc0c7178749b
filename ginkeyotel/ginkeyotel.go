// Package ginkeyotel traces a ginkey guard's store lookups and admin
// actions with OpenTelemetry.
//
// Tracing is off unless the application adds the observer:
//
//	guard, err := ginkey.New(ginkey.Config{
//		Observers: []observe.Observer{ginkeyotel.New(tracerProvider)},
//	})
//
// Each store lookup on a cache miss is a span named "ginkey.store.lookup",
// each usage flush "ginkey.store.flush" (both of kind client), and each
// admin action through the guard (its HTTP admin API or the application's
// Go calls) "ginkey.admin.create", "ginkey.admin.update", "ginkey.admin.revoke",
// "ginkey.admin.renew", "ginkey.admin.rotate" or "ginkey.admin.delete". A
// span is a child of the span in the operation's context (the request's,
// for a lookup), and carries one attribute, ginkey.outcome: "ok" or the
// error code the operation ended with ("not_found", "unavailable"...).
// Its status is Error when the store or the guard failed ("unavailable",
// or a code of a custom store), and unset for an outcome that is a normal
// answer: an unknown key, or an admin request the contract refuses
// (bad_request, not_found, key_revoked, key_rotated, key_expired,
// payload_too_large).
//
// No span carries a key, a hash, a key id, a prefix or a client address:
// the guard passes none to its observers.
//
// Metrics registers the guard's decisions made without a failing dependency,
// and which dependencies are down, as OpenTelemetry metrics.
package ginkeyotel

import (
	"context"

	"github.com/ginkey/ginkey/observe"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of ginkey's tracer.
const ScopeName = "github.com/ginkey/ginkey/ginkeyotel"

// OutcomeKey is the attribute that holds an operation's outcome.
const OutcomeKey = attribute.Key("ginkey.outcome")

// normal are the outcomes that are answers, not failures.
var normal = map[string]bool{
	"ok": true, "not_found": true, "bad_request": true, "key_revoked": true,
	"key_rotated": true, "key_expired": true, "payload_too_large": true,
}

// spanNames are the names of the spans of the operations the guard
// reports, made once.
var spanNames = map[string]string{
	"lookup": "ginkey.store.lookup", "flush": "ginkey.store.flush", "notify": "ginkey.store.notify",
	"create": "ginkey.admin.create", "update": "ginkey.admin.update",
	"revoke": "ginkey.admin.revoke", "renew": "ginkey.admin.renew",
	"rotate": "ginkey.admin.rotate", "delete": "ginkey.admin.delete",
}

// tracer is an observe.Observer that makes spans.
type tracer struct {
	t trace.Tracer
}

var _ observe.Observer = tracer{}

// New returns an observer that makes a span of every store lookup, usage
// flush and admin action of the guard it is given to (in
// Config.Observers), with tp's tracer. A nil tp means the global provider,
// otel.GetTracerProvider(), which makes no spans until the application
// sets one.
func New(tp trace.TracerProvider) observe.Observer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tracer{t: tp.Tracer(ScopeName)}
}

// Store starts the span of a store call.
func (t tracer) Store(ctx context.Context, op string) (context.Context, func(string)) {
	return t.start(ctx, "ginkey.store.", op, trace.SpanKindClient)
}

// Admin starts the span of an admin action.
func (t tracer) Admin(ctx context.Context, action string) (context.Context, func(string)) {
	return t.start(ctx, "ginkey.admin.", action, trace.SpanKindInternal)
}

func (t tracer) start(ctx context.Context, kind, op string, sk trace.SpanKind) (context.Context, func(string)) {
	name, ok := spanNames[op]
	if !ok {
		name = kind + "other" // a bounded set of names, whatever op is
	}
	ctx, span := t.t.Start(ctx, name, trace.WithSpanKind(sk))
	return ctx, func(outcome string) {
		span.SetAttributes(OutcomeKey.String(outcome))
		if !normal[outcome] {
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
	}
}
