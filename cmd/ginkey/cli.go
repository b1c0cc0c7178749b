package main

import (
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/internal/envconfig"
	"github.com/mattn/go-isatty"
)

// cli is one invocation: its streams, environment and global flags.
type cli struct {
	db          string
	tablePrefix string
	keyPrefix   string
	ttl         time.Duration // 0: not given
	json        bool
	stdin       io.Reader
	stdinTTY    bool
	stdout      io.Writer
	stderr      io.Writer
	env         func(string) (string, bool)
}

func newCLI() *cli {
	// A terminal, not any character device: /dev/null is one too, and
	// nobody answers a prompt there.
	fd := os.Stdin.Fd()
	tty := isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
	return &cli{stdin: os.Stdin, stdinTTY: tty, stdout: os.Stdout, stderr: os.Stderr, env: os.LookupEnv}
}

// actor is who the audit log records for this invocation: "cli:" and the
// OS user.
func (c *cli) actor() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name, _ = c.env("USER")
	}
	if name == "" {
		name = "unknown"
	}
	return "cli:" + name
}

// printable quotes s if it holds anything that would garble a line.
func printable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) }) >= 0 || s == "" {
		return strconv.Quote(s)
	}
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// settings are the server's settings the CLI needs (the database, the table
// and key prefixes, and the TTL of keys created without --expires): each
// flag given, else what ginkey.New reads from the same environment, through
// the same function, else the server's default.
func (c *cli) settings() (envconfig.Settings, error) {
	s, err := envconfig.Resolve(envconfig.Settings{
		DBPath:      c.db,
		TablePrefix: c.tablePrefix,
		KeyPrefix:   c.keyPrefix,
		TTL:         c.ttl,
		// Pruning is the server's: the CLI cannot know the server's
		// retention, and what it deleted would be gone.
		AuditRetention: envconfig.Never,
	}, c.env)
	if err != nil {
		return s, failf(codeBadSetting, "%v", err)
	}
	// Read as the server reads it, so that what the server refuses, the
	// CLI refuses too, before anything is opened.
	if _, err := gormstore.ParseDSN(s.DBPath); err != nil {
		return s, failf(codeBadSetting, "%v", err)
	}
	return s, nil
}
