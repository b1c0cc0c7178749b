package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey"
)

// The example's customers manage their own keys under /account (ginkey's
// self-service routes), signed in by a DEMO sign-in: POST /demo/signin
// {"user": "alice"} sets a cookie naming the user, signed with a key made
// at start-up. There is no password: it stands in for the host's real
// sign-in, whose session the Owner function would read instead.

// sessionCookie names the demo session's cookie.
const sessionCookie = "demo_session"

// demoUser is what the demo sign-in accepts as a user name.
var demoUser = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// demoSessions signs and reads the demo session cookie.
type demoSessions struct{ key []byte }

func newDemoSessions() (*demoSessions, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return &demoSessions{key: key}, nil
}

func (s *demoSessions) sign(user string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(user))
	return user + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// owner is the signed-in user of the request: SelfService.Owner.
func (s *demoSessions) owner(c *gin.Context) (string, bool) {
	v, err := c.Cookie(sessionCookie)
	if err != nil {
		return "", false
	}
	user, _, ok := strings.Cut(v, ".")
	if !ok || !hmac.Equal([]byte(v), []byte(s.sign(user))) {
		return "", false
	}
	return user, true
}

// signIn sets the session cookie: HttpOnly (no script reads it),
// SameSite=Strict (no other site's request carries it), Secure behind TLS.
func (s *demoSessions) signIn(c *gin.Context) {
	var in struct {
		User string `json:"user"`
	}
	if c.ContentType() != "application/json" || c.ShouldBindJSON(&in) != nil || !demoUser.MatchString(in.User) {
		ginkey.WriteError(c, ginkey.NewError(http.StatusBadRequest, "bad_request", `send {"user": "alice"}: a lower-case name of at most 32 letters, digits and _`))
		return
	}
	s.setCookie(c, s.sign(in.User), int((8 * time.Hour).Seconds()))
	c.JSON(http.StatusOK, gin.H{"user": in.User})
}

func (s *demoSessions) signOut(c *gin.Context) {
	s.setCookie(c, "", -1)
	c.Status(http.StatusNoContent)
}

func (s *demoSessions) setCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{ //nolint:gosec // Secure behind TLS only: on plain http://localhost a Secure cookie would never be sent back
		Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.Request.TLS != nil,
	})
}

// demoPlan is every demo user's policy: keys for the items API, at most
// 5 of them, each living at most 30 days and limited to 10 requests a second.
func demoPlan(string) ginkey.OwnerPolicy {
	return ginkey.OwnerPolicy{
		Scopes:      []string{"items:read", "items:write"},
		RateLimit:   &ginkey.RateLimit{Requests: 10, Per: "1s"},
		MaxLifetime: 30 * 24 * time.Hour,
		MaxKeys:     5,
	}
}

// mountAccount serves the demo sign-in under /demo, the self-service
// routes under /account and the demo user's key console under
// /account/console.
func mountAccount(r *gin.Engine, guard *ginkey.Guard) error {
	sessions, err := newDemoSessions()
	if err != nil {
		return err
	}
	r.POST("/demo/signin", sessions.signIn)
	r.POST("/demo/signout", sessions.signOut)
	if err := guard.RegisterSelfService(r.Group("/account"), ginkey.SelfService{Owner: sessions.owner, Policy: demoPlan}); err != nil {
		return err
	}
	return mountOwnerConsole(r, guard, sessions.owner)
}
