package ginkey

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/internal/limits"
	"github.com/ginkey/ginkey/keystore"
)

// SelfService configures RegisterSelfService: who the signed-in owner of a
// request is, and what each owner's keys may be.
type SelfService struct {
	// Owner returns the owner signed in on the request, from the host's own
	// authentication (a session cookie, a JWT claim, KeyFrom of another
	// guard...), as KeySpec.Owner names it; false (or "") answers the
	// request 401 credentials_missing. An owner that breaks Owner's rules
	// is answered 401 credentials_invalid, and logged. Required.
	Owner func(c *gin.Context) (owner string, ok bool)
	// Policy returns what owner's keys may be, e.g. by the owner's plan. It
	// is called on every request; a policy that breaks its rules answers
	// 503 unavailable, and is logged. Optional. Default: the zero
	// OwnerPolicy, for every owner.
	Policy func(owner string) OwnerPolicy
	// SecurityScheme names the host's sign-in among the security schemes
	// of the document Docs and CustomerDocs serve; the self-service
	// operations require it. Optional. Default: "OwnerSession", which
	// ginkey declares as the Cookie header the browser sends.
	SecurityScheme string
}

// OwnerPolicy is what the host allows one owner's keys: the owner picks a
// name, some of Scopes and an expiry within MaxLifetime; everything else is
// the policy's.
type OwnerPolicy struct {
	// Scopes are the scopes the owner's keys may hold. A key asks for any
	// scopes one of them grants (see Require: "items:*" grants
	// "items:read"), or gets all of them. Optional. Default: none, keys
	// without scopes.
	Scopes []string
	// RateLimit is every new key's rate limit. Optional. Default:
	// Config.RateLimit.
	RateLimit *RateLimit
	// Quota is every new key's quota. Optional. Default: none.
	Quota *Quota
	// AllowedIPs are the addresses or CIDR prefixes every new key may be
	// used from. Optional. Default: any address.
	AllowedIPs []string
	// MaxLifetime is the longest a key lives from its creation or renewal;
	// the owner may ask for less, and gets this much otherwise. Optional.
	// Default: Config.TTL, or 90 days when TTL is negative (never).
	MaxLifetime time.Duration
	// MaxKeys caps the owner's active keys (a rotated key in its grace
	// counts as its successor); a create past it is 409 too_many_keys.
	// Optional. Default: 10.
	MaxKeys int
	// CreatesPerHour throttles the owner's creates, on each instance: one
	// more is 429 too_many_creates with Retry-After. Optional. Default: 20.
	CreatesPerHour int
}

// Defaults of OwnerPolicy.
const (
	defaultMaxKeys        = 10
	defaultCreatesPerHour = 20
	defaultMaxLifetime    = 90 * 24 * time.Hour
)

// Errors of the owner-scoped key management. Compare with errors.Is.
var (
	ErrTooManyKeys    = newError(http.StatusConflict, "too_many_keys", "you have the most active keys your plan allows; revoke one first")
	ErrTooManyCreates = newError(http.StatusTooManyRequests, "too_many_creates", "too many keys created in the last hour; retry later")
)

// selfServe is the guard's self-service component: each owner's creates
// on this instance, as a GCRA over an hour (the allowance comes back one
// create every hour/CreatesPerHour, not all at once on the hour), for at
// most maxThrottledOwners owners; and where the routes are mounted, for
// the OpenAPI document.
type selfServe struct {
	creates *limits.MemoryLimiter
	mount   atomic.Pointer[selfServiceMount] // the first RegisterSelfService's
}

const maxThrottledOwners = 100_000

// ownerKeysKey is where the self-service gate puts the request's OwnerKeys.
const ownerKeysKey = "ginkey.owner_keys"

// RegisterSelfService mounts, below rg, routes on which each signed-in owner
// manages only their own keys, through the management API with the checks
// of ForOwner: GET and POST /keys (list, create), GET /keys/{id}, POST
// /keys/{id}/rotate, /revoke and /renew, GET /keys/{id}/usage and
// /keys/{id}/audit. Another owner's key is 404 not_found, byte for byte as
// an unknown id; the owner of a key is never chosen through these routes.
// The audit log names the actor "owner:<owner>".
//
// The routes are meant to sit behind cookie sessions: a state-changing
// request another site's page could have forged (cross-origin, or with a
// body that is not application/json) is refused as on the admin API (see
// Config.TrustedOrigins), before the owner is asked for. Answers carry
// Cache-Control: no-store, since a create's holds the key.
//
// It returns an error, mounting nothing, when s.Owner is nil or the store
// cannot cap an owner's keys atomically (a keystore.CappedInserter, as the
// GORM store and memstore are): counting and inserting apart would let
// concurrent creates pass the cap.
func (g *Guard) RegisterSelfService(rg *gin.RouterGroup, s SelfService) error {
	if s.Owner == nil {
		return fmt.Errorf("ginkey: RegisterSelfService: SelfService.Owner is required")
	}
	if _, ok := g.store.(keystore.CappedInserter); !ok {
		return errNoCap
	}
	g.noteSelfServiceMount(rg.BasePath(), s.SecurityScheme)
	ss := rg.Group("", g.selfServiceGate(s))
	ss.GET("/keys", g.selfListKeys)
	ss.POST("/keys", g.selfCreateKey)
	ss.GET("/keys/:id", g.selfGetKey)
	ss.POST("/keys/:id/rotate", g.selfRotateKey)
	ss.POST("/keys/:id/revoke", g.selfRevokeKey)
	ss.POST("/keys/:id/renew", g.selfRenewKey)
	ss.GET("/keys/:id/usage", g.selfKeyUsage)
	ss.GET("/keys/:id/audit", g.selfKeyAudit)
	return nil
}

var errNoCap = fmt.Errorf("ginkey: self-service needs a store that caps an owner's keys atomically (keystore.CappedInserter); this one does not")

// selfServiceGate refuses what another site may have forged, then finds
// the owner and their policy, and puts the owner's OwnerKeys in c.
func (g *Guard) selfServiceGate(s SelfService) gin.HandlerFunc {
	return func(c *gin.Context) {
		if e := g.browser.refuse(c.Request); e != nil {
			writeError(c, e)
			return
		}
		c.Header("Cache-Control", "no-store")
		owner, ok := s.Owner(c)
		if !ok || owner == "" {
			writeError(c, ErrCredentialsMissing)
			return
		}
		if e := validateOwner(owner); e != nil {
			g.log.Warn("ginkey: SelfService.Owner returned an owner that breaks the owner rules", "error", e.Message)
			writeError(c, ErrCredentialsInvalid)
			return
		}
		var p OwnerPolicy
		if s.Policy != nil {
			p = s.Policy(owner)
		}
		keys, err := g.ForOwner(owner, p)
		if err != nil {
			g.log.Error("ginkey: self-service", "error", err)
			writeError(c, ErrUnavailable)
			return
		}
		c.Set(ownerKeysKey, keys)
		c.Next()
	}
}

// ownerKeys is the OwnerKeys the gate put in c.
func ownerKeys(c *gin.Context) *OwnerKeys {
	v, _ := c.Get(ownerKeysKey)
	k, _ := v.(*OwnerKeys)
	return k
}
