package gormstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"gorm.io/gorm"
)

// A pooled connection can die while the database is healthy: a failover, a
// pooler's restart or pg_terminate_backend ends it, and the pool hands it
// out once more, unchecked if it was used in the last second. The first
// statement on it fails although a new connection would work. Each store
// call therefore runs once more, on a connection that has just answered a
// ping, when it failed because its connection was lost, and when running
// it again is safe:
//
//   - a read, always;
//   - a write, when the failure proves it did not commit: every write runs
//     in a transaction, and one whose COMMIT was never sent was rolled back
//     with its connection;
//   - a write that does nothing the second time (a usage batch under its
//     sequence number, a notification, pruning), always.
//
// Only then does the failure reach the guard, which counts the store as down.

// read runs op, a read, on the store's database, and once more if its
// connection was lost.
func (s *Store) read(ctx context.Context, op func(db *gorm.DB) error) error {
	return retried(ctx, s.db, op, nil)
}

// idempotent runs op, a write that changes nothing when repeated, as read
// does, under write's rules.
func (s *Store) idempotent(ctx context.Context, op func(db *gorm.DB) error) error {
	return s.write(func() error { return retried(ctx, s.db, op, nil) })
}

// transaction runs op in one transaction under write's rules, and once
// more if the connection was lost before COMMIT was sent (a lost COMMIT's
// outcome is unknown), or in any case if once: the transaction changes
// nothing when repeated.
func (s *Store) transaction(ctx context.Context, once bool, op func(tx *gorm.DB) error) error {
	return s.write(func() error {
		var committing bool
		run := func(db *gorm.DB) error {
			committing = false
			return db.Transaction(func(tx *gorm.DB) error {
				if err := op(tx); err != nil {
					return err
				}
				committing = true
				return nil
			})
		}
		return retried(ctx, s.db, run, func() bool { return once || !committing })
	})
}

// retried runs op on db, and once more on a live connection if it failed
// for a lost connection and safe (nil: always) allows it, asked after the
// failure.
func retried(ctx context.Context, db *gorm.DB, op func(db *gorm.DB) error, safe func() bool) error {
	err := op(db.WithContext(ctx))
	if err == nil || !connectionLost(ctx, err) || (safe != nil && !safe()) {
		return err
	}
	return onLiveConn(ctx, db, op)
}

// maxDeadConns bounds the dead connections onLiveConn pings and drops
// before it gives up: a pool's worth after a failover.
const maxDeadConns = 64

// onLiveConn runs op on a connection of db's pool that has just answered a
// ping. A connection that does not is dropped from the pool (the driver
// reports it bad) and the next one tried: when one connection was lost,
// the others often were too.
func onLiveConn(ctx context.Context, db *gorm.DB, op func(db *gorm.DB) error) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	for tries := 1; ; tries++ {
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			return err
		}
		if err := conn.PingContext(ctx); err != nil {
			_ = conn.Close()
			if tries < maxDeadConns && connectionLost(ctx, err) {
				continue
			}
			return err
		}
		session := db.WithContext(ctx) // a new statement of its own: the pool may be set on it
		session.Statement.ConnPool = conn
		err = op(session)
		_ = conn.Close()
		return err
	}
}

// connectionLost reports whether err says that the connection a statement
// ran on was lost, rather than that the statement failed or took too long:
// the connection was reported bad or found closed before the statement was
// sent, closed under it (EOF, a reset, a broken pipe), or ended by the server (PostgreSQL's SQLSTATE class 08, and 57P01
// to 57P03: terminated by an administrator, a crash or a shutdown, or not
// accepting connections yet). A context that has ended is never a lost
// connection: the time given is up.
func connectionLost(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	for _, target := range []error{
		driver.ErrBadConn, io.EOF, io.ErrUnexpectedEOF, net.ErrClosed,
		syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	if unsent, ok := errors.AsType[interface {
		error
		SafeToRetry() bool
	}](err); ok && unsent.SafeToRetry() { // pgx: the connection failed before the statement was sent
		return true
	}
	if coded, ok := errors.AsType[interface {
		error
		SQLState() string
	}](err); ok { // pgx's *pgconn.PgError
		state := coded.SQLState()
		return strings.HasPrefix(state, "08") || state == "57P01" || state == "57P02" || state == "57P03"
	}
	// go-sql-driver/mysql's ErrInvalidConn: the server closed the
	// connection under a statement.
	return err.Error() == "invalid connection"
}
