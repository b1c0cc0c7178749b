// Package ginkeyprom exports a ginkey guard's metrics to Prometheus.
//
// A Metrics is both an observe.Observer, which times the guard's store calls
// and counts its admin actions as they happen, and a prometheus.Collector,
// which reads the guard's counters (Guard.Stats) on each scrape:
//
//	metrics := ginkeyprom.New()
//	guard, err := ginkey.New(ginkey.Config{Observers: []observe.Observer{metrics}})
//	if err != nil {
//		return err
//	}
//	reg := prometheus.NewRegistry()
//	if err := reg.Register(metrics.Watch(guard)); err != nil {
//		return err
//	}
//	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
//
// The metrics:
//
//	ginkey_verifications_total{outcome}         counter   requests the guard's middlewares decided
//	ginkey_cache_lookups_total{result}          counter   hit, miss or negative (a key the store did not know)
//	ginkey_cache_keys                           gauge     verified keys in the cache
//	ginkey_usage_flush_pending                  gauge     requests counted in memory, not yet written
//	ginkey_usage_flush_errors_total             counter   usage flushes that failed
//	ginkey_store_seconds{op}                    histogram store lookups, usage flushes and admin writes
//	ginkey_admin_actions_total{action,outcome}  counter   admin actions: admin API and Go calls
//	ginkey_degraded_decisions_total{decision}   counter   requests decided without a failing dependency:
//	                                                      served_stale, limits_fail_open, limits_fail_closed, throttle_local
//	ginkey_dependency_down{dependency}          gauge     1 while store, rate_limiter, quota_counter or failure_counter is known down
//
// Every label takes its values from a fixed set, so the number of series
// is bounded: no key, key id, prefix, owner or client address is ever a
// label. A value outside the set (a custom store's own error code, say)
// is counted as "other". Every verification outcome, cache result and
// store op, and each admin action's ok and unavailable, is exported from
// the start, zeros included, so that rates and alerts see a series before
// its first event.
package ginkeyprom

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/observe"
)

// other stands for a label value outside a label's fixed set.
const other = "other"

// storeOps are the values of ginkey_store_seconds' op label (and
// "other"): the store lookup on a cache miss, the usage flush, the change
// announcement to other instances, and the
// admin actions, each timed whole (its store write and its audit entry).
var storeOps = []string{
	"lookup", "flush", "notify",
	"create", "update", "revoke",
	"renew", "rotate", "delete",
}

// adminActions are the values of ginkey_admin_actions_total's action label
// (and "other").
var adminActions = []string{
	"create", "update", "revoke",
	"renew", "rotate", "delete",
}

// adminOutcomes are the values of ginkey_admin_actions_total's outcome
// label (and "other"): ok and the error codes an admin action can end with.
// Each action's ok and unavailable series are exported from the start, the
// others once they happen.
var adminOutcomes = []string{
	"ok", "bad_request", "not_found", "key_revoked", "key_rotated",
	"key_expired", "payload_too_large", "unavailable", "internal_error",
}

// defaultBuckets are ginkey_store_seconds' buckets, in seconds: from
// 100 µs (a lookup in a local SQLite file) to 10 s (beyond any sensible
// StoreTimeout).
var defaultBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Option changes a Metrics made by New.
type Option func(*options)

type options struct {
	buckets     []float64
	constLabels prometheus.Labels
}

// WithBuckets sets ginkey_store_seconds' bucket upper bounds, in seconds,
// increasing. Default: 16 buckets from 100 µs to 10 s (.0001, .00025,
// .0005, .001 ... 2.5, 5, 10).
func WithBuckets(buckets ...float64) Option {
	return func(o *options) { o.buckets = slices.Clone(buckets) }
}

// WithConstLabels adds labels with fixed values to every metric, to tell
// apart the guards of one process registered with one registry (e.g.
// {"guard": "partners"}). Their values are the application's; like the
// other labels they should name nothing secret. Default: none.
func WithConstLabels(labels prometheus.Labels) Option {
	return func(o *options) { o.constLabels = labels }
}

// Metrics is one guard's Prometheus metrics: an observe.Observer to put in
// the guard's Config.Observers, and a prometheus.Collector to register
// once Watch has named the guard. It is safe for concurrent use.
type Metrics struct {
	guard atomic.Pointer[ginkey.Guard]

	storeSeconds *prometheus.HistogramVec
	storeBy      map[string]prometheus.Observer // by op, resolved once for the request path
	adminTotal   *prometheus.CounterVec

	verifications, cacheLookups, cacheKeys, flushPending, flushErrors *prometheus.Desc
	degraded, down                                                    *prometheus.Desc
	outcomes                                                          []string
}

var (
	_ observe.Observer     = (*Metrics)(nil)
	_ prometheus.Collector = (*Metrics)(nil)
)

