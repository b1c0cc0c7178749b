// Package console is an embeddable web console for a ginkey Guard: list,
// search, create, rotate, revoke, renew, edit and delete keys, see each
// key's usage per day and outcome, the audit log and the top keys. Its
// pages are rendered on the server; its stylesheet and one small script
// are embedded, so no request leaves the server.
//
//	con, err := console.New(guard, console.Options{})
//	if err != nil { ... }
//	con.Register(r.Group("/console"))
//
// In admin mode (the default) only the admin passes: through the admin
// API's one gate (the admin secret, exchanged for a session cookie by the
// sign-in form; Config.AdminAuth; AdminKeyScope's keys). With
// Options.Owner set, the console is an owner's: mounted behind the host's
// own sign-in, it shows the signed-in owner only their own keys, with what
// Options.Policy allows.
package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey"
)

//go:embed assets/console.css assets/console.js assets/favicon.svg templates/*.html
var files embed.FS

// Options configures a Console. The zero value is the admin console.
type Options struct {
	// Owner returns the owner signed in on the request by the host's own
	// authentication, as ginkey.SelfService.Owner does; set, the console
	// runs in owner mode and shows that owner only their own keys (another
	// owner's key is 404), without editing, deleting, the audit log or the
	// top keys. A request for which it returns false is answered 401.
	// Optional. Default: nil, the admin console.
	Owner func(c *gin.Context) (owner string, ok bool)
	// Policy returns what the owner's keys may be, as
	// ginkey.SelfService.Policy does; only with Owner. Optional. Default:
	// the zero ginkey.OwnerPolicy.
	Policy func(owner string) ginkey.OwnerPolicy
	// SessionIdle ends a sign-in session unused this long. Optional.
	// Default: 30 minutes.
	SessionIdle time.Duration
	// SessionMax ends a sign-in session this long after the sign-in,
	// however used. Optional. Default: 8 hours.
	SessionMax time.Duration
	// MaxSessions bounds the sessions kept in memory; a sign-in past it
	// ends the session used longest ago. Optional. Default: 1000.
	MaxSessions int
	// SecureCookies marks the console's cookies Secure on every answer, so
	// that a browser never sends them over plain HTTP. Without it they are
	// Secure only on a request that came over TLS to this process: set it
	// when a proxy or load balancer terminates TLS in front of the host.
	// Optional. Default: false.
	SecureCookies bool
	// Now is the console's clock, for sessions and the chart's days.
	// Optional. Default: time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	defaultSessionIdle = 30 * time.Minute
	defaultSessionMax  = 8 * time.Hour
	defaultMaxSessions = 1000
)

// maxOnceTokens bounds the one-time form tokens remembered (about 150 bytes
// each): past it, the oldest is forgotten.
const maxOnceTokens = 10_000

// Console serves the console's pages for one Guard. Make it with New.
type Console struct {
	guard    *ginkey.Guard
	opts     Options
	pages    map[string]*template.Template
	sessions *sessionStore
	once     *onceStore
	cop      *http.CrossOriginProtection
	assets   map[string]asset
	version  string // of the assets, for their long-cached URLs
}

type asset struct {
	body        []byte
	contentType string
}

// New returns a console for g. It fails for a nil g, Policy without Owner,
// or a negative duration or bound.
func New(g *ginkey.Guard, opts Options) (*Console, error) {
	switch {
	case g == nil:
		return nil, errors.New("console: New needs a guard")
	case opts.Policy != nil && opts.Owner == nil:
		return nil, errors.New("console: Options.Policy needs Options.Owner")
	case opts.SessionIdle < 0 || opts.SessionMax < 0 || opts.MaxSessions < 0:
		return nil, errors.New("console: Options.SessionIdle, SessionMax and MaxSessions may not be negative")
	}
	if opts.SessionIdle == 0 {
		opts.SessionIdle = defaultSessionIdle
	}
	if opts.SessionMax == 0 {
		opts.SessionMax = defaultSessionMax
	}
	if opts.MaxSessions == 0 {
		opts.MaxSessions = defaultMaxSessions
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	con := &Console{
		guard:    g,
		opts:     opts,
		pages:    pages,
		sessions: newSessionStore(opts.SessionIdle, opts.SessionMax, opts.MaxSessions),
		once:     newOnceStore(opts.SessionMax, maxOnceTokens),
		cop:      http.NewCrossOriginProtection(),
		assets:   map[string]asset{},
	}
	h := sha256.New()
	for _, a := range []struct{ name, typ string }{
		{"console.css", "text/css; charset=utf-8"},
		{"console.js", "text/javascript; charset=utf-8"},
		{"favicon.svg", "image/svg+xml"},
	} {
		b, err := files.ReadFile("assets/" + a.name)
		if err != nil {
			return nil, err
		}
		con.assets[a.name] = asset{body: b, contentType: a.typ}
		h.Write(b)
	}
	con.version = hex.EncodeToString(h.Sum(nil))[:12]
	return con, nil
}

// ownerMode reports whether the console is an owner's.
func (con *Console) ownerMode() bool { return con.opts.Owner != nil }

// Register mounts the console below rg, which it takes whole: give it a
// group of its own, e.g. r.Group("/console").
func (con *Console) Register(rg *gin.RouterGroup) {
	base := strings.TrimSuffix(rg.BasePath(), "/")
	rg.Use(func(c *gin.Context) {
		c.Set(baseKey, base)
		securityHeaders(c)
	})
	rg.GET("/assets/:name", con.serveAsset)
	var auth gin.HandlerFunc
	if con.ownerMode() {
		auth = con.ownerAuth
	} else {
		rg.GET("/signin", con.signinPage)
		rg.GET("/signin/basic", con.signinBasic)
		rg.POST("/signin", con.sameOrigin, con.signin)
		auth = con.adminAuth
	}
	g := rg.Group("", con.sameOrigin, auth, con.checkToken)
	g.GET("/", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, con.base(c)+"/keys") })
	if !con.ownerMode() {
		g.POST("/signout", con.signout)
		g.GET("/keys/:id/edit", con.editPage)
		g.POST("/keys/:id/edit", con.edit)
		g.POST("/keys/:id/delete", con.remove)
		g.GET("/audit", con.auditPage)
		g.GET("/usage", con.usagePage)
	}
	g.GET("/keys", con.listPage)
	g.GET("/keys/new", con.newPage)
	g.POST("/keys", con.create)
	g.GET("/keys/:id", con.detailPage)
	g.POST("/keys/:id/rotate", con.rotate)
	g.POST("/keys/:id/revoke", con.revoke)
	g.POST("/keys/:id/renew", con.renew)
}

// csp is every answer's Content-Security-Policy: nothing but the console's
// own script, stylesheet and forms.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// baseKey holds, in the gin context, the path the console is mounted at.
const baseKey = "ginkey.console.base"

func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (con *Console) serveAsset(c *gin.Context) {
	a, ok := con.assets[c.Param("name")]
	if !ok {
		con.fail(c, http.StatusNotFound, "not_found", "no such page")
		return
	}
	// The pages link the assets with ?v=<hash>: a new build is a new URL.
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Data(http.StatusOK, a.contentType, a.body)
}

// base is the path the console is mounted at, without a trailing slash.
func (con *Console) base(c *gin.Context) string {
	return c.GetString(baseKey)
}
