package ginkey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"unsafe"
)

// A key reads <prefix>_<body><checksum>:
//
//	gk_3xQ9...(43 base62 characters, 256 bits from crypto/rand)...Ab12Cd
//
// The last six characters are the base62 CRC32 of the body, so a mistyped or
// made-up key is rejected before any lookup and secret scanners can match the
// shape with a regular expression.
const (
	bodyLen       = 43 // 43 base62 characters carry 256.03 bits
	checksumLen   = 6  // 62^6 > 2^32
	displayLen    = 5  // body characters kept in the display prefix
	maxPrefixLen  = 16
	base62        = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	defaultPrefix = "gk"
)

// keyFormat holds what is fixed for one guard: the prefix and the lengths
// derived from it.
type keyFormat struct {
	prefix string // e.g. "gk"
	total  int    // len(prefix) + 1 + bodyLen + checksumLen
}

func newKeyFormat(prefix string) (keyFormat, error) {
	if prefix == "" {
		prefix = defaultPrefix
	}
	if len(prefix) > maxPrefixLen {
		return keyFormat{}, errors.New("ginkey: KeyPrefix longer than 16 characters")
	}
	for i := 0; i < len(prefix); i++ {
		ch := prefix[i]
		if (ch < 'a' || ch > 'z') && (ch < '0' || ch > '9' || i == 0) {
			return keyFormat{}, errors.New("ginkey: KeyPrefix must be lower-case letters and digits, starting with a letter")
		}
	}
	return keyFormat{prefix: prefix, total: len(prefix) + 1 + bodyLen + checksumLen}, nil
}

// valid reports whether s has this guard's key shape and a correct checksum.
// It does no I/O and does not allocate.
func (f keyFormat) valid(s string) bool {
	if len(s) != f.total || s[:len(f.prefix)] != f.prefix || s[len(f.prefix)] != '_' {
		return false
	}
	rest := s[len(f.prefix)+1:]
	for i := 0; i < len(rest); i++ {
		if base62Digit[rest[i]] < 0 {
			return false
		}
	}
	body, sum := rest[:bodyLen], rest[bodyLen:]
	return checksumMatches(body, sum)
}

// generate returns a new random key and the display prefix that identifies it
// in listings.
func (f keyFormat) generate() (key, display string, err error) {
	body, err := randomBase62(bodyLen)
	if err != nil {
		return "", "", err
	}
	var sum [checksumLen]byte
	encodeChecksum(&sum, crc32.ChecksumIEEE([]byte(body)))
	key = f.prefix + "_" + body + string(sum[:])
	return key, f.prefix + "_" + body[:displayLen], nil
}

// randomBase62 draws n uniform base62 characters from crypto/rand by
// rejection sampling (bytes >= 248 are dropped so that no character is more
// likely than another).
func randomBase62(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b >= 248 {
				continue
			}
			out = append(out, base62[b%62])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

// base62Digit maps a byte to its base62 value, -1 outside the alphabet.
var base62Digit = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base62); i++ {
		t[base62[i]] = int8(i) //nolint:gosec // i < 62
	}
	return t
}()

func encodeChecksum(dst *[checksumLen]byte, v uint32) {
	n := uint64(v)
	for i := checksumLen - 1; i >= 0; i-- {
		dst[i] = base62[n%62]
		n /= 62
	}
}

// checksumMatches decodes sum rather than encoding the body's CRC: the
// same test (encoding is one-to-one below 62^6) for fewer divisions. sum is
// known to be base62.
func checksumMatches(body, sum string) bool {
	var got uint64
	for i := 0; i < len(sum); i++ {
		got = got*62 + uint64(base62Digit[sum[i]]) //nolint:gosec // a base62 digit, never negative here
	}
	return got == uint64(crc32.ChecksumIEEE(stringBytes(body)))
}

// keyHash is the SHA-256 of the whole key: the only form in which a key is
// stored or cached.
type keyHash [sha256.Size]byte

func hashKey(key string) keyHash {
	return sha256.Sum256(stringBytes(key))
}

func (h keyHash) String() string { return hex.EncodeToString(h[:]) }

// stringBytes views s as bytes without copying. The callers only read.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s)) //nolint:gosec // read-only view, never written
}
