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
	// failures writes the failed-authentication log lines. It stays apart
	// from the audit's per-minute counts (authFailures): a log line may
	// forget an address (its next line comes sooner), an audit count may
	// not, so each has the bound its failure mode allows.
	failures *failureLog
	sources  []Source // as configured, for the OpenAPI document
	maxBody  int64
	hideDocs bool
}
