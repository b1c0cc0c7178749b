// Command ginkey manages ginkey's API keys on the database a server uses,
// through the same key-management API as the server's admin endpoints.
//
//	ginkey [--db PATH|URL] [--json] SUBCOMMAND [flags] [ID]
//
// Run "ginkey help" for the subcommands. Exit status: 0 on success, 1 when
// the operation fails (unknown key id, store error), 2 for a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ginkey/ginkey"
)

func main() {
	os.Exit(run(os.Args[1:], newCLI()))
}

// run parses args, runs the subcommand and returns the exit status.
func run(args []string, c *cli) int {
	global := flag.NewFlagSet("ginkey", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	c.globalFlags(global)
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_ = writeMainUsage(c.stdout)
			return exitOK
		}
		return c.report("", usagef("%v (see ginkey help)", err))
	}
	if global.NArg() == 0 {
		_ = writeMainUsage(c.stderr)
		return exitUsage
	}
	name, rest := global.Arg(0), global.Args()[1:]
	cmd, ok := findCommand(name)
	if !ok {
		return c.report("", usagef("unknown subcommand %q (see ginkey help)", name))
	}
	fs := c.flagSet(cmd)
	exec := cmd.setup(fs, c)
	pos, err := parseInterspersed(fs, rest)
	switch {
	case errors.Is(err, flag.ErrHelp):
		_ = commandUsage(c.stdout, cmd, fs)
		return exitOK
	case err != nil:
		return c.report(name, usagef("%v (see ginkey help %s)", err, name))
	case len(pos) < cmd.minArgs || len(pos) > cmd.maxArgs:
		return c.report(name, usagef("usage: ginkey %s %s (see ginkey help %s)", name, cmd.args, name))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = ginkey.WithActor(ctx, c.actor())
	return c.report(name, exec(ctx, pos))
}

// flagSet returns cmd's flags, the global ones included so that they may
// also follow the subcommand.
func (c *cli) flagSet(cmd command) *flag.FlagSet {
	fs := flag.NewFlagSet("ginkey "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.globalFlags(fs)
	return fs
}

// globalFlags defines --db and --json on fs, defaulting to what an earlier
// parse has set, so that "ginkey --json list" and "ginkey list --json" agree.
func (c *cli) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.db, "db", c.db, "the SQLite `file` or PostgreSQL URL the server uses (default: $GINKEY_DB, else ginkey.db)")
	fs.BoolVar(&c.json, "json", c.json, "print JSON, in the shapes the HTTP admin API answers with")
}

func writeMainUsage(w io.Writer) error {
	_, err := fmt.Fprint(w, `ginkey manages API keys in the database a ginkey server uses.

Usage:
  ginkey [--db PATH|URL] [--json] SUBCOMMAND [flags] [ID]

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
Global flags (before or after the subcommand):
  --db PATH   the SQLite file or PostgreSQL URL (postgres://...) the server
              uses (default: $GINKEY_DB, else ginkey.db)
  --json      print JSON, in the shapes the HTTP admin API answers with

Keys created without --expires last the server's TTL ($GINKEY_TTL, else 15 days).
A running server sees changes within its CacheTTL (default 2s); on
PostgreSQL, at once.
Exit status: 0 ok, 1 the operation failed, 2 usage error.
Run "ginkey help SUBCOMMAND" or "ginkey SUBCOMMAND -h" for its flags.
`)
	return err
}

func commandUsage(w io.Writer, cmd command, fs *flag.FlagSet) error {
	synopsis := strings.TrimSpace("ginkey " + cmd.name + " [flags] " + cmd.args)
	if _, err := fmt.Fprintf(w, "Usage: %s\n\n%s\n\nFlags:\n", synopsis, cmd.summary); err != nil {
		return err
	}
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return nil
}
