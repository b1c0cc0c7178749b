package ginkey

import (
	"hash/crc32"
	"regexp"
	"strings"
	"testing"
)

func TestGeneratedKeysHaveTheDocumentedShape(t *testing.T) {
	t.Parallel()
	f, err := newKeyFormat("")
	if err != nil {
		t.Fatal(err)
	}
	shape := regexp.MustCompile(`^gk_[0-9A-Za-z]{49}$`)
	seen := map[string]bool{}
	counts := map[byte]int{}
	const keys = 10_000
	for range keys {
		key, display, err := f.generate()
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(key) || !f.valid(key) {
			t.Fatalf("bad key %q", key)
		}
		if display != key[:8] {
			t.Fatalf("display %q is not the key's first 8 characters", display)
		}
		if seen[key] {
			t.Fatal("duplicate key")
		}
		seen[key] = true
		for i := 3; i < 3+bodyLen; i++ {
			counts[key[i]]++
		}
	}
	// 10,000*43 draws over 62 symbols: 6,935.5 each, standard deviation
	// 82.6; the bounds are six of them either side. A sampler without the
	// rejection step (byte % 62) draws the first eight symbols about 8,400
	// times each.
	for ch, n := range counts {
		if n < 6440 || n > 7431 {
			t.Fatalf("symbol %q drawn %d times of %d: not uniform", ch, n, keys*bodyLen)
		}
	}
	if len(counts) != 62 {
		t.Fatalf("%d distinct symbols, want 62", len(counts))
	}
}

func TestEverySingleCharacterChangeIsRejectedOffline(t *testing.T) {
	t.Parallel()
	f, _ := newKeyFormat("gk")
	key, _, err := f.generate()
	if err != nil {
		t.Fatal(err)
	}
	for i := 3; i < len(key); i++ {
		for _, ch := range []byte("0aZ") {
			if key[i] == ch {
				continue
			}
			mutated := key[:i] + string(ch) + key[i+1:]
			if f.valid(mutated) {
				// CRC32 catches every single-character change in the body.
				t.Fatalf("mutation at %d accepted: %s", i, mutated)
			}
		}
	}
}

func TestKeyPrefixIsPartOfTheFormat(t *testing.T) {
	t.Parallel()
	a, _ := newKeyFormat("acme")
	b, _ := newKeyFormat("gk")
	key, display, err := a.generate()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "acme_") || !strings.HasPrefix(display, "acme_") || !a.valid(key) || b.valid(key) {
		t.Fatalf("prefix not enforced: %s", key)
	}
	for _, bad := range []string{"Gk", "1gk", "g-k", strings.Repeat("a", 17)} {
		if _, err := newKeyFormat(bad); err == nil {
			t.Fatalf("prefix %q accepted", bad)
		}
	}
}

func TestValidationDoesNotAllocate(t *testing.T) {
	f, _ := newKeyFormat("gk")
	key, _, _ := f.generate()
	bad := key[:len(key)-1] + "0"
	if n := testing.AllocsPerRun(100, func() { f.valid(key); f.valid(bad); hashKey(key) }); n != 0 {
		t.Fatalf("valid+hash allocate %v times", n)
	}
}

func FuzzKeyValid(f *testing.F) {
	kf, _ := newKeyFormat("gk")
	key, _, _ := kf.generate()
	f.Add(key)
	f.Add("gk_")
	f.Add("")
	f.Add(strings.Repeat("z", 52))
	f.Fuzz(func(t *testing.T, s string) {
		ok := kf.valid(s)
		if ok && (len(s) != kf.total || !strings.HasPrefix(s, "gk_")) {
			t.Fatalf("accepted %q", s)
		}
		if ok {
			var sum [checksumLen]byte
			body := s[3 : 3+bodyLen]
			encodeChecksum(&sum, crc32IEEE(body))
			if string(sum[:]) != s[3+bodyLen:] {
				t.Fatalf("accepted a wrong checksum: %q", s)
			}
		}
	})
}

func FuzzBearerToken(f *testing.F) {
	f.Add("Bearer abc")
	f.Add("bearer   ")
	f.Add("Basic x")
	f.Fuzz(func(t *testing.T, h string) {
		tok := bearerToken(h)
		if tok != "" && (!strings.EqualFold(h[:7], "bearer ") || strings.TrimSpace(tok) != tok) {
			t.Fatalf("bearerToken(%q) = %q", h, tok)
		}
	})
}

func crc32IEEE(s string) uint32 { return crc32.ChecksumIEEE([]byte(s)) }

// validReference is the key check written for clarity, not speed: valid must
// agree with it both ways, since valid decodes the checksum instead of
// encoding the CRC.
func validReference(f keyFormat, s string) bool {
	rest, ok := strings.CutPrefix(s, f.prefix+"_")
	if !ok || len(rest) != bodyLen+checksumLen {
		return false
	}
	for _, r := range rest {
		if !strings.ContainsRune(base62, r) {
			return false
		}
	}
	var sum [checksumLen]byte
	encodeChecksum(&sum, crc32IEEE(rest[:bodyLen]))
	return string(sum[:]) == rest[bodyLen:]
}

func FuzzKeyValidMatchesReference(f *testing.F) {
	kf, err := newKeyFormat("")
	if err != nil {
		f.Fatal(err)
	}
	for range 4 {
		key, _, err := kf.generate()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(key)
		f.Add(key[:len(key)-1] + "0")
		f.Add(strings.ToUpper(key))
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := kf.valid(s), validReference(kf, s); got != want {
			t.Fatalf("valid(%q) = %v, reference says %v", s, got, want)
		}
	})
}
