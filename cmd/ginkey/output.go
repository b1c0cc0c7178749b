package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/observe"
)

// writeJSON writes v as the HTTP API would answer it, indented for people
// who read it before their scripts do.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printer writes to w and keeps the first error, so that a run of lines
// is checked once, at the end.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}

// table writes aligned columns to w; done flushes them.
type table struct {
	printer
	tw *tabwriter.Writer
}

func newTable(w io.Writer, flags uint) *table {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', flags)
	return &table{printer: printer{w: tw}, tw: tw}
}

func (t *table) done() error {
	if t.err != nil {
		return t.err
	}
	return t.tw.Flush()
}

// writeKey writes one key as an aligned block of fields.
func writeKey(w io.Writer, k *ginkey.Key) error {
	t := newTable(w, 0)
	rows := [][2]string{
		{"id", k.ID},
		{"prefix", k.Prefix},
		{"name", orDash(k.Name)},
		{"owner", orDash(k.Owner)},
		{"status", statusText(k)},
		{"scopes", joinOr(k.Scopes, "(none)")},
		{"rate limit", rateOr(k.RateLimit, "server default")},
		{"quota", quotaOr(k.Quota, "none")},
		{"allowed ips", joinOr(k.AllowedIPs, "any")},
		{"metadata", metadataText(k.Metadata)},
		{"created", formatTime(&k.CreatedAt, "-")},
		{"expires", formatTime(k.ExpiresAt, "never")},
		{"revoked", revokedText(k)},
		{"last used", formatTime(k.LastUsedAt, "never")},
	}
	if k.RotatedFrom != "" {
		rows = append(rows, [2]string{"rotated from", k.RotatedFrom})
	}
	if k.RotatedTo != "" {
		rows = append(rows, [2]string{"rotated to", k.RotatedTo})
	}
	for _, r := range rows {
		t.printf("%s:\t%s\n", r[0], r[1])
	}
	return t.done()
}

// keyPage, usagePage and auditPage are pages as --json writes them: the
// bodies of the admin API's GET /keys, /usage and /audit.
type (
	keyPage struct {
		Keys  []ginkey.Key `json:"keys"`
		Total int64        `json:"total"`
	}
	usagePage struct {
		Usage []ginkey.UsageSummary `json:"usage"`
		Total int64                 `json:"total"`
	}
	auditPage struct {
		Entries []ginkey.AuditEntry `json:"entries"`
		Total   int64               `json:"total"`
	}
)

// writeKeyList writes a page of keys as a table.
func writeKeyList(w io.Writer, l *keyPage, offset int) error {
	return writePage(w, len(l.Keys), offset, l.Total, "keys",
		"ID\tPREFIX\tNAME\tOWNER\tSTATUS\tSCOPES\tEXPIRES\tLAST USED\n", func(t *table, i int) {
			k := &l.Keys[i]
			t.printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, cell(orDash(k.Name)), cell(orDash(k.Owner)), statusText(k),
				cell(joinOr(k.Scopes, "-")), formatTime(k.ExpiresAt, "never"), formatTime(k.LastUsedAt, "never"))
		})
}

// writePage writes n rows (row writes row i) under header as an aligned
// table, then the page's footer; with no rows, a line saying so.
func writePage(w io.Writer, n, offset int, total int64, what, header string, row func(t *table, i int)) error {
	if n == 0 {
		_, err := fmt.Fprintf(w, "no %s (%d in all)\n", what, total)
		return err
	}
	t := newTable(w, 0)
	t.printf("%s", header)
	for i := range n {
		row(t, i)
	}
	if err := t.done(); err != nil {
		return err
	}
	return pageFooter(w, n, offset, total, what)
}

