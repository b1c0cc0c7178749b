package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

func setupDelete(fs *flag.FlagSet, c *cli) func(context.Context, []string) error {
	yes := fs.Bool("yes", false, "delete without asking (required when stdin is not a terminal)")
	return func(ctx context.Context, args []string) error {
		id := args[0]
		if !*yes && !c.stdinTTY {
			return &cliError{code: codeNeedsYes, exit: exitUsage,
				msg: fmt.Sprintf("stdin is not a terminal, so nobody can confirm: pass --yes to delete %s", printable(id))}
		}
		g, err := c.open(ctx, false)
		if err != nil {
			return err
		}
		defer g.close()
		if !*yes {
			if err := c.confirmDelete(ctx, g, id); err != nil {
				return err
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

// confirmDelete asks the person at the terminal to type the key's id.
func (c *cli) confirmDelete(ctx context.Context, g *session, id string) error {
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
		return nil
	case "":
		_, _ = fmt.Fprintln(c.stderr) // end the prompt's line: stdin may have ended without one
		return failf(codeNotDeleted, "no answer, nothing deleted (pass --yes to delete without asking)")
	}
	return failf(codeNotDeleted, "the id typed does not match; nothing deleted")
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
		return "", failf(codeInterrupted, "interrupted; nothing deleted")
	}
}
