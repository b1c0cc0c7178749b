// Package ginkeyredis shares a ginkey guard's limits between instances
// through Redis: per-key rate limits, quotas and the failure throttles
// (unknown keys and wrong admin secrets per client address). Each decision
// is one Lua script, one round trip, so N instances together allow exactly
// a key's limit.
//
//	limits, err := ginkeyredis.FromURL(os.Getenv("GINKEY_REDIS")) // redis://host:6379/0
//	if err != nil { ... }
//	defer limits.Close()
//	cfg := ginkey.Config{}
//	limits.Apply(&cfg)
//	guard, err := ginkey.New(cfg)
//
// While Redis cannot be reached, the guard lets requests through unchecked
// by rate limits and quotas, or with ginkey.Config.FailClosed answers 503
// unavailable; the failure throttles count per instance meanwhile. The
// guard logs the outage once when it starts and once when it ends. go-redis
// logs each failed dial to stderr through its own, process-wide logger;
// NewLogger routes those lines to a slog logger, one a second at most, for
// a host that installs it with redis.SetLogger.
//
// Redis keys start with a prefix ("ginkey:" by default) and expire on their
// own: <prefix>rate:<chain id>, <prefix>quota:<chain id>:<period>,
// <prefix>fail:<throttle>:<client address>, where a key's chain id is the id
// of the first key of its rotation chain (its own id, unless a rotation
// created it), so that a rotated-in key goes on counting in its
// predecessor's keys. They never hold a key or a secret.
package ginkeyredis

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/limits"
	"github.com/ginkey/ginkey/limiter"
)

// EnvVar names the environment variable the example app reads a Redis URL
// from; ginkey itself never reads it.
const EnvVar = "GINKEY_REDIS"

// Defaults of the options.
const (
	DefaultPrefix  = "ginkey:"
	DefaultTimeout = 200 * time.Millisecond
)

// quotaGrace keeps a period's count a while after the period, so that an
// instance whose clock lags still finds it rather than seeding a new one.
const quotaGrace = time.Hour

// Limits counts a guard's limits in Redis. It implements limiter.Limiter,
// limiter.FailureCounter and limiter.QuotaCounter, and is safe for concurrent
// use; several guards, in one process or many, share what they count when
// they use the same Redis and prefix.
type Limits struct {
	client  redis.UniversalClient
	run     redis.Scripter // where scripts run: client, or its autopipeliner
	batch   bool
	batched bool // run is the autopipeliner
	owned   bool // made by FromURL: Close closes it
	prefix  string
	timeout time.Duration
	now     func() time.Time // nil: Redis's own clock
}

var (
	_ limiter.Limiter        = (*Limits)(nil)
	_ limiter.FailureCounter = (*Limits)(nil)
	_ limiter.QuotaCounter   = (*Limits)(nil)
	_ limiter.QuotaRaiser    = (*Limits)(nil)
)

// Option configures Limits.
type Option func(*Limits)

// WithPrefix starts every Redis key Limits writes with prefix, so that
// several applications (or tests) can share one Redis. Default: "ginkey:".
func WithPrefix(prefix string) Option { return func(l *Limits) { l.prefix = prefix } }

// WithTimeout bounds how long one decision (a rate-limit check, a quota
// take, a throttle step) waits for Redis, as a whole, dials, handshakes and
// waits for a pooled connection included, when AutoPipeline is off
// (WithAutoPipeline(false)); go-redis's autopipeliner honours no deadline
// once a command is queued. When FromURL makes the client, it is also the
// client's dial, read, write and pool timeout; a client given to New keeps
// its own, and with New a d of 0 or less sets no deadline of its own.
// Default: 200ms.
func WithTimeout(d time.Duration) Option { return func(l *Limits) { l.timeout = d } }

// WithClock makes Limits read time from now instead of from Redis (the
// default, one clock for every instance). For tests.
func WithClock(now func() time.Time) Option { return func(l *Limits) { l.now = now } }

