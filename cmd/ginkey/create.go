package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ginkey/ginkey"
)

// The commands that print a new key, once: create and rotate.

func setupCreate(fs *flag.FlagSet, c *cli) func(context.Context, []string) error {
	name := fs.String("name", "", "a `name` for people to recognize the key by")
	owner := fs.String("owner", "", "the user, team or tenant (`OWNER`) the key belongs to, e.g. user_42")
	var scopes, ips listFlag
	fs.Var(&scopes, "scope", "a `scope` the key holds, e.g. items:read (repeatable, or comma-separated)")
	exp := &expiryFlag{now: time.Now}
	fs.Var(exp, "expires", "`when` the key expires: a duration (30d, 1d12h, 720h), an RFC 3339 time, or never (default: the server's TTL, --ttl, $GINKEY_TTL or 15d)")
	rate := &rateFlag{}
	fs.Var(rate, "rate", "the key's own rate limit, `REQUESTS/UNIT` with UNIT 1s, 1m or 1h, e.g. 100/1m (default: the server's)")
	quota := &quotaFlag{}
	fs.Var(quota, "quota", "the key's quota, `REQUESTS/PERIOD` with PERIOD day or month, e.g. 10000/day (default: none)")
	fs.Var(&ips, "allow-ip", "an address or `CIDR` prefix the key may be used from (repeatable; default: any)")
	metadata := fs.String("metadata", "", "a `JSON` object stored with the key, e.g. '{\"team\":\"billing\"}'")
	quiet := fs.Bool("quiet", false, "print only the key (not with --json)")
	return func(ctx context.Context, _ []string) error {
		if err := c.checkQuiet(*quiet); err != nil {
			return err
		}
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
		g, err := c.open(ctx, true)
		if err != nil {
			return err
		}
		defer g.close()
		created, err := g.CreateKey(ctx, spec)
		if err != nil {
			return err
		}
		return c.writeCreated(&created, *quiet)
	}
}

func setupRotate(fs *flag.FlagSet, c *cli) func(context.Context, []string) error {
	grace := &durationFlag{}
	fs.Var(grace, "grace", "how long the old key keeps working (`DURATION`, 0s to 30d): a number with d, h, m or s, e.g. 2d or 12h; 0s stops it at once")
	quiet := fs.Bool("quiet", false, "print only the new key (not with --json)")
	return func(ctx context.Context, args []string) error {
		if err := c.checkQuiet(*quiet); err != nil {
			return err
		}
		g, err := c.open(ctx, false)
		if err != nil {
			return err
		}
		defer g.close()
		created, err := g.RotateKey(ctx, args[0], grace.v)
		if err != nil {
			return keyError(args[0], err)
		}
		if err := c.writeCreated(&created, *quiet); err != nil || *quiet || c.json {
			return err
		}
		_, err = fmt.Fprintf(c.stdout, "The old key %s works until %s.\n", args[0], created.CreatedAt.Add(grace.v).UTC().Format(time.RFC3339))
		return err
	}
}

// checkQuiet refuses --quiet with --json: each asks for its own output, and
// a script given one it did not ask for would misread it.
func (c *cli) checkQuiet(quiet bool) error {
	if quiet && c.json {
		return usagef("give --quiet (the key alone) or --json (the key and its record), not both")
	}
	return nil
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
