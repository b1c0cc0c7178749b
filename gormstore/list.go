package gormstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/ginkey/ginkey/keystore"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The listing's indexes, named <table>_<suffix>.
const (
	createdIndex = "created_idx" // (created_at DESC, id): the listing order
	statusIndex  = "status_idx"  // (revoked_at, expires_at): status filters and counts
	ownerIndex   = "owner_idx"   // (owner, created_at DESC, id): one owner's keys in listing order
	prefixIndex  = "prefix_idx"  // (prefix): the display prefix a customer reads out
)

// A key's state at a time now, as SQL: keystore.StatusAt again, since the
// filter and the counts must run in the database. A rotated key has
// revoked_at in the future until its grace period ends, and is active (or
// expired) until then.
const (
	notRevokedSQL = "(revoked_at IS NULL OR (revoked_at > ? AND rotated_to IS NOT NULL))"
	activeSQL     = notRevokedSQL + " AND (expires_at IS NULL OR expires_at > ?)"
	expiredSQL    = notRevokedSQL + " AND expires_at <= ?"
	revokedSQL    = "(revoked_at <= ? OR (revoked_at IS NOT NULL AND rotated_to IS NULL))"
)

// keyCounts are exact counts read in one statement, so from one snapshot.
type keyCounts struct {
	Total, Revoked, Expired, GraceExpired int64
}

func (k keyCounts) of(st keystore.Status) int64 {
	expired := k.Expired + k.GraceExpired
	switch st {
	case keystore.StatusActive:
		return k.Total - k.Revoked - expired
	case keystore.StatusExpired:
		return expired
	case keystore.StatusRevoked:
		return k.Revoked
	}
	return k.Total
}

// List pages through keys newest first. The total is exact. Without a
// search filter, revoked and expired keys are counted on the status index,
// which holds them in ranges; active keys, usually nearly all, are the rest
// of the table; so counting a million keys reads one small index once and
// never the rows. An owner or a prefix is read off its own index, so one
// owner's keys among a million are a short range; a name alone scans.
func (s *Store) List(ctx context.Context, q keystore.ListQuery) (recs []keystore.Record, total int64, err error) {
	err = s.read(ctx, func(db *gorm.DB) error {
		recs, total, err = s.list(db, q)
		return err
	})
	return recs, total, err
}

func (s *Store) list(conn *gorm.DB, q keystore.ListQuery) ([]keystore.Record, int64, error) {
	if q.Owner != "" || q.Prefix != "" || q.Name != "" {
		return s.search(conn, q)
	}
	counts, err := s.counts(conn, q.Now)
	if err != nil {
		return nil, 0, err
	}
	total := counts.of(q.Status)
	if total == 0 || int64(q.Offset) >= total {
		return []keystore.Record{}, total, nil
	}
	db := conn.Table(s.keys)
	if s.sqlite {
		// SQLite keeps no statistics unless ANALYZE is run, so it cannot know
		// that "not revoked" matches nearly every row; the exact counts tell
		// which plan reads fewer rows.
		db = conn.Table(s.indexed(s.listIndex(q, counts.Total, total)))
	}
	return s.page(whereStatus(db, q), q, total)
}

// search is List with an owner, prefix or name filter: counted and read
// through the same conditions.
func (s *Store) search(conn *gorm.DB, q keystore.ListQuery) ([]keystore.Record, int64, error) {
	table := s.keys
	if s.sqlite {
		switch {
		case q.Owner != "":
			table = s.indexed(ownerIndex)
		case q.Prefix != "":
			table = s.indexed(prefixIndex)
		}
	}
	where := func() *gorm.DB {
		db := whereStatus(conn.Table(table), q)
		exact := func(col, v string) {
			db = db.Where(col+" = ?", v)
			if s.db.Name() == "mysql" {
				// MySQL's default collations ignore case: the index finds
				// the candidates, the binary comparison the match.
				db = db.Where("BINARY "+col+" = ?", v)
			}
		}
		if q.Owner != "" {
			exact("owner", q.Owner)
		}
		if q.Prefix != "" {
			exact("prefix", q.Prefix)
		}
		if q.Name != "" {
			// Both sides folded by the database, by the same rules (SQLite's
			// fold only ASCII letters).
			db = db.Where("LOWER(name) LIKE LOWER(?) ESCAPE '!'", "%"+likeEscaper.Replace(q.Name)+"%")
		}
		return db
	}
	var total int64
	if err := where().Count(&total).Error; err != nil {
		return nil, 0, err
	}
	if total == 0 || int64(q.Offset) >= total {
		return []keystore.Record{}, total, nil
	}
	return s.page(where(), q, total)
}

