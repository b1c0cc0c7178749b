package ginkey

import "fmt"

// newKey is a key just generated: its id, plaintext, display prefix and
// hash.
type newKey struct {
	id, secret, prefix string
	hash               keyHash
}

// generateKey makes a new key for CreateKey and RotateKey.
func (g *Guard) generateKey() (newKey, error) {
	plaintext, display, err := g.format.generate()
	if err != nil {
		return newKey{}, fmt.Errorf("ginkey: generate key: %w", err)
	}
	id, err := randomBase62(22)
	if err != nil {
		return newKey{}, fmt.Errorf("ginkey: generate key id: %w", err)
	}
	return newKey{id: id, secret: plaintext, prefix: display, hash: hashKey(plaintext)}, nil
}
