package ginkey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/internal/limits"
	"github.com/ginkey/ginkey/keystore"
	"github.com/ginkey/ginkey/observe"
)

// Guard checks API keys and serves the admin API. It is safe for concurrent
// use. Call Close when done.
type Guard struct {
	store      keystore.Store
	usageStore keystore.UsageStore // nil: usage is not recorded
	closeDB    func() error
	format     keyFormat
	lookups    []source     // sources prepared for the request path
	plain      *requirement // Handler's: no scopes
	skip       func(*gin.Context) bool
	challenges *challenges // WWW-Authenticate value of each 401 key error
	ttl        time.Duration
	log        *slog.Logger
	now        func() time.Time
	counters   counters           // verification outcomes and cache lookups
	observers  []observe.Observer // told of store calls and admin operations

	// The components, each owning its fields and lock.
	keys         keyCache       // verified records, unknown keys, reads in flight
	limits       *limiting      // rate limits, quotas, failure throttles
	usage        *usage         // usage counts and their flusher; nil: not recorded
	admin        adminGate      // the ways into the admin API
	browser      *browserWrites // refuses state changes other sites' pages may have forged
	audits       auditLog       // the audit log and its writer
	self         selfServe      // self-service creates per owner, the routes' mount
	notify       *notifyState   // the Notifier's listener; nil without one
	health       storeHealth    // the store's outages, as the request path sees them
	storeTimeout time.Duration
	life         lifecycle
}

// lifecycle is what Close stops: ctx is cancelled by it, for the flusher,
// the audit writer and the listener.
type lifecycle struct {
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	err    error
	late   lateWork // store calls finishing after their answer
}

// New validates cfg, opens or migrates the store and starts the usage
// flusher. It returns an error, never panics, for a bad config or a database
// that cannot be opened or migrated.
func New(cfg Config) (*Guard, error) {
	if err := applyEnv(&cfg); err != nil {
		return nil, err
	}
	applyDefaults(&cfg)
	format, err := newKeyFormat(cfg.KeyPrefix)
	if err != nil {
		return nil, err
	}
	sources, err := parseSources(cfg.Sources)
	if err != nil {
		return nil, err
	}
	if cfg.Realm, err = checkRealm("Realm", cfg.Realm); err != nil {
		return nil, err
	}
	if err := checkAdminSecret(cfg.AdminSecret); err != nil {
		return nil, err
	}
	if cfg.RateLimit != (RateLimit{}) && validateRateLimit(&cfg.RateLimit) != nil {
		return nil, errors.New(`ginkey: RateLimit needs Requests from 1 to 1,000,000 and Per "1s", "1m" or "1h"`)
	}

	g := &Guard{
		format:  format,
		lookups: compileSources(sources),
		ttl:     cfg.TTL,
		log:     cfg.Logger,
		now:     cfg.Now,
	}
	g.life.ctx, g.life.cancel = context.WithCancel(context.Background())
	g.life.late.slots = make(chan struct{}, maxLate)
	g.self.creates = limits.NewMemoryLimiter(maxThrottledOwners, cfg.Now)
	g.admin.sources, g.admin.maxBody, g.admin.hideDocs = sources, cfg.MaxBodyBytes, cfg.HideDocs
	for _, o := range cfg.Observers {
		if o != nil {
			g.observers = append(g.observers, o)
		}
	}
	g.health.log = cfg.Logger
	g.storeTimeout = cfg.StoreTimeout
	g.keys.ttl, g.keys.staleIfError = cfg.CacheTTL, cfg.StaleIfError
	g.challenges = wwwAuthenticate(cfg.Realm)
	g.plain = g.newRequirement(nil, false, false)
	if err := g.setAdminAuth(&cfg); err != nil {
		return nil, err
	}
	if g.browser, err = newBrowserWrites(cfg.TrustedOrigins); err != nil {
		return nil, err
	}
	g.skip = cfg.Skipper
	g.admin.failures = newFailureLog(g.logAdminFailures)
	g.keys.Init(cfg.CacheSize, int64(cfg.CacheTTL))

	if err := g.openStore(&cfg); err != nil {
		return nil, err
	}
	resync := cfg.CacheTTL
	if g.usageStore == nil {
		resync = 0 // nothing to re-read: the count in memory is all there is
	}
	g.limits = newLimiting(&cfg, resync)

	if cfg.AdminSecret != "" { // else RegisterAdmin generates one, where that is allowed
		g.admin.secretHashes.Store(hashSecrets(cfg.AdminSecret))
	}

	if g.usageStore != nil {
		instance, err := randomBase62(22)
		if err != nil {
			_ = g.closeStore()
			return nil, fmt.Errorf("ginkey: generate instance id: %w", err)
		}
		g.usage = newUsage(instance)
		go g.flushLoop(cfg.FlushInterval)
	}
	g.startAudit(cfg.AuditRetention)
	n, err := g.notifierFor(&cfg)
	if err != nil {
		_ = g.Close()
		return nil, err
	}
	if n != nil {
		g.startNotify(n)
	}
	return g, nil
}

