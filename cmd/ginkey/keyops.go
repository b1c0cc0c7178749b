package main

import (
	"context"
	"flag"
	"time"

	"github.com/ginkey/ginkey"
)

// The commands on one key that print it: show, update, revoke, renew.

func setupShow(_ *flag.FlagSet, c *cli) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		return c.withKey(ctx, args[0], func(g *ginkey.Guard, id string) (ginkey.Key, error) {
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
		return c.withKey(ctx, args[0], func(g *ginkey.Guard, id string) (ginkey.Key, error) {
			return g.UpdateKey(ctx, id, u)
		})
	}
}

func setupRevoke(_ *flag.FlagSet, c *cli) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		return c.withKey(ctx, args[0], func(g *ginkey.Guard, id string) (ginkey.Key, error) {
			return g.RevokeKey(ctx, id)
		})
	}
}

func setupRenew(fs *flag.FlagSet, c *cli) func(context.Context, []string) error {
	exp := &expiryFlag{now: time.Now}
	fs.Var(exp, "expires", "the new expiry (`when`): a duration from now (30d, 1d12h, 720h), an RFC 3339 time, or never (default: the server's TTL from now)")
	return func(ctx context.Context, args []string) error {
		return c.withKey(ctx, args[0], func(g *ginkey.Guard, id string) (ginkey.Key, error) {
			return g.RenewKey(ctx, id, ginkey.Renewal{ExpiresAt: exp.v.at, NeverExpires: exp.v.never})
		})
	}
}

// withKey opens the guard, runs op on the key id and prints the key it
// returns.
func (c *cli) withKey(ctx context.Context, id string, op func(*ginkey.Guard, string) (ginkey.Key, error)) error {
	g, err := c.open(ctx, false)
	if err != nil {
		return err
	}
	defer g.close()
	k, err := op(g.Guard, id)
	if err != nil {
		return keyError(id, err)
	}
	if c.json {
		return writeJSON(c.stdout, k)
	}
	return writeKey(c.stdout, &k)
}
