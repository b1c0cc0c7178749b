package ginkey

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// gormStore keeps keys and their usage in tables of any GORM dialect.
type gormStore struct {
	db      *gorm.DB
	keys    string // table names, prefix included
	usage   string
	marks   string        // each instance's last flushed batch (OnceUsageStore)
	refused string        // refused verifications per key, day and outcome
	audit   string        // the audit log (AuditStore)
	sqlite  bool          // writes one at a time (nobody sees "database is locked"); SQLite-only SQL
	byHash  *hashLookup   // set on the guard's own SQLite file; nil: ByHash goes through GORM
	writeMu sync.Mutex    // held around writes on SQLite
	file    *fileIdentity // the guard's own SQLite file, checked before each write; nil otherwise
}

var (
	_ Store      = (*gormStore)(nil)
	_ UsageStore = (*gormStore)(nil)
)

func newGormStore(ctx context.Context, db *gorm.DB, tablePrefix string) (*gormStore, error) {
	s := &gormStore{
		db:      db,
		keys:    tablePrefix + "keys",
		usage:   tablePrefix + "usage",
		marks:   tablePrefix + "flush_marks",
		refused: tablePrefix + "outcomes",
		audit:   tablePrefix + "audit",
		sqlite:  db.Name() == "sqlite",
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *gormStore) write(fn func() error) error {
	if s.sqlite {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
	}
	if err := s.file.check(); err != nil {
		return err
	}
	return fn()
}

func (s *gormStore) Insert(ctx context.Context, r *Record) error {
	row, err := toRow(r)
	if err != nil {
		return err
	}
	return s.write(func() error {
		return s.db.WithContext(ctx).Table(s.keys).Create(&row).Error
	})
}

func (s *gormStore) ByHash(ctx context.Context, hash string) (*Record, error) {
	if s.byHash != nil {
		return s.byHash.find(ctx, hash)
	}
	return s.first(ctx, "hash = ?", hash)
}

func (s *gormStore) ByID(ctx context.Context, id string) (*Record, error) {
	return s.first(ctx, "id = ?", id)
}

func (s *gormStore) first(ctx context.Context, where string, arg string) (*Record, error) {
	var rows []keyRow
	if err := s.db.WithContext(ctx).Table(s.keys).Where(where, arg).Limit(1).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	return fromRow(&rows[0])
}

func (s *gormStore) Update(ctx context.Context, id string, ch Changes) (*Record, error) {
	set := map[string]any{}
	// Only a revocation applies to a key in its grace period: it ends the
	// grace. Any other change needs a key that is not revoked at all.
	live := "id = ? AND revoked_at IS NULL"
	args := []any{id}
	if ch.RevokedAt != nil {
		at := ch.RevokedAt.UTC()
		set["revoked_at"] = at
		if ch.revocationOnly() {
			live = "id = ? AND (revoked_at IS NULL OR revoked_at > ?)"
			args = append(args, at)
		}
	}
	if ch.RotatedTo != nil {
		set["rotated_to"] = *ch.RotatedTo
	}
	if ch.Owner != nil {
		set["owner"] = *ch.Owner
	}
	if ch.SetExpiry {
		if ch.ExpiresAt == nil {
			set["expires_at"] = nil
		} else {
			set["expires_at"] = ch.ExpiresAt.UTC()
		}
	}
	if ch.Name != nil {
		set["name"] = *ch.Name
	}
	if ch.Scopes != nil {
		b, err := json.Marshal(*ch.Scopes)
		if err != nil {
			return nil, err
		}
		set["scopes"] = string(b)
	}
	if ch.Metadata != nil {
		b, err := json.Marshal(*ch.Metadata)
		if err != nil {
			return nil, err
		}
		set["metadata"] = string(b)
	}
	if ch.AllowedIPs != nil {
		v, err := jsonColumn(*ch.AllowedIPs, len(*ch.AllowedIPs) == 0)
		if err != nil {
			return nil, err
		}
		set["allowed_ips"] = v
	}
	if ch.SetRateLimit {
		v, err := jsonColumn(ch.RateLimit, ch.RateLimit == nil)
		if err != nil {
			return nil, err
		}
		set["rate_limit"] = v
	}
	if ch.SetQuota {
		v, err := jsonColumn(ch.Quota, ch.Quota == nil)
		if err != nil {
			return nil, err
		}
		set["quota"] = v
	}
	var out *Record
	err := s.write(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			// The revoked_at guard makes revocation final even against a
			// concurrent renew: whichever update lands second changes nothing.
			res := tx.Table(s.keys).Where(live, args...).Updates(set)
			if res.Error != nil {
				return res.Error
			}
			var rows []keyRow
			if err := tx.Table(s.keys).Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
				return err
			}
			if len(rows) == 0 {
				return ErrNotFound
			}
			// RowsAffected alone cannot tell "revoked" from "already so":
			// MySQL counts changed rows, not matched ones.
			if res.RowsAffected == 0 && rows[0].RevokedAt != nil {
				if rows[0].RotatedTo != nil {
					return ErrRotatedConflict
				}
				return ErrRevokedConflict
			}
			r, err := fromRow(&rows[0])
			out = r
			return err
		})
	})
	return out, err
}