// New returns Limits counting in client, which stays the caller's to close
// (closing it also stops the client's autopipeliner, see WithAutoPipeline).
// Give the client short timeouts (go-redis's default is seconds): a request
// waits for Redis about that long before the guard decides without it, and
// while Redis is down the guard probes it with one request a second. Set
// its MaxRetries to -1, as FromURL does: go-redis retries a command whose
// reply was lost (a read timeout), and a retried script counts the request
// twice (two rate-limit steps, two quota increments).
func New(client redis.UniversalClient, opts ...Option) *Limits {
	l := &Limits{prefix: DefaultPrefix, timeout: DefaultTimeout, batch: true}
	for _, o := range opts {
		o(l)
	}
	l.setClient(client)
	return l
}

func (l *Limits) setClient(client redis.UniversalClient) {
	l.client, l.run = client, client
	if client == nil || !l.batch {
		return
	}
	if ap, err := client.AutoPipeline(); err == nil {
		l.run, l.batched = ap, true
	}
}

// WithAutoPipeline turns off (false) or on the batching of concurrent
// requests' decisions into pipelines (go-redis's AutoPipeline, marked
// experimental there); off, each decision is sent on its own. Either way a
// request waits for one round trip. Batching adds a goroutine hand-off to a
// lone request (some 20 µs on a busy machine) and, under load, saves system
// calls on both sides: over loopback it nearly doubles a rate-limited key's
// requests per second. Default: true.
func WithAutoPipeline(on bool) Option { return func(l *Limits) { l.batch = on } }

// FromURL returns Limits with a client of its own for url
// ("redis://[user:password@]host:port/db" or "rediss://..."), with the
// timeouts of WithTimeout, one dial attempt per command (a request never
// waits for a Redis that is down) and no retries (a script that ran but
// whose answer was lost must not count twice; go-redis checks a pooled
// connection before reusing it). It does not connect yet: Redis may be down
// when the application starts. Its error never repeats the URL, which may
// hold a password.
func FromURL(url string, opts ...Option) (*Limits, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("ginkeyredis: the Redis URL is not valid: it must look like redis://host:6379/0")
	}
	l := New(nil, opts...)
	if l.timeout <= 0 {
		l.timeout = DefaultTimeout
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = l.timeout, l.timeout, l.timeout, l.timeout
	o.MaxRetries = -1   // a script that ran but whose answer was lost must not run twice
	o.DialerRetries = 1 // a refused dial fails the request at once, not after 5 tries
	l.setClient(redis.NewClient(o))
	l.owned = true
	return l, nil
}

// Apply makes cfg count its rate limits, quotas and failure throttles in
// Redis, leaving alone whichever of Limiter, QuotaCounter and
// FailureCounter cfg already sets.
func (l *Limits) Apply(cfg *ginkey.Config) {
	if cfg.Limiter == nil {
		cfg.Limiter = l
	}
	if cfg.QuotaCounter == nil {
		cfg.QuotaCounter = l
	}
	if cfg.FailureCounter == nil {
		cfg.FailureCounter = l
	}
}

// Close closes the client if FromURL made it.
func (l *Limits) Close() error {
	if !l.owned {
		return nil
	}
	return l.client.Close()
}

// nowMicros is the time to pass a script: 0 means Redis's own clock.
func (l *Limits) nowMicros() int64 {
	if l.now == nil {
		return 0
	}
	return l.now().UnixMicro()
}

// Allow implements limiter.Limiter: one GCRA decision in Redis.
func (l *Limits) Allow(ctx context.Context, id string, limit int64, per time.Duration) (limiter.Decision, error) {
	if limit <= 0 || per <= 0 {
		return limiter.Decision{Allowed: true}, nil
	}
	interval, window := limits.Steps(limit, per.Microseconds()) // the scripts count in microseconds
	ctx, cancel := l.bound(ctx)
	defer cancel()
	r, err := rateScript.Run(ctx, l.run, []string{l.prefix + "rate:" + id}, interval, window, l.nowMicros()).Int64Slice()
	if err != nil {
		return limiter.Decision{}, err
	}
	if len(r) != 3 {
		return limiter.Decision{}, errors.New("ginkeyredis: unexpected reply of the rate script")
	}
	d := limiter.Decision{Allowed: r[0] == 1, Limit: limit, Reset: micros(r[1]), RetryAfter: micros(r[2])}
	if d.Allowed {
		d.Remaining = (window - r[1]) / interval
	}
	return d, nil
}

