package ginkey

import (
	"hash/crc32"
	"strings"
	"testing"
)

// FuzzKeyFormat checks the key format from both ends. From the fuzzer's
// prefix it builds a format (or checks that newKeyFormat rightly refused
// it); from its bytes it builds a key the way generate does, which must be
// valid, and which every one-character change must make invalid (a CRC32
// catches every single-byte error, and the checksum's base62 digits decode
// one-to-one). Whatever s is, valid(s) must imply the documented shape.
func FuzzKeyFormat(f *testing.F) {
	f.Fuzz(func(t *testing.T, prefix string, seed []byte, s string, pos uint16, repl byte) {
		kf, err := newKeyFormat(prefix)
		if wellFormedPrefix(prefix) != (err == nil) {
			t.Fatalf("newKeyFormat(%q): err = %v", prefix, err)
		}
		if err != nil {
			return
		}

		if kf.valid(s) {
			assertKeyShape(t, kf, s)
		}

		key := keyFromSeed(kf, seed)
		if !kf.valid(key) {
			t.Fatalf("a well-built key is rejected: %q", key)
		}
		assertKeyShape(t, kf, key)

		i := int(pos) % len(key)
		if repl == key[i] {
			return
		}
		mutated := key[:i] + string([]byte{repl}) + key[i+1:]
		if kf.valid(mutated) {
			t.Fatalf("changing byte %d of %q to %q is not detected", i, key, repl)
		}

		// generate draws from crypto/rand, so only its invariants are
		// reproducible: check them on a few rounds, not on every input.
		if pos%64 == 0 {
			gen, display, err := kf.generate()
			if err != nil {
				t.Fatal(err)
			}
			if !kf.valid(gen) || display != gen[:len(kf.prefix)+1+displayLen] {
				t.Fatalf("generate() = %q, %q", gen, display)
			}
			assertKeyShape(t, kf, gen)
		}
	})
}

// wellFormedPrefix is newKeyFormat's rule written out: empty (the default),
// or 1-16 characters of a-z and 0-9 starting with a letter.
func wellFormedPrefix(p string) bool {
	if p == "" {
		return true
	}
	if len(p) > maxPrefixLen || p[0] < 'a' || p[0] > 'z' {
		return false
	}
	return strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789") == ""
}

// keyFromSeed maps arbitrary bytes onto a body and appends the body's
// checksum, as generate does with random bytes.
func keyFromSeed(kf keyFormat, seed []byte) string {
	body := make([]byte, bodyLen)
	for i := range body {
		var b byte
		if len(seed) > 0 {
			b = seed[i%len(seed)] + byte(i/len(seed)) //nolint:gosec // i < bodyLen
		}
		body[i] = base62[int(b)%len(base62)]
	}
	var sum [checksumLen]byte
	encodeChecksum(&sum, crc32.ChecksumIEEE(body))
	return kf.prefix + "_" + string(body) + string(sum[:])
}

// assertKeyShape fails unless key reads prefix, "_", 43 base62 characters
// and the six base62 characters of their CRC32.
func assertKeyShape(t *testing.T, kf keyFormat, key string) {
	t.Helper()
	rest, ok := strings.CutPrefix(key, kf.prefix+"_")
	if !ok || len(key) != kf.total || len(rest) != bodyLen+checksumLen {
		t.Fatalf("%q does not have the shape %s_<%d characters>", key, kf.prefix, bodyLen+checksumLen)
	}
	if strings.Trim(rest, base62) != "" {
		t.Fatalf("%q has a character outside base62", key)
	}
	var sum [checksumLen]byte
	encodeChecksum(&sum, crc32.ChecksumIEEE([]byte(rest[:bodyLen])))
	if string(sum[:]) != rest[bodyLen:] {
		t.Fatalf("%q: checksum %q, want %q", key, rest[bodyLen:], sum[:])
	}
}
