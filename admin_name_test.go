package ginkey

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Names may hold any printable text and the ASCII space, but no control,
// format or other space characters, which would let one name pass for
// another ("abc\u202egpj.exe" displays as "abcexe.jpg").
func TestKeyNameRefusesInvisibleAndFormatCharacters(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{}`)
	cases := []struct {
		name string
		rune string // "" when the name is fine
	}{
		{"billing service", ""},
		{"café, 日本語 キー 🔑", ""},
		{"e\u0301 (combining mark)", ""},
		{`a-b_c.d/e:f "quoted" <tag>`, ""},
		{"abc\u202egpj.exe", "U+202E"},
		{"zero\u200bwidth", "U+200B"},
		{"\ufeffbom", "U+FEFF"},
		{"soft\u00adhyphen", "U+00AD"},
		{"no\u00a0break", "U+00A0"},
		{"ideographic\u3000space", "U+3000"},
		{"line\u2028separator", "U+2028"},
		{"tab\there", "U+0009"},
		{"nul\x00", "U+0000"},
		{"del\x7f", "U+007F"},
	}
	for _, tc := range cases {
		body, err := json.Marshal(map[string]string{"name": tc.name})
		if err != nil {
			t.Fatal(err)
		}
		for _, ep := range []struct{ method, path string }{{"POST", "/keys"}, {"PATCH", "/keys/" + k.ID}} {
			w := h.admin(ep.method, ep.path, string(body))
			if tc.rune == "" {
				if w.Code != http.StatusOK && w.Code != http.StatusCreated {
					t.Fatalf("%s %q: %d %s", ep.method, tc.name, w.Code, w.Body)
				}
				continue
			}
			wantError(t, w, http.StatusBadRequest, "bad_request")
			if msg := errorMessage(t, w); !strings.HasPrefix(msg, "name ") || !strings.Contains(msg, tc.rune) {
				t.Errorf("%s %q: message %q does not name the field and the character", ep.method, tc.name, msg)
			}
		}
	}
}
