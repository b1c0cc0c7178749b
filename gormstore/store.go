package gormstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"

	"github.com/ginkey/ginkey/keystore"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Store keeps keys, their usage, refusals and the audit log in tables of
// any GORM dialect (SQLite, PostgreSQL and MariaDB/MySQL are tested), named
// with a prefix ("ginkey_" by default: ginkey_keys, ginkey_usage,
// ginkey_flush_marks, ginkey_outcomes, ginkey_audit). It is safe for
// concurrent use.
type Store struct {
	db      *gorm.DB
	prefix  string
	keys    string // table names, prefix included
	usage   string
	marks   string        // each instance's last flushed batch (OnceUsageStore)
	refused string        // refused verifications per key, day and outcome
	audit   string        // the audit log (AuditStore)
	owners  string        // one lock row per owner (CappedInserter)
	sqlite  bool          // writes one at a time (nobody sees "database is locked"); SQLite-only SQL
	byHash  *hashLookup   // set on a SQLite file Open opened; nil: ByHash goes through GORM
	writeMu sync.Mutex    // held around writes on SQLite
	file    *fileIdentity // the SQLite file Open opened, checked before each write; nil otherwise
	closeDB func() error  // set by Open: the database is the store's own
	pg      Postgres      // PostgreSQL's driver; nil: none compiled in
}

var (
	_ keystore.Store          = (*Store)(nil)
	_ keystore.Rotator        = (*Store)(nil)
	_ keystore.BulkInserter   = (*Store)(nil)
	_ keystore.UsageStore     = (*Store)(nil)
	_ keystore.OnceUsageStore = (*Store)(nil)
	_ keystore.OutcomeStore   = (*Store)(nil)
	_ keystore.AuditStore     = (*Store)(nil)
	_ keystore.NotifierSource = (*Store)(nil)
	_ keystore.CappedInserter = (*Store)(nil)
)