// likeEscaper quotes LIKE's wildcards with '!', an escape character that
// means the same in every dialect (a backslash does not).
var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// indexed is the keys table for a FROM clause that makes SQLite read it
// through the named index.
func (s *Store) indexed(index string) string {
	return s.keys + " INDEXED BY " + s.keys + "_" + index
}

// whereStatus adds q's status filter to db.
func whereStatus(db *gorm.DB, q keystore.ListQuery) *gorm.DB {
	switch q.Status {
	case keystore.StatusActive:
		return db.Where(activeSQL, q.Now, q.Now)
	case keystore.StatusExpired:
		return db.Where(expiredSQL, q.Now, q.Now)
	case keystore.StatusRevoked:
		return db.Where(revokedSQL, q.Now)
	}
	return db
}

// page reads q's page off db, newest first.
func (s *Store) page(db *gorm.DB, q keystore.ListQuery, total int64) ([]keystore.Record, int64, error) {
	var rows []keyRow
	if err := db.Order("created_at DESC, id").Limit(q.Limit).Offset(q.Offset).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	out := make([]keystore.Record, 0, len(rows))
	for i := range rows {
		r, err := fromRow(&rows[i])
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *r)
	}
	return out, total, nil
}

// listIndex picks the index a page of q is read through. Walking the
// creation order and skipping other states reads about (offset+limit) *
// all/matching rows; taking the matching rows off the status index and
// sorting them reads all of them. Without a status filter the creation order
// is always right.
func (s *Store) listIndex(q keystore.ListQuery, all, matching int64) string {
	if q.Status == "" {
		return createdIndex
	}
	if int64(q.Offset+q.Limit)*all <= matching*matching {
		return createdIndex
	}
	return statusIndex
}

// counts reads each state's count off the status index: every condition is
// one range of (revoked_at, expires_at). Keys in a rotation's grace period
// (revoked_at in the future) count as what their expiry makes them.
func (s *Store) counts(db *gorm.DB, now time.Time) (keyCounts, error) {
	t := clause.Table{Name: s.keys}
	var c keyCounts
	// Rows, not GORM's Scan: Scan records every query to write out the SQL
	// with its values (formatting each) whether or not anything logs it,
	// about 20 allocations a page.
	rows, err := db.Raw("SELECT (SELECT COUNT(*) FROM ?) AS total,"+
		" (SELECT COUNT(*) FROM ? WHERE revoked_at <= ?)"+
		" + (SELECT COUNT(*) FROM ? WHERE revoked_at > ? AND rotated_to IS NULL) AS revoked,"+
		" (SELECT COUNT(*) FROM ? WHERE revoked_at IS NULL AND expires_at <= ?) AS expired,"+
		" (SELECT COUNT(*) FROM ? WHERE revoked_at > ? AND rotated_to IS NOT NULL AND expires_at <= ?) AS grace_expired",
		t, t, now, t, now, t, now, t, now, now).Rows()
	if err != nil {
		return c, err
	}
	defer func() { _ = rows.Close() }()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return c, err
		}
		return c, sql.ErrNoRows
	}
	if err := rows.Scan(&c.Total, &c.Revoked, &c.Expired, &c.GraceExpired); err != nil {
		return c, err
	}
	return c, rows.Err()
}
