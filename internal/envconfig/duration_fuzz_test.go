package envconfig

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseDuration holds ParseDuration to Go's syntax wherever there is no
// day, to "Nd" being N times 24h, and to an error naming the accepted forms.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30d", "1d12h", "1.5d", "90m", "0s", "-1h", "2x", "1h2d", "100000d", "1d-2h", ".5d", "+1d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseDuration(s)
		if err != nil {
			if msg := err.Error(); !strings.Contains(msg, DurationForms) && !strings.Contains(msg, "at most") {
				t.Fatalf("ParseDuration(%q): %q names no accepted form", s, msg)
			}
			return
		}
		if !strings.Contains(s, "d") {
			if want, err := time.ParseDuration(s); err != nil || want != got {
				t.Fatalf("ParseDuration(%q) = %v, time.ParseDuration says %v, %v", s, got, want, err)
			}
			return
		}
		days, rest, _ := strings.Cut(strings.TrimLeft(s, "+-"), "d")
		h, err := time.ParseDuration(days + "h")
		if err != nil {
			t.Fatalf("ParseDuration(%q) = %v, but its days %q are no number of hours", s, got, days)
		}
		var r time.Duration
		if rest != "" {
			if r, err = time.ParseDuration(rest); err != nil || r < 0 {
				t.Fatalf("ParseDuration(%q) = %v, but its rest %q is %v, %v", s, got, rest, r, err)
			}
		}
		if want := 24*h + r; got != want && got != -want {
			t.Fatalf("ParseDuration(%q) = %v, want ±%v", s, got, want)
		}
	})
}
