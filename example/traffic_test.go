package main

// The client side of the crash and load tests: keys the clients made, what
// each answer should be, and counts of what came back.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// A key's state as its clients know it.
const (
	keyActive   int32 = iota
	keyRevoking       // a revoke was sent and not (yet) answered 200
	keyRevoked        // a revoke was answered 200: final
)

type trackedKey struct {
	id, secret string
	state      atomic.Int32
	// expected is the usage the store should hold for the key: what it
	// held when last read back, plus the 200s from /secure since.
	expected atomic.Int64
}

// keyring holds every key a create returned 201 for.
type keyring struct {
	mu   sync.RWMutex
	keys []*trackedKey
}

func (r *keyring) add(k *trackedKey) {
	r.mu.Lock()
	r.keys = append(r.keys, k)
	r.mu.Unlock()
}

func (r *keyring) pick(rng *rand.Rand) *trackedKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.keys) == 0 {
		return nil
	}
	return r.keys[rng.IntN(len(r.keys))]
}

func (r *keyring) all() []*trackedKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]*trackedKey(nil), r.keys...)
}

// The kinds of request the clients make.
const (
	kindCreate = iota
	kindVerify
	kindRevoke
	kindUsageAll
	kindUsageKey
	numKinds
)

var kindNames = [numKinds]string{"create", "verify", "revoke", "usage", "key-usage"}

// traffic sends requests to one example process and counts the answers.
// Transport errors are returned to the caller, which knows whether the
// server was meant to be there; wrong answers are collected as failures.
type traffic struct {
	client    *http.Client
	base      string
	ring      *keyring
	sent      [numKinds]atomic.Int64
	admitted  atomic.Int64 // 200s from /secure
	fiveXX    atomic.Int64
	locked    atomic.Int64 // answers that mention "database is locked"
	throttled atomic.Int64 // 429 too_many_failures, or too_many_lookups (counted as one in metrics)

	mu       sync.Mutex
	failures []string
	failed   int
}

func newTraffic(client *http.Client, base string, ring *keyring) *traffic {
	return &traffic{client: client, base: base, ring: ring}
}

func (tr *traffic) fail(format string, args ...any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.failed++
	if len(tr.failures) < 20 {
		tr.failures = append(tr.failures, fmt.Sprintf(format, args...))
	}
}

// report fails t with the collected failures.
func (tr *traffic) report(t *testing.T) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.failed > 0 {
		t.Errorf("%d unexpected answers; the first:\n%s", tr.failed, strings.Join(tr.failures, "\n"))
	}
}

func (tr *traffic) summary() string {
	var b strings.Builder
	total := int64(0)
	for k := range numKinds {
		n := tr.sent[k].Load()
		total += n
		fmt.Fprintf(&b, "%s=%d ", kindNames[k], n)
	}
	fmt.Fprintf(&b, "total=%d admitted=%d 5xx=%d locked=%d too_many_failures=%d", total, tr.admitted.Load(), tr.fiveXX.Load(), tr.locked.Load(), tr.throttled.Load())
	return b.String()
}

func (tr *traffic) total() int64 {
	n := int64(0)
	for k := range numKinds {
		n += tr.sent[k].Load()
	}
	return n
}

// do sends one request and checks what every answer must satisfy.
func (tr *traffic) do(kind int, method, path, header, value, body string) (int, []byte, error) {
	tr.sent[kind].Add(1)
	status, b, err := call(tr.client, method, tr.base+path, header, value, body)
	if err != nil {
		return 0, nil, err
	}
	if bytes.Contains(bytes.ToLower(b), []byte("database is locked")) {
		tr.locked.Add(1)
		tr.fail("%s %s: %d mentions a locked database: %s", method, path, status, b)
	}
	if status >= 500 {
		tr.fiveXX.Add(1)
		tr.fail("%s %s: %d %s", method, path, status, b)
	}
	return status, b, nil
}

// create makes a key and adds it to the ring.
func (tr *traffic) create() error {
	status, b, err := tr.do(kindCreate, http.MethodPost, "/auth/keys", "X-Admin-Secret", testSecret, `{"name":"load"}`)
	if err != nil || status >= 500 {
		return err
	}
	var k struct{ ID, Key string }
	if status != http.StatusCreated || json.Unmarshal(b, &k) != nil || k.ID == "" || k.Key == "" {
		tr.fail("POST /auth/keys: %d %s", status, b)
		return nil
	}
	tr.ring.add(&trackedKey{id: k.ID, secret: k.Key})
	return nil
}

// revoke revokes a random active key.
func (tr *traffic) revoke(rng *rand.Rand) error {
	k := tr.ring.pick(rng)
	if k == nil || !k.state.CompareAndSwap(keyActive, keyRevoking) {
		return nil
	}
	status, b, err := tr.do(kindRevoke, http.MethodPost, "/auth/keys/"+k.id+"/revoke", "X-Admin-Secret", testSecret, "")
	if err != nil {
		return err // the key stays keyRevoking: its fate is unknown
	}
	if status != http.StatusOK {
		tr.fail("POST /auth/keys/%s/revoke: %d %s", k.id, status, b)
		return nil
	}
	k.state.Store(keyRevoked)
	return nil
}

// verify calls GET /secure with k and checks the answer against what the
// clients know of k. A key being revoked may answer either way; an answer
// settles its state only when settle is set (no revoke is in flight).
func (tr *traffic) verify(k *trackedKey, settle bool) (admitted bool, err error) {
	before := k.state.Load()
	status, b, err := tr.do(kindVerify, http.MethodGet, "/secure", "X-API-Key", k.secret, "")
	if err != nil {
		return false, err
	}
	code := errorCode(b)
	switch {
	case status == http.StatusOK:
		k.expected.Add(1)
		tr.admitted.Add(1)
		if before == keyRevoked {
			tr.fail("GET /secure with key %s revoked before the call: 200", k.id)
		}
		if settle && before == keyRevoking {
			k.state.Store(keyActive)
		}
		return true, nil
	case status == http.StatusUnauthorized && code == "key_revoked":
		if before == keyActive && k.state.Load() == keyActive {
			tr.fail("GET /secure with active key %s: 401 key_revoked", k.id)
		}
		if settle && before == keyRevoking {
			k.state.Store(keyRevoked)
		}
	case status == http.StatusTooManyRequests && (code == "too_many_failures" || code == "too_many_lookups"):
		// The load's clients share one address: more than half of
		// MaxLookups first-time keys at once may be refused for a second.
		tr.throttled.Add(1)
	default:
		tr.fail("GET /secure with key %s (state %d): %d %s", k.id, before, status, b)
	}
	return false, nil
}

// keyUsage reads one key's stored total.
func (tr *traffic) keyUsage(k *trackedKey) (int64, error) {
	status, b, err := tr.do(kindUsageKey, http.MethodGet, "/auth/keys/"+k.id+"/usage", "X-Admin-Secret", testSecret, "")
	if err != nil {
		return 0, err
	}
	var u struct {
		TotalRequests int64 `json:"total_requests"`
	}
	if status != http.StatusOK || json.Unmarshal(b, &u) != nil {
		tr.fail("GET /auth/keys/%s/usage: %d %s", k.id, status, b)
	}
	return u.TotalRequests, nil
}

// usageAll reads the first page of GET /auth/usage.
func (tr *traffic) usageAll() error {
	status, b, err := tr.do(kindUsageAll, http.MethodGet, "/auth/usage", "X-Admin-Secret", testSecret, "")
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		tr.fail("GET /auth/usage: %d %s", status, b)
	}
	return nil
}
