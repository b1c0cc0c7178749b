package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ginkey/ginkey"
)

// command is one subcommand. setup defines its flags on fs and returns the
// function that runs it with the positional arguments.
type command struct {
	name    string
	args    string // synopsis of the positional arguments
	minArgs int
	maxArgs int
	summary string
	setup   func(fs *flag.FlagSet, c *cli) func(ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{name: "create", summary: "Create a key and print it, once.", setup: setupCreate},
		{name: "list", summary: "List keys, newest first.", setup: setupList},
		{name: "show", args: "ID", minArgs: 1, maxArgs: 1, summary: "Show one key.", setup: setupShow},
		{name: "update", args: "ID", minArgs: 1, maxArgs: 1, summary: "Change a key's name, owner, scopes, limits or allowed addresses.", setup: setupUpdate},
		{name: "revoke", args: "ID", minArgs: 1, maxArgs: 1, summary: "Revoke a key for good.", setup: setupRevoke},
		{name: "renew", args: "ID", minArgs: 1, maxArgs: 1, summary: "Set a key's expiry (default: the server's TTL from now).", setup: setupRenew},
		{name: "rotate", args: "ID", minArgs: 1, maxArgs: 1, summary: "Replace a key by a new one, printed once; the old one works for --grace.", setup: setupRotate},
		{name: "delete", args: "ID", minArgs: 1, maxArgs: 1, summary: "Delete a key and its usage.", setup: setupDelete},
		{name: "usage", args: "[ID]", maxArgs: 1, summary: "Show one key's daily usage, or every key's totals.", setup: setupUsage},
		{name: "audit", summary: "Show the audit log of key operations, newest first.", setup: setupAudit},
		{name: "version", summary: "Print ginkey's version.", setup: setupVersion},
		{name: "help", args: "[SUBCOMMAND]", maxArgs: 1, summary: "Explain a subcommand.", setup: setupHelp},
	}
}

func findCommand(name string) (command, bool) {
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd, true
		}
	}
	return command{}, false
}

func setupCreate(fs *flag.FlagSet, c *cli) func(context.Context, []string) error {
	name := fs.String("name", "", "a `name` for people to recognize the key by")
	owner := fs.String("owner", "", "the user, team or tenant (`OWNER`) the key belongs to, e.g. user_42")
	var scopes, ips listFlag
	fs.Var(&scopes, "scope", "a `scope` the key holds, e.g. items:read (repeatable, or comma-separated)")
	exp := &expiryFlag{now: time.Now}
	fs.Var(exp, "expires", "`when` the key expires: a duration (720h, 30d), an RFC 3339 time, or never (default: the server's TTL, $GINKEY_TTL or 15 days)")
	rate := &rateFlag{}
	fs.Var(rate, "rate", "the key's own rate limit, `REQUESTS/UNIT` with UNIT 1s, 1m or 1h, e.g. 100/1m (default: the server's)")
	quota := &quotaFlag{}
	fs.Var(quota, "quota", "the key's quota, `REQUESTS/PERIOD` with PERIOD day or month, e.g. 10000/day (default: none)")
	fs.Var(&ips, "allow-ip", "an address or `CIDR` prefix the key may be used from (repeatable; default: any)")
	metadata := fs.String("metadata", "", "a `JSON` object stored with the key, e.g. '{\"team\":\"billing\"}'")
	quiet := fs.Bool("quiet", false, "print only the key")
	return func(ctx context.Context, _ []string) error {
		spec := ginkey.KeySpec{
			Name: *name, Owner: *owner, Scopes: scopes, AllowedIPs: ips,
			ExpiresAt: exp.v.at, NeverExpires: exp.v.never,
		}
		if rate.set {
			spec.RateLimit = &rate.v
		}
		if quota.set {
			spec.Quota = &quota.v
		}
		if *metadata != "" {
			m, err := parseMetadata(*metadata)
			if err != nil {
				return err
			}
			spec.Metadata = m
		}
		g, err := c.open(true)
		if err != nil {
			return err
		}
		defer closeGuard(g)
		created, err := g.CreateKey(ctx, spec)
		if err != nil {
			return err
		}
		return c.writeCreated(&created, *quiet)
	}
}

