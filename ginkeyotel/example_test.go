package ginkeyotel_test

import (
	"context"
	"fmt"
	"log/slog"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/ginkeyotel"
	"github.com/ginkey/ginkey/keystore/memstore"
	"github.com/ginkey/ginkey/observe"
)

// The observer goes into the guard's Config; here its spans go to memory,
// in a service to an exporter (OTLP, say).
func Example() {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	guard, err := ginkey.New(ginkey.Config{
		Store:     memstore.New(), // in memory here; a service leaves Store unset (SQLite) or names its database
		Observers: []observe.Observer{ginkeyotel.New(tp)},
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = guard.Close() }()

	_, _ = guard.CreateKey(context.Background(), ginkey.KeySpec{Name: "traced"})
	_ = guard.DeleteKey(context.Background(), "NoSuchKey0123456789abc")
	for _, s := range exporter.GetSpans() {
		fmt.Println(s.Name, s.Attributes[0].Key, s.Attributes[0].Value.AsString(), s.Status.Code)
	}
	// Output:
	// ginkey.admin.create ginkey.outcome ok Unset
	// ginkey.admin.delete ginkey.outcome not_found Unset
}