func micros(n int64) time.Duration { return time.Duration(n) * time.Microsecond }

func (l *Limits) failureKey(t limiter.Throttle, addr netip.Addr) string {
	return l.prefix + "fail:" + t.Name + ":" + addr.String()
}

// throttle runs op of the failure script and returns the wait it answers.
func (l *Limits) throttle(ctx context.Context, op string, t limiter.Throttle, addr netip.Addr) (time.Duration, error) {
	if t.Limit <= 0 || t.Per <= 0 {
		return 0, nil
	}
	interval, window := limits.Steps(t.Limit, t.Per.Microseconds())
	ctx, cancel := l.bound(ctx)
	defer cancel()
	wait, err := failureScript.Run(ctx, l.run, []string{l.failureKey(t, addr)}, interval, window, l.nowMicros(), op).Int64()
	return micros(wait), err
}

// Charge implements limiter.FailureCounter.
func (l *Limits) Charge(ctx context.Context, t limiter.Throttle, addr netip.Addr) error {
	_, err := l.throttle(ctx, "charge", t, addr)
	return err
}

// Acquire implements limiter.FailureCounter.
func (l *Limits) Acquire(ctx context.Context, t limiter.Throttle, addr netip.Addr) (time.Duration, error) {
	return l.throttle(ctx, "acquire", t, addr)
}

// Refund implements limiter.FailureCounter.
func (l *Limits) Refund(ctx context.Context, t limiter.Throttle, addr netip.Addr) error {
	_, err := l.throttle(ctx, "refund", t, addr)
	return err
}

// Take implements limiter.QuotaCounter: an atomic check-and-increment of the
// period's count. A count Redis does not have (the period's first request,
// or Redis lost it) is seeded from seed, once: of several instances seeding
// at the same time, the first one's seed wins and the others count on it.
func (l *Limits) Take(ctx context.Context, id string, start, end time.Time, limit int64,
	seed func(context.Context) (int64, error)) (bool, error) {
	key := l.quotaKey(id, start, end)
	expire := strconv.FormatInt(end.Add(quotaGrace).Unix(), 10)
	r, err := l.takeQuota(ctx, key, limit, expire, "")
	if err != nil {
		return false, err
	}
	if r == quotaUnseeded {
		n, err := seed(ctx) // the store's own time, not Redis's
		if err != nil {
			return false, err
		}
		if r, err = l.takeQuota(ctx, key, limit, expire, n); err != nil {
			return false, err
		}
	}
	return r == 1, nil
}

func (l *Limits) quotaKey(id string, start, end time.Time) string {
	return l.prefix + "quota:" + id + ":" + start.UTC().Format(time.DateOnly) + "/" + end.UTC().Format(time.DateOnly)
}

// Raise implements limiter.QuotaRaiser: after an outage, the period's count
// is raised to used (what the usage table holds), so that the requests
// the guard let through while Redis was down count against the quota.
func (l *Limits) Raise(ctx context.Context, id string, start, end time.Time, used int64) error {
	ctx, cancel := l.bound(ctx)
	defer cancel()
	return raiseScript.Run(ctx, l.run, []string{l.quotaKey(id, start, end)}, used).Err()
}

func (l *Limits) takeQuota(ctx context.Context, key string, limit int64, expire string, seed any) (int64, error) {
	ctx, cancel := l.bound(ctx)
	defer cancel()
	return quotaScript.Run(ctx, l.run, []string{key}, limit, expire, seed).Int64()
}

// bound gives one decision the timeout as a whole. The client's own
// timeouts bound each read, write and dial, but not their sum: with a
// Redis that accepts connections and never answers (stopped, not dead),
// go-redis waits out the read timeout once for the handshake of each
// connection it opens, twice per command, and more while it queues for a
// connection; a request that needs two decisions took 800 ms and more with
// a 200 ms timeout. The autopipeliner does not honour a command's deadline
// once it is queued (go-redis says so), so there the deadline would cost
// its allocations for nothing: the guard's breaker leaves that wait to one
// request a second.
func (l *Limits) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if l.timeout <= 0 || l.batched {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, l.timeout)
}
