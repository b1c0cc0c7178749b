package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ginkey/ginkey"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // the operation failed: unknown key, store error
	exitUsage   = 2 // the command line is wrong
)

// The codes of the errors the command makes itself; an error of the
// key-management API keeps its own (not_found, key_revoked, bad_request...).
// Scripts read them from --json's error object: they never change.
const (
	codeUsage       = "usage_error"           // a wrong command line (exit 2)
	codeNeedsYes    = "confirmation_required" // a prompt with nobody to answer it (exit 2)
	codeBadSetting  = "bad_setting"           // a setting (flag or GINKEY_* variable) the server would refuse too
	codeNoDatabase  = "no_database"           // the SQLite file does not exist
	codeNoTables    = "no_tables"             // the database lacks the tables of the table prefix
	codeNotDeleted  = "not_confirmed"         // the prompt was not answered with the key id
	codeInterrupted = "interrupted"
	codeFailed      = "failed" // anything else: the store is unreachable, a write failed
)

// cliError is an error with the stable code --json prints and the exit
// status it ends the command with.
type cliError struct {
	code string
	exit int
	msg  string
}

func (e *cliError) Error() string { return e.msg }

// usagef is a wrong command line: exit status 2.
func usagef(format string, a ...any) error {
	return &cliError{code: codeUsage, exit: exitUsage, msg: fmt.Sprintf(format, a...)}
}

// failf is a failure with code: exit status 1.
func failf(code, format string, a ...any) error {
	return &cliError{code: code, exit: exitFailure, msg: fmt.Sprintf(format, a...)}
}

// classify returns err's code, exit status and message.
func classify(err error) (code string, exit int, msg string) {
	var (
		ce *cliError
		ge *ginkey.Error
	)
	switch {
	case errors.As(err, &ce):
		return ce.code, ce.exit, ce.msg
	case errors.As(err, &ge) && ge.Code == ginkey.ErrBadRequest.Code:
		return ge.Code, exitUsage, flagFor(ge.Field) + ge.Message // a flag's value broke one of the API's rules
	case errors.As(err, &ge):
		return ge.Code, exitFailure, ge.Message
	}
	return codeFailed, exitFailure, err.Error()
}

// report prints err on stderr, as one line or with --json as the HTTP
// API's error object, and returns the exit status.
func (c *cli) report(cmd string, err error) int {
	if err == nil {
		return exitOK
	}
	code, exit, msg := classify(err)
	msg = strings.TrimPrefix(msg, "ginkey: ")
	if cmd != "" {
		msg = cmd + ": " + msg
	}
	msg = oneLine(msg)
	// stderr is the last place to report to: its errors go unreported.
	if c.json {
		enc := json.NewEncoder(c.stderr)
		var body ginkey.ErrorBody
		body.Error.Code, body.Error.Message = code, msg
		_ = enc.Encode(body)
		return exit
	}
	_, _ = fmt.Fprintln(c.stderr, "ginkey: "+msg)
	return exit
}

// keyError names id when err says there is no such key, keeping its code.
func keyError(id string, err error) error {
	var msg string
	switch {
	case errors.Is(err, ginkey.ErrNotFound):
		msg = fmt.Sprintf("no key with id %s", printable(id))
	case conflictCode(err) == "key_revoked":
		msg = fmt.Sprintf("key %s is revoked; revocation is final", printable(id))
	case conflictCode(err) == "key_rotated":
		msg = fmt.Sprintf("key %s has been rotated; change or rotate the key that replaced it (see: ginkey show %s)", printable(id), printable(id))
	case conflictCode(err) == "key_expired":
		msg = fmt.Sprintf("key %s has expired; renew it first", printable(id))
	default:
		return err
	}
	code, exit, _ := classify(err)
	return &cliError{code: code, exit: exit, msg: msg}
}

// conflictCode is the code of err when it is a ginkey.ErrConflict (the
// key's state), else "".
func conflictCode(err error) string {
	var e *ginkey.Error
	if !errors.Is(err, ginkey.ErrConflict) || !errors.As(err, &e) {
		return ""
	}
	return e.Code
}

// flagFor names the flag that gave the API field that broke a rule (an
// *ginkey.Error's Field), followed by ": "; "" for a field no flag gives.
func flagFor(field string) string {
	flags := map[string]string{
		"name": "--name", "owner": "--owner", "prefix": "--prefix", "grace": "--grace", "scopes": "--scope",
		"metadata": "--metadata", "expires_at": "--expires", "rate_limit": "--rate", "quota": "--quota",
		"allowed_ips": "--allow-ip", "status": "--status", "limit": "--limit", "offset": "--offset",
		"days": "--days", "key_id": "--key", "action": "--action",
	}
	if f, ok := flags[field]; ok {
		return f + ": "
	}
	return ""
}
