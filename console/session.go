package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey"
)

// Cookies of the console, each limited to its mount path.
const (
	sessionCookie = "ginkey_console"      // a sign-in session's id
	tokenCookie   = "ginkey_console_csrf" //nolint:gosec // a cookie's name, not a credential
)

// session is one sign-in: the admin principal the gate admitted and the
// CSRF token its forms carry.
type session struct {
	principal string
	csrf      string
	created   time.Time
	seen      time.Time
}

// sessionStore keeps sessions in memory, under the hash of their id so
// that the map holds nothing a cookie could be made from.
type sessionStore struct {
	mu        sync.Mutex
	m         map[[sha256.Size]byte]*session
	idle, max time.Duration
	limit     int
}

func newSessionStore(idle, max time.Duration, limit int) *sessionStore {
	return &sessionStore{m: map[[sha256.Size]byte]*session{}, idle: idle, max: max, limit: limit}
}

// tokenLen is the length of randomToken's tokens.
const tokenLen = 43

// randomToken is 256 random bits, URL-safe (tokenLen characters).
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session of principal and returns its id.
func (s *sessionStore) create(principal string, now time.Time) (string, *session) {
	id := randomToken()
	sess := &session{principal: principal, csrf: randomToken(), created: now, seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.limit {
		s.evict(now)
	}
	s.m[sha256.Sum256([]byte(id))] = sess
	return id, sess
}

// evict drops the sessions that are over, and if none was, the one used
// longest ago.
func (s *sessionStore) evict(now time.Time) {
	var oldest [sha256.Size]byte
	var oldestSeen time.Time
	dropped := false
	for k, sess := range s.m {
		if s.over(sess, now) {
			delete(s.m, k)
			dropped = true
			continue
		}
		if oldestSeen.IsZero() || sess.seen.Before(oldestSeen) {
			oldest, oldestSeen = k, sess.seen
		}
	}
	if !dropped && !oldestSeen.IsZero() {
		delete(s.m, oldest)
	}
}

func (s *sessionStore) over(sess *session, now time.Time) bool {
	return now.Sub(sess.seen) >= s.idle || now.Sub(sess.created) >= s.max
}

// find returns the live session with id, or nil, and marks it used.
func (s *sessionStore) find(id string, now time.Time) *session {
	if id == "" {
		return nil
	}
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.m[k]
	if sess == nil {
		return nil
	}
	if s.over(sess, now) {
		delete(s.m, k)
		return nil
	}
	sess.seen = now
	return sess
}

func (s *sessionStore) remove(id string) {
	s.mu.Lock()
	delete(s.m, sha256.Sum256([]byte(id)))
	s.mu.Unlock()
}

// setCookie sets (maxAge > 0) or clears (maxAge < 0) one of the console's
// cookies: HttpOnly, SameSite=Strict, Secure over TLS, for the mount only.
func (con *Console) setCookie(c *gin.Context, name, value string, maxAge int) {
	path := con.base(c)
	if path == "" {
		path = "/"
	}
	// Secure over TLS or when the host says TLS ends in front of it: a
	// plain-HTTP development server must still work.
	http.SetCookie(c.Writer, &http.Cookie{ //nolint:gosec // HttpOnly and SameSite=Strict always; Secure over TLS
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: con.opts.SecureCookies || c.Request.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}

// maxFormBytes bounds a form's body: metadata is the largest field.
const maxFormBytes = 64 << 10

// Keys of the gin context the console's middleware fills.
const (
	sessionKey = "ginkey.console.session" // *session, when signed in by the form
	csrfKey    = "ginkey.console.csrf"    // the token the request's forms carry
	keysKey    = "ginkey.console.keys"    // the keyManager the request acts through
	whoKey     = "ginkey.console.who"     // the principal or owner, for the header
)

// adminAuth admits a request with a live session, or with credentials the
// admin gate accepts (AdminAuth, an admin key, X-Admin-Secret). Without
// either, a page sends the browser to the sign-in form.
func (con *Console) adminAuth(c *gin.Context) {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if sess := con.sessions.find(ck, con.opts.Now()); sess != nil && !con.keyEnded(c, ck, sess.principal) {
			con.guard.ResumeAdmin(c, sess.principal)
			c.Set(sessionKey, sess)
			c.Set(csrfKey, sess.csrf)
			c.Set(keysKey, adminKeys{con.guard})
			c.Set(whoKey, sess.principal)
			return
		}
	}
	principal, err := con.guard.AdmitAdmin(c, "")
	if err != nil {
		if !presented(c) {
			h := c.Writer.Header()
			h.Del("WWW-Authenticate")
			h.Del("Retry-After")
			c.Redirect(http.StatusSeeOther, con.base(c)+"/signin")
			c.Abort()
			return
		}
		con.failErr(c, err)
		return
	}
	c.Set(csrfKey, con.cookieToken(c))
	c.Set(keysKey, adminKeys{con.guard})
	c.Set(whoKey, principal)
}

// keyEnded reports whether a session signed in with an admin key
// (principal "key:<id>") outlived that key: revoked, expired, rotated past
// its grace or deleted. Such a session ends with it; revoking a leaked
// admin key closes the console to it too. (A session of AdminAuth's
// accounts lasts its SessionIdle/SessionMax: the host's authentication
// cannot be asked again without its credentials.)
func (con *Console) keyEnded(c *gin.Context, id, principal string) bool {
	keyID, ok := strings.CutPrefix(principal, "key:")
	if !ok {
		return false
	}
	k, err := con.guard.GetKey(c.Request.Context(), keyID)
	if err == nil && k.Status == ginkey.StatusActive {
		return false
	}
	if err != nil && !errors.Is(err, ginkey.ErrNotFound) {
		return false // the store is down: the page shows that, not the sign-in
	}
	con.sessions.remove(id)
	return true
}

// presented reports whether c carries credentials of its own, which the
// gate refused: answered with the refusal, not the sign-in form.
func presented(c *gin.Context) bool {
	return c.GetHeader("Authorization") != "" || c.GetHeader("X-Admin-Secret") != ""
}

// cookieToken returns the CSRF token of a request without a session: the
// one in its token cookie, or a new one set in that cookie.
func (con *Console) cookieToken(c *gin.Context) string {
	if v, err := c.Cookie(tokenCookie); err == nil && len(v) == tokenLen {
		return v
	}
	v := randomToken()
	con.setCookie(c, tokenCookie, v, int(con.opts.SessionMax/time.Second))
	return v
}

// sameOrigin refuses a state change another site's page may have sent:
// Sec-Fetch-Site other than same-origin, or an Origin that is not the
// Host's.
func (con *Console) sameOrigin(c *gin.Context) {
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		return
	}
	// The console's forms are small; a body past this reads as no fields.
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
	if con.cop.Check(c.Request) != nil {
		con.fail(c, http.StatusForbidden, "csrf_failed", "a request from another site was refused")
	}
}

// checkToken refuses a state change whose form does not carry the
// session's (or the token cookie's) CSRF token.
func (con *Console) checkToken(c *gin.Context) {
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		return
	}
	var tooLarge *http.MaxBytesError
	if err := c.Request.ParseForm(); errors.As(err, &tooLarge) {
		con.fail(c, http.StatusRequestEntityTooLarge, "payload_too_large", "the form is larger than the console takes (64 KB); shorten the metadata")
		return
	}
	want := c.GetString(csrfKey)
	got := c.PostForm("csrf")
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		con.fail(c, http.StatusForbidden, "csrf_failed", "the form has expired or did not come from this console; reload the page and try again")
	}
}

