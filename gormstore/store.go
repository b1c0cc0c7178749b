package gormstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

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

// AddUsage adds batch to the counts in one transaction.
func (s *Store) AddUsage(ctx context.Context, batch []keystore.UsageDelta) error {
	return s.addUsage(ctx, batch, nil)
}

// addUsage adds batch to the counts in one transaction, after first, when
// given, reports that it should.
func (s *Store) addUsage(ctx context.Context, batch []keystore.UsageDelta, first func(tx *gorm.DB) (bool, error)) error {
	if len(batch) == 0 {
		return nil
	}
	// One order for every instance, so two flushes into PostgreSQL or MySQL
	// lock rows in the same order and cannot deadlock each other.
	slices.SortFunc(batch, func(a, b keystore.UsageDelta) int {
		return cmp.Or(strings.Compare(a.KeyID, b.KeyID), strings.Compare(a.Day, b.Day))
	})
	add := gorm.Expr(s.usage + ".requests + excluded.requests")
	if s.db.Name() == "mysql" {
		add = gorm.Expr("requests + VALUES(requests)")
	}
	// Made again after a lost COMMIT only under a sequence number (first).
	return s.transaction(ctx, first != nil, func(tx *gorm.DB) error {
		if first != nil {
			if apply, err := first(tx); err != nil || !apply {
				return err
			}
		}
		batch, err := s.liveOnly(tx, batch)
		if err != nil || len(batch) == 0 {
			return err
		}
		rows := make([]usageRow, 0, len(batch))
		var refused []outcomeRow
		for _, d := range batch {
			if d.Requests > 0 {
				rows = append(rows, usageRow{KeyID: d.KeyID, Day: d.Day, Requests: d.Requests})
			}
			for _, o := range slices.Sorted(maps.Keys(d.Refused)) { // one lock order, as for the usage rows
				if n := d.Refused[o]; n > 0 {
					refused = append(refused, outcomeRow{KeyID: d.KeyID, Day: d.Day, Outcome: o, Refusals: n})
				}
			}
		}
		if len(rows) > 0 {
			err = tx.Table(s.usage).Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "key_id"}, {Name: "day"}},
				DoUpdates: clause.Assignments(map[string]any{"requests": add}),
			}).CreateInBatches(rows, 500).Error
			if err != nil {
				return err
			}
		}
		if err := s.addRefused(tx, refused); err != nil {
			return err
		}
		for _, d := range batch {
			if d.Requests == 0 {
				continue
			}
			at := d.LastUsed.UTC().Truncate(time.Microsecond)
			err := tx.Table(s.keys).
				Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", d.KeyID, at).
				Update("last_used_at", at).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// liveOnly drops the counts of keys deleted since they were counted, so a
// deleted key leaves no usage rows behind. batch is sorted by key id.
func (s *Store) liveOnly(tx *gorm.DB, batch []keystore.UsageDelta) ([]keystore.UsageDelta, error) {
	ids := make([]string, 0, len(batch))
	for i, d := range batch {
		if i == 0 || d.KeyID != batch[i-1].KeyID {
			ids = append(ids, d.KeyID)
		}
	}
	live := make(map[string]bool, len(ids))
	for chunk := range slices.Chunk(ids, 500) {
		var found []string
		if err := tx.Table(s.keys).Where("id IN ?", chunk).Pluck("id", &found).Error; err != nil {
			return nil, err
		}
		for _, id := range found {
			live[id] = true
		}
	}
	if len(live) == len(ids) {
		return batch, nil
	}
	kept := make([]keystore.UsageDelta, 0, len(batch)) // a copy: the caller keeps batch to restore it on failure
	for _, d := range batch {
		if live[d.KeyID] {
			kept = append(kept, d)
		}
	}
	return kept, nil
}

// Usage returns key id's requests in all and per day from since on.
func (s *Store) Usage(ctx context.Context, id string, since string) (int64, []keystore.DayCount, error) {
	var total struct{ Sum int64 }
	var rows []usageRow
	err := s.read(ctx, func(db *gorm.DB) error {
		rows = nil
		if err := db.Table(s.usage).Select("COALESCE(SUM(requests), 0) AS sum").Where("key_id = ?", id).Scan(&total).Error; err != nil {
			return err
		}
		return db.Table(s.usage).Where("key_id = ? AND day >= ?", id, since).Order("day").Find(&rows).Error
	})
	if err != nil {
		return 0, nil, err
	}
	daily := make([]keystore.DayCount, len(rows))
	for i, r := range rows {
		daily[i] = keystore.DayCount{Day: r.Day, Requests: r.Requests}
	}
	return total.Sum, daily, nil
}

// UsageSummaries returns a page of every key's requests, newest key first.
func (s *Store) UsageSummaries(ctx context.Context, limit, offset int) ([]keystore.KeyUsage, int64, error) {
	var total int64
	var rows []struct {
		ID         string
		Prefix     string
		Name       string
		LastUsedAt *time.Time
		Total      int64
	}
	err := s.read(ctx, func(db *gorm.DB) error {
		rows = nil
		if err := db.Table(s.keys).Count(&total).Error; err != nil {
			return err
		}
		return db.Table(s.keys + " AS k").
			Select("k.id, k.prefix, k.name, k.last_used_at, COALESCE(SUM(u.requests), 0) AS total").
			Joins("LEFT JOIN " + s.usage + " AS u ON u.key_id = k.id").
			Group("k.id, k.prefix, k.name, k.last_used_at, k.created_at").
			Order("k.created_at DESC, k.id").Limit(limit).Offset(offset).
			Scan(&rows).Error
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]keystore.KeyUsage, len(rows))
	for i, r := range rows {
		out[i] = keystore.KeyUsage{ID: r.ID, Prefix: r.Prefix, Name: r.Name, Requests: r.Total, LastUsedAt: utcPtr(r.LastUsedAt)}
	}
	return out, total, nil
}
