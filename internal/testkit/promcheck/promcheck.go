// Package promcheck reads and checks a Prometheus text scrape of ginkey's
// metrics, for the tests of ginkeyprom and of the example. It is for tests
// only.
package promcheck

import (
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Labels are every ginkey metric's label names: nothing else may be a
// label, least of all a key, key id, prefix or client address.
var Labels = map[string][]string{
	"ginkey_verifications_total":      {"outcome"},
	"ginkey_cache_lookups_total":      {"result"},
	"ginkey_cache_keys":               nil,
	"ginkey_usage_flush_pending":      nil,
	"ginkey_usage_flush_errors_total": nil,
	"ginkey_store_seconds":            {"op"},
	"ginkey_admin_actions_total":      {"action", "outcome"},
	"ginkey_degraded_decisions_total": {"decision"},
	"ginkey_dependency_down":          {"dependency"},
}

// Parse reads text in Prometheus' text format.
func Parse(t testing.TB, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parsing the scrape: %v\n%s", err, text)
	}
	return fams
}

// Value is name{labels} ("k=v" pairs in name order, as the text format
// sorts them): a counter's or gauge's value, a histogram's count; -1 when
// there is no such series.
func Value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	for _, m := range fams[name].GetMetric() {
		var got []string
		for _, l := range m.GetLabel() {
			got = append(got, l.GetName()+"="+l.GetValue())
		}
		if !slices.Equal(got, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

// CheckLabels fails t unless the scrape holds exactly the ginkey metrics,
// each with exactly its Labels, and neither a label value nor anything
// else in text holds any of secrets.
func CheckLabels(t testing.TB, fams map[string]*dto.MetricFamily, text string, secrets ...string) {
	t.Helper()
	for name := range Labels {
		if fams[name] == nil {
			t.Errorf("the scrape lacks %s", name)
		}
	}
	for name, f := range fams {
		want, ok := Labels[name]
		if !ok {
			t.Errorf("unexpected metric %s", name)
			continue
		}
		for _, m := range f.GetMetric() {
			var got []string
			for _, l := range m.GetLabel() {
				got = append(got, l.GetName())
				for _, s := range secrets {
					if s != "" && strings.Contains(l.GetValue(), s) {
						t.Errorf("%s has a label %s=%q holding %q", name, l.GetName(), l.GetValue(), s)
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s has labels %v, want %v", name, got, want)
			}
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("the scrape holds %q", s)
		}
	}
}
