// Command ginkey manages ginkey's API keys on the database a server uses,
// through the same key-management API as the server's admin endpoints.
//
//	ginkey [--db PATH|URL] [--table-prefix P] [--key-prefix P] [--json] SUBCOMMAND [flags] [ID]
//
// Run "ginkey help" for the subcommands. Exit status: 0 on success, 1 when
// the operation fails (unknown key id, store error), 2 for a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/ginkey/ginkey"
)

func main() {
	os.Exit(run(os.Args[1:], newCLI()))
}

// run parses args, runs the subcommand and returns the exit status.
func run(args []string, c *cli) int {
	// Known before any parse, so that a command line the parse refuses is
	// reported as asked.
	if end := slices.Index(args, "--"); end >= 0 {
		c.json = c.json || slices.Contains(args[:end], "--json") || slices.Contains(args[:end], "-json")
	} else {
		c.json = c.json || slices.Contains(args, "--json") || slices.Contains(args, "-json")
	}
	global := flag.NewFlagSet("ginkey", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	c.globalFlags(global)
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_ = writeMainUsage(c.stdout)
			return exitOK
		}
		return c.report("", usagef("%s (see ginkey help)", flagError(err)))
	}
	if global.NArg() == 0 {
		if c.json {
			return c.report("", usagef("no subcommand (see ginkey help)"))
		}
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
		return c.report(name, usagef("%s (see ginkey help %s)", flagError(err), name))
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

// flagError is the flag package's error with flags written as the help
// writes them, --name.
func flagError(err error) string {
	msg := err.Error()
	for _, before := range []string{"flag -", ": -"} {
		msg = strings.ReplaceAll(msg, before, strings.TrimSuffix(before, "-")+"--")
	}
	return msg
}

func commandUsage(w io.Writer, cmd command, fs *flag.FlagSet) error {
	synopsis := strings.TrimSpace("ginkey " + cmd.name + " [flags] " + cmd.args)
	p := &printer{w: w}
	p.printf("Usage: %s\n\n%s\n\nFlags:\n", synopsis, cmd.summary)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if name != "" {
			name = " " + name
		}
		p.printf("  --%s%s\n    \t%s", f.Name, name, strings.ReplaceAll(usage, "\n", "\n    \t"))
		if def := f.DefValue; def != "" && def != "false" && def != "0" && def != "0s" {
			p.printf(" (default %s)", def)
		}
		p.printf("\n")
	})
	return p.err
}
