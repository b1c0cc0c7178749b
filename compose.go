package ginkey

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// Authenticator checks one authentication scheme. Authenticate returns nil
// when the request carries valid credentials of its scheme (recording who
// made it in c as it sees fit), an error matching ErrKeyMissing or
// ErrCredentialsMissing when it carries none, and another error when they
// are bad. An *Error reaches the client as it is; any other error as
// credentials_invalid. Authenticate must not write the response.
//
// An Authenticator may also have a method Challenge() string returning its
// WWW-Authenticate challenge, which AnyOf and AllOf send with their 401.
// As Config.AdminAuth, it may name who it admitted with SetPrincipal, for
// the audit log.
//
// *Guard is an Authenticator with Handler's checks; BasicAuth and
// BearerAuth adapt other schemes.
type Authenticator interface {
	Authenticate(c *gin.Context) error
}

// challenger is an Authenticator's optional Challenge method (see
// Authenticator).
type challenger interface {
	Challenge() string
}

var (
	_ Authenticator = (*Guard)(nil)
	_ challenger    = (*Guard)(nil)
	_ Authenticator = (*basicAuth)(nil)
	_ challenger    = (*basicAuth)(nil)
	_ Authenticator = (*bearerAuth)(nil)
	_ challenger    = (*bearerAuth)(nil)
)

// AnyOf returns a middleware that admits a request as soon as one of auths,
// tried in order, accepts it: "an API key OR a JWT". When none does, the
// response is the first refusal of credentials that were presented, else
// the first refusal; a 401 carries every auth's challenge (see Authenticator). The
// RateLimit-* headers of a guard that refused go out only with its own
// refusal, never with another scheme's success. With no auths every request
// is refused.
func AnyOf(auths ...Authenticator) gin.HandlerFunc {
	auths = append([]Authenticator(nil), auths...)
	challenges := challengesOf(auths)
	return func(c *gin.Context) {
		if _, err := anyAccepts(c, auths); err != nil {
			refuse(c, err, challenges)
			return
		}
		c.Next()
	}
}

// anyAccepts tries auths in order and returns the first that accepts the
// request, else the refusal AnyOf answers with (ErrCredentialsMissing for
// no auths), the refusing guard's RateLimit-* headers set.
func anyAccepts(c *gin.Context, auths []Authenticator) (Authenticator, error) {
	var (
		refusal    error
		refusalHdr rateHeaders
	)
	for _, a := range auths {
		err := a.Authenticate(c)
		if err == nil {
			return a, nil
		}
		// A refusing guard's RateLimit-* headers describe a key that did
		// not get the request in; they go out only with its refusal.
		hdr := takeRateHeaders(c.Writer.Header())
		if refusal == nil || (isMissing(refusal) && !isMissing(err)) {
			refusal, refusalHdr = err, hdr
		}
	}
	if refusal == nil {
		refusal = ErrCredentialsMissing
	}
	refusalHdr.restore(c.Writer.Header())
	return nil, refusal
}

// rateHeaders holds the RateLimit-* header values of one refusal.
type rateHeaders [3][]string

var rateHeaderNames = [3]string{hdrRateLimit, hdrRateRemaining, hdrRateReset}

// takeRateHeaders removes the RateLimit-* headers from h and returns them.
func takeRateHeaders(h http.Header) rateHeaders {
	var r rateHeaders
	for i, k := range rateHeaderNames {
		r[i] = h[k]
		delete(h, k)
	}
	return r
}

func (r *rateHeaders) restore(h http.Header) {
	for i, k := range rateHeaderNames {
		if r[i] != nil {
			h[k] = r[i]
		}
	}
}

// AllOf returns a middleware that admits a request only when every one of
// auths, tried in order, accepts it, and answers with the first refusal.
// Authenticators that accepted before a refusal have done their bookkeeping
// (a key's usage and rate limit are counted), so put the key guard last to
// count only fully authenticated requests. With no auths every request is
// refused.
func AllOf(auths ...Authenticator) gin.HandlerFunc {
	auths = append([]Authenticator(nil), auths...)
	challenges := challengesOf(auths)
	return func(c *gin.Context) {
		if len(auths) == 0 {
			refuse(c, ErrCredentialsMissing, challenges)
			return
		}
		for _, a := range auths {
			if err := a.Authenticate(c); err != nil {
				refuse(c, err, challenges)
				return
			}
		}
		c.Next()
	}
}

