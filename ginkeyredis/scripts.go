package ginkeyredis

import "github.com/redis/go-redis/v9"

// The scripts run with EVALSHA, falling back to EVAL the first time a
// Redis has not seen them (go-redis's Script.Run). Times are microseconds:
// Lua numbers are doubles, exact up to 2^53, which unix nanoseconds exceed.
// A time of 0 in ARGV means Redis's own clock (TIME), one for every
// instance. Numbers are written back with %.0f: Lua's tostring would round
// them to 14 digits.

// rateScript is one GCRA decision, as ginkey's MemoryLimiter makes it: it
// mirrors limits.Cell.Allow (internal/limits/gcra.go), in microseconds.
//
// KEYS[1]: the key's theoretical arrival time (TAT).
// ARGV: interval (the time one request occupies), window (interval*limit), now.
// Reply: {allowed (1 or 0), reset, retry after}.
var rateScript = redis.NewScript(`
local interval, window, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
-- No request at this rate leaves more than a window of debt: the limit was
-- raised or a clock stepped back. Keep at most a window.
tat = math.min(math.max(tat, now), now + window)
local nxt = tat + interval
if nxt - now > window then
  return {0, tat - now, nxt - window - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000))
return {1, nxt - now, 0}
`)

// failureScript is one operation of a failure throttle, as ginkey's
// in-memory throttle does it (it mirrors limits.Failures in
// internal/limits/throttle.go): "charge" (count, past the allowance if
// need be), "acquire" (count if allowed), "refund" (give back one).
//
// KEYS[1]: the address's TAT.
// ARGV: interval, window, now, operation.
// Reply: the wait until one more attempt is allowed; 0 when it is now.
var failureScript = redis.NewScript(`
local interval, window, now, op = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
if op == 'refund' then
  if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('DECRBY', KEYS[1], interval)
  end
  return 0
end
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local nxt = math.max(tat, now) + interval
local wait = nxt - window - now
if op == 'acquire' and wait > 0 then
  return wait
end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000))
return 0
`)

// quotaUnseeded is quotaScript's reply when the period has no count and no
// seed was given.
const quotaUnseeded = -1

// quotaScript spends one request of a quota if one is left.
//
// KEYS[1]: the period's count.
// ARGV: limit, expiry (unix seconds), seed ("" when not read yet).
// Reply: 1 taken, 0 refused (not counted), quotaUnseeded.
var quotaScript = redis.NewScript(`
local n = redis.call('GET', KEYS[1])
if not n then
  if ARGV[3] == '' then
    return -1
  end
  n = ARGV[3]
  redis.call('SET', KEYS[1], n)
  redis.call('EXPIREAT', KEYS[1], ARGV[2])
end
if tonumber(n) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('INCR', KEYS[1])
return 1
`)

// raiseScript raises a period's count to at least a number, keeping its
// expiry; a period without a count is left alone (quotaScript seeds it).
//
// KEYS[1]: the period's count.
// ARGV: the number.
// Reply: 0.
var raiseScript = redis.NewScript(`
local n = redis.call('GET', KEYS[1])
if n and tonumber(n) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
end
return 0
`)
