package keystore

import (
	"context"
	"time"
)

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID      int64 // assigned by the store, growing
	Time    time.Time
	Action  string
	KeyID   string // "" for an entry about no key
	Actor   string
	Fields  []string // names, never values; none: empty
	Outcome string
	Count   int64
	// Principal is who was authenticated ("secret", "key:<id>"...), at
	// most 200 bytes; "" for none. An entry written before stores kept it
	// reads back "".
	Principal string
}

// AuditQuery selects a page of the audit log. Every filter set must hold.
type AuditQuery struct {
	KeyID  string    // only entries about this key
	Action string    // only entries of this action
	Since  time.Time // only entries at or after this time; zero: all
	Limit  int
	Offset int
}

// AuditStore is a Store that keeps the audit log: entries are appended and,
// past the retention, pruned; never changed. Without it ginkey keeps no
// audit log.
type AuditStore interface {
	// AddAudit appends entries; their ID is the store's to assign.
	AddAudit(ctx context.Context, entries []AuditEntry) error
	// Audit returns the entries matching q, newest first (Time, then ID,
	// descending), and how many match.
	Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, int64, error)
	// PruneAudit deletes at most limit entries older than before, oldest
	// first, and returns how many it deleted.
	PruneAudit(ctx context.Context, before time.Time, limit int) (int64, error)
}