// writeCreated prints a new key: its record and the key, or with quiet the
// key alone.
func (c *cli) writeCreated(created *ginkey.CreatedKey, quiet bool) error {
	switch {
	case quiet:
		_, err := fmt.Fprintln(c.stdout, created.Secret)
		return err
	case c.json:
		return writeJSON(c.stdout, created)
	}
	if err := writeKey(c.stdout, &created.Key); err != nil {
		return err
	}
	_, err := fmt.Fprintf(c.stdout, "\nkey: %s\n\nStore it now: it cannot be shown again.\n", created.Secret)
	return err
}

func setupList(fs *flag.FlagSet, c *cli) func(context.Context, []string) error {
	status := fs.String("status", "", "only keys that are active, expired or revoked")
	owner := fs.String("owner", "", "only keys of this `OWNER` (exact)")
	prefix := fs.String("prefix", "", "only the key with this display `PREFIX`, e.g. gk_AbC1x")
	name := fs.String("name", "", "only keys whose name contains `TEXT` (ignoring case)")
	limit := fs.Int("limit", 0, "keys per page, 1 to 500 (default 50)")
	offset := fs.Int("offset", 0, "keys to skip")
	return func(ctx context.Context, _ []string) error {
		g, err := c.open(false)
		if err != nil {
			return err
		}
		defer closeGuard(g)
		l, err := g.ListKeys(ctx, ginkey.KeyQuery{
			Status: ginkey.Status(*status), Owner: *owner, Prefix: *prefix, Name: *name,
			Limit: *limit, Offset: *offset,
		})
		if err != nil {
			return err
		}
		if c.json {
			return writeJSON(c.stdout, l)
		}
		return writeKeyList(c.stdout, &l, *offset)
	}
}

func setupShow(_ *flag.FlagSet, c *cli) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		return c.withKey(args[0], func(g *ginkey.Guard, id string) (ginkey.Key, error) {
			return g.GetKey(ctx, id)
		})
	}
}

func setupUpdate(fs *flag.FlagSet, c *cli) func(context.Context, []string) error {
	var name, owner optString
	fs.Var(&name, "name", "the key's new `name`")
	fs.Var(&owner, "owner", "the key's new `OWNER` (\"\" for none)")
	var scopes, ips listFlag
	fs.Var(&scopes, "scope", "a `scope` the key holds; the scopes given replace the key's (repeatable)")
	clearScopes := fs.Bool("clear-scopes", false, "remove every scope")
	rate := &rateFlag{allowNone: true}
	fs.Var(rate, "rate", "the key's own rate limit, `REQUESTS/UNIT` with UNIT 1s, 1m or 1h; none: back to the server's")
	quota := &quotaFlag{allowNone: true}
	fs.Var(quota, "quota", "the key's quota, `REQUESTS/PERIOD` with PERIOD day or month; none: no quota")
	fs.Var(&ips, "allow-ip", "an address or `CIDR` prefix the key may be used from; the ones given replace the key's (repeatable)")
	anyIP := fs.Bool("any-ip", false, "let the key be used from any address")
	metadata := fs.String("metadata", "", "a `JSON` object that replaces the key's metadata")
	return func(ctx context.Context, args []string) error {
		var u ginkey.KeyUpdate
		if name.set {
			u.Name = &name.v
		}
		if owner.set {
			u.Owner = &owner.v
		}
		switch {
		case *clearScopes && len(scopes) > 0:
			return usagef("give --scope or --clear-scopes, not both")
		case *anyIP && len(ips) > 0:
			return usagef("give --allow-ip or --any-ip, not both")
		case *clearScopes || len(scopes) > 0:
			s := []string(scopes)
			if s == nil {
				s = []string{}
			}
			u.Scopes = &s
		}
		if *anyIP || len(ips) > 0 {
			s := []string(ips)
			if s == nil {
				s = []string{}
			}
			u.AllowedIPs = &s
		}
		if rate.set {
			u.RateLimit, u.ClearRateLimit = &rate.v, rate.none
			if rate.none {
				u.RateLimit = nil
			}
		}
		if quota.set {
			u.Quota, u.ClearQuota = &quota.v, quota.none
			if quota.none {
				u.Quota = nil
			}
		}
		if *metadata != "" {
			m, err := parseMetadata(*metadata)
			if err != nil {
				return err
			}
			u.Metadata = &m
		}
		if u == (ginkey.KeyUpdate{}) {
			return usagef("nothing to change: give at least one of --name, --owner, --scope, --clear-scopes, --rate, --quota, --allow-ip, --any-ip, --metadata")
		}
		return c.withKey(args[0], func(g *ginkey.Guard, id string) (ginkey.Key, error) {
			return g.UpdateKey(ctx, id, u)
		})
	}
}

