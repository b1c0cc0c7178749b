package gormstore

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ginkey/ginkey/keystore"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The usage counts: requests per key and UTC day, added in batches by the
// guard's flusher and read for the usage endpoints and quotas.

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
