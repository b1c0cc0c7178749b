package ginkey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Guard checks API keys and serves the admin API. It is safe for concurrent
// use. Call Close when done.
type Guard struct {
	store      Store
	usageStore UsageStore // nil: usage is not recorded
	closeDB    func() error
	format     keyFormat
	lookups    []source     // sources prepared for the request path
	plain      *requirement // Handler's: no scopes
	skip       func(*gin.Context) bool
	challenges *challenges // WWW-Authenticate value of each 401 key error
	ttl        time.Duration
	log        *slog.Logger
	now        func() time.Time
	counters   counters   // verification outcomes and cache lookups
	observers  []Observer // told of store calls and admin operations

	// The components, each owning its fields and lock.
	keys         keyCache     // verified records, unknown keys, reads in flight
	limits       *limiting    // rate limits, quotas, failure throttles
	usage        *usage       // usage counts and their flusher; nil: not recorded
	admin        adminGate    // the ways into the admin API
	audits       auditLog     // the audit log and its writer
	notify       *notifyState // the Notifier's listener; nil without one
	health       storeHealth  // the store's outages, as the request path sees them
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
}

var tablePrefixRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,31}$`)

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
	if err := validateSources(cfg.Sources); err != nil {
		return nil, err
	}
	if !tablePrefixRE.MatchString(cfg.TablePrefix) {
		return nil, errors.New("ginkey: TablePrefix must be lower-case letters, digits and underscores")
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
		lookups: compileSources(cfg.Sources),
		ttl:     cfg.TTL,
		log:     cfg.Logger,
		now:     cfg.Now,
	}
	g.life.ctx, g.life.cancel = context.WithCancel(context.Background())
	g.admin.sources, g.admin.maxBody, g.admin.hideDocs = cfg.Sources, cfg.MaxBodyBytes, cfg.HideDocs
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
	if n := g.notifierFor(&cfg); n != nil {
		g.startNotify(n)
	}
	return g, nil
}

// MustNew is New for programs that cannot go on without a guard: it panics
// on error.
func MustNew(cfg Config) *Guard {
	g, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return g
}

func (g *Guard) openStore(cfg *Config) error {
	if cfg.Store != nil {
		g.store = cfg.Store
		g.usageStore, _ = cfg.Store.(UsageStore)
		return nil
	}
	db := cfg.DB
	if db == nil {
		open := openSQLite
		if isPostgresURL(cfg.DBPath) {
			open = openPostgresURL
		}
		opened, err := open(cfg.DBPath)
		if err != nil {
			return err
		}
		db = opened
		g.closeDB = func() error {
			sqlDB, err := db.DB()
			if err != nil {
				return err
			}
			return sqlDB.Close()
		}
	}
	s, err := newGormStore(context.Background(), db, cfg.TablePrefix)
	if err != nil {
		_ = g.closeStore()
		return err
	}
	g.store, g.usageStore = s, s
	if cfg.DB == nil && s.sqlite { // the guard's own SQLite file: nobody else's plugins to respect
		if s.file, err = newFileIdentity(sqliteFile(cfg.DBPath)); err != nil {
			_ = g.closeStore()
			return err
		}
		if s.byHash, err = newHashLookup(context.Background(), db, s.keys); err != nil {
			g.log.Warn("ginkey: cache-miss lookups go through GORM, more slowly", "error", err)
		}
		closeDB := g.closeDB
		g.closeDB = func() error { return errors.Join(s.byHash.close(), closeDB()) }
	}
	return nil
}

// notifierFor returns Config.Notifier, else the PostgreSQL store's own,
// else nil.
func (g *Guard) notifierFor(cfg *Config) Notifier {
	if cfg.Notifier != nil {
		return cfg.Notifier
	}
	s, ok := g.store.(*gormStore)
	if !ok || s.db.Name() != "postgres" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.StoreTimeout)
	defer cancel()
	n, err := newPgNotifier(ctx, s.db, cfg.TablePrefix, cfg.StoreTimeout)
	if err != nil {
		g.log.Warn("ginkey: key changes made by other instances are seen within CacheTTL only: cannot listen for them (set Config.Notifier)",
			"error", err)
		return nil
	}
	return n
}

// openSQLite opens path in WAL mode with a busy timeout and cached prepared
// statements; writes are further serialized by the store, so concurrent
// requests never see "database is locked".
func openSQLite(path string) (*gorm.DB, error) {
	if err := createPrivate(sqliteFile(path)); err != nil {
		return nil, err
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	dsn := path + sep + "_journal_mode=WAL&_busy_timeout=10000&_synchronous=NORMAL&_txlock=immediate"
	db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		// Admin reads and writes and usage flushes reuse their statements
		// (the cache-miss lookup has its own, see hashLookup). Bounded:
		// statements vary with batch sizes.
		PrepareStmt:        true,
		PrepareStmtMaxSize: 256,
		PrepareStmtTTL:     time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("ginkey: open SQLite %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("ginkey: open SQLite %s: %w", path, err)
	}
	conns := max(4, 2*runtime.GOMAXPROCS(0))
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	if err := sqlDB.Ping(); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("ginkey: open SQLite %s: %w", path, err)
	}
	return db, nil
}

func (g *Guard) closeStore() error {
	if g.closeDB == nil {
		return nil
	}
	return g.closeDB()
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
	rec, ok := v.(*Record)
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
	Scopes     []string       `json:"scopes"`
	Metadata   map[string]any `json:"metadata" swaggertype:"object"`                  // numbers are json.Number, digit for digit as sent
	RateLimit  *RateLimit     `json:"rate_limit"`                                     // null: the guard's default
	AllowedIPs []string       `json:"allowed_ips" example:"10.0.0.0/8,2001:db8::/32"` // empty: any address
	Quota      *Quota         `json:"quota"`                                          // null: none
	CreatedAt  time.Time      `json:"created_at"`
	ExpiresAt  *time.Time     `json:"expires_at"`
	RevokedAt  *time.Time     `json:"revoked_at"`
	LastUsedAt *time.Time     `json:"last_used_at"`
	Status     Status         `json:"status" enums:"active,expired,revoked" swaggertype:"string"`
	// RotatedFrom is the key this one replaced; RotatedTo the key that
	// replaced this one, whose RevokedAt is the end of its grace period.
	RotatedFrom string `json:"rotated_from,omitempty" example:"7yQ2mN4pR8sT1vW3xZ5bC0"`
	RotatedTo   string `json:"rotated_to,omitempty" example:"9aB3cD5eF7gH1iJ3kL5mN0"`
}

// revokedAt reports whether k is revoked at now. Only a rotated key has a
// revoked_at that may lie ahead, the end of its grace; any other revocation
// holds from the moment it is stored, whatever the clocks of the instance
// that wrote it and of this one say.
func revokedAt(k *Key, now time.Time) bool {
	return k.RevokedAt != nil && (k.RotatedTo == "" || !now.Before(*k.RevokedAt))
}

func statusAt(k *Key, now time.Time) Status {
	switch {
	case revokedAt(k, now):
		return StatusRevoked
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return StatusExpired
	}
	return StatusActive
}
