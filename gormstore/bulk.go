package gormstore

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/ginkey/ginkey/keystore"
	"gorm.io/gorm"
)

// insertBatchRows keeps one INSERT well under SQLite's 32,766 bound
// variables (a row binds sixteen).
const insertBatchRows = 1000

// InsertBatch inserts records in one transaction, a multi-row INSERT per
// thousand records.
func (s *Store) InsertBatch(ctx context.Context, records []keystore.Record) error {
	if len(records) == 0 {
		return nil
	}
	rows := make([]keyRow, len(records))
	for i := range records {
		row, err := toRow(&records[i])
		if err != nil {
			return err
		}
		rows[i] = row
	}
	// In hash order, consecutive rows share pages of the hash index.
	slices.SortFunc(rows, func(a, b keyRow) int { return strings.Compare(a.Hash, b.Hash) })
	return s.transaction(ctx, false, func(tx *gorm.DB) error {
		if s.sqlite {
			// Random hashes and ids land all over their indexes; a page
			// cache that holds them turns re-reads into memory hits. The
			// connection gets its usual cache back afterwards.
			var prev int64
			if err := tx.Raw("PRAGMA cache_size").Scan(&prev).Error; err != nil {
				return err
			}
			if err := tx.Exec("PRAGMA cache_size = -65536").Error; err != nil {
				return err
			}
			defer tx.Exec("PRAGMA cache_size = " + strconv.FormatInt(prev, 10))
		}
		return tx.Table(s.keys).CreateInBatches(rows, insertBatchRows).Error
	})
}
