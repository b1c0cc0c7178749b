package main

import (
	"context"
	"flag"

	"github.com/ginkey/ginkey"
)

func setupList(fs *flag.FlagSet, c *cli) func(context.Context, []string) error {
	status := fs.String("status", "", "only keys that are active, expired or revoked")
	owner := fs.String("owner", "", "only keys of this `OWNER` (exact)")
	prefix := fs.String("prefix", "", "only the key with this display `PREFIX`, e.g. gk_AbC1x")
	name := fs.String("name", "", "only keys whose name contains `TEXT` (ignoring case)")
	limit := fs.Int("limit", 0, "keys per page, 1 to 500 (default 50)")
	offset := fs.Int("offset", 0, "keys to skip")
	return func(ctx context.Context, _ []string) error {
		g, err := c.open(ctx, false)
		if err != nil {
			return err
		}
		defer g.close()
		keys, total, err := g.ListKeys(ctx, ginkey.KeyQuery{
			Status: ginkey.Status(*status), Owner: *owner, Prefix: *prefix, Name: *name,
			Limit: *limit, Offset: *offset,
		})
		if err != nil {
			return err
		}
		l := keyPage{Keys: keys, Total: total}
		if c.json {
			return writeJSON(c.stdout, l)
		}
		return writeKeyList(c.stdout, &l, *offset)
	}
}