// Close stops the usage flusher and the audit log's goroutine, writes
// pending usage and the counted admin authentication failures, and closes
// the database if the guard opened it. While the store fails, it retries the
// usage write for up to five StoreTimeouts (10 s by default), then drops the
// counts and logs how many requests they held. It is safe to call more than
// once.
func (g *Guard) Close() error {
	g.life.once.Do(func() {
		g.life.cancel()
		if g.usage != nil {
			<-g.usage.done
		}
		g.life.late.calls.Wait()
		g.stopAudit()
		g.stopNotify()
		g.life.err = errors.Join(g.finalFlush(), g.closeStore())
	})
	return g.life.err
}

// contextKey is where the verified key sits in gin.Context.
const contextKey = "ginkey.key"

// KeyFrom returns the key that authenticated the request, set by the guard's
// Handler, Require, RequireAny or Optional. ok is false when no key did: the
// route is not guarded, or Optional let an anonymous request through. The
// slices, maps and pointers of the returned Key are shared: treat them as
// read-only.
func KeyFrom(c *gin.Context) (Key, bool) {
	v, ok := c.Get(contextKey)
	if !ok {
		return Key{}, false
	}
	rec, ok := v.(*keyRecord)
	if !ok || rec == nil {
		return Key{}, false
	}
	out := rec.Key
	out.Status = StatusActive
	return out, true
}

// Key is a key's public record: what the admin API returns and KeyFrom
// gives handlers. It never holds the key itself nor its hash.
type Key struct {
	ID         string         `json:"id" example:"3uV8rKQ0mZ1bXy7wE2tLp4"`
	Prefix     string         `json:"prefix" example:"gk_AbC1x"`
	Name       string         `json:"name" example:"billing service"`
	Owner      string         `json:"owner" example:"user_42"` // the user, team or tenant it belongs to; "" for none
	Scopes     []string       `json:"scopes" example:"items:read"`
	Metadata   map[string]any `json:"metadata" swaggertype:"object"`                  // numbers are json.Number, digit for digit as sent
	RateLimit  *RateLimit     `json:"rate_limit" extensions:"x-nullable"`             // null: the guard's default
	AllowedIPs []string       `json:"allowed_ips" example:"10.0.0.0/8,2001:db8::/32"` // empty: any address
	Quota      *Quota         `json:"quota" extensions:"x-nullable"`                  // null: none
	CreatedAt  time.Time      `json:"created_at" format:"date-time"`
	ExpiresAt  *time.Time     `json:"expires_at" format:"date-time" extensions:"x-nullable"`   // null: never
	RevokedAt  *time.Time     `json:"revoked_at" format:"date-time" extensions:"x-nullable"`   // null: not revoked
	LastUsedAt *time.Time     `json:"last_used_at" format:"date-time" extensions:"x-nullable"` // null: never used
	Status     Status         `json:"status" enums:"active,expired,revoked" swaggertype:"string"`
	// RotatedFrom is the key this one replaced; RotatedTo the key that
	// replaced this one, whose RevokedAt is the end of its grace period.
	RotatedFrom string `json:"rotated_from,omitempty" example:"7yQ2mN4pR8sT1vW3xZ5bC0"`
	RotatedTo   string `json:"rotated_to,omitempty" example:"9aB3cD5eF7gH1iJ3kL5mN0"`
}
