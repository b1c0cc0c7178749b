package console

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/internal/envconfig"
)

const pageSize = 50

// searchLimit is how many matches of each search field (name, owner,
// prefix) the keys page shows; the page says when there were more.
const searchLimit = 200

// keysOf is the keyManager the request acts through.
func keysOf(c *gin.Context) keyManager {
	m, _ := c.MustGet(keysKey).(keyManager)
	return m
}

// listData is the keys page.
type listData struct {
	Keys          []ginkey.Key
	Q, Status     string
	Total         int64
	Prev, Next    template.URL // query strings of the neighbouring pages (url.Values.Encode), "" for none
	Searched      bool
	Cut           bool // a search field matched more keys than searchLimit
	Offset, Shown int
}

// listPage lists the keys, newest first, or those matching the search:
// q is looked for as a name (contained), an owner and a display prefix
// (exactly), and the matches of all three are shown.
func (con *Console) listPage(c *gin.Context) {
	m := keysOf(c)
	d := listData{Q: strings.TrimSpace(c.Query("q")), Status: c.Query("status")}
	if d.Status == "any" {
		d.Status = ""
	}
	d.Offset, _ = strconv.Atoi(c.Query("offset"))
	d.Offset = max(d.Offset, 0)
	status := ginkey.Status(d.Status)
	ctx := c.Request.Context()
	if d.Q == "" {
		keys, total, err := m.list(ctx, ginkey.KeyQuery{Status: status, Limit: pageSize, Offset: d.Offset})
		if err != nil {
			con.renderPageError(c, "keys", "Keys", d, err)
			return
		}
		d.Keys, d.Total = keys, total
		q := url.Values{"status": {c.Query("status")}}
		if d.Offset > 0 {
			q.Set("offset", strconv.Itoa(max(d.Offset-pageSize, 0)))
			d.Prev = template.URL(q.Encode()) //nolint:gosec // url.Values.Encode escapes every value
		}
		if int64(d.Offset+len(keys)) < total {
			q.Set("offset", strconv.Itoa(d.Offset+pageSize))
			d.Next = template.URL(q.Encode()) //nolint:gosec // url.Values.Encode escapes every value
		}
	} else {
		d.Searched = true
		seen := map[string]bool{}
		var firstErr error
		for _, q := range []ginkey.KeyQuery{{Name: d.Q}, {Owner: d.Q}, {Prefix: d.Q}} {
			q.Status, q.Limit = status, searchLimit
			keys, total, err := m.list(ctx, q)
			if err != nil {
				// A search term that cannot be an owner or a prefix is
				// simply no match as one; any other failure is shown.
				if !errors.Is(err, ginkey.ErrBadRequest) && firstErr == nil {
					firstErr = err
				}
				continue
			}
			d.Cut = d.Cut || total > int64(len(keys))
			for _, k := range keys {
				if !seen[k.ID] {
					seen[k.ID] = true
					d.Keys = append(d.Keys, k)
				}
			}
		}
		if firstErr != nil {
			con.renderPageError(c, "keys", "Keys", d, firstErr)
			return
		}
		slices.SortFunc(d.Keys, func(a, b ginkey.Key) int { return b.CreatedAt.Compare(a.CreatedAt) })
		d.Total = int64(len(d.Keys))
	}
	d.Shown = len(d.Keys)
	con.render(c, http.StatusOK, "keys", "Keys", d)
}

// renderPageError renders page with err's message in div#error.
func (con *Console) renderPageError(c *gin.Context, page, title string, data any, err error) {
	status, code, msg := errorText(c, err)
	con.renderError(c, status, page, title, data, code, msg)
}

func (con *Console) newPage(c *gin.Context) {
	con.render(c, http.StatusOK, "new", "New key", con.allowed(c, keyForm{RatePer: "1m", QuotaPer: "day"}))
}

// allowed adds to an owner's form the scopes their policy allows.
func (con *Console) allowed(c *gin.Context, f keyForm) keyForm {
	if con.ownerMode() && con.opts.Policy != nil {
		f.Allowed = strings.Join(con.opts.Policy(c.GetString(whoKey)).Scopes, " ")
	}
	return f
}