// New returns the store on the caller's db, whose tables are named with
// tablePrefix, after bringing them up to date and checking their shape
// (instances starting together take turns). Every query goes through GORM,
// so db's plugins, logger and settings see it. Close leaves db open. pg
// (pgstore.Driver{}) lets the store's Notifier listen on PostgreSQL; nil
// does for the other dialects, and on PostgreSQL makes Notifier an error.
func New(ctx context.Context, db *gorm.DB, tablePrefix string, pg Postgres) (*Store, error) {
	if err := checkPrefix(tablePrefix); err != nil {
		return nil, err
	}
	s := newStore(db, tablePrefix, pg)
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// tablePrefixRE is what a table prefix may be: it is spliced into table,
// index, lock and channel names, quoted or not, in every dialect.
var tablePrefixRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,31}$`)

// ErrBadTablePrefix is wrapped by the error of New, Open and OpenExisting
// for a table prefix that is not 1 to 32 lower-case letters, digits and
// underscores, not starting with a digit.
var ErrBadTablePrefix = errors.New("ginkey: bad table prefix")

// checkPrefix refuses a table prefix that tablePrefixRE does not match.
func checkPrefix(prefix string) error {
	if !tablePrefixRE.MatchString(prefix) {
		return fmt.Errorf("%w %q (Config.TablePrefix, GINKEY_TABLE_PREFIX): want 1 to 32 lower-case letters, digits and underscores, not starting with a digit", ErrBadTablePrefix, prefix)
	}
	return nil
}

// newStore is the store on db's tables named with tablePrefix, which it
// neither creates nor checks.
func newStore(db *gorm.DB, tablePrefix string, pg Postgres) *Store {
	return &Store{
		db:      db,
		pg:      pg,
		prefix:  tablePrefix,
		keys:    tablePrefix + "keys",
		usage:   tablePrefix + "usage",
		marks:   tablePrefix + "flush_marks",
		refused: tablePrefix + "outcomes",
		audit:   tablePrefix + "audit",
		owners:  tablePrefix + "owner_locks",
		sqlite:  db.Name() == "sqlite",
	}
}

// DB is the database the store works on.
func (s *Store) DB() *gorm.DB { return s.db }

// Close closes the database if Open opened it; a store from New leaves the
// caller's open.
func (s *Store) Close() error {
	if s.closeDB == nil {
		return nil
	}
	return s.closeDB()
}

func (s *Store) write(fn func() error) error {
	if s.sqlite {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
	}
	if err := s.file.check(); err != nil {
		return err
	}
	return fn()
}

// Insert adds r; a duplicate id or hash is the database's error.
func (s *Store) Insert(ctx context.Context, r *keystore.Record) error {
	row, err := toRow(r)
	if err != nil {
		return err
	}
	// In a transaction, so that an INSERT whose connection was lost is known
	// not to have committed, and is made again (see transaction).
	return s.transaction(ctx, false, func(tx *gorm.DB) error {
		return tx.Table(s.keys).Create(&row).Error
	})
}

// ByHash returns the key with hash, or keystore.ErrNotFound.
func (s *Store) ByHash(ctx context.Context, hash string) (*keystore.Record, error) {
	if s.byHash != nil {
		return s.byHash.find(ctx, hash)
	}
	return s.first(ctx, "hash = ?", hash)
}

// ByID returns the key with id, or keystore.ErrNotFound.
func (s *Store) ByID(ctx context.Context, id string) (*keystore.Record, error) {
	return s.first(ctx, "id = ?", id)
}

func (s *Store) first(ctx context.Context, where string, arg string) (*keystore.Record, error) {
	var rows []keyRow
	err := s.read(ctx, func(db *gorm.DB) error {
		rows = nil
		return db.Table(s.keys).Where(where, arg).Limit(1).Find(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, keystore.ErrNotFound
	}
	return fromRow(&rows[0])
}

// Modify reads the key with id under a lock (SELECT ... FOR UPDATE; on
// SQLite the database's write lock), calls fn and writes what it returns, in
// one transaction.
func (s *Store) Modify(ctx context.Context, id string, fn func(*keystore.Record) (*keystore.Record, error)) (*keystore.Record, error) {
	var out *keystore.Record
	err := s.transaction(ctx, false, func(tx *gorm.DB) error {
		old, err := s.locked(tx, id)
		if err != nil {
			return err
		}
		read := *old // fn may change what it is given; old stays as read
		changed, err := fn(&read)
		if err != nil {
			return err
		}
		if out, err = s.persist(tx, old, changed); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// locked reads the key with id in tx, locking its row until tx ends.
func (s *Store) locked(tx *gorm.DB, id string) (*keystore.Record, error) {
	read := tx.Table(s.keys).Where("id = ?", id)
	if !s.sqlite { // SQLite's writer holds the whole database
		read = read.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	var rows []keyRow
	if err := read.Limit(1).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, keystore.ErrNotFound
	}
	return fromRow(&rows[0])
}

// persist writes changed over old, the row locked in tx, and returns the
// record as stored: id, hash, created_at and last_used_at are old's.
func (s *Store) persist(tx *gorm.DB, old, changed *keystore.Record) (*keystore.Record, error) {
	rec := *changed
	rec.ID, rec.Hash, rec.CreatedAt, rec.LastUsedAt = old.ID, old.Hash, old.CreatedAt, old.LastUsedAt
	row, err := toRow(&rec)
	if err != nil {
		return nil, err
	}
	// A map, so that NULLs and empty strings are written too.
	set := map[string]any{
		"prefix": row.Prefix, "name": row.Name, "owner": row.Owner, "scopes": row.Scopes, "metadata": row.Metadata,
		"rotated_from": row.RotatedFrom, "rotated_to": row.RotatedTo, "chain_id": row.ChainID,
		"rate_limit": row.RateLimit, "allowed_ips": row.AllowedIPs, "quota": row.Quota,
		"expires_at": row.ExpiresAt, "revoked_at": row.RevokedAt,
	}
	if err := tx.Table(s.keys).Where("id = ?", old.ID).Updates(set).Error; err != nil {
		return nil, err
	}
	return fromRow(&row)
}

// Delete removes the key with id, its usage and its refusals.
func (s *Store) Delete(ctx context.Context, id string) error {
	return s.transaction(ctx, false, func(tx *gorm.DB) error {
		res := tx.Table(s.keys).Where("id = ?", id).Delete(&keyRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return keystore.ErrNotFound
		}
		if err := tx.Table(s.refused).Where("key_id = ?", id).Delete(&outcomeRow{}).Error; err != nil {
			return err
		}
		return tx.Table(s.usage).Where("key_id = ?", id).Delete(&usageRow{}).Error
	})
}
