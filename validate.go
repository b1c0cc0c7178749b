package ginkey

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

const (
	maxNameLen      = 200
	maxScopes       = 64
	maxScopeLen     = 128
	maxMetadataSize = 4096
)

// decodeBody reads an optional JSON object into dst. An empty body leaves dst
// at its zero value. Unknown fields, wrong types, trailing data and bodies
// over the limit are client errors whose message names the problem.
func (g *Guard) decodeBody(c *gin.Context, dst any) *Error {
	if c.Request.ContentLength > g.maxBody {
		return ErrPayloadTooLarge
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, g.maxBody)
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return ErrPayloadTooLarge
		}
		return BadRequest("the body must hold exactly one JSON object")
	}
	return nil
}

func decodeError(err error) *Error {
	var (
		tooLarge  *http.MaxBytesError
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case errors.As(err, &tooLarge):
		return ErrPayloadTooLarge
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return BadRequest("the body must be a JSON object")
		}
		return BadRequest("field " + typeErr.Field + " must be " + jsonTypeName(typeErr.Type.Kind().String()))
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("the body is not valid JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return BadRequest("unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return BadRequest("the body is not valid JSON")
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "ptr":
		return "a string"
	}
	return "a number"
}

// expiryFrom turns the request's expiry fields into an expiry time (nil:
// never). Neither field: now + TTL.
func (g *Guard) expiryFrom(expiresAt *string, never bool, now time.Time) (*time.Time, *Error) {
	switch {
	case expiresAt != nil && never:
		return nil, BadRequest("give expires_at or never_expires, not both")
	case never:
		return nil, nil
	case expiresAt != nil:
		t, err := time.Parse(time.RFC3339Nano, *expiresAt)
		if err != nil {
			return nil, BadRequest("expires_at must be an RFC 3339 time, e.g. 2030-01-02T15:04:05Z")
		}
		if !t.After(now) {
			return nil, BadRequest("expires_at must be in the future")
		}
		t = t.UTC().Truncate(time.Microsecond)
		if t.Year() > 9999 { // past what JSON, SQLite and MySQL can carry
			return nil, BadRequest("expires_at must be before the year 10000 (UTC)")
		}
		return &t, nil
	case g.ttl < 0:
		return nil, nil
	}
	t := now.Add(g.ttl)
	return &t, nil
}

func validateName(name string) *Error {
	if len(name) > maxNameLen {
		return BadRequest("name must be at most 200 bytes")
	}
	if !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return BadRequest("name must be printable UTF-8")
	}
	return nil
}

// validateScopes checks scope names (letters, digits and : . _ - / *) and
// drops duplicates, keeping order.
func validateScopes(scopes []string) ([]string, *Error) {
	if len(scopes) > maxScopes {
		return nil, BadRequest("scopes must hold at most 64 entries")
	}
	out := make([]string, 0, len(scopes))
	seen := make(map[string]bool, len(scopes))
	for _, s := range scopes {
		if s == "" || len(s) > maxScopeLen || strings.IndexFunc(s, notScopeRune) >= 0 {
			return nil, BadRequest("scopes entries must be 1-128 characters of letters, digits and : . _ - / *")
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}

func notScopeRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune(":._-/*", r)
}

func validateMetadata(m map[string]any) *Error {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil || len(b) > maxMetadataSize {
		return BadRequest("metadata must be a JSON object of at most 4096 bytes")
	}
	return nil
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if base62Digit[s[i]] < 0 {
			return false
		}
	}
	return true
}