// create creates a key and shows it, once: the answer is the only place
// the plaintext key ever is.
func (con *Console) create(c *gin.Context) {
	token, ok := con.claimOnce(c)
	if !ok {
		return
	}
	var minted string
	defer func() { con.once.settle(token, minted) }()
	f := formOf(c)
	spec, err := f.spec(con.opts.Now())
	if err == nil && con.ownerMode() {
		spec = ginkey.KeySpec{Name: spec.Name, Scopes: spec.Scopes, ExpiresAt: spec.ExpiresAt, NeverExpires: spec.NeverExpires}
	}
	var k ginkey.CreatedKey
	if err == nil {
		k, err = keysOf(c).create(c.Request.Context(), spec)
	}
	if err != nil {
		con.renderPageError(c, "new", "New key", con.allowed(c, f), err)
		return
	}
	minted = k.ID
	con.render(c, http.StatusOK, "created", "Key created", k)
}

// detailData is a key's page.
type detailData struct {
	Key        ginkey.Key
	Usage      ginkey.UsageReport
	Chart      *chart // nil when the usage could not be read
	Audit      []ginkey.AuditEntry
	AuditError string // why the key's audit entries cannot be shown
}

// keyAuditRows is how many of a key's latest audit entries its page shows.
const keyAuditRows = 10

func (con *Console) detailPage(c *gin.Context) {
	m := keysOf(c)
	id := c.Param("id")
	ctx := c.Request.Context()
	// Usage first: it writes the pending counts, and with them the key's
	// last use, which the key read after it then shows.
	rep, uerr := m.usage(ctx, id, chartDays)
	k, err := m.get(ctx, id)
	if err != nil {
		con.failErr(c, err)
		return
	}
	d := detailData{Key: k}
	if uerr != nil {
		con.renderPageError(c, "detail", k.Name, d, uerr)
		return
	}
	ch := newChart(rep, con.opts.Now())
	d.Usage, d.Chart = rep, &ch
	if d.Audit, err = m.keyAudit(ctx, id, keyAuditRows); err != nil {
		_, _, d.AuditError = errorText(c, err)
	}
	con.render(c, http.StatusOK, "detail", k.Name, d)
}

// rotate replaces the key with a new one, the old one working for the
// grace period, and shows the new key once.
func (con *Console) rotate(c *gin.Context) {
	token, ok := con.claimOnce(c)
	if !ok {
		return
	}
	var minted string
	defer func() { con.once.settle(token, minted) }()
	var grace time.Duration
	if s := strings.TrimSpace(c.PostForm("grace")); s != "" {
		var err error
		if grace, err = envconfig.ParseDuration(s); err != nil {
			con.failErr(c, formError("grace", "must be "+envconfig.DurationForms))
			return
		}
	}
	k, err := keysOf(c).rotate(c.Request.Context(), c.Param("id"), grace)
	if err != nil {
		con.failErr(c, err)
		return
	}
	minted = k.ID
	con.render(c, http.StatusOK, "created", "Key rotated", k)
}

func (con *Console) revoke(c *gin.Context) {
	if _, err := keysOf(c).revoke(c.Request.Context(), c.Param("id")); err != nil {
		con.failErr(c, err)
		return
	}
	con.done(c, "/keys/"+url.PathEscape(c.Param("id")), "revoked")
}

func (con *Console) renew(c *gin.Context) {
	var r ginkey.Renewal
	var err error
	if r.ExpiresAt, r.NeverExpires, err = expiry("renew_ttl", c.PostForm("renew_ttl"), con.opts.Now()); err == nil {
		_, err = keysOf(c).renew(c.Request.Context(), c.Param("id"), r)
	}
	if err != nil {
		con.failErr(c, err)
		return
	}
	con.done(c, "/keys/"+url.PathEscape(c.Param("id")), "renewed")
}

// done sends the browser to path below the mount, with a notice.
func (con *Console) done(c *gin.Context, path, notice string) {
	c.Redirect(http.StatusSeeOther, con.base(c)+path+"?done="+notice)
}
