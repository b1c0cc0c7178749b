package ginkeyotel_test

import (
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/ginkeyotel"
	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/ginkey/ginkey/internal/testkit/guardtest"
	"github.com/ginkey/ginkey/observe"
)

// collect returns the value of each data point of metric name, by the
// value of its one attribute.
func collect(t *testing.T, r *sdkmetric.ManualReader, name string) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(bg, &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			var points []metricdata.DataPoint[int64]
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				points = d.DataPoints
			case metricdata.Gauge[int64]:
				points = d.DataPoints
			default:
				t.Fatalf("%s: data of type %T", name, m.Data)
			}
			for _, p := range points {
				if p.Attributes.Len() != 1 {
					t.Fatalf("%s: attributes %v, want one", name, p.Attributes)
				}
				kv := p.Attributes.ToSlice()[0]
				got[kv.Value.AsString()] = p.Value
			}
		}
	}
	return got
}

// Requests let through while the limiter is down, and the limiter's
// outage, are metrics of their own.
func TestDecisionsWithoutTheLimiterAreMetrics(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock()
	h := guardtest.New(t, func(c *ginkey.Config) { c.Limiter, c.Now = guardtest.DownLimiter{}, clock.Now })
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(bg) })
	reg, err := ginkeyotel.Metrics(mp, h.Guard)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reg.Unregister() }()
	if got := collect(t, reader, "ginkey.dependency.down"); len(got) != 4 || got["rate_limiter"] != 0 {
		t.Fatalf("before the outage: %v", got)
	}
	k := guardtest.CreateKey(t, h.Guard, ginkey.KeySpec{RateLimit: &ginkey.RateLimit{Requests: 9, Per: ginkey.PerMinute}})
	for range 3 {
		if w := h.Get("192.0.2.1:1", "/secure", k.Secret); w.Code != 200 {
			t.Fatalf("limiter down: %d", w.Code)
		}
	}
	if got := collect(t, reader, "ginkey.degraded_decisions"); len(got) != len(observe.DegradedDecisions()) || got["limits_fail_open"] != 3 || got["served_stale"] != 0 {
		t.Fatalf("ginkey.degraded_decisions = %v, want limits_fail_open 3 of every series", got)
	}
	if got := collect(t, reader, "ginkey.dependency.down"); got["rate_limiter"] != 1 || got["store"] != 0 {
		t.Fatalf("ginkey.dependency.down = %v, want rate_limiter 1", got)
	}
}
