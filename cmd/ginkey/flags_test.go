package main

import (
	"flag"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ginkey/ginkey"
)

func TestParseRateReadsRequestsPerUnit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    ginkey.RateLimit
		wantErr string // a part of the error; "" for none
	}{
		{in: "100/1m", want: ginkey.RateLimit{Requests: 100, Per: ginkey.PerMinute}},
		{in: "5/s", want: ginkey.RateLimit{Requests: 5, Per: ginkey.PerSecond}},
		{in: "5/second", want: ginkey.RateLimit{Requests: 5, Per: ginkey.PerSecond}},
		{in: "1_000/Hour", want: ginkey.RateLimit{Requests: 1000, Per: ginkey.PerHour}},
		{in: "7/min", want: ginkey.RateLimit{Requests: 7, Per: ginkey.PerMinute}},
		{in: "5/fortnight", wantErr: "1s, 1m or 1h"},
		{in: "5/day", wantErr: "1s, 1m or 1h"},
		{in: "100", wantErr: "REQUESTS/UNIT"},
		{in: "0/1m", wantErr: "positive whole number"},
		{in: "-3/1m", wantErr: "positive whole number"},
		{in: "x/1m", wantErr: "positive whole number"},
		{in: "", wantErr: "REQUESTS/UNIT"},
	}
	for _, tt := range tests {
		got, err := parseRate(tt.in)
		checkParse(t, tt.in, got, tt.want, err, tt.wantErr)
	}
}

func TestParseQuotaReadsRequestsPerPeriod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    ginkey.Quota
		wantErr string
	}{
		{in: "10000/day", want: ginkey.Quota{Requests: 10000, Per: ginkey.PerDay}},
		{in: "1/d", want: ginkey.Quota{Requests: 1, Per: ginkey.PerDay}},
		{in: "50000/month", want: ginkey.Quota{Requests: 50000, Per: ginkey.PerMonth}},
		{in: "3/MO", want: ginkey.Quota{Requests: 3, Per: ginkey.PerMonth}},
		{in: "10/1m", wantErr: "day or month"},
		{in: "10/week", wantErr: "day or month"},
		{in: "day", wantErr: "REQUESTS/UNIT"},
		{in: "99999999999999999999/day", wantErr: "positive whole number"},
	}
	for _, tt := range tests {
		got, err := parseQuota(tt.in)
		checkParse(t, tt.in, got, tt.want, err, tt.wantErr)
	}
}

func TestParseExpiryReadsDurationsDaysTimesAndNever(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(t time.Time) expiry { return expiry{at: &t} }
	tests := []struct {
		in      string
		want    expiry
		wantErr bool
	}{
		{in: "never", want: expiry{never: true}},
		{in: "NEVER", want: expiry{never: true}},
		{in: "720h", want: at(now.Add(720 * time.Hour))},
		{in: "90m", want: at(now.Add(90 * time.Minute))},
		{in: "30d", want: at(now.AddDate(0, 0, 30))},
		{in: "1d12h", want: at(now.Add(36 * time.Hour))},
		{in: "2031-06-01T00:00:00Z", want: at(time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC))},
		{in: "2031-06-01T02:00:00+02:00", want: at(time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC))},
		{in: "bogus", wantErr: true},
		{in: "", wantErr: true},
		{in: "-5h", wantErr: true},
		{in: "0s", wantErr: true},
		{in: "0d", wantErr: true},
		{in: "200000d", wantErr: true}, // past time.Duration's range
		{in: "2031-06-01", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseExpiry(tt.in, now)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseExpiry(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if got.never != tt.want.never || (got.at == nil) != (tt.want.at == nil) ||
			(got.at != nil && !got.at.Equal(*tt.want.at)) {
			t.Errorf("parseExpiry(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func checkParse[T comparable](t *testing.T, in string, got, want T, err error, wantErr string) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Errorf("%q: unexpected error %v", in, err)
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		t.Errorf("%q: error %v, want one containing %q", in, err, wantErr)
	case wantErr == "" && got != want:
		t.Errorf("%q = %+v, want %+v", in, got, want)
	}
}

func TestParseInterspersedTakesFlagsAfterArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		wantPos  []string
		wantJSON bool
	}{
		{args: []string{"ID", "--json"}, wantPos: []string{"ID"}, wantJSON: true},
		{args: []string{"--json", "ID"}, wantPos: []string{"ID"}, wantJSON: true},
		{args: []string{"ID"}, wantPos: []string{"ID"}},
		{args: []string{"--", "--json"}, wantPos: []string{"--json"}},
		{args: []string{"A", "B"}, wantPos: []string{"A", "B"}},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		j := fs.Bool("json", false, "")
		pos, err := parseInterspersed(fs, tt.args)
		if err != nil || !slices.Equal(pos, tt.wantPos) || *j != tt.wantJSON {
			t.Errorf("%q: positional %q, json %v, error %v; want %q, %v", tt.args, pos, *j, err, tt.wantPos, tt.wantJSON)
		}
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"100/1m", "5/fortnight", "1/s", "", "/", "9999999999999999999/h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRate(s)
		if err == nil && (r.Requests < 1 || (r.Per != ginkey.PerSecond && r.Per != ginkey.PerMinute && r.Per != ginkey.PerHour)) {
			t.Fatalf("parseRate(%q) = %+v without an error", s, r)
		}
	})
}

func FuzzParseQuota(f *testing.F) {
	for _, s := range []string{"10000/day", "1/month", "10/1m", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parseQuota(s)
		if err == nil && (q.Requests < 1 || (q.Per != ginkey.PerDay && q.Per != ginkey.PerMonth)) {
			t.Fatalf("parseQuota(%q) = %+v without an error", s, q)
		}
	})
}

func FuzzParseExpiry(f *testing.F) {
	for _, s := range []string{"never", "720h", "30d", "2031-06-01T00:00:00Z", "bogus", "-1d"} {
		f.Add(s)
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseExpiry(s, now)
		if err != nil {
			return
		}
		if e.never == (e.at != nil) {
			t.Fatalf("parseExpiry(%q) = %+v: want exactly one of a time and never", s, e)
		}
	})
}
