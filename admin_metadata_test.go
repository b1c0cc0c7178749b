package ginkey

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// exactMetadata holds numbers that float64 would round, keys in the sorted
// order in which a map is encoded.
const exactMetadata = `{"big":12345678901234567890,"frac":1.0000000000000000000001,"neg":-98765432109876543210,"nested":{"list":[18446744073709551617,0.1]}}`

// metadataOf returns the raw metadata of GET /keys/{id}.
func metadataOf(t *testing.T, h *harness, id string) string {
	t.Helper()
	var got struct{ Metadata json.RawMessage }
	decode(t, h.admin("GET", "/keys/"+id, ""), &got)
	return string(got.Metadata)
}

// metadataWith returns a metadata object whose compact form is n bytes, all
// of them "<" inside one string, which json.Marshal would turn into 6 bytes
// each; spaced adds whitespace the limit must not count.
func metadataWith(n int, spaced bool) string {
	m := `{"x":"` + strings.Repeat("<", n-len(`{"x":""}`)) + `"}`
	if spaced {
		m = strings.ReplaceAll(strings.ReplaceAll(m, "{", "{ \n\t "+strings.Repeat(" ", 100)), ":", " : ")
	}
	return m
}

func TestMetadataNumbersStayExactThroughStoreAndKeyFrom(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.engine.GET("/meta", h.guard.Handler(), func(c *gin.Context) {
		k, _ := KeyFrom(c)
		c.String(http.StatusOK, "%T %v", k.Metadata["big"], k.Metadata["big"])
	})
	k := h.createKey(`{"metadata":` + exactMetadata + `}`)
	if got := metadataOf(t, h, k.ID); got != exactMetadata {
		t.Fatalf("created metadata read back as %s, want %s", got, exactMetadata)
	}
	w := h.do(req{method: "GET", path: "/meta", header: map[string]string{"X-API-Key": k.Secret}})
	if got := w.Body.String(); got != "json.Number 12345678901234567890" {
		t.Fatalf("KeyFrom metadata big = %q", got)
	}

	k2 := h.createKey(`{}`)
	if w := h.admin("PATCH", "/keys/"+k2.ID, `{"metadata":`+exactMetadata+`}`); w.Code != http.StatusOK {
		t.Fatalf("patch: %d %s", w.Code, w.Body)
	}
	if got := metadataOf(t, h, k2.ID); got != exactMetadata {
		t.Fatalf("patched metadata read back as %s, want %s", got, exactMetadata)
	}
}

// The 4096-byte limit counts the metadata the client sent, compacted: not
// Go's re-encoding of it ("<" is 6 bytes there), nor the client's whitespace.
func TestMetadataLimitCountsTheBytesTheClientSent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	k := h.createKey(`{}`)
	cases := []struct {
		name     string
		metadata string
		ok       bool
	}{
		{"4096 bytes of mostly <", metadataWith(maxMetadataSize, false), true},
		{"4096 bytes with whitespace around", metadataWith(maxMetadataSize, true), true},
		{"4097 bytes", metadataWith(maxMetadataSize+1, false), false},
		{"4097 bytes with whitespace around", metadataWith(maxMetadataSize+1, true), false},
	}
	for _, tc := range cases {
		for _, ep := range []struct{ method, path string }{{"POST", "/keys"}, {"PATCH", "/keys/" + k.ID}} {
			w := h.admin(ep.method, ep.path, `{"metadata":`+tc.metadata+`}`)
			if !tc.ok {
				wantError(t, w, http.StatusBadRequest, "bad_request")
				if msg := errorMessage(t, w); !strings.Contains(msg, "metadata") || !strings.Contains(msg, "4096 bytes") {
					t.Fatalf("%s %s: message %q does not name metadata and its limit", ep.method, tc.name, msg)
				}
				continue
			}
			if w.Code != http.StatusOK && w.Code != http.StatusCreated {
				t.Fatalf("%s %s: %d %s", ep.method, tc.name, w.Code, w.Body)
			}
			var got Key
			decode(t, w, &got)
			if want := strings.Repeat("<", maxMetadataSize-len(`{"x":""}`)); got.Metadata["x"] != want {
				t.Fatalf("%s %s: metadata did not round-trip: %v", ep.method, tc.name, fmt.Sprint(got.Metadata)[:40])
			}
		}
	}
}
