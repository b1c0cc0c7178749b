package ginkeyotel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/observe"
)

// The attributes of the metrics Metrics registers.
const (
	DecisionKey   = attribute.Key("ginkey.decision")
	DependencyKey = attribute.Key("ginkey.dependency")
)

// Metrics registers, with mp's meter (nil: the global provider's), two
// instruments read from g's Stats on each collection, so that an alert can
// fire while the guard decides without its store or its shared counters:
//
//	ginkey.degraded_decisions  counter  requests decided without a failing dependency, by
//	                                    ginkey.decision (observe.DegradedDecisions)
//	ginkey.dependency.down     gauge    1 while a dependency is known down, by
//	                                    ginkey.dependency (observe.Dependencies)
//
// Their attributes take values from those fixed lists only. Unregister the
// returned registration to stop.
func Metrics(mp metric.MeterProvider, g *ginkey.Guard) (metric.Registration, error) {
	if g == nil {
		return nil, errors.New("ginkeyotel: Metrics needs a guard")
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(ScopeName)
	degraded, err := m.Int64ObservableCounter("ginkey.degraded_decisions",
		metric.WithDescription("Requests decided without a dependency that was failing: served_stale, limits_fail_open, limits_fail_closed, throttle_local."))
	if err != nil {
		return nil, err
	}
	down, err := m.Int64ObservableGauge("ginkey.dependency.down",
		metric.WithDescription("1 while the guard knows a dependency to be down: store, rate_limiter, quota_counter, failure_counter."))
	if err != nil {
		return nil, err
	}
	decisions, deps := observe.DegradedDecisions(), observe.Dependencies()
	return m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := g.Stats()
		for _, d := range decisions {
			o.ObserveInt64(degraded, int64(s.Degraded[d]), metric.WithAttributes(DecisionKey.String(d))) //nolint:gosec // a count, far below 2^63
		}
		for _, d := range deps {
			var v int64
			if s.Down[d] {
				v = 1
			}
			o.ObserveInt64(down, v, metric.WithAttributes(DependencyKey.String(d)))
		}
		return nil
	}, degraded, down)
}
