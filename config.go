package ginkey

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/internal/envconfig"
	"github.com/ginkey/ginkey/keystore"
	"github.com/ginkey/ginkey/limiter"
	"github.com/ginkey/ginkey/observe"
	"gorm.io/gorm"
)

// NeverExpire as Config.TTL makes keys created without an explicit expiry
// valid until revoked.
const NeverExpire time.Duration = -1

// adminHeader is the only place the admin API reads its secret from.
const adminHeader = "X-Admin-Secret"

// Defaults for Config's zero values.
const (
	defaultCacheSize     = 100_000
	defaultCacheTTL      = 2 * time.Second
	defaultFlushInterval = time.Second
	defaultMaxBodyBytes  = 64 << 10
	defaultStoreTimeout  = 2 * time.Second
	defaultStaleIfError  = 5 * time.Minute
	minSecretLen         = 16
)

// Config configures a Guard. The zero value works: keys live in ginkey.db in
// the working directory, last 15 days, and the admin secret is generated at
// start-up. Environment variables fill only what the code leaves unset (see
// the table in guides/configuration.md).
type Config struct {
	// DB is a database of any GORM dialect to keep keys in. ginkey migrates
	// its tables there and never closes it. On PostgreSQL through pgx (the
	// driver of gorm.io/driver/postgres), the guard also listens for key
	// changes made by other instances, on a connection of its own opened
	// with the same settings (see Notifier); New refuses a PostgreSQL DB
	// unless Postgres or Notifier is set. Optional. Default: the database
	// DBPath names, opened and closed by the guard.
	DB *gorm.DB

	// Postgres is PostgreSQL's driver, which a program compiles only when
	// it names it: set pgstore.Driver{} (import
	// github.com/ginkey/ginkey/gormstore/pgstore) to keep keys in
	// PostgreSQL, through a postgres:// DBPath or a PostgreSQL DB. Without
	// it New refuses both with an error wrapping gormstore.ErrNoPostgres.
	// Optional. Default: nil (no PostgreSQL).
	Postgres gormstore.Postgres

	// Store replaces the GORM store (memstore.New() in tests); a GORM store on
	// PostgreSQL needs pgstore.Driver{} or a Notifier, as DB does. Optional.
	Store keystore.Store

	// DBPath is the database used when DB and Store are nil: a PostgreSQL
	// URL (postgres://user:password@host:5432/dbname?sslmode=require, or
	// postgresql://...) or else the path of a SQLite file (WAL, busy
	// timeout, one writer). A PostgreSQL URL needs Postgres set, and gets,
	// from pgstore.Driver{}, a pool of 4 connections a CPU
	// (at least 8), each closed after 5 minutes idle and replaced after 30,
	// a connect_timeout of 5 s unless the URL gives one, and the
	// notification of changes between instances (see Notifier). The
	// password never reaches a log or an error. Surrounding whitespace is
	// ignored; a keyword/value DSN, another scheme or a URL that cannot be
	// parsed is an error from New, never a SQLite file (gormstore.ParseDSN).
	// Optional. Default: $GINKEY_DB, else "ginkey.db".
	DBPath string

	// Notifier tells the other instances sharing the store which keys
	// changed (revoked, deleted, renewed, updated), and hears what they
	// change, so that every cache drops a changed key at once. Optional.
	// Default: on PostgreSQL (see Postgres), LISTEN/NOTIFY on the channel
	// <TablePrefix>keys_changed; elsewhere none (CacheTTL bounds how long a
	// change goes unseen).
	Notifier keystore.Notifier

	// TablePrefix names ginkey's tables (<prefix>keys, <prefix>usage, <prefix>audit...): lower-case
	// letters, digits and underscores. Optional. Default: $GINKEY_TABLE_PREFIX,
	// else "ginkey_".
	TablePrefix string

	// AdminSecret authenticates the admin API (header X-Admin-Secret): at
	// least 16 bytes, no surrounding whitespace (New returns an error for
	// one: HTTP strips it from headers). Several secrets separated by commas
	// are each accepted, so that the secret can be changed without downtime:
	// add the new one, move the clients over, remove the old one. Optional. Default: $GINKEY_SECRET;
	// else RegisterAdmin generates a random one and logs it once at WARN
	// level, except in gin's release mode, where it panics instead: a
	// generated secret is for development. A guard without RegisterAdmin
	// needs no secret.
	AdminSecret string

	// TTL is the lifetime of a key created without an explicit expiry, and
	// the default extension of a renewal. NeverExpire (or any negative value)
	// makes such keys non-expiring. Optional. Default: $GINKEY_TTL (a Go
	// duration or "never"), else 360h (15 days).
	TTL time.Duration

	// KeyPrefix starts every key, followed by "_": lower-case letters and
	// digits, at most 16. Optional. Default: $GINKEY_KEY_PREFIX, else "gk".
	KeyPrefix string

	// Sources lists where a request's key is looked for, first match wins:
	// "header:<name>" (a request header), "query:<name>" (a query
	// parameter), "cookie:<name>" (a cookie) or "bearer" (Authorization:
	// Bearer <key>); New refuses any other entry, and a name with spaces.
	// Optional. Default: "header:X-API-Key", "query:api_key", "bearer".
	Sources []string

	// Realm is sent in WWW-Authenticate headers. Optional. Default: "ginkey".
	Realm string

	// CacheSize bounds the number of verified keys held in memory, exactly
	// (rounded up to a multiple of 8): 8 bytes a slot up front, plus about
	// 1 KB per cached key. Keys the store does not know are remembered apart,
	// in a quarter as many 16-byte slots (at least 8), so they never displace
	// a verified key. A negative value disables both; every request then reads the
	// store. Optional. Default: 100,000.
	CacheSize int

	// CacheTTL is how long a key's record is used without reading the store
	// again. A change made to the database by another process (another
	// instance, the CLI) goes unseen for up to CacheTTL, or up to twice that
	// for a key in use while one request re-reads it and the others keep the
	// record it replaces; longer only during a store outage (StaleIfError).
	// Changes made through this guard apply on the next request, and on
	// other instances as soon as the Notifier brings word of them (on
	// PostgreSQL, within milliseconds); CacheTTL then bounds only what the
	// Notifier misses: changes while it is reconnecting, or made to the
	// database directly. Optional. Default: 2s.
	CacheTTL time.Duration

	// StoreTimeout bounds each store call a request waits for: a key's
	// lookup on a cache miss and a quota's re-read. A call that takes longer
	// answers 503 unavailable (or serves a stale record, see StaleIfError).
	// Admin operations get five times as long, the usage flush too.
	// Optional. Default: 2s.
	StoreTimeout time.Duration

	// StaleIfError is how long a key's record, once read from the store,
	// may still admit its key while the store cannot be read (an error or
	// a timeout, not "no such key"). Revocation, expiry, scopes, IP and
	// limits are still checked against it. A key changed through this
	// guard is never served stale: the change drops its record. A key
	// revoked through another instance during an outage keeps working here
	// until the outage ends or StaleIfError has passed. While the store is
	// down, requests that need it are answered at once, and one request a
	// second probes it. A negative value turns stale serving off.
	// Optional. Default: 5m.
	StaleIfError time.Duration

	// FlushInterval is how often usage counts are written to the store.
	// Optional. Default: 1s.
	FlushInterval time.Duration

	// MaxBodyBytes bounds admin request bodies; larger ones get 413.
	// Optional. Default: 64 KiB.
	MaxBodyBytes int64

	// HideDocs removes ginkey's admin operations and the AdminSecret scheme
	// from the served OpenAPI document; the endpoints keep working.
	// Optional. Default: $GINKEY_HIDE_DOCS, else false.
	HideDocs bool

	// Skipper reports requests that bypass the guard's middlewares entirely,
	// e.g. health checks or CORS preflight requests:
	//
	//	Skipper: func(c *gin.Context) bool { return c.Request.Method == http.MethodOptions },
	//
	// It never applies to the admin API (RegisterAdmin), nor to a key check
	// on the way into any guard's admin API (AdminKeyScope, WithScopes as
	// AdminAuth): every admin request is authenticated.
	// Optional. Default: nil (nothing is skipped).
	Skipper func(*gin.Context) bool

	// RateLimit applies to every key that has no rate limit of its own.
	// Optional. Default: the zero RateLimit, no limit.
	RateLimit RateLimit

	// Limiter counts requests against rate limits. Replace it to share the
	// counts between instances (see the limiter package). Optional.
	// Default: a limiter.MemoryLimiter of CacheSize keys (100,000 when the
	// cache is off) using Now.
	Limiter limiter.Limiter

	// FailClosed makes rate limits and quotas refuse requests with 503
	// unavailable while the Limiter or QuotaCounter that counts them fails
	// (e.g. a shared Redis is down), instead of letting them through
	// unchecked. Either way the outage is logged once when it starts (WARN,
	// with the error) and once when it ends (INFO, with the number of
	// requests decided without the counter). The failure throttles never
	// fail open nor closed: while their FailureCounter fails, they count in
	// memory, per instance. The in-memory defaults never fail.
	// Optional. Default: false (fail open).
	FailClosed bool

	// FailureCounter counts the failure throttles' attempts (FailureLimit,
	// AdminFailureLimit) per client address. Replace it to share the
	// throttles between instances; while it fails, each instance counts in
	// memory. Optional. Default: in memory, at most 100,000 addresses per
	// throttle.
	FailureCounter limiter.FailureCounter

	// QuotaCounter counts requests against quotas. Replace it to make quotas
	// exact across instances. Optional. Default: in memory, seeded from the
	// usage table and re-read every CacheTTL (see Quota).
	QuotaCounter limiter.QuotaCounter

	// FailureLimit is how many unknown keys one client address (gin's
	// ClientIP, IPv6 grouped by /64) may present per minute; beyond it, its
	// requests with keys not in the cache get 429 too_many_failures without
	// reaching the store. The attempt is reserved before the lookup, so
	// concurrent requests cannot slip past the allowance together, and given
	// back when the key turns out to exist (or the store fails). When the
	// address came from a forwarded header (ClientIP differs from gin's
	// RemoteIP, the connection's peer), the peer also has a budget of 10
	// times FailureLimit for all the addresses it forwards, charged only by
	// attempts their own allowance let through. Keys this guard verified
	// before are never refused by it. Clients without an IP address (e.g.
	// on a unix socket, where gin's ClientIP is empty) are not throttled,
	// lest they share one allowance; the first is logged as a warning. A
	// negative value turns this off. Optional. Default: 30.
	FailureLimit int

	// MaxLookups bounds the store lookups of keys not in the cache that
	// may be in flight at once, and one client address (IPv6 grouped by
	// /64) may have half of them (at least one): a request beyond the
	// bound is answered at once, with Retry-After: 1, 429 too_many_lookups
	// when its address has its share in flight, else 503 lookups_busy.
	// Concurrent requests for one key share a lookup, and keys in the
	// cache, stale ones included, need no place. Keep it below the number
	// of connections the store's pool may open. A negative value removes
	// both bounds. Optional. Default: 16 (8 per address).
	MaxLookups int

	// AdminAuth lets the host application's own authentication admit admin
	// requests: its session or JWT check, BasicAuth, BearerAuth, or an API
	// key of another guard with an admin scope (its WithScopes, whose
	// scopes are then held literally, as AdminKeyScope's are). A
	// request with an X-Admin-Secret header is judged by the secret alone;
	// one without is judged by AdminAuth. Credentials it refuses count
	// against AdminFailureLimit, as wrong secrets do. It may name who it
	// admitted with SetPrincipal, for the audit log. With AdminAuth and no AdminSecret
	// (nor GINKEY_SECRET) the admin API has no secret at all: none is
	// generated, and release mode does not require one. To demand both, put
	// the host's middleware on the group given to RegisterAdmin instead.
	// Optional. Default: nil (the secret only).
	AdminAuth Authenticator

	// AdminKeyScope lets this guard's own API keys use the admin API when
	// they hold this scope (e.g. "ginkey:admin") itself: a wildcard scope
	// ("*", "ginkey:*") does not grant it. The key is sent wherever Sources
	// look but the query string, where it is refused; the key's IP
	// allow-list, rate limit and quota apply, and a refused key counts
	// against AdminFailureLimit. It joins
	// AdminAuth as another way in. Optional. Default: "" (no key is an
	// admin's).
	AdminKeyScope string

	// AdminAuthSchemes names the security schemes of the application's
	// OpenAPI document that AdminAuth accepts (e.g. "BearerAuth"): Docs
	// lists them on every admin operation beside AdminSecret. Optional.
	// Default: none; APIKeyHeader and APIKeyQuery are listed by themselves
	// with AdminKeyScope.
	AdminAuthSchemes []string

	// AdminFailureLimit is how many wrong admin credentials one client
	// address (IPv6 grouped by /64) may send per minute, whichever way in
	// they take: X-Admin-Secret headers, credentials AdminAuth refuses
	// (a wrong Basic password), keys refused under AdminKeyScope. Beyond
	// it, its admin requests get 429 too_many_failures, with Retry-After,
	// before any credential is checked, so a right guess is refused too.
	// The allowance comes back gradually, one attempt every minute/limit.
	// As for FailureLimit, a peer that forwards client addresses has a
	// budget of 10 times AdminFailureLimit for all of them together.
	// Failures are logged at WARN, at most one line per address per
	// minute, and audited as auth_failed. A request without credentials
	// guesses nothing and is not counted; clients without an IP address
	// are not throttled. A negative value turns the
	// throttle off (failures are still logged). Optional. Default: 10.
	AdminFailureLimit int

	// TrustedOrigins are browser origins, as scheme://host[:port] (e.g.
	// "https://console.example.com"), whose pages may send state-changing
	// requests (POST, PATCH, DELETE...) to the admin API beside pages of the
	// API's own origin. Any other origin's are refused with 403
	// cross_origin_refused, judged by Sec-Fetch-Site or, without it, by
	// Origin against Host (net/http's CrossOriginProtection); requests
	// without either header (curl, Go and generated clients) are not a
	// browser's and pass. New returns an error for a malformed origin.
	// Optional. Default: none (the API's own origin only).
	TrustedOrigins []string

	// Observers are told of every store call and admin operation as it
	// starts and ends: the ginkeyprom package's collector times them, the
	// ginkeyotel package's tracer makes spans of them. Optional. Default:
	// none.
	Observers []observe.Observer

	// AuditRetention is how long audit log entries are kept: older ones are
	// deleted in the background, at start and every hour. A negative value
	// keeps them for ever. Optional. Default: $GINKEY_AUDIT_RETENTION (a Go
	// duration or "never"), else 2160h (90 days).
	AuditRetention time.Duration

	// Logger receives ginkey's logs; keys and secrets never reach it (but
	// for the generated admin secret, once). Optional. Default: slog.Default().
	Logger *slog.Logger

	// Now is the clock. Optional. Default: time.Now.
	Now func() time.Time

	// LookupEnv reads environment variables. Optional. Default: os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// applyEnv fills the fields cfg leaves unset that the environment may give
// (see the table in guides/configuration.md), from Config.LookupEnv, else with their defaults.
// The ginkey command resolves the same fields through the same function, so
// that it opens the server's database and gives keys the server's TTL.
func applyEnv(cfg *Config) error {
	s, err := envconfig.Resolve(envconfig.Settings{
		AdminSecret:    cfg.AdminSecret,
		DBPath:         cfg.DBPath,
		TablePrefix:    cfg.TablePrefix,
		KeyPrefix:      cfg.KeyPrefix,
		TTL:            cfg.TTL,
		AuditRetention: cfg.AuditRetention,
		HideDocs:       cfg.HideDocs,
	}, cfg.LookupEnv)
	if err != nil {
		return err
	}
	cfg.AdminSecret, cfg.DBPath, cfg.TTL, cfg.AuditRetention, cfg.HideDocs = s.AdminSecret, s.DBPath, s.TTL, s.AuditRetention, s.HideDocs
	cfg.TablePrefix, cfg.KeyPrefix = s.TablePrefix, s.KeyPrefix
	return nil
}

func applyDefaults(cfg *Config) {
	if len(cfg.Sources) == 0 {
		cfg.Sources = defaultSources()
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = defaultCacheSize
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = defaultCacheTTL
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = defaultStoreTimeout
	}
	if cfg.StaleIfError == 0 {
		cfg.StaleIfError = defaultStaleIfError
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = defaultFlushInterval
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = defaultMaxBodyBytes
	}
	if cfg.FailureLimit == 0 {
		cfg.FailureLimit = defaultFailureLimit
	}
	if cfg.AdminFailureLimit == 0 {
		cfg.AdminFailureLimit = defaultAdminFailureLimit
	}
	if cfg.MaxLookups == 0 {
		cfg.MaxLookups = defaultMaxLookups
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
}

// defaultRealm names the protection space in WWW-Authenticate challenges.
const defaultRealm = "ginkey"

// checkRealm returns realm, or defaultRealm for "", unless it holds a
// character that would break out of a quoted challenge parameter. what
// names the setting in the error.
func checkRealm(what, realm string) (string, error) {
	if realm == "" {
		return defaultRealm, nil
	}
	if strings.ContainsAny(realm, "\"\\\r\n") {
		return "", errors.New("ginkey: " + what + " must not contain quotes, backslashes or line breaks")
	}
	return realm, nil
}
