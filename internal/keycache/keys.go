package keycache

// unknownShare sizes the table of unknown keys: a quarter of the cache (at
// least one set).
const unknownShare = 4

// Keys is a guard's memory of keys: the verified ones' records, the tags
// of unknown ones, and the reads in flight. Verified and Unknown are nil
// when caching is off; Flights always works.
type Keys[V any] struct {
	Verified *Cache[V]
	Unknown  *Unknown
	Flights  Flights[V]
}

// Init sizes k for size verified keys (and a quarter as many unknown ones,
// at least one set), each remembered for ttlNanos. Size 0 turns caching
// off.
func (k *Keys[V]) Init(size int, ttlNanos int64) {
	if size <= 0 {
		return
	}
	k.Verified = NewCache[V](size, ttlNanos)
	k.Unknown = NewUnknown(max(Ways, size/unknownShare), ttlNanos)
}

// Drop forgets h's record and voids its reads in flight: the key changed.
func (k *Keys[V]) Drop(h *Hash) {
	k.Flights.Forget(h)
	if k.Verified != nil {
		k.Verified.Invalidate(h)
	}
}

// ExpireAll makes every cached record stale as of now and voids every read
// in flight: changes may have been missed. Each key is read again at its
// next request.
func (k *Keys[V]) ExpireAll(now int64) {
	k.Flights.ForgetAll()
	if k.Verified != nil {
		k.Verified.ExpireAll(now)
	}
}
