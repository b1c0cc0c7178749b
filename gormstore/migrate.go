package gormstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// migrationLockWait bounds how long a start waits while another instance
// migrates the same tables.
const migrationLockWait = 60 * time.Second

// migrationAttempts is how often a migration that lost a race to a
// concurrent creator (possible where no lock could be taken) is tried.
const migrationAttempts = 5

// keysIndex is one of ginkey's indexes on the keys table. Index names are
// global in some dialects, so the table name is their prefix (two guards
// with different prefixes can share one database).
type keysIndex struct {
	name    string
	columns []string // "col" or "col DESC"
	unique  bool
}

func keysIndexes() []keysIndex {
	return []keysIndex{
		{hashIndex, []string{"hash"}, true},
		// Serves the listing order, so a page never sorts the table.
		{createdIndex, []string{"created_at DESC", "id"}, false},
		// Serves the status filters and their counts.
		{statusIndex, []string{"revoked_at", "expires_at"}, false},
		// Serve the owner and prefix filters, the owner's in listing order.
		{ownerIndex, []string{"owner", "created_at DESC", "id"}, false},
		{prefixIndex, []string{"prefix"}, false},
	}
}

// hashIndex makes a key's hash unique; ByHash relies on it.
const hashIndex = "hash_idx"

// migrate brings the tables up to date, then checks that they have the shape
// the store relies on. Instances starting together take turns: see
// withMigrationLock.
func (s *Store) migrate(ctx context.Context) error {
	return s.migrateWaiting(ctx, migrationLockWait)
}

// migrateWaiting is migrate waiting at most wait for the lock.
func (s *Store) migrateWaiting(ctx context.Context, wait time.Duration) error {
	return s.withMigrationLock(ctx, wait, func(db *gorm.DB) error {
		if err := retryLostRace(ctx, func() error { return s.migrateOnce(db) }); err != nil {
			return fmt.Errorf("ginkey: migrate: %w", err)
		}
		return s.checkSchema(db)
	})
}

func (s *Store) migrateOnce(db *gorm.DB) error {
	if s.sqlite {
		// SQLite's write lock serializes the migrations of every process on
		// the file: the whole migration is one transaction (SQLite's DDL is
		// transactional), so the check that a table exists and its creation
		// cannot be split by another instance. On the guard's own file the
		// transaction begins IMMEDIATE (openSQLite) and waits its busy
		// timeout for the lock; on a caller's database opened with deferred
		// transactions the loser gets "database is locked" and is retried.
		return db.Transaction(s.migrateTables)
	}
	return s.migrateTables(db)
}

func (s *Store) migrateTables(db *gorm.DB) error {
	var keys any = &keyRow{}
	if db.Name() == "mysql" {
		keys = declaringHashIndex(s.keys + "_" + hashIndex)
	}
	if err := db.Table(s.keys).AutoMigrate(keys); err != nil {
		return err
	}
	if err := db.Table(s.usage).AutoMigrate(&usageRow{}); err != nil {
		return err
	}
	if err := db.Table(s.marks).AutoMigrate(&flushMarkRow{}); err != nil {
		return err
	}
	if err := db.Table(s.refused).AutoMigrate(&outcomeRow{}); err != nil {
		return err
	}
	if err := db.Table(s.owners).AutoMigrate(&ownerLockRow{}); err != nil {
		return err
	}
	mariaDB := false
	if db.Name() == "mysql" {
		var version string
		if err := db.Raw("SELECT VERSION()").Scan(&version).Error; err != nil {
			return err
		}
		mariaDB = strings.Contains(version, "MariaDB")
	}
	for _, old := range []string{"created_at_idx", "expires_at_idx", "revoked_at_idx"} {
		if err := s.dropIndex(db, s.keys+"_"+old, mariaDB); err != nil {
			return err
		}
	}
	for _, ix := range keysIndexes() {
		if err := s.createIndex(db, s.keys, ix, mariaDB); err != nil {
			return err
		}
	}
	return s.migrateAudit(db, mariaDB)
}

// declaringHashIndex is a keyRow whose hash field declares the unique index
// name. On MySQL, AutoMigrate drops every single-column unique index that
// the model does not declare: without this, every start rebuilt the hash
// index, accepting duplicate hashes meanwhile. The name carries the table
// prefix, hence a struct type made at run time.
func declaringHashIndex(name string) any {
	t := reflect.TypeFor[keyRow]()
	fields := make([]reflect.StructField, t.NumField())
	for i := range fields {
		fields[i] = t.Field(i)
		if fields[i].Name == "Hash" {
			fields[i].Tag = reflect.StructTag(`gorm:"` + fields[i].Tag.Get("gorm") + ";uniqueIndex:" + name + `"`)
		}
	}
	return reflect.New(reflect.StructOf(fields)).Interface()
}

