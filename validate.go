package ginkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
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

// decodeBody reads an optional JSON object into dst, a pointer to one of the
// admin request types. An empty body leaves dst at its zero value. Bodies over
// the limit are errPayloadTooLarge; anything else wrong is a bad_request
// naming the field and the rule (see decodeJSON).
func (g *Guard) decodeBody(c *gin.Context, dst any) *Error {
	if c.Request.ContentLength > g.admin.maxBody {
		return errPayloadTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, g.admin.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errPayloadTooLarge
		}
		return badRequest("the body could not be read")
	}
	if len(bytes.Trim(body, " \t\r\n")) == 0 { // JSON's whitespace only
		return nil
	}
	return decodeJSON(body, dst)
}

// decodeJSON decodes the one JSON object in b into dst, a pointer to a
// struct. Field names must equal the json tags exactly, at every depth:
// encoding/json alone would also take "Rate_Limit" or "QUOTA", and a type
// that notes which fields were present (patchKeyRequest) would disagree with
// it about what the body said.
func decodeJSON(b []byte, dst any) *Error {
	root := reflect.TypeOf(dst).Elem()
	if _, checksItself := dst.(json.Unmarshaler); !checksItself { // else its UnmarshalJSON calls decodeJSON
		if e := exactFields(b, root, ""); e != nil {
			return e
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, root)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("the body must hold exactly one JSON object")
	}
	return nil
}

// exactFields refuses the first name (in sorted order, so the answer is
// stable) of the JSON object b that is not a json tag of the struct type t,
// and recurses into the objects given for nested struct fields. What is not
// an object of a struct type is left to the decoder, which reports syntax and
// type errors with the field's path.
func exactFields(b []byte, t reflect.Type, path string) *Error {
	t = deref(t)
	if t.Kind() != reflect.Struct {
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		f, ok := jsonField(t, name)
		if !ok {
			return badRequest(fmt.Sprintf("unknown field %.100q", path+name)) // a bounded echo of what the client sent
		}
		if e := exactFields(obj[name], f.Type, path+name+"."); e != nil {
			return e
		}
	}
	return nil
}

// jsonField finds the field of struct type t whose JSON name is exactly name.
func jsonField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "" {
			tag = f.Name
		}
		if tag == name && tag != "-" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func decodeError(err error, root reflect.Type) *Error {
	var (
		own     *Error // from a field's own UnmarshalJSON (Metadata, patchKeyRequest)
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &own):
		return own
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return badRequest("the body must be a JSON object")
		}
		return badField(typeErr.Field, "must be "+fieldRule(root, typeErr.Field, typeErr.Type))
	}
	return badRequest("the body is not valid JSON")
}

// fieldRule says what the field at path must hold. encoding/json names a
// field by its path without indexes ("rate_limit.requests"; "scopes" for an
// element of scopes) and reports the element's type, so the rule is read from
// the field's declared type, not from the error.
func fieldRule(root reflect.Type, path string, reported reflect.Type) string {
	switch path { // a number JSON cannot put in an int64 (1e3, 1e400, 2.5)
	case "rate_limit.requests":
		return "an integer from 1 to " + strconv.Itoa(maxRateRequests)
	case "quota.requests":
		return "an integer from 1 to " + strconv.FormatInt(maxQuotaRequests, 10)
	}
	t := root
	for _, name := range strings.Split(path, ".") {
		f, ok := reflect.StructField{}, false
		if t = deref(t); t.Kind() == reflect.Struct {
			f, ok = jsonField(t, name)
		}
		if !ok {
			return typeRule(deref(reported))
		}
		t = f.Type
	}
	return typeRule(deref(t))
}

func typeRule(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.String {
			return "an array of strings"
		}
		return "an array"
	}
	return "an object"
}

// expiry turns the requested expiry into an expiry time (nil: never).
// Neither given: now + TTL.
func (g *Guard) expiry(at *time.Time, never bool, now time.Time) (*time.Time, *Error) {
	switch {
	case at != nil && never:
		return nil, badRequest("give expires_at or never_expires, not both")
	case never:
		return nil, nil
	case at != nil:
		if !at.After(now) {
			return nil, badField("expires_at", "must be in the future")
		}
		t := at.UTC().Truncate(time.Microsecond)
		if t.Year() > 9999 { // past what JSON, SQLite and MySQL can carry
			return nil, badField("expires_at", "must be before the year 10000 (UTC)")
		}
		return &t, nil
	case g.ttl < 0:
		return nil, nil
	}
	t := now.Add(g.ttl)
	return &t, nil
}

