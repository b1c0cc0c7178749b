package ginkey

import (
	"errors"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/internal/testkit"
)

// TestAdmitAdminIsTheGate checks a page's sign-in through AdmitAdmin: a
// right secret names the principal and audits what the page does with it;
// wrong secrets count against the same allowance as the X-Admin-Secret
// header's, and the page's refusal carries the gate's Retry-After.
func TestAdmitAdminIsTheGate(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.AdminFailureLimit = 3 })
	h.Engine.GET("/page", func(c *gin.Context) {
		p, err := h.Guard.AdmitAdmin(c, c.GetHeader("X-Typed"))
		if err != nil {
			WriteError(c, err)
			return
		}
		k, err := h.Guard.CreateKey(c.Request.Context(), KeySpec{Name: "via page"})
		if err != nil {
			WriteError(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"principal": p, "id": k.ID})
	})
	page := func(typed string) int {
		return h.DoFrom("192.0.2.7:1000", testkit.Request{Method: http.MethodGet, Path: "/page", Header: map[string]string{"X-Typed": typed}}).Code
	}
	if got := page(testSecret); got != http.StatusOK {
		t.Fatalf("right secret: %d", got)
	}
	entries, _, err := h.Guard.Audit(t.Context(), AuditQuery{Action: "create"})
	if err != nil || len(entries) != 1 || entries[0].Principal != "secret" || entries[0].Actor != "http:192.0.2.7" {
		t.Fatalf("audit of the page's create: %+v %v", entries, err)
	}
	if got := page("wrong-secret-0123456789"); got != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", got)
	}
	if w := h.AdminAs("192.0.2.7:1000", "wrong-secret-0123456789"); w.Code != http.StatusUnauthorized {
		t.Fatalf("wrong header: %d", w.Code)
	}
	if got := page("wrong-secret-0123456789"); got != http.StatusUnauthorized {
		t.Fatalf("third wrong secret: %d", got)
	}
	w := h.DoFrom("192.0.2.7:1000", testkit.Request{Method: http.MethodGet, Path: "/page", Header: map[string]string{"X-Typed": testSecret}})
	testkit.WantError(t, w, http.StatusTooManyRequests, "too_many_failures")
	if w.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if w := h.AdminAs("192.0.2.7:1000", testSecret); w.Code != http.StatusTooManyRequests {
		t.Errorf("the header after the page's failures: %d", w.Code)
	}
}

// TestResumeAdminAuditsThePrincipal checks that a resumed session's
// operations are audited with its principal and the client's address.
func TestResumeAdminAuditsThePrincipal(t *testing.T) {
	h := newHarness(t, nil)
	h.Engine.GET("/resumed", func(c *gin.Context) {
		h.Guard.ResumeAdmin(c, "basic:ops")
		if _, err := h.Guard.CreateKey(c.Request.Context(), KeySpec{Name: "resumed"}); err != nil {
			WriteError(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	if w := h.DoFrom("198.51.100.4:1", testkit.Request{Method: http.MethodGet, Path: "/resumed"}); w.Code != http.StatusNoContent {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	entries, _, err := h.Guard.Audit(t.Context(), AuditQuery{Action: "create"})
	if err != nil || len(entries) != 1 || entries[0].Principal != "basic:ops" || entries[0].Actor != "http:198.51.100.4" {
		t.Fatalf("audit: %+v %v", entries, err)
	}
}

// hostAuth is an AdminAuth refusing with an error of its own.
type hostAuth struct{}

func (hostAuth) Authenticate(*gin.Context) error { return errors.New("host says no: internal detail") }

func TestAdmitAdminAnswersAHostErrorAsInvalidCredentials(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.AdminAuth = hostAuth{} })
	h.Engine.GET("/page", func(c *gin.Context) {
		if _, err := h.Guard.AdmitAdmin(c, ""); err != nil {
			WriteError(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	w := h.Do(testkit.Request{Method: http.MethodGet, Path: "/page"})
	testkit.WantError(t, w, http.StatusUnauthorized, "credentials_invalid")
}
