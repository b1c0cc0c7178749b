package gormstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestOnlyALostConnectionIsRetried(t *testing.T) {
	t.Parallel()
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	for _, tc := range []struct {
		name string
		err  error
		lost bool
	}{
		{"bad connection", driver.ErrBadConn, true},
		{"unexpected EOF", fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF), true},
		{"EOF", io.EOF, true},
		{"connection reset", reset, true},
		{"broken pipe", fmt.Errorf("write failed: %w", syscall.EPIPE), true},
		{"terminated by an administrator", &pgconn.PgError{Severity: "FATAL", Code: "57P01"}, true},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"MySQL's invalid connection", errors.New("invalid connection"), true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, false},
		{"deadline", fmt.Errorf("timeout: %w", context.DeadlineExceeded), false},
		{"cancelled", context.Canceled, false},
		{"other", errors.New("no such table"), false},
	} {
		if got := connectionLost(context.Background(), tc.err); got != tc.lost {
			t.Errorf("%s: lost = %v, want %v", tc.name, got, tc.lost)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if connectionLost(ctx, io.EOF) {
		t.Error("an EOF after the caller's context ended was taken for a lost connection")
	}
}
