package console

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/observe"
)

// The admin's own pages: edit, delete, the audit log and the top keys,
// which an owner's console has not.

func (con *Console) admin(c *gin.Context) adminKeys {
	a, _ := keysOf(c).(adminKeys)
	return a
}

func (con *Console) editPage(c *gin.Context) {
	k, err := con.admin(c).get(c.Request.Context(), c.Param("id"))
	if err != nil {
		con.failErr(c, err)
		return
	}
	f := formFromKey(k)
	f.Version = f.version()
	con.render(c, http.StatusOK, "edit", "Edit "+k.Name, f)
}

// edit changes the fields of the form that differ from the key's.
func (con *Console) edit(c *gin.Context) {
	a := con.admin(c)
	ctx := c.Request.Context()
	id := c.Param("id")
	k, err := a.get(ctx, id)
	if err != nil {
		con.failErr(c, err)
		return
	}
	f := formOf(c)
	f.ID, f.Edit = id, true
	// The key changed since the form was shown (another admin, the API):
	// saving it would undo that change. Show the key as it is now.
	if now := formFromKey(k); f.Version != now.version() {
		now.Version = now.version()
		con.renderError(c, http.StatusConflict, "edit", "Edit "+k.Name, now, "conflict",
			"the key was changed since this form was shown; here it is as it is now: make your changes again")
		return
	}
	u, changed, err := f.update(k)
	if err == nil && changed {
		_, err = a.g.UpdateKey(ctx, id, u)
	}
	if err != nil {
		con.renderPageError(c, "edit", "Edit "+k.Name, f, err)
		return
	}
	con.done(c, "/keys/"+url.PathEscape(id), "updated")
}

func (con *Console) remove(c *gin.Context) {
	if err := con.admin(c).g.DeleteKey(c.Request.Context(), c.Param("id")); err != nil {
		con.failErr(c, err)
		return
	}
	con.done(c, "/keys", "deleted")
}

// auditData is the audit log page.
type auditData struct {
	Key, Action, Outcome string
	Actions, Outcomes    []string
	Entries              []ginkey.AuditEntry
	Total                int64
	Prev, Next           template.URL // query strings of the neighbouring pages (url.Values.Encode), "" for none
}

// auditOutcomes are the outcomes an audit entry may have, for the filter.
var auditOutcomes = []string{"ok", "bad_request", "not_found", "key_revoked", "key_rotated", "key_expired", "unavailable", "admin_unauthorized"}

// auditPage shows the audit log, newest first, filtered by key, action
// and outcome. The outcome is filtered on the page fetched (the log has no
// such index): a page may hold fewer entries than its size.
func (con *Console) auditPage(c *gin.Context) {
	d := auditData{
		Key: c.Query("key"), Action: c.Query("action"), Outcome: c.Query("outcome"),
		Actions:  []string{"create", "update", "revoke", "renew", "rotate", "delete", "auth_failed"},
		Outcomes: auditOutcomes,
	}
	offset, _ := strconv.Atoi(c.Query("offset"))
	offset = max(offset, 0)
	entries, total, err := con.admin(c).audit(c.Request.Context(), ginkey.AuditQuery{KeyID: d.Key, Action: d.Action, Limit: pageSize, Offset: offset})
	if err != nil {
		con.renderPageError(c, "audit", "Audit log", d, err)
		return
	}
	for _, e := range entries {
		if d.Outcome == "" || e.Outcome == d.Outcome {
			d.Entries = append(d.Entries, e)
		}
	}
	d.Total = total
	q := url.Values{"key": {d.Key}, "action": {d.Action}, "outcome": {d.Outcome}}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(max(offset-pageSize, 0)))
		d.Prev = template.URL(q.Encode()) //nolint:gosec // url.Values.Encode escapes every value
	}
	if int64(offset+len(entries)) < total {
		q.Set("offset", strconv.Itoa(offset+pageSize))
		d.Next = template.URL(q.Encode()) //nolint:gosec // url.Values.Encode escapes every value
	}
	con.render(c, http.StatusOK, "audit", "Audit log", d)
}

// usageData is the top keys page.
type usageData struct {
	ByRequests, ByRefusals []ginkey.UsageSummary
	Outcomes               []string
	Considered             int
}

// topKeys is how many keys each table of the top keys page shows;
// topConsidered how many keys' summaries it ranks.
const (
	topKeys       = 10
	topConsidered = 500
)

func (con *Console) usagePage(c *gin.Context) {
	d := usageData{Outcomes: observe.KeyOutcomes()[1:]}
	rows, _, err := con.admin(c).summary(c.Request.Context(), topConsidered, 0)
	if err != nil {
		con.renderPageError(c, "usage", "Top keys", d, err)
		return
	}
	d.Considered = len(rows)
	byReq := slices.Clone(rows)
	slices.SortStableFunc(byReq, func(a, b ginkey.UsageSummary) int { return cmpDesc(a.TotalRequests, b.TotalRequests) })
	byRef := slices.Clone(rows)
	slices.SortStableFunc(byRef, func(a, b ginkey.UsageSummary) int { return cmpDesc(a.Outcomes.Refused(), b.Outcomes.Refused()) })
	d.ByRequests = top(byReq, func(s ginkey.UsageSummary) bool { return s.TotalRequests > 0 })
	d.ByRefusals = top(byRef, func(s ginkey.UsageSummary) bool { return s.Outcomes.Refused() > 0 })
	con.render(c, http.StatusOK, "usage", "Top keys", d)
}

func cmpDesc(a, b int64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// top is the first topKeys rows that keep holds for.
func top(rows []ginkey.UsageSummary, keep func(ginkey.UsageSummary) bool) []ginkey.UsageSummary {
	var out []ginkey.UsageSummary
	for _, r := range rows {
		if len(out) < topKeys && keep(r) {
			out = append(out, r)
		}
	}
	return out
}
