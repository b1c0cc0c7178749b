package main

import (
	"context"
	"flag"
)

func setupUsage(fs *flag.FlagSet, c *cli) func(context.Context, []string) error {
	days := fs.Int("days", 0, "days of daily counts for one key, 1 to 366 (default 30)")
	limit := fs.Int("limit", 0, "keys per page of the summary, 1 to 500 (default 50)")
	offset := fs.Int("offset", 0, "keys to skip in the summary")
	return func(ctx context.Context, args []string) error {
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		switch {
		case len(args) == 0 && given["days"]:
			return usagef("--days needs a key id: ginkey usage ID --days N")
		case len(args) > 0 && (given["limit"] || given["offset"]):
			return usagef("--limit and --offset page the summary of every key; give no id with them")
		}
		g, err := c.open(ctx, false)
		if err != nil {
			return err
		}
		defer g.close()
		if len(args) == 0 {
			rows, total, err := g.UsageSummary(ctx, *limit, *offset)
			if err != nil {
				return err
			}
			s := usagePage{Usage: rows, Total: total}
			if c.json {
				return writeJSON(c.stdout, s)
			}
			return writeUsageSummary(c.stdout, &s, *offset)
		}
		u, err := g.KeyUsage(ctx, args[0], *days)
		if err != nil {
			return keyError(args[0], err)
		}
		if c.json {
			return writeJSON(c.stdout, u)
		}
		return writeUsage(c.stdout, &u)
	}
}