func (s *Store) dropIndex(db *gorm.DB, name string, mariaDB bool) error {
	switch {
	case db.Name() == "postgres":
		return db.Exec("DROP INDEX CONCURRENTLY IF EXISTS ?", clause.Table{Name: name}).Error
	case s.sqlite:
		return db.Exec("DROP INDEX IF EXISTS ?", clause.Table{Name: name}).Error
	case mariaDB:
		return db.Exec("DROP INDEX IF EXISTS ? ON ?", clause.Table{Name: name}, clause.Table{Name: s.keys}).Error
	case db.Migrator().HasIndex(s.keys, name): // MySQL has no IF EXISTS here
		return db.Migrator().DropIndex(s.keys, name)
	}
	return nil
}

// createIndex creates ix on table unless an index of its name exists. It
// does not judge the shape of an existing index: checkSchema does.
func (s *Store) createIndex(db *gorm.DB, table string, ix keysIndex, mariaDB bool) error {
	name := table + "_" + ix.name
	args := []any{clause.Table{Name: name}, clause.Table{Name: table}}
	cols := make([]string, len(ix.columns))
	for i, c := range ix.columns {
		col, desc := strings.CutSuffix(c, " DESC")
		args = append(args, clause.Column{Name: col})
		cols[i] = "?"
		if desc {
			cols[i] += " DESC"
		}
	}
	verb := "CREATE INDEX "
	if ix.unique {
		verb = "CREATE UNIQUE INDEX "
	}
	on := " ? ON ? (" + strings.Join(cols, ", ") + ")"
	switch {
	case db.Name() == "postgres":
		return createPostgresIndex(db, table, name, verb, on, args)
	case s.sqlite, mariaDB: // MariaDB has IF NOT EXISTS since 10.1.4
		return db.Exec(verb+"IF NOT EXISTS"+on, args...).Error
	case db.Migrator().HasIndex(table, name): // MySQL 8 has no IF NOT EXISTS here
		return nil
	}
	return db.Exec(verb+on, args...).Error
}

// createPostgresIndex builds a missing index CONCURRENTLY when the table has
// rows, so requests keep reading and writing it meanwhile. A concurrent
// build that failed (here or in an earlier start) leaves an INVALID index
// that IF NOT EXISTS would take for done: it is dropped and built again.
func createPostgresIndex(db *gorm.DB, table, name, verb, on string, args []any) error {
	var valid []bool
	if err := db.Raw(validity, name).Scan(&valid).Error; err != nil {
		return err
	}
	if len(valid) == 1 && valid[0] {
		return nil
	}
	if len(valid) == 1 {
		if err := db.Exec("DROP INDEX CONCURRENTLY IF EXISTS ?", clause.Table{Name: name}).Error; err != nil {
			return fmt.Errorf("drop invalid index %s: %w", name, err)
		}
	}
	var populated bool
	if err := db.Raw("SELECT EXISTS (SELECT 1 FROM ?)", clause.Table{Name: table}).Scan(&populated).Error; err != nil {
		return err
	}
	if !populated {
		return db.Exec(verb+"IF NOT EXISTS"+on, args...).Error
	}
	// CONCURRENTLY cannot run in a transaction: db is a plain session.
	if err := db.Exec(verb+"CONCURRENTLY IF NOT EXISTS"+on, args...).Error; err != nil {
		// Best effort: the next start would drop the leftover anyway.
		if err := db.Raw(validity, name).Scan(&valid).Error; err == nil && len(valid) == 1 && !valid[0] {
			_ = db.Exec("DROP INDEX CONCURRENTLY IF EXISTS ?", clause.Table{Name: name}).Error
		}
		return fmt.Errorf("create index %s: %w", name, err)
	}
	return nil
}

// validity is the indisvalid of the index of a name, if there is one.
const validity = "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(quote_ident(?))"

// withMigrationLock runs fn while holding a database-wide lock named for the
// table prefix, so instances starting together migrate one at a time
// (different prefixes do not wait for each other). The lock is a session's:
// fn gets the one connection that holds it. If the database refuses the lock
// (a pooler in transaction mode, a lookalike server), fn runs without it and
// relies on retryLostRace.
func (s *Store) withMigrationLock(ctx context.Context, wait time.Duration, fn func(db *gorm.DB) error) error {
	db := s.db.WithContext(ctx)
	// Connection's db is not a session: each statement would add to the
	// last one's.
	switch db.Name() {
	case "postgres":
		return db.Connection(func(conn *gorm.DB) error {
			return postgresLock(ctx, conn.Session(&gorm.Session{}), s.keys, wait, fn)
		})
	case "mysql":
		return db.Connection(func(conn *gorm.DB) error {
			return mysqlLock(ctx, conn.Session(&gorm.Session{}), s.keys, wait, fn)
		})
	}
	// SQLite serializes the migration itself (see migrateOnce); other
	// dialects get no lock.
	return fn(db)
}