func (con *Console) signinPage(c *gin.Context) {
	con.render(c, http.StatusOK, "signin", "Sign in", nil)
}

// signin exchanges the admin secret typed into the form for a session,
// through the admin gate: its throttle counts wrong secrets from the form
// and the X-Admin-Secret header alike.
func (con *Console) signin(c *gin.Context) {
	secret := c.PostForm("secret")
	if secret == "" {
		con.renderError(c, http.StatusBadRequest, "signin", "Sign in", nil, "bad_request", "enter the admin secret")
		return
	}
	principal, err := con.guard.AdmitAdmin(c, secret)
	if err != nil {
		status, code, msg := errorText(c, err)
		c.Writer.Header().Del("WWW-Authenticate")
		con.renderError(c, status, "signin", "Sign in", nil, code, msg)
		return
	}
	con.startSession(c, principal)
}

// signinBasic exchanges credentials AdminAuth accepts (HTTP Basic: the
// browser asks for them on the 401) for a session.
//
// Though a GET, it makes a session: another site's page (an image, a
// link) could otherwise have a browser that holds Basic credentials make
// sessions until they evict everyone else's. So only a navigation of the
// user's own (typed, a bookmark: Sec-Fetch-Site none) or from the
// console's pages is taken.
func (con *Console) signinBasic(c *gin.Context) {
	if site := c.GetHeader("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		con.fail(c, http.StatusForbidden, "csrf_failed", "a sign-in from another site was refused; open the console's sign-in page")
		return
	}
	principal, err := con.guard.AdmitAdmin(c, "")
	if err != nil {
		status, code, msg := errorText(c, err)
		con.renderError(c, status, "signin", "Sign in", nil, code, msg)
		return
	}
	con.startSession(c, principal)
}

func (con *Console) startSession(c *gin.Context, principal string) {
	id, _ := con.sessions.create(principal, con.opts.Now())
	con.setCookie(c, sessionCookie, id, int(con.opts.SessionMax/time.Second))
	c.Redirect(http.StatusSeeOther, con.base(c)+"/keys")
}

// signout ends the session on the server, and clears its cookie.
func (con *Console) signout(c *gin.Context) {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		con.sessions.remove(ck)
	}
	con.setCookie(c, sessionCookie, "", -1)
	c.Redirect(http.StatusSeeOther, con.base(c)+"/signin")
}
