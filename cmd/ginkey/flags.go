package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/envconfig"
)

// The parsers here read only the shape of a flag's value. The ranges (how
// many requests, how far in the future) are the key-management API's rules,
// checked there once; its bad_request errors are usage errors too.

// parseRate reads a rate limit written N/UNIT, e.g. 100/1m.
func parseRate(s string) (ginkey.RateLimit, error) {
	units := map[string]string{
		"s": ginkey.PerSecond, "1s": ginkey.PerSecond, "sec": ginkey.PerSecond, "second": ginkey.PerSecond,
		"m": ginkey.PerMinute, "1m": ginkey.PerMinute, "min": ginkey.PerMinute, "minute": ginkey.PerMinute,
		"h": ginkey.PerHour, "1h": ginkey.PerHour, "hour": ginkey.PerHour,
	}
	n, per, err := parseCount(s, units, "100/1m", "1s, 1m or 1h (also s, m, h, second, minute, hour)")
	return ginkey.RateLimit{Requests: n, Per: per}, err
}

// parseQuota reads a quota written N/PERIOD, e.g. 10000/day.
func parseQuota(s string) (ginkey.Quota, error) {
	units := map[string]string{
		"d": ginkey.PerDay, "day": ginkey.PerDay,
		"mo": ginkey.PerMonth, "month": ginkey.PerMonth,
	}
	n, per, err := parseCount(s, units, "10000/day", "day or month (also d, mo)")
	return ginkey.Quota{Requests: n, Per: per}, err
}

func parseCount(s string, units map[string]string, example, accepted string) (int64, string, error) {
	num, unit, ok := strings.Cut(s, "/")
	if !ok {
		return 0, "", fmt.Errorf("want REQUESTS/UNIT, e.g. %s; UNIT is %s", example, accepted)
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(num, "_", ""), 10, 64)
	if err != nil || n < 1 {
		return 0, "", fmt.Errorf("%q is not a positive whole number of requests", num)
	}
	per, ok := units[strings.ToLower(unit)]
	if !ok {
		return 0, "", fmt.Errorf("unknown unit %q: UNIT is %s", unit, accepted)
	}
	return n, per, nil
}

// expiry is a parsed --expires: a time, never, or neither (the server's TTL).
type expiry struct {
	at    *time.Time
	never bool
}

// parseExpiry reads --expires: "never", a positive duration from now
// (30d, 1d12h, 720h), or an RFC 3339 time.
func parseExpiry(s string, now time.Time) (expiry, error) {
	if strings.EqualFold(s, "never") {
		return expiry{never: true}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return expiry{at: &t}, nil
	}
	d, err := positiveDuration(s)
	if err != nil {
		return expiry{}, fmt.Errorf(`%w, an RFC 3339 time such as 2030-01-02T15:04:05Z, or "never"`, err)
	}
	t := now.Add(d)
	return expiry{at: &t}, nil
}

// positiveDuration reads a duration that must be more than 0s, in the one
// syntax of ginkey's durations (envconfig.ParseDuration).
func positiveDuration(s string) (time.Duration, error) {
	d, err := envconfig.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not more than 0s: use a positive duration, e.g. 30d or 12h", s)
	}
	return d, nil
}

// durationFlag is a flag in the syntax of ginkey's durations
// (envconfig.ParseDuration): 2d, 1d12h, 90m, 0s. Its bounds are the API's
// to check, and its error names them.
type durationFlag struct{ v time.Duration }

func (f *durationFlag) String() string {
	if f == nil {
		return ""
	}
	return f.v.String()
}

func (f *durationFlag) Set(s string) error {
	d, err := envconfig.ParseDuration(s)
	if err != nil {
		return err
	}
	f.v = d
	return nil
}

// rateFlag is --rate; none clears the key's own limit (update only).
type rateFlag struct {
	set, none bool
	v         ginkey.RateLimit
	allowNone bool
}

func (f *rateFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	if f.none {
		return "none"
	}
	return formatRate(&f.v)
}

func (f *rateFlag) Set(s string) error {
	f.set, f.none = true, false
	if f.allowNone && strings.EqualFold(s, "none") {
		f.none = true
		return nil
	}
	v, err := parseRate(s)
	f.v = v
	return err
}

// quotaFlag is --quota; none removes the key's quota (update only).
type quotaFlag struct {
	set, none bool
	v         ginkey.Quota
	allowNone bool
}

func (f *quotaFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	if f.none {
		return "none"
	}
	return formatQuota(&f.v)
}

func (f *quotaFlag) Set(s string) error {
	f.set, f.none = true, false
	if f.allowNone && strings.EqualFold(s, "none") {
		f.none = true
		return nil
	}
	v, err := parseQuota(s)
	f.v = v
	return err
}

// expiryFlag is --expires.
type expiryFlag struct {
	v   expiry
	now func() time.Time
}

func (f *expiryFlag) String() string { return "" }

func (f *expiryFlag) Set(s string) error {
	v, err := parseExpiry(s, f.now())
	f.v = v
	return err
}

// listFlag is a flag that may be repeated (--scope a --scope b); each value
// may also hold several, comma-separated.
type listFlag []string

func (f *listFlag) String() string {
	if f == nil {
		return ""
	}
	return strings.Join(*f, ",")
}

func (f *listFlag) Set(s string) error {
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*f = append(*f, part)
		}
	}
	return nil
}

// optString is a string flag that knows whether it was given.
type optString struct {
	set bool
	v   string
}

func (f *optString) String() string {
	if f == nil {
		return ""
	}
	return f.v
}

func (f *optString) Set(s string) error {
	f.set, f.v = true, s
	return nil
}

// parseInterspersed parses fs over args, flags before or after positional
// arguments (show ID --json), and returns the positional ones. After "--"
// everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// sinceFlag is --since: an RFC 3339 time, or a positive duration (24h, 7d)
// back from now.
type sinceFlag struct {
	v   time.Time
	now func() time.Time
}

func (f *sinceFlag) String() string {
	if f == nil || f.v.IsZero() {
		return ""
	}
	return f.v.UTC().Format(time.RFC3339)
}

func (f *sinceFlag) Set(s string) error {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		f.v = t
		return nil
	}
	d, err := positiveDuration(s)
	if err != nil {
		return fmt.Errorf("%w (back from now), or an RFC 3339 time such as 2030-01-02T15:04:05Z", err)
	}
	f.v = f.now().Add(-d)
	return nil
}