// checkMetadata measures metadata as JSON, unescaped ("<" is one byte, as a
// client would send it), and returns it as it will read back from the
// store: a copy, numbers as json.Number. It is the one check, whichever way
// the metadata came in.
func checkMetadata(m map[string]any) (map[string]any, *Error) {
	if m == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<" is one byte, as a client would send it
	if enc.Encode(m) != nil {
		return nil, errMetadata
	}
	return decodeMetadata(buf.Bytes())
}

// validateLimits checks the abuse-control fields of a create or update and
// returns the allow-list in canonical form.
func validateLimits(rl *RateLimit, ips []string, q *Quota) ([]string, *Error) {
	if e := validateRateLimit(rl); e != nil {
		return nil, e
	}
	if e := validateQuota(q); e != nil {
		return nil, e
	}
	canon, _, e := parseAllowedIPs(ips)
	return canon, e
}

// intRange is a count a caller gives: its name, default and bounds.
type intRange struct {
	name        string
	def, lo, hi int
}

var (
	limitRange  = intRange{"limit", 50, 1, 500}
	offsetRange = intRange{"offset", 0, 0, 1 << 30}
	daysRange   = intRange{"days", 30, 1, 366}
)

// fromQuery is the count a query parameter's text asks the Go API for:
// none ("") is 0, the API's default. The API reads 0 as its default, so a 0
// written where the default is not 0 (limit=0), like text that is not an
// integer, asks for one past r's maximum: value refuses it as it refuses
// any count out of range.
func (r intRange) fromQuery(text string) int {
	if text == "" {
		return 0
	}
	n, err := strconv.Atoi(text)
	if err != nil || (n == 0 && r.def != 0) {
		return r.hi + 1
	}
	return n
}

// value returns n, or the default for 0, or the error naming r.
func (r intRange) value(n int) (int, *Error) {
	if n == 0 {
		return r.def, nil
	}
	if n < r.lo || n > r.hi {
		return 0, badField(r.name, "must be an integer from "+strconv.Itoa(r.lo)+" to "+strconv.Itoa(r.hi))
	}
	return n, nil
}

// validateName allows letters, marks, numbers, punctuation, symbols and the
// ASCII space: no control, format (bidi overrides, zero-width) or other
// invisible characters that would make two names look alike.
func validateName(name string) *Error { return validateText("name", name) }

// validateOwner holds an owner to a name's rules.
func validateOwner(owner string) *Error { return validateText("owner", owner) }

func validateText(field, s string) *Error {
	if !utf8.ValidString(s) {
		return badField(field, "must be valid UTF-8")
	}
	// Characters, not bytes: what the OpenAPI maxLength and the size:200
	// columns of PostgreSQL and MySQL count, so "é" costs one, as a user expects.
	if utf8.RuneCountInString(s) > maxNameLen {
		return badField(field, "must be at most 200 characters")
	}
	if i := strings.IndexFunc(s, notNameRune); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return badField(field, fmt.Sprintf("must not contain %U: only letters, marks, numbers, punctuation, symbols and the ASCII space are allowed", r))
	}
	return nil
}

func notNameRune(r rune) bool {
	return r != ' ' && (!unicode.IsGraphic(r) || unicode.Is(unicode.Zs, r))
}

// validateScopes checks scope names (letters, digits and : . _ - / *) and
// drops duplicates, keeping order.
func validateScopes(scopes []string) ([]string, *Error) {
	if len(scopes) > maxScopes {
		return nil, badField("scopes", "must hold at most 64 entries")
	}
	out := make([]string, 0, len(scopes))
	seen := make(map[string]bool, len(scopes))
	for _, s := range scopes {
		if !validScope(s) {
			return nil, badField("scopes", "entries must be "+scopeRule)
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

// decodeMetadata checks the JSON encoding of metadata, compacted, against
// the limit. Numbers stay exactly as written (json.Number): as float64,
// 12345678901234567890 would come back as 12345678901234567000.
func decodeMetadata(raw []byte) (map[string]any, *Error) {
	var compact bytes.Buffer
	var m map[string]any
	if json.Compact(&compact, raw) != nil || compact.Len() > maxMetadataSize || unmarshalExact(compact.Bytes(), &m) != nil {
		return nil, errMetadata
	}
	return m, nil
}

var errMetadata = badField("metadata", "must be a JSON object of at most 4096 bytes")

// unmarshalExact is json.Unmarshal keeping numbers as json.Number, so that
// metadata reads back from the store exactly as it was written.
func unmarshalExact(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(dst)
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if base62Digit[s[i]] < 0 {
			return false
		}
	}
	return true
}
