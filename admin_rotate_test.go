package ginkey

import (
	"net/http"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
)

// A rotation's grace over HTTP takes the syntax of every ginkey duration,
// days included, and a grace past its bound or not a duration at all is a
// bad_request whose message names the bound and the accepted forms.
func TestRotateGraceTakesDaysAndNamesItsBoundAndForms(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	for _, tc := range []struct {
		grace string
		want  time.Duration
	}{{"2d", 48 * time.Hour}, {"1d12h", 36 * time.Hour}, {"30d", 30 * 24 * time.Hour}, {"90m", 90 * time.Minute}} {
		k := h.createKey(`{}`)
		w := h.Admin(http.MethodPost, "/keys/"+k.ID+"/rotate", `{"grace":"`+tc.grace+`"}`)
		if w.Code != http.StatusCreated {
			t.Fatalf("grace %s: %d %s", tc.grace, w.Code, w.Body)
		}
		old, err := h.Guard.GetKey(bg, k.ID)
		if err != nil || old.RevokedAt == nil || !old.RevokedAt.Equal(clock.Now().UTC().Truncate(time.Microsecond).Add(tc.want)) {
			t.Errorf("grace %s: the old key's grace ends at %v (%v), want now + %v", tc.grace, old.RevokedAt, err, tc.want)
		}
	}
	const rule = "grace must be a duration from 0s to 30d (720h): a number with d, h, m or s, e.g. 30d or 12h"
	for _, grace := range []string{"31d", "721h", "-1h", "2x", "1h2d", ""} {
		k := h.createKey(`{}`)
		w := h.Admin(http.MethodPost, "/keys/"+k.ID+"/rotate", `{"grace":"`+grace+`"}`)
		testkit.WantError(t, w, 400, "bad_request")
		var body ErrorBody
		testkit.Decode(t, w, &body)
		if body.Error.Message != rule {
			t.Errorf("grace %q: message %q, want %q", grace, body.Error.Message, rule)
		}
	}
}