func setupRevoke(_ *flag.FlagSet, c *cli) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		return c.withKey(args[0], func(g *ginkey.Guard, id string) (ginkey.Key, error) {
			return g.RevokeKey(ctx, id)
		})
	}
}

func setupRenew(fs *flag.FlagSet, c *cli) func(context.Context, []string) error {
	exp := &expiryFlag{now: time.Now}
	fs.Var(exp, "expires", "the new expiry (`when`): a duration from now (720h, 30d), an RFC 3339 time, or never (default: the server's TTL from now)")
	return func(ctx context.Context, args []string) error {
		return c.withKey(args[0], func(g *ginkey.Guard, id string) (ginkey.Key, error) {
			return g.RenewKey(ctx, id, ginkey.Renewal{ExpiresAt: exp.v.at, NeverExpires: exp.v.never})
		})
	}
}

func setupRotate(fs *flag.FlagSet, c *cli) func(context.Context, []string) error {
	grace := fs.Duration("grace", 0, "how long the old key keeps working (`DURATION`, 0s to 720h), e.g. 24h; 0s stops it at once")
	quiet := fs.Bool("quiet", false, "print only the new key")
	return func(ctx context.Context, args []string) error {
		g, err := c.open(false)
		if err != nil {
			return err
		}
		defer closeGuard(g)
		created, err := g.RotateKey(ctx, args[0], *grace)
		if err != nil {
			return keyError(args[0], err)
		}
		if err := c.writeCreated(&created, *quiet); err != nil || *quiet || c.json {
			return err
		}
		_, err = fmt.Fprintf(c.stdout, "The old key %s works until %s.\n", args[0], created.CreatedAt.Add(*grace).UTC().Format(time.RFC3339))
		return err
	}
}

