package ginkey

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
)

// adminGate is the guard's admin component: the ways into the admin API
// and what the admin adapter and its OpenAPI document need. Wrong secrets
// are throttled by the limits component (limiting.admin).
type adminGate struct {
	secretHashes atomic.Pointer[[][sha256.Size]byte] // nil until configured or generated
	secretOnce   sync.Once
	auths        []Authenticator        // AdminAuth and AdminKeyScope's; none: the secret only
	checks       []string               // their WWW-Authenticate challenges
	schemes      []string               // their schemes in the OpenAPI document
	base         atomic.Pointer[string] // the first group given to RegisterAdmin, for Docs
	// failures writes the failed-authentication log lines. Why it is not
	// one counter with the audit's per-minute counts (authFailures) and the
	// admin throttle's: a log line may forget an address (its next line
	// comes sooner), an audit count may not (extra addresses go to
	// "http:other"), and the throttle holds GCRA times, may be off, and may
	// count in Redis; each keeps the bound its own loss allows.
	failures *failureLog
	sources  []Source // as configured, for the OpenAPI document
	maxBody  int64
	hideDocs bool
}
