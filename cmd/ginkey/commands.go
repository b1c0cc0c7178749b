package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
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
