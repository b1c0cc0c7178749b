package console

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/envconfig"
)

// keyForm is the create and edit forms' fields, as typed.
type keyForm struct {
	ID, Name, Owner, Scopes, TTL, AllowedIPs, Metadata string
	RateRequests, RatePer, QuotaRequests, QuotaPer     string
	Version                                            string // the edit form's: version of the key it was shown for
	Edit                                               bool
	Allowed                                            string // an owner's: the policy's scopes
}

// formOf reads the form's fields from c's POST body.
func formOf(c *gin.Context) keyForm {
	return keyForm{
		Name: c.PostForm("name"), Owner: c.PostForm("owner"), Scopes: c.PostForm("scopes"),
		TTL: c.PostForm("ttl"), AllowedIPs: c.PostForm("allowed_ips"), Metadata: c.PostForm("metadata"),
		RateRequests: c.PostForm("rate_requests"), RatePer: c.PostForm("rate_per"),
		QuotaRequests: c.PostForm("quota_requests"), QuotaPer: c.PostForm("quota_per"),
		Version: c.PostForm("version"),
	}
}

// version is a digest of the edit form's fields as formFromKey fills them
// for a key: equal versions, equal editable fields. The edit form carries
// the version of the key it was shown for, so that saving it cannot undo
// a change made to the key since (see edit).
func (f keyForm) version() string {
	h := sha256.New()
	for _, v := range []string{f.Name, f.Owner, f.Scopes, f.AllowedIPs, f.Metadata, f.RateRequests, f.RatePer, f.QuotaRequests, f.QuotaPer} {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// formFromKey is the edit form of k.
func formFromKey(k ginkey.Key) keyForm {
	f := keyForm{ID: k.ID, Name: k.Name, Owner: k.Owner, Scopes: strings.Join(k.Scopes, " "),
		AllowedIPs: strings.Join(k.AllowedIPs, " "), Edit: true}
	if k.RateLimit != nil {
		f.RateRequests, f.RatePer = strconv.FormatInt(k.RateLimit.Requests, 10), string(k.RateLimit.Per)
	}
	if k.Quota != nil {
		f.QuotaRequests, f.QuotaPer = strconv.FormatInt(k.Quota.Requests, 10), string(k.Quota.Per)
	}
	if len(k.Metadata) > 0 {
		if b, err := json.MarshalIndent(k.Metadata, "", "  "); err == nil {
			f.Metadata = string(b)
		}
	}
	return f
}

// formError is a field the form could not turn into the API's types; its
// message names the field, as the API's do.
func formError(field, rule string) error {
	return ginkey.NewError(http.StatusBadRequest, "bad_request", field+" "+rule)
}

// words splits a space- or comma-separated field; an empty field is nil,
// which the API reads as "not given" (an owner's key then gets all of the
// policy's scopes).
func words(s string) []string {
	w := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\t' || r == '\r' })
	if len(w) == 0 {
		return nil
	}
	return w
}

func (f keyForm) rateLimit() (*ginkey.RateLimit, error) {
	if strings.TrimSpace(f.RateRequests) == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(f.RateRequests), 10, 64)
	if err != nil {
		return nil, formError("rate_limit.requests", "must be a whole number")
	}
	return &ginkey.RateLimit{Requests: n, Per: f.RatePer}, nil
}

func (f keyForm) quota() (*ginkey.Quota, error) {
	if strings.TrimSpace(f.QuotaRequests) == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(f.QuotaRequests), 10, 64)
	if err != nil {
		return nil, formError("quota.requests", "must be a whole number")
	}
	return &ginkey.Quota{Requests: n, Per: f.QuotaPer}, nil
}

func (f keyForm) metadata() (map[string]any, error) {
	if strings.TrimSpace(f.Metadata) == "" {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader([]byte(f.Metadata)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || d.More() {
		return nil, formError("metadata", "must be a JSON object")
	}
	return m, nil
}

// expiry reads a lifetime field: "" is the default, "never" no expiry,
// else a duration from now in ginkey's syntax (15d, 12h).
func expiry(field, s string, now time.Time) (at *time.Time, never bool, err error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return nil, false, nil
	case strings.EqualFold(s, "never"):
		return nil, true, nil
	}
	d, perr := envconfig.ParseDuration(s)
	if perr != nil || d <= 0 {
		return nil, false, formError(field, "must be never or "+envconfig.DurationForms)
	}
	t := now.Add(d)
	return &t, false, nil
}

// spec is the create form as a KeySpec.
func (f keyForm) spec(now time.Time) (ginkey.KeySpec, error) {
	s := ginkey.KeySpec{Name: strings.TrimSpace(f.Name), Owner: strings.TrimSpace(f.Owner), Scopes: words(f.Scopes), AllowedIPs: words(f.AllowedIPs)}
	var err error
	if s.ExpiresAt, s.NeverExpires, err = expiry("ttl", f.TTL, now); err != nil {
		return s, err
	}
	if s.RateLimit, err = f.rateLimit(); err != nil {
		return s, err
	}
	if s.Quota, err = f.quota(); err != nil {
		return s, err
	}
	s.Metadata, err = f.metadata()
	return s, err
}

// update is the edit form as a KeyUpdate of the fields that differ from
// k's; ok is false when none does.
func (f keyForm) update(k ginkey.Key) (u ginkey.KeyUpdate, ok bool, err error) {
	was := formFromKey(k)
	if name := strings.TrimSpace(f.Name); name != k.Name {
		u.Name, ok = &name, true
	}
	if owner := strings.TrimSpace(f.Owner); owner != k.Owner {
		u.Owner, ok = &owner, true
	}
	if scopes := words(f.Scopes); strings.Join(scopes, " ") != strings.Join(k.Scopes, " ") {
		u.Scopes, ok = &scopes, true
	}
	if ips := words(f.AllowedIPs); strings.Join(ips, " ") != strings.Join(k.AllowedIPs, " ") {
		u.AllowedIPs, ok = &ips, true
	}
	if f.RateRequests != was.RateRequests || (f.RateRequests != "" && f.RatePer != was.RatePer) {
		if u.RateLimit, err = f.rateLimit(); err != nil {
			return u, false, err
		}
		u.ClearRateLimit, ok = u.RateLimit == nil, true
	}
	if f.QuotaRequests != was.QuotaRequests || (f.QuotaRequests != "" && f.QuotaPer != was.QuotaPer) {
		if u.Quota, err = f.quota(); err != nil {
			return u, false, err
		}
		u.ClearQuota, ok = u.Quota == nil, true
	}
	// Compared as JSON, not as text: a browser sends a textarea's line
	// breaks as CRLF, and a reformatted object is the same object.
	m, err := f.metadata()
	if err != nil {
		return u, false, err
	}
	if old, _ := was.metadata(); !reflect.DeepEqual(m, old) {
		if m == nil {
			m = map[string]any{}
		}
		u.Metadata, ok = &m, true
	}
	return u, ok, nil
}
