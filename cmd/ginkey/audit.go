package main

import (
	"context"
	"flag"
	"time"

	"github.com/ginkey/ginkey"
)

func setupAudit(fs *flag.FlagSet, c *cli) func(context.Context, []string) error {
	key := fs.String("key", "", "only entries about the key with this `ID`")
	action := fs.String("action", "", "only entries of this action: create, update, revoke, renew, rotate, delete or auth_failed")
	since := &sinceFlag{now: time.Now}
	fs.Var(since, "since", "only entries from `when` on: an RFC 3339 time, or a duration back from now (24h, 7d)")
	limit := fs.Int("limit", 0, "entries per page, 1 to 500 (default 50)")
	offset := fs.Int("offset", 0, "entries to skip")
	return func(ctx context.Context, _ []string) error {
		g, err := c.open(ctx, false)
		if err != nil {
			return err
		}
		defer g.close()
		entries, total, err := g.Audit(ctx, ginkey.AuditQuery{KeyID: *key, Action: *action, Since: since.v, Limit: *limit, Offset: *offset})
		if err != nil {
			return err
		}
		l := auditPage{Entries: entries, Total: total}
		if c.json {
			return writeJSON(c.stdout, l)
		}
		return writeAudit(c.stdout, &l, *offset)
	}
}
