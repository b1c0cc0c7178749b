package ginkey

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// The listing's indexes, named <table>_<suffix>.
const (
	createdIndex = "created_idx" // (created_at DESC, id): the listing order
	statusIndex  = "status_idx"  // (revoked_at, expires_at): status filters and counts
)

// keyCounts are exact counts read in one statement, so from one snapshot.
type keyCounts struct {
	Total, Revoked, Expired int64
}

func (k keyCounts) of(st Status) int64 {
	switch st {
	case StatusActive:
		return k.Total - k.Revoked - k.Expired
	case StatusExpired:
		return k.Expired
	case StatusRevoked:
		return k.Revoked
	}
	return k.Total
}

// List pages through keys newest first. The total is exact. Revoked and
// expired keys are counted on the status index, which holds them in ranges;
// active keys, usually nearly all, are the rest of the table; so counting a
// million keys reads one small index once and never the rows.
func (s *gormStore) List(ctx context.Context, q ListQuery) ([]Record, int64, error) {
	counts, err := s.counts(ctx, q.Now)
	if err != nil {
		return nil, 0, err
	}
	total := counts.of(q.Status)
	if total == 0 || int64(q.Offset) >= total {
		return []Record{}, total, nil
	}
	db := s.db.WithContext(ctx).Table(s.keys)
	if s.sqlite {
		// SQLite keeps no statistics unless ANALYZE is run, so it cannot know
		// that "not revoked" matches nearly every row; the exact counts tell
		// which plan reads fewer rows.
		db = s.db.WithContext(ctx).Table(s.keys + " INDEXED BY " + s.keys + "_" + s.listIndex(q, counts.Total, total))
	}
	switch q.Status {
	case StatusActive:
		db = db.Where("revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", q.Now)
	case StatusExpired:
		db = db.Where("revoked_at IS NULL AND expires_at <= ?", q.Now)
	case StatusRevoked:
		db = db.Where("revoked_at IS NOT NULL")
	}
	var rows []keyRow
	if err := db.Order("created_at DESC, id").Limit(q.Limit).Offset(q.Offset).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	out := make([]Record, 0, len(rows))
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
func (s *gormStore) listIndex(q ListQuery, all, matching int64) string {
	if q.Status == "" {
		return createdIndex
	}
	if int64(q.Offset+q.Limit)*all <= matching*matching {
		return createdIndex
	}
	return statusIndex
}

func (s *gormStore) counts(ctx context.Context, now time.Time) (keyCounts, error) {
	t := clause.Table{Name: s.keys}
	var c keyCounts
	err := s.db.WithContext(ctx).Raw("SELECT (SELECT COUNT(*) FROM ?) AS total,"+
		" (SELECT COUNT(*) FROM ? WHERE revoked_at IS NOT NULL) AS revoked,"+
		" (SELECT COUNT(*) FROM ? WHERE revoked_at IS NULL AND expires_at <= ?) AS expired",
		t, t, t, now).Scan(&c).Error
	return c, err
}
