package envconfig

import (
	"strings"
	"testing"
	"time"
)

func TestParseDurationTakesDaysWhereverItTakesHours(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"0s", 0}, {"0", 0}, {"90m", 90 * time.Minute}, {"1h30m", 90 * time.Minute}, {"1.5h", 90 * time.Minute},
		{"720h", 30 * day}, {"30d", 30 * day}, {"2d", 2 * day}, {"1d12h", 36 * time.Hour}, {"1.5d", 36 * time.Hour},
		{"1d30m15s", day + 30*time.Minute + 15*time.Second}, {"0d", 0}, {"-1d", -day}, {"+2d", 2 * day},
		{"100000d", 100_000 * day}, {"500ms", 500 * time.Millisecond},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "2x", "d", "1dd", "1h2d", "1d-2h", "1d+2h", "d1h", "1e3d", "0x10d", "infd", "1..5d", "1d 2h", " 1h", "200000d", "9999999999999d"} {
		_, err := ParseDuration(in)
		if err == nil {
			t.Errorf("ParseDuration(%q) succeeded", in)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "d, h, m or s") && !strings.Contains(msg, "at most") {
			t.Errorf("ParseDuration(%q): %q names no accepted form", in, msg)
		}
	}
	if _, err := ParseDuration("2x"); err.Error() != `"2x" is not a duration: use a number with d, h, m or s, e.g. 30d or 12h` {
		t.Errorf("error %q", err)
	}
}
