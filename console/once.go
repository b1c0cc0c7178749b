package console

import (
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// A form that mints a key (create, rotate) carries a one-time token, new on
// every page, so that sending it twice (a reload of the "Key created" page
// re-posts it, as does a second click) mints one key, not two. The console
// remembers the tokens it has acted on, with the key each one minted, and
// answers a token's second use by showing that key's page (never its
// plaintext again). Tokens are remembered by this process only: behind a
// load balancer, a repeat that reaches another instance is not caught.

// onceField is the forms' field for the token.
const onceField = "once"

// onceNotice is the notice of the page a repeated form lands on.
const onceNotice = "sent"

// onceStore is the tokens acted on, each for at most ttl (a page older than
// that has no session left to post with) and at most limit of them: past
// it, the oldest is forgotten.
type onceStore struct {
	mu    sync.Mutex
	seen  map[string]*onceUse
	order []string // the tokens of seen, oldest first
	ttl   time.Duration
	limit int
}

// onceUse is what a token did: for whom, and the key it minted ("" while
// the request is in flight).
type onceUse struct {
	who   string
	keyID string
	at    time.Time
}

func newOnceStore(ttl time.Duration, limit int) *onceStore {
	return &onceStore{seen: map[string]*onceUse{}, ttl: ttl, limit: limit}
}

// claim takes token for who. It reports whether the token is new; if not,
// prev is its first use (prev.keyID "" while that use is in flight).
func (s *onceStore) claim(token, who string, now time.Time) (prev onceUse, fresh bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for n < len(s.order) && now.Sub(s.seen[s.order[n]].at) >= s.ttl {
		n++
	}
	if u, ok := s.seen[token]; ok && now.Sub(u.at) < s.ttl {
		s.drop(n)
		return *u, false
	}
	n = max(n, len(s.order)-s.limit+1)
	s.drop(n)
	s.seen[token] = &onceUse{who: who, at: now}
	s.order = append(s.order, token)
	return onceUse{}, true
}

// drop forgets the n oldest tokens. The caller holds mu.
func (s *onceStore) drop(n int) {
	for _, t := range s.order[:n] {
		delete(s.seen, t)
	}
	s.order = s.order[n:]
}

// settle ends token's request: it records the key the request minted, or,
// with keyID "", gives the token back (the form had an error), so that the
// corrected form can be sent with it again. Each token is in order once: a
// form's failures cannot grow it.
func (s *onceStore) settle(token, keyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.seen[token]
	switch {
	case !ok:
		return
	case keyID != "":
		u.keyID = keyID
		return
	}
	delete(s.seen, token)
	// The newest first: a failed form is released right after its claim.
	for i := len(s.order) - 1; i >= 0; i-- {
		if s.order[i] == token {
			s.order = append(s.order[:i], s.order[i+1:]...)
			return
		}
	}
}

// claimOnce takes the request's one-time token. When the form was sent
// before, it answers (the key that form minted, or 409 while the first
// sending is in flight) and returns false.
func (con *Console) claimOnce(c *gin.Context) (token string, ok bool) {
	token = c.PostForm(onceField)
	if len(token) != tokenLen {
		con.fail(c, http.StatusBadRequest, "bad_request", "the form lacks its one-time token; reload the page and try again")
		return "", false
	}
	who := c.GetString(whoKey)
	prev, fresh := con.once.claim(token, who, con.opts.Now())
	switch {
	case fresh:
		return token, true
	case prev.keyID != "" && prev.who == who:
		con.done(c, "/keys/"+url.PathEscape(prev.keyID), onceNotice)
	default:
		con.fail(c, http.StatusConflict, "already_sent", "this form has been sent already; a key is shown once, so open it from the list")
	}
	return "", false
}
