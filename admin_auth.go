package ginkey

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/internal/limits"
)

// defaultAdminFailureLimit is Config.AdminFailureLimit's default: wrong
// admin secrets per client address per minute.
const defaultAdminFailureLimit = 10

// checkAdminSecret rejects a secret that can never match or is too weak.
// HTTP strips a header value's surrounding whitespace and forbids control
// characters in it, so such a secret would lock everyone out, silently.
// Several secrets, separated by commas, are checked one by one; an error
// names a secret by its position, never by its value.
func checkAdminSecret(secrets string) error {
	if secrets == "" {
		return nil
	}
	parts := strings.Split(secrets, ",")
	for i, secret := range parts {
		which := "AdminSecret (GINKEY_SECRET)"
		if len(parts) > 1 {
			which = fmt.Sprintf("secret %d of %d in AdminSecret (GINKEY_SECRET)", i+1, len(parts))
		}
		switch {
		case strings.TrimSpace(secret) != secret:
			return errors.New("ginkey: " + which + " begins or ends with whitespace, " +
				"which HTTP strips from the X-Admin-Secret header, so it could never match; " +
				"remove it (a secret read from a file usually ends in a newline)")
		case strings.ContainsFunc(secret, func(r rune) bool { return r < ' ' || r == 0x7f }):
			return errors.New("ginkey: " + which + " holds a control character, which no HTTP header can carry")
		case len(secret) < minSecretLen:
			return errors.New("ginkey: " + which + " must be at least 16 bytes")
		}
	}
	return nil
}

// hashSecrets hashes each of the comma-separated secrets.
func hashSecrets(secrets string) *[][sha256.Size]byte {
	var out [][sha256.Size]byte
	for _, s := range strings.Split(secrets, ",") {
		out = append(out, sha256.Sum256([]byte(s)))
	}
	return &out
}

// ensureAdminSecret makes sure the admin API has a secret before any of its
// routes exists. A generated secret is for development: in gin's release
// mode it is a configuration error, reported as gin reports conflicting
// routes, by a panic while the routes are built.
func (g *Guard) ensureAdminSecret() {
	if g.admin.secretHashes.Load() != nil || len(g.admin.auths) > 0 { // AdminAuth alone needs no secret
		return
	}
	g.admin.secretOnce.Do(func() {
		if gin.Mode() == gin.ReleaseMode {
			panic("ginkey: RegisterAdmin in gin release mode needs an admin secret: set GINKEY_SECRET " +
				"(or Config.AdminSecret); a secret generated at start-up is for development only")
		}
		secret, err := randomBase62(43)
		if err != nil { // the system's randomness failed: nothing could be kept secret
			panic("ginkey: generate admin secret: " + err.Error())
		}
		// The one place a secret is ever logged: without it nobody could use
		// the admin API of a zero-config guard.
		g.log.Warn("ginkey: no admin secret configured; generated one for this process only. "+
			"Set GINKEY_SECRET (or Config.AdminSecret) to keep a stable secret; "+
			"in gin release mode it is required.", "admin_secret", secret)
		g.admin.secretHashes.Store(hashSecrets(secret))
	})
}

// adminAuthorized reports whether given is one of the configured secrets.
func (g *Guard) adminAuthorized(given string) bool {
	want := g.admin.secretHashes.Load()
	return given != "" && want != nil && hashedMatch(given, *want) >= 0
}

// logAdminFailures writes failureLog's line: the address and counts, never
// what was sent.
func (g *Guard) logAdminFailures(addr netip.Addr, wrong, refused int) {
	client := "unknown"
	if addr.IsValid() {
		client = addr.String()
	}
	g.log.Warn("ginkey: failed admin authentication", "client", client,
		"wrong_secrets", wrong, "refused_by_throttle", refused)
}

// failureLog aggregates failed admin authentications into at most one WARN
// line per client address per minute: the first failure is logged at once,
// the rest of the minute's are counted into the address's next line.
type failureLog struct {
	mu      sync.Mutex
	log     func(addr netip.Addr, wrong, refused int)
	entries map[netip.Addr]*failureCount
}

type failureCount struct {
	wrong, refused int // since the last line
	logged         time.Time
}

const (
	failureLogEvery = time.Minute
	failureLogMax   = 10_000 // addresses remembered; beyond, the oldest lines' are dropped
)

func newFailureLog(log func(addr netip.Addr, wrong, refused int)) *failureLog {
	return &failureLog{log: log, entries: make(map[netip.Addr]*failureCount)}
}

// note counts one failure of addr: a wrong secret, or one refused by the
// throttle.
func (l *failureLog) note(addr netip.Addr, now time.Time, refused bool) {
	addr = limits.AddrKey(addr)
	l.mu.Lock()
	e := l.entries[addr]
	if e == nil {
		if len(l.entries) >= failureLogMax {
			l.dropOldest(now)
		}
		e = &failureCount{}
		l.entries[addr] = e
	}
	if refused {
		e.refused++
	} else {
		e.wrong++
	}
	var wrong, refusedN int
	due := e.logged.IsZero() || now.Sub(e.logged) >= failureLogEvery
	if due {
		wrong, refusedN = e.wrong, e.refused
		e.wrong, e.refused, e.logged = 0, 0, now
	}
	l.mu.Unlock()
	if due {
		l.log(addr, wrong, refusedN)
	}
}

// dropOldest makes room as the other bounded maps do: a sample of entries
// whose minute is over goes, or else the one logged longest ago. A
// forgotten address only gets its next line sooner.
func (l *failureLog) dropOldest(now time.Time) {
	limits.EvictFull(l.entries, now.UnixNano(), func(e *failureCount) int64 {
		return e.logged.Add(failureLogEvery).UnixNano()
	})
}
