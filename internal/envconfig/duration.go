package envconfig

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// DurationForms names the forms ParseDuration accepts, for the messages of
// every way a duration comes in (flags, JSON bodies, variables).
const DurationForms = "a number with d, h, m or s, e.g. 30d or 12h"

// errDurationRange is a duration past time.Duration's range (292 years).
var errDurationRange = errors.New("out of range")

// longest names the longest duration ParseDuration reads, for the errors of
// one past time.Duration's range.
const longest = "at most 106751d"

// ParseDuration reads a duration in ginkey's one syntax, used by the ginkey
// command's flags, the admin API's JSON bodies and the environment: Go's
// (time.ParseDuration: "90m", "1h30m", "1.5h", "0s") plus days, "d", as the
// first and largest unit: "30d", "1d12h", "1.5d". A day is 24 hours. The
// error names the value and the accepted forms; bounds are the caller's.
func ParseDuration(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err != nil {
		return 0, &DurationError{Value: s, outOfRange: errors.Is(err, errDurationRange)}
	}
	return d, nil
}

func parseDuration(s string) (time.Duration, error) {
	body, neg := strings.CutPrefix(s, "-")
	if !neg {
		body, _ = strings.CutPrefix(s, "+")
	}
	days, rest, hasDays := strings.Cut(body, "d")
	if !hasDays {
		days, rest = "", body
	}
	var d time.Duration
	if hasDays {
		if !isDecimal(days) {
			return 0, errors.New("days are not a number")
		}
		h, err := time.ParseDuration(days + "h")
		if err != nil || h > math.MaxInt64/24 {
			return 0, errDurationRange
		}
		d = 24 * h
		if rest == "" {
			return signed(d, neg), nil
		}
	}
	// The rest carries no sign of its own: "1d-2h" is not a duration.
	if rest == "" || (rest[0] != '.' && (rest[0] < '0' || rest[0] > '9')) {
		return 0, errors.New("no number")
	}
	r, err := time.ParseDuration(rest)
	if err != nil { // time's error quotes what it got: the caller's value, not ours
		return 0, err
	}
	if d > math.MaxInt64-r {
		return 0, errDurationRange
	}
	return signed(d+r, neg), nil
}

func signed(d time.Duration, neg bool) time.Duration {
	if neg {
		return -d
	}
	return d
}

// isDecimal reports whether s is digits with at most one '.' and at least
// one digit: what time.ParseDuration takes as a number.
func isDecimal(s string) bool {
	digits, dots := 0, 0
	for i := range len(s) {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// DurationError is ParseDuration's: the value is not a duration, or is one
// past what a time.Duration holds.
type DurationError struct {
	Value      string
	outOfRange bool
}

// Error names the value (at most 40 bytes of it) and the accepted forms,
// e.g. `"2x" is not a duration: use a number with d, h, m or s, e.g. 30d or 12h`.
func (e *DurationError) Error() string {
	v := e.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	if e.outOfRange {
		return strconv.Quote(v) + " is too long a duration: " + longest
	}
	return strconv.Quote(v) + " is not a duration: use " + DurationForms
}