// New returns the metrics of a guard still to be made: pass it in
// Config.Observers, then call Watch with the guard and register it.
func New(opts ...Option) *Metrics {
	o := options{buckets: defaultBuckets}
	for _, opt := range opts {
		opt(&o)
	}
	cl := o.constLabels
	m := &Metrics{
		storeSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        "ginkey_store_seconds",
			Help:        "Time taken by the key store: lookups on a cache miss, usage flushes, and admin actions (op create, update, revoke, renew, rotate, delete).",
			Buckets:     o.buckets,
			ConstLabels: cl,
		}, []string{"op"}),
		adminTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "ginkey_admin_actions_total",
			Help:        "Admin actions on keys through this guard (its admin API or Go calls), by action and outcome (ok or an error code).",
			ConstLabels: cl,
		}, []string{"action", "outcome"}),
		verifications: prometheus.NewDesc("ginkey_verifications_total",
			"Requests the guard's middlewares decided, by outcome (valid or the error code).", []string{"outcome"}, cl),
		cacheLookups: prometheus.NewDesc("ginkey_cache_lookups_total",
			"Key lookups answered from the cache (hit), read from the store (miss), or refused as a key the store did not know a moment ago (negative).", []string{"result"}, cl),
		cacheKeys: prometheus.NewDesc("ginkey_cache_keys",
			"Verified keys in the cache.", nil, cl),
		flushPending: prometheus.NewDesc("ginkey_usage_flush_pending",
			"Requests counted in memory and not yet written to the store.", nil, cl),
		flushErrors: prometheus.NewDesc("ginkey_usage_flush_errors_total",
			"Usage flushes that failed.", nil, cl),
		degraded: prometheus.NewDesc("ginkey_degraded_decisions_total",
			"Requests decided without a dependency that was failing: admitted on a stale record while the key store failed (served_stale), let through unchecked (limits_fail_open) or refused (limits_fail_closed) while a rate limiter or quota counter was down, failure throttles counted on this instance alone (throttle_local).", []string{"decision"}, cl),
		down: prometheus.NewDesc("ginkey_dependency_down",
			"1 while the guard knows a dependency to be down: the key store (store) or a shared counter (rate_limiter, quota_counter, failure_counter).", []string{"dependency"}, cl),
		outcomes: observe.VerificationOutcomes(),
	}
	m.storeBy = make(map[string]prometheus.Observer, len(storeOps))
	for _, op := range storeOps {
		m.storeBy[op] = m.storeSeconds.WithLabelValues(op)
	}
	for _, a := range adminActions {
		m.adminTotal.WithLabelValues(a, "ok")
		m.adminTotal.WithLabelValues(a, "unavailable")
	}
	return m
}

// Watch names the guard whose counters each scrape reads (Guard.Stats),
// and returns m, to register. Until then m exports only the store times
// and the admin actions.
func (m *Metrics) Watch(g *ginkey.Guard) *Metrics {
	m.guard.Store(g)
	return m
}

// Store times a store call, implementing observe.Observer.
func (m *Metrics) Store(ctx context.Context, op string) (context.Context, func(string)) {
	return ctx, m.timer(op)
}

// Admin times and counts an admin action, implementing observe.Observer.
func (m *Metrics) Admin(ctx context.Context, action string) (context.Context, func(string)) {
	stop := m.timer(action)
	action = bounded(action, adminActions)
	return ctx, func(outcome string) {
		stop(outcome)
		m.adminTotal.WithLabelValues(action, bounded(outcome, adminOutcomes)).Inc()
	}
}

func (m *Metrics) timer(op string) func(string) {
	h, ok := m.storeBy[op]
	if !ok {
		h = m.storeSeconds.WithLabelValues(other)
	}
	start := time.Now()
	return func(string) { h.Observe(time.Since(start).Seconds()) }
}

// bounded is v if set holds it, else "other".
func bounded(v string, set []string) string {
	if slices.Contains(set, v) {
		return v
	}
	return other
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.verifications, m.cacheLookups, m.cacheKeys, m.flushPending, m.flushErrors, m.degraded, m.down} {
		ch <- d
	}
	m.storeSeconds.Describe(ch)
	m.adminTotal.Describe(ch)
}

// Collect implements prometheus.Collector: it reads the watched guard's
// Stats once per scrape.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.storeSeconds.Collect(ch)
	m.adminTotal.Collect(ch)
	g := m.guard.Load()
	if g == nil {
		return
	}
	s := g.Stats()
	for _, o := range m.outcomes {
		ch <- prometheus.MustNewConstMetric(m.verifications, prometheus.CounterValue, float64(s.Verifications[o]), o)
	}
	ch <- prometheus.MustNewConstMetric(m.cacheLookups, prometheus.CounterValue, float64(s.CacheHits), "hit")
	ch <- prometheus.MustNewConstMetric(m.cacheLookups, prometheus.CounterValue, float64(s.CacheMisses), "miss")
	ch <- prometheus.MustNewConstMetric(m.cacheLookups, prometheus.CounterValue, float64(s.CacheNegative), "negative")
	ch <- prometheus.MustNewConstMetric(m.cacheKeys, prometheus.GaugeValue, float64(s.CachedKeys))
	ch <- prometheus.MustNewConstMetric(m.flushPending, prometheus.GaugeValue, float64(s.UsagePending))
	ch <- prometheus.MustNewConstMetric(m.flushErrors, prometheus.CounterValue, float64(s.FlushErrors))
	for _, d := range observe.DegradedDecisions() {
		ch <- prometheus.MustNewConstMetric(m.degraded, prometheus.CounterValue, float64(s.Degraded[d]), d)
	}
	for _, d := range observe.Dependencies() {
		v := 0.0
		if s.Down[d] {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(m.down, prometheus.GaugeValue, v, d)
	}
}