func challengesOf(auths []Authenticator) []string {
	var out []string
	for _, a := range auths {
		if ch, ok := a.(challenger); ok && ch.Challenge() != "" {
			out = append(out, ch.Challenge())
		}
	}
	return out
}

func isMissing(err error) bool {
	return errors.Is(err, ErrKeyMissing) || errors.Is(err, ErrCredentialsMissing)
}

// refuse writes a composite's refusal; an error that is not an *Error is the
// scheme's business and reaches the client as credentials_invalid.
func refuse(c *gin.Context, err error, challenges []string) {
	var e *Error
	if !errors.As(err, &e) {
		err = ErrCredentialsInvalid
		e = ErrCredentialsInvalid
	}
	if e.Status == 401 {
		for _, ch := range challenges {
			c.Writer.Header().Add("WWW-Authenticate", ch)
		}
	}
	WriteError(c, err)
}

// BasicAuth returns an Authenticator for HTTP Basic credentials checked
// against accounts (user name to password). Every check hashes the given
// pair and compares it with every account in constant time, so the answer
// takes as long whichever user, if any, matched. The user name is stored
// in the context under gin.AuthUserKey, as gin's BasicAuth does. It returns
// an error for no accounts, a user name with a colon, or a realm with
// quotes, backslashes or line breaks.
func BasicAuth(realm string, accounts map[string]string) (Authenticator, error) {
	if len(accounts) == 0 {
		return nil, errors.New("ginkey: BasicAuth needs at least one account")
	}
	realm, err := checkRealm("BasicAuth realm", realm)
	if err != nil {
		return nil, err
	}
	b := &basicAuth{challenge: `Basic realm="` + realm + `", charset="UTF-8"`}
	for user, pass := range accounts {
		if user == "" || strings.Contains(user, ":") {
			return nil, errors.New("ginkey: BasicAuth user names must be non-empty and free of colons")
		}
		b.users = append(b.users, user)
		b.hashes = append(b.hashes, sha256.Sum256([]byte(user+":"+pass)))
	}
	return b, nil
}

type basicAuth struct {
	challenge string
	users     []string
	hashes    [][sha256.Size]byte // of "user:password"; a user name has no colon, so the pair is unambiguous
}

func (b *basicAuth) Authenticate(c *gin.Context) error {
	user, pass, ok := c.Request.BasicAuth() // splits at the first colon: user has none
	if !ok {
		return ErrCredentialsMissing
	}
	match := hashedMatch(user+":"+pass, b.hashes)
	if match < 0 {
		return ErrCredentialsInvalid
	}
	c.Set(gin.AuthUserKey, b.users[match])
	return nil
}

func (b *basicAuth) Challenge() string { return b.challenge }

// BearerAuth returns an Authenticator for "Authorization: Bearer <token>"
// checked by verify, e.g. a JWT parser. verify may record the token's
// subject in c (with SetPrincipal, for the audit log of admin requests).
// An *Error it returns reaches the client as it is; any other error as 401
// credentials_invalid, its text never. A request without a bearer token is
// credentials_missing. It returns an error for a nil verify
// or a realm with quotes, backslashes or line breaks; realm "" is "ginkey".
func BearerAuth(realm string, verify func(c *gin.Context, token string) error) (Authenticator, error) {
	if verify == nil {
		return nil, errors.New("ginkey: BearerAuth needs a verify function")
	}
	realm, err := checkRealm("BearerAuth realm", realm)
	if err != nil {
		return nil, err
	}
	return &bearerAuth{challenge: `Bearer realm="` + realm + `"`, verify: verify}, nil
}

type bearerAuth struct {
	challenge string
	verify    func(*gin.Context, string) error
}

func (b *bearerAuth) Authenticate(c *gin.Context) error {
	tok := bearerToken(c.GetHeader("Authorization"))
	if tok == "" {
		return ErrCredentialsMissing
	}
	err := b.verify(c, tok)
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return ErrCredentialsInvalid
}

func (b *bearerAuth) Challenge() string { return b.challenge }