// writeUsage writes one key's usage: totals, then a row per day.
func writeUsage(w io.Writer, u *ginkey.UsageReport) error {
	t := newTable(w, 0)
	t.printf("id:\t%s\n", u.ID)
	t.printf("total requests:\t%d\n", u.TotalRequests)
	t.printf("last used:\t%s\n", formatTime(u.LastUsedAt, "never"))
	t.printf("refused:\t%s\n", refusedText(u.Outcomes))
	if err := t.done(); err != nil {
		return err
	}
	if len(u.Daily) == 0 {
		_, err := fmt.Fprintln(w, "\nno requests in these days")
		return err
	}
	outcomes := observe.KeyOutcomes()[1:]
	t = newTable(w, tabwriter.AlignRight)
	t.printf("\nDATE\tREQUESTS\t")
	for _, o := range outcomes {
		t.printf("%s\t", strings.ToUpper(o))
	}
	t.printf("\n")
	for _, d := range u.Daily {
		t.printf("%s\t%d\t", d.Date, d.Requests)
		for _, o := range outcomes {
			t.printf("%d\t", d.Outcomes.Count(o))
		}
		t.printf("\n")
	}
	return t.done()
}

// refusedText lists the nonzero refusals among outcomes, "none" without.
func refusedText(outcomes ginkey.Outcomes) string {
	var parts []string
	for _, o := range observe.KeyOutcomes()[1:] {
		if n := outcomes.Count(o); n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", o, n))
		}
	}
	return joinOr(parts, "none")
}

// writeUsageSummary writes every key's usage as a table.
func writeUsageSummary(w io.Writer, s *usagePage, offset int) error {
	return writePage(w, len(s.Usage), offset, s.Total, "keys",
		"ID\tPREFIX\tNAME\tREQUESTS\tREFUSED\tLAST USED\n", func(t *table, i int) {
			u := &s.Usage[i]
			t.printf("%s\t%s\t%s\t%d\t%d\t%s\n", u.ID, u.Prefix, cell(orDash(u.Name)), u.TotalRequests, u.Outcomes.Refused(), formatTime(u.LastUsedAt, "never"))
		})
}

func pageFooter(w io.Writer, n, offset int, total int64, what string) error {
	if int64(n) == total {
		if total == 1 {
			if stem, ok := strings.CutSuffix(what, "ies"); ok {
				what = stem + "y"
			} else {
				what = strings.TrimSuffix(what, "s")
			}
		}
		_, err := fmt.Fprintf(w, "%d %s\n", total, what)
		return err
	}
	_, err := fmt.Fprintf(w, "%s %d-%d of %d (--offset %d for more)\n", what, offset+1, offset+n, total, offset+n)
	return err
}

// statusText is a key's status, marking a rotated key in its grace period,
// which is active until its revoked_at.
func statusText(k *ginkey.Key) string {
	if k.Status == ginkey.StatusActive && k.RevokedAt != nil {
		return "active (grace)"
	}
	return string(k.Status)
}

func revokedText(k *ginkey.Key) string {
	if k.Status != ginkey.StatusRevoked && k.RevokedAt != nil {
		return formatTime(k.RevokedAt, "-") + " (end of the rotation's grace)"
	}
	return formatTime(k.RevokedAt, "-")
}

func formatTime(t *time.Time, none string) string {
	if t == nil || t.IsZero() {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

func formatRate(r *ginkey.RateLimit) string {
	return strconv.FormatInt(r.Requests, 10) + "/" + string(r.Per)
}

func formatQuota(q *ginkey.Quota) string {
	return strconv.FormatInt(q.Requests, 10) + "/" + string(q.Per)
}

func rateOr(r *ginkey.RateLimit, none string) string {
	if r == nil {
		return none
	}
	return formatRate(r)
}

func quotaOr(q *ginkey.Quota, none string) string {
	if q == nil {
		return none
	}
	return formatQuota(q)
}

func joinOr(s []string, none string) string {
	if len(s) == 0 {
		return none
	}
	return strings.Join(s, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func metadataText(m map[string]any) string {
	if len(m) == 0 {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "(unprintable)"
	}
	return string(b)
}

// cell keeps a table's columns aligned: names may hold tabs or line breaks.
func cell(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

// writeAudit writes a page of the audit log as a table.
func writeAudit(w io.Writer, l *auditPage, offset int) error {
	return writePage(w, len(l.Entries), offset, l.Total, "entries",
		"TIME\tACTION\tKEY\tACTOR\tPRINCIPAL\tFIELDS\tOUTCOME\tCOUNT\n", func(t *table, i int) {
			e := &l.Entries[i]
			t.printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", formatTime(&e.Time, "-"), e.Action, orDash(e.KeyID),
				cell(e.Actor), cell(orDash(e.Principal)), joinOr(e.Fields, "-"), e.Outcome, e.Count)
		})
}