func setupDelete(fs *flag.FlagSet, c *cli) func(context.Context, []string) error {
	yes := fs.Bool("yes", false, "delete without asking (required when stdin is not a terminal)")
	return func(ctx context.Context, args []string) error {
		id := args[0]
		if !*yes && !c.stdinTTY {
			return usagef("stdin is not a terminal, so there is nobody to confirm: pass --yes to delete %s", printable(id))
		}
		g, err := c.open(false)
		if err != nil {
			return err
		}
		defer closeGuard(g)
		if !*yes {
			k, err := g.GetKey(ctx, id)
			if err != nil {
				return keyError(id, err)
			}
			_, _ = fmt.Fprintf(c.stderr, "Delete key %s (%s, %s) and its usage? This cannot be undone.\nType the key id to confirm: ", k.ID, k.Prefix, orDash(k.Name))
			line, err := readLine(ctx, c.stdin)
			if err != nil {
				return err
			}
			switch line {
			case k.ID:
			case "":
				_, _ = fmt.Fprintln(c.stderr) // end the prompt's line: stdin may have ended without one
				return errors.New("no answer, nothing deleted (pass --yes to delete without asking)")
			default:
				return errors.New("the id typed does not match; nothing deleted")
			}
		}
		if err := g.DeleteKey(ctx, id); err != nil {
			return keyError(id, err)
		}
		if c.json { // the HTTP API answers 204 without a body; scripts get an object
			return writeJSON(c.stdout, map[string]any{"id": id, "deleted": true})
		}
		_, err = fmt.Fprintf(c.stdout, "deleted key %s\n", id)
		return err
	}
}

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
		g, err := c.open(false)
		if err != nil {
			return err
		}
		defer closeGuard(g)
		if len(args) == 0 {
			s, err := g.UsageSummary(ctx, *limit, *offset)
			if err != nil {
				return err
			}
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

func setupVersion(_ *flag.FlagSet, c *cli) func(context.Context, []string) error {
	return func(context.Context, []string) error {
		v := "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
		if c.json {
			return writeJSON(c.stdout, map[string]string{"version": v})
		}
		_, err := fmt.Fprintln(c.stdout, "ginkey", v)
		return err
	}
}

func setupHelp(_ *flag.FlagSet, c *cli) func(context.Context, []string) error {
	return func(_ context.Context, args []string) error {
		if len(args) == 0 {
			return writeMainUsage(c.stdout)
		}
		cmd, ok := findCommand(args[0])
		if !ok {
			return usagef("unknown subcommand %q (see ginkey help)", args[0])
		}
		fs := c.flagSet(cmd)
		cmd.setup(fs, c)
		return commandUsage(c.stdout, cmd, fs)
	}
}

// withKey opens the guard, runs op on the key id and prints the key it
// returns.
func (c *cli) withKey(id string, op func(*ginkey.Guard, string) (ginkey.Key, error)) error {
	g, err := c.open(false)
	if err != nil {
		return err
	}
	defer closeGuard(g)
	k, err := op(g, id)
	if err != nil {
		return keyError(id, err)
	}
	if c.json {
		return writeJSON(c.stdout, k)
	}
	return writeKey(c.stdout, &k)
}

// readLine reads one answer from in, trimmed. Ctrl-C, which the command's
// context catches, abandons the read.
func readLine(ctx context.Context, in io.Reader) (string, error) {
	answer := make(chan string, 1)
	go func() { // left blocked on in if interrupted; the process is about to exit
		line, _ := bufio.NewReader(in).ReadString('\n') // a failed read is no answer
		answer <- strings.TrimSpace(line)
	}()
	select {
	case line := <-answer:
		return line, nil
	case <-ctx.Done():
		return "", errors.New("interrupted; nothing deleted")
	}
}

// parseMetadata reads --metadata, keeping numbers exactly as written, as
// the HTTP API does.
func parseMetadata(s string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	err := dec.Decode(&m)
	if err == nil {
		if _, end := dec.Token(); !errors.Is(end, io.EOF) {
			err = errors.New("more than one JSON value")
		}
	}
	if err != nil || m == nil {
		return nil, usagef(`--metadata must be one JSON object, e.g. '{"team":"billing"}'`)
	}
	return m, nil
}

func setupAudit(fs *flag.FlagSet, c *cli) func(context.Context, []string) error {
	key := fs.String("key", "", "only entries about the key with this `ID`")
	action := fs.String("action", "", "only entries of this action: create, update, revoke, renew, rotate, delete or auth_failed")
	since := &sinceFlag{now: time.Now}
	fs.Var(since, "since", "only entries from `when` on: an RFC 3339 time, or a duration back from now (24h, 7d)")
	limit := fs.Int("limit", 0, "entries per page, 1 to 500 (default 50)")
	offset := fs.Int("offset", 0, "entries to skip")
	return func(ctx context.Context, _ []string) error {
		g, err := c.open(false)
		if err != nil {
			return err
		}
		defer closeGuard(g)
		l, err := g.Audit(ctx, ginkey.AuditQuery{KeyID: *key, Action: *action, Since: since.v, Limit: *limit, Offset: *offset})
		if err != nil {
			return err
		}
		if c.json {
			return writeJSON(c.stdout, l)
		}
		return writeAudit(c.stdout, &l, *offset)
	}
}
