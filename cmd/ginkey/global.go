package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ginkey/ginkey/internal/envconfig"
)

// globalFlags defines the flags every subcommand takes on fs, defaulting to
// what an earlier parse has set, so that "ginkey --json list" and "ginkey
// list --json" agree. The settings the server reads from GINKEY_* variables
// fall back to them (see cli.settings).
func (c *cli) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.db, "db", c.db, "the SQLite file or PostgreSQL URL (`PATH|URL`) the server uses (default: $GINKEY_DB, else ginkey.db)")
	fs.StringVar(&c.tablePrefix, "table-prefix", c.tablePrefix, "the server's Config.TablePrefix (`PREFIX` of its tables; default: $GINKEY_TABLE_PREFIX, else ginkey_)")
	fs.StringVar(&c.keyPrefix, "key-prefix", c.keyPrefix, "the server's Config.KeyPrefix (`PREFIX` of new keys; default: $GINKEY_KEY_PREFIX, else gk)")
	fs.Var((*ttlFlag)(&c.ttl), "ttl", "the server's Config.TTL: how long keys created without --expires last (`DURATION` or never; default: $GINKEY_TTL, else 15d)")
	fs.BoolVar(&c.json, "json", c.json, "print JSON, in the shapes the HTTP admin API answers with, errors included")
}

// ttlFlag is --ttl, read as GINKEY_TTL is.
type ttlFlag time.Duration

func (f *ttlFlag) String() string {
	if f == nil || *f == 0 {
		return ""
	}
	if *f < 0 {
		return "never"
	}
	return time.Duration(*f).String()
}

func (f *ttlFlag) Set(s string) error {
	d, err := envconfig.Lifetime(s)
	*f = ttlFlag(d)
	return err
}

func writeMainUsage(w io.Writer) error {
	_, err := fmt.Fprint(w, `ginkey manages API keys in the database a ginkey server uses.

Usage:
  ginkey [--db PATH|URL] [--table-prefix P] [--key-prefix P] [--json] SUBCOMMAND [flags] [ID]

Subcommands:
`)
	if err != nil {
		return err
	}
	p := &printer{w: w}
	for _, cmd := range commands() {
		p.printf("  %-8s %-14s %s\n", cmd.name, cmd.args, cmd.summary)
	}
	if p.err != nil {
		return p.err
	}
	_, err = fmt.Fprint(w, `
Global flags (before or after the subcommand); each takes the server's
setting from the same variable the server reads:
  --db PATH             the SQLite file or PostgreSQL URL (postgres://...) the
                        server uses (default: $GINKEY_DB, else ginkey.db)
  --table-prefix P      the server's TablePrefix (default: $GINKEY_TABLE_PREFIX,
                        else ginkey_)
  --key-prefix P        the server's KeyPrefix (default: $GINKEY_KEY_PREFIX,
                        else gk)
  --ttl DURATION        the server's TTL, the lifetime of keys created without
                        --expires (default: $GINKEY_TTL, else 15d)
  --json                print JSON, in the shapes the HTTP admin API answers
                        with; errors too, on stderr: {"error":{"code","message"}}

Commands that read (list, show, usage, audit) or change keys never create
or alter tables: a database without the tables of the table prefix is
refused. Only create sets up a database that holds no ginkey tables yet.
A running server sees changes within its CacheTTL (default 2s); on
PostgreSQL, at once.
Exit status: 0 ok, 1 the operation failed, 2 usage error.
Run "ginkey help SUBCOMMAND" or "ginkey SUBCOMMAND -h" for its flags.
`)
	return err
}
