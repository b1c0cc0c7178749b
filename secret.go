package ginkey

import (
	"crypto/sha256"
	"crypto/subtle"
)

// hashedMatch returns the index of the entry of hashes that given's SHA-256
// equals, or -1: the one compare of a secret the client sends (the admin
// secret, a Basic password) with those configured. Both sides are hashed, so
// given's length leaks nothing, and every entry is compared in constant
// time, so which one matched, if any, leaks nothing either.
func hashedMatch(given string, hashes [][sha256.Size]byte) int {
	h := sha256.Sum256([]byte(given))
	match := -1
	for i := range hashes {
		match = subtle.ConstantTimeSelect(subtle.ConstantTimeCompare(h[:], hashes[i][:]), i, match)
	}
	return match
}
