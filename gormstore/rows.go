package gormstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ginkey/ginkey/keystore"
)

type keyRow struct {
	ID       string `gorm:"primaryKey;size:32"`
	Hash     string `gorm:"size:64;not null"`
	Prefix   string `gorm:"size:32;not null"`
	Name     string `gorm:"size:200;not null"`
	Scopes   string `gorm:"type:text;not null"`
	Metadata string `gorm:"type:text;not null"`
	// Added with key management: owner has a default, so that AutoMigrate
	// can add it to a populated table; the rotation links are nullable.
	Owner       string  `gorm:"size:200;not null;default:''"`
	RotatedFrom *string `gorm:"column:rotated_from;size:32"`
	RotatedTo   *string `gorm:"column:rotated_to;size:32"`
	// Added with shared limits along a rotation chain; nullable, NULL for a
	// key no rotation created, so that AutoMigrate adds it to a populated
	// table and the keys already there keep their own id as their chain.
	ChainID *string `gorm:"column:chain_id;size:32"`
	// Added with authorization; nullable so that AutoMigrate can add them to
	// a populated table in every dialect.
	RateLimit  *string    `gorm:"column:rate_limit;type:text"`
	AllowedIPs *string    `gorm:"column:allowed_ips;type:text"`
	Quota      *string    `gorm:"column:quota;type:text"`
	CreatedAt  time.Time  `gorm:"precision:6"` // microseconds in every dialect
	ExpiresAt  *time.Time `gorm:"precision:6"`
	RevokedAt  *time.Time `gorm:"precision:6"`
	LastUsedAt *time.Time `gorm:"precision:6"`
}

type usageRow struct {
	KeyID    string `gorm:"primaryKey;size:32"`
	Day      string `gorm:"primaryKey;size:10"`
	Requests int64  `gorm:"not null"`
}

func toRow(r *keystore.Record) (keyRow, error) {
	scopes, err := json.Marshal(nonNilScopes(r.Scopes))
	if err != nil {
		return keyRow{}, err
	}
	meta := r.Metadata
	if meta == nil {
		meta = map[string]any{}
	}
	metadata, err := json.Marshal(meta)
	if err != nil {
		return keyRow{}, err
	}
	ips, err := jsonColumn(r.AllowedIPs, len(r.AllowedIPs) == 0)
	if err != nil {
		return keyRow{}, err
	}
	rl, err := jsonColumn(r.RateLimit, r.RateLimit == nil)
	if err != nil {
		return keyRow{}, err
	}
	quota, err := jsonColumn(r.Quota, r.Quota == nil)
	if err != nil {
		return keyRow{}, err
	}
	return keyRow{
		ID: r.ID, Hash: r.Hash, Prefix: r.Prefix, Name: r.Name, Owner: r.Owner,
		RotatedFrom: idColumn(r.RotatedFrom), RotatedTo: idColumn(r.RotatedTo),
		ChainID: idColumn(r.ChainID),
		Scopes:  string(scopes), Metadata: string(metadata),
		AllowedIPs: ips, RateLimit: rl, Quota: quota,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: utcPtr(r.ExpiresAt),
		RevokedAt: utcPtr(r.RevokedAt), LastUsedAt: utcPtr(r.LastUsedAt),
	}, nil
}

func fromRow(row *keyRow) (*keystore.Record, error) {
	r := &keystore.Record{Hash: row.Hash}
	r.ID, r.Prefix, r.Name, r.Owner = row.ID, row.Prefix, row.Name, row.Owner
	if row.RotatedFrom != nil {
		r.RotatedFrom = *row.RotatedFrom
	}
	if row.RotatedTo != nil {
		r.RotatedTo = *row.RotatedTo
	}
	if row.ChainID != nil {
		r.ChainID = *row.ChainID
	}
	r.CreatedAt = row.CreatedAt.UTC()
	r.ExpiresAt, r.RevokedAt, r.LastUsedAt = utcPtr(row.ExpiresAt), utcPtr(row.RevokedAt), utcPtr(row.LastUsedAt)
	// Most keys carry neither scopes nor metadata: skip the decoder for them.
	if row.Scopes != "[]" {
		if err := json.Unmarshal([]byte(row.Scopes), &r.Scopes); err != nil {
			return nil, fmt.Errorf("ginkey: key %s: scopes: %w", row.ID, err)
		}
	}
	if row.Metadata != "{}" {
		if err := unmarshalNumbers([]byte(row.Metadata), &r.Metadata); err != nil {
			return nil, fmt.Errorf("ginkey: key %s: metadata: %w", row.ID, err)
		}
	}
	if err := fromJSONColumn(row.AllowedIPs, &r.AllowedIPs); err != nil {
		return nil, fmt.Errorf("ginkey: key %s: allowed_ips: %w", row.ID, err)
	}
	if err := fromJSONColumn(row.RateLimit, &r.RateLimit); err != nil {
		return nil, fmt.Errorf("ginkey: key %s: rate_limit: %w", row.ID, err)
	}
	if err := fromJSONColumn(row.Quota, &r.Quota); err != nil {
		return nil, fmt.Errorf("ginkey: key %s: quota: %w", row.ID, err)
	}
	r.Scopes = nonNilScopes(r.Scopes)
	if r.AllowedIPs == nil {
		r.AllowedIPs = []string{}
	}
	if r.Metadata == nil {
		r.Metadata = map[string]any{}
	}
	return r, nil
}

// idColumn stores a key id, or NULL for none.
func idColumn(id string) *string {
	if id == "" {
		return nil
	}
	return &id
}

// jsonColumn renders v for a nullable JSON text column; none stores NULL.
func jsonColumn(v any, none bool) (*string, error) {
	if none {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

func fromJSONColumn(col *string, dst any) error {
	if col == nil || *col == "" {
		return nil
	}
	return json.Unmarshal([]byte(*col), dst)
}

func nonNilScopes(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// unmarshalNumbers decodes b into dst with numbers as json.Number, so that
// metadata comes back digit for digit as it was stored.
func unmarshalNumbers(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(dst)
}
