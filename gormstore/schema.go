package gormstore

import (
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// checkSchema fails on tables ginkey could not work with: AutoMigrate adds
// what is missing, but it neither removes nor judges what an operator added
// or changed, and a start that succeeded would leave every insert or every
// usage flush to fail, or duplicate hashes to be accepted.
func (s *Store) checkSchema(db *gorm.DB) error {
	if _, err := checkColumns(db, s.keys, &keyRow{}); err != nil {
		return err
	}
	if _, err := checkColumns(db, s.refused, &outcomeRow{}); err != nil {
		return err
	}
	if _, err := checkColumns(db, s.audit, &auditRow{}); err != nil {
		return err
	}
	cols, err := checkColumns(db, s.usage, &usageRow{})
	if err != nil {
		return err
	}
	var pk []string
	for _, c := range cols {
		if p, ok := c.PrimaryKey(); ok && p {
			pk = append(pk, c.Name())
		}
	}
	if sorted := slices.Sorted(slices.Values(pk)); !slices.Equal(sorted, []string{"day", "key_id"}) {
		what := "has no primary key"
		if len(pk) > 0 {
			what = "has its primary key on (" + strings.Join(pk, ", ") + ")"
		}
		return fmt.Errorf("ginkey: table %s: %s, not on (key_id, day); ginkey's usage flushes would fail or count a day twice", s.usage, what)
	}
	return s.checkHashIndex(db)
}

// checkColumns fails on a column ginkey does not know that is NOT NULL
// without a default: ginkey never writes it, so no insert could succeed.
func checkColumns(db *gorm.DB, table string, model any) ([]gorm.ColumnType, error) {
	stmt := &gorm.Statement{DB: db}
	if err := stmt.Parse(model); err != nil {
		return nil, err
	}
	cols, err := db.Migrator().ColumnTypes(table)
	if err != nil {
		return nil, fmt.Errorf("ginkey: table %s: reading its columns: %w", table, err)
	}
	for _, c := range cols {
		if stmt.Schema.FieldsByDBName[c.Name()] != nil {
			continue
		}
		if nullable, ok := c.Nullable(); !ok || nullable {
			continue
		}
		if _, ok := c.DefaultValue(); ok {
			continue
		}
		if auto, ok := c.AutoIncrement(); ok && auto {
			continue
		}
		return nil, fmt.Errorf("ginkey: table %s: column %q is NOT NULL without a default; ginkey's inserts would fail", table, c.Name())
	}
	return cols, nil
}

func (s *Store) checkHashIndex(db *gorm.DB) error {
	if !slices.Contains([]string{"postgres", "mysql", "sqlite"}, db.Name()) {
		return nil // GORM's GetIndexes is not implemented everywhere
	}
	name := s.keys + "_" + hashIndex
	ix, err := s.index(db, name)
	if err != nil {
		return fmt.Errorf("ginkey: table %s: reading index %s: %w", s.keys, name, err)
	}
	var problem string
	switch {
	case ix == nil:
		problem = "is missing"
	case !ix.valid:
		problem = "is INVALID (a failed concurrent build)"
	case ix.partial:
		problem = "is partial or on an expression"
	case !slices.Equal(ix.columns, []string{"hash"}):
		problem = "is on (" + strings.Join(ix.columns, ", ") + ")"
	case !ix.unique:
		problem = "is not UNIQUE"
	default:
		return nil
	}
	return fmt.Errorf("ginkey: table %s: index %s %s, want UNIQUE on (hash); two keys with one hash would be accepted", s.keys, name, problem)
}

type indexShape struct {
	unique, valid, partial bool
	columns                []string
}

// index describes the index name on the keys table, nil if there is none.
func (s *Store) index(db *gorm.DB, name string) (*indexShape, error) {
	var rows []struct {
		Unique, Valid, Partial bool
		Columns                string
	}
	switch {
	case db.Name() == "postgres":
		// GORM's GetIndexes leaves out indexes behind constraints and says
		// nothing of validity or column order.
		err := db.Raw(`SELECT i.indisunique AS "unique", i.indisvalid AS valid,
				i.indpred IS NOT NULL OR i.indexprs IS NOT NULL AS partial,
				array_to_string(ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(num, n)
					JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.n), ',') AS columns
			FROM pg_index i
			WHERE i.indexrelid = to_regclass(quote_ident(?)) AND i.indrelid = to_regclass(quote_ident(?))`,
			name, s.keys).Scan(&rows).Error
		if err != nil {
			return nil, err
		}
	case s.sqlite:
		// Not GetIndexes: it logs its query through Debug().
		err := db.Raw(`SELECT l."unique" AS "unique", 1 AS valid, l.partial AS partial,
				(SELECT group_concat(coalesce(name, ''), ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno)) AS columns
			FROM pragma_index_list(?) AS l WHERE l.name = ?`, s.keys, name).Scan(&rows).Error
		if err != nil {
			return nil, err
		}
	case db.Name() == "mysql":
		indexes, err := db.Migrator().GetIndexes(s.keys)
		if err != nil {
			return nil, err
		}
		for _, ix := range indexes {
			if ix.Name() == name {
				unique, _ := ix.Unique()
				return &indexShape{unique: unique, valid: true, columns: ix.Columns()}, nil
			}
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	r := rows[0]
	return &indexShape{unique: r.Unique, valid: r.Valid, partial: r.Partial, columns: strings.Split(r.Columns, ",")}, nil
}