func (s *gormStore) Delete(ctx context.Context, id string) error {
	return s.write(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			res := tx.Table(s.keys).Where("id = ?", id).Delete(&keyRow{})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return ErrNotFound
			}
			if err := tx.Table(s.refused).Where("key_id = ?", id).Delete(&outcomeRow{}).Error; err != nil {
				return err
			}
			return tx.Table(s.usage).Where("key_id = ?", id).Delete(&usageRow{}).Error
		})
	})
}

func (s *gormStore) AddUsage(ctx context.Context, batch []UsageDelta) error {
	return s.addUsage(ctx, batch, nil)
}

// addUsage adds batch to the counts in one transaction, after first, when
// given, reports that it should.
func (s *gormStore) addUsage(ctx context.Context, batch []UsageDelta, first func(tx *gorm.DB) (bool, error)) error {
	if len(batch) == 0 {
		return nil
	}
	// One order for every instance, so two flushes into PostgreSQL or MySQL
	// lock rows in the same order and cannot deadlock each other.
	slices.SortFunc(batch, func(a, b UsageDelta) int {
		return cmp.Or(strings.Compare(a.KeyID, b.KeyID), strings.Compare(a.Day, b.Day))
	})
	add := gorm.Expr(s.usage + ".requests + excluded.requests")
	if s.db.Name() == "mysql" {
		add = gorm.Expr("requests + VALUES(requests)")
	}
	return s.write(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
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
	})
}

// liveOnly drops the counts of keys deleted since they were counted, so a
// deleted key leaves no usage rows behind. batch is sorted by key id.
func (s *gormStore) liveOnly(tx *gorm.DB, batch []UsageDelta) ([]UsageDelta, error) {
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
	kept := make([]UsageDelta, 0, len(batch)) // a copy: the caller keeps batch to restore it on failure
	for _, d := range batch {
		if live[d.KeyID] {
			kept = append(kept, d)
		}
	}
	return kept, nil
}

func (s *gormStore) Usage(ctx context.Context, id string, since string) (int64, []DailyUsage, error) {
	db := s.db.WithContext(ctx)
	var total struct{ Sum int64 }
	if err := db.Table(s.usage).Select("COALESCE(SUM(requests), 0) AS sum").Where("key_id = ?", id).Scan(&total).Error; err != nil {
		return 0, nil, err
	}
	var rows []usageRow
	if err := db.Table(s.usage).Where("key_id = ? AND day >= ?", id, since).Order("day").Find(&rows).Error; err != nil {
		return 0, nil, err
	}
	daily := make([]DailyUsage, len(rows))
	for i, r := range rows {
		daily[i] = DailyUsage{Date: r.Day, Requests: r.Requests}
	}
	return total.Sum, daily, nil
}

func (s *gormStore) UsageSummaries(ctx context.Context, limit, offset int) ([]UsageSummary, int64, error) {
	db := s.db.WithContext(ctx)
	var total int64
	if err := db.Table(s.keys).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var rows []struct {
		ID         string
		Prefix     string
		Name       string
		LastUsedAt *time.Time
		Total      int64
	}
	err := db.Table(s.keys + " AS k").
		Select("k.id, k.prefix, k.name, k.last_used_at, COALESCE(SUM(u.requests), 0) AS total").
		Joins("LEFT JOIN " + s.usage + " AS u ON u.key_id = k.id").
		Group("k.id, k.prefix, k.name, k.last_used_at, k.created_at").
		Order("k.created_at DESC, k.id").Limit(limit).Offset(offset).
		Scan(&rows).Error
	if err != nil {
		return nil, 0, err
	}
	out := make([]UsageSummary, len(rows))
	for i, r := range rows {
		out[i] = UsageSummary{ID: r.ID, Prefix: r.Prefix, Name: r.Name, TotalRequests: r.Total, LastUsedAt: utcPtr(r.LastUsedAt)}
	}
	return out, total, nil
}