// postgresLock holds a session-level advisory lock around fn. It polls
// pg_try_advisory_lock: a session blocked in pg_advisory_lock sits in an
// open transaction, which a CREATE INDEX CONCURRENTLY of the lock's holder
// waits for, a deadlock.
func postgresLock(ctx context.Context, conn *gorm.DB, table string, wait time.Duration, fn func(*gorm.DB) error) error {
	key := postgresLockKey(table)
	deadline := time.Now().Add(wait)
	for pause := 10 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		var got bool
		if err := conn.Raw("SELECT pg_try_advisory_lock(?)", key).Scan(&got).Error; err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("ginkey: migrate: %w", ctx.Err())
			}
			conn.Logger.Warn(ctx, "ginkey: no PostgreSQL advisory lock for the migration of %s (%v); migrating without it", table, err)
			return fn(conn)
		}
		if got {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ginkey: migrate: waited %v for another instance to finish migrating table %s (PostgreSQL advisory lock %d); if none is starting, a stuck session holds the lock (see pg_locks)", wait, table, key)
		}
		if err := sleep(ctx, pause); err != nil {
			return fmt.Errorf("ginkey: migrate: %w", err)
		}
	}
	defer func() {
		// Even when ctx is done: the pooled session would keep the lock.
		_ = conn.WithContext(context.WithoutCancel(ctx)).Exec("SELECT pg_advisory_unlock(?)", key).Error
	}()
	return fn(conn)
}

// postgresLockKey is the advisory lock key of a keys table. Advisory locks
// are per database already.
func postgresLockKey(table string) int64 {
	sum := sha256.Sum256([]byte("ginkey migrate " + table))
	return int64(binary.BigEndian.Uint64(sum[:8])) //nolint:gosec // any 64 bits make a lock key; the wrap is intended
}

// mysqlLockName is the GET_LOCK name of a keys table: named locks are
// server-wide, and their names at most 64 characters long.
func mysqlLockName(database, table string) string {
	sum := sha256.Sum256([]byte(database + "." + table))
	return "ginkey_migrate_" + hex.EncodeToString(sum[:16])
}

// mysqlLock holds a named lock (GET_LOCK) around fn; the server bounds the
// wait.
func mysqlLock(ctx context.Context, conn *gorm.DB, table string, wait time.Duration, fn func(*gorm.DB) error) error {
	name := mysqlLockName(conn.Migrator().CurrentDatabase(), table)
	var got sql.NullInt64
	if err := conn.Raw("SELECT GET_LOCK(?, ?)", name, int(wait.Seconds())).Scan(&got).Error; err != nil || !got.Valid {
		if ctx.Err() != nil {
			return fmt.Errorf("ginkey: migrate: %w", ctx.Err())
		}
		conn.Logger.Warn(ctx, "ginkey: no GET_LOCK for the migration of %s (%v); migrating without it", table, err)
		return fn(conn)
	}
	if got.Int64 != 1 {
		return fmt.Errorf("ginkey: migrate: waited %v for another instance to finish migrating table %s (GET_LOCK %q); if none is starting, a stuck session holds the lock", wait, table, name)
	}
	defer func() {
		_ = conn.WithContext(context.WithoutCancel(ctx)).Exec("SELECT RELEASE_LOCK(?)", name).Error
	}()
	return fn(conn)
}

// retryLostRace runs fn again when it failed because a concurrent migration
// created the same table, column or index first (or held SQLite's lock).
func retryLostRace(ctx context.Context, fn func() error) error {
	pause := 25 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == migrationAttempts || !lostRace(err) {
			return err
		}
		if err := sleep(ctx, pause/2+rand.N(pause)); err != nil { //nolint:gosec // jitter, not a secret
			return err
		}
		pause *= 2
	}
}

func lostRace(err error) bool {
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		switch pg.SQLState() {
		case "42P07", "42710", "42701", "40P01": // duplicate table, object, column; deadlock
			return true
		case "23505": // a unique violation in the catalog, not in ginkey's data
			return strings.Contains(err.Error(), `"pg_`)
		}
		return false
	}
	msg := err.Error()
	for _, race := range []string{
		"already exists", "duplicate column name", "database is locked", // SQLite
		"Error 1050", "Error 1060", "Error 1061", "Error 1091", "Error 1213", // MySQL: table, column, index exists; index gone; deadlock
	} {
		if strings.Contains(msg, race) {
			return true
		}
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
