package ginkey

import (
	"context"
	"errors"
	"fmt"

	"github.com/ginkey/ginkey/gormstore"
	"github.com/ginkey/ginkey/keystore"
)

// openStore sets the guard's store: Config.Store as it is, else the GORM
// store on Config.DB, else on the database Config.DBPath names, which the
// guard then owns and closes.
func (g *Guard) openStore(cfg *Config) error {
	var s *gormstore.Store
	switch {
	case cfg.Store != nil:
		g.store = cfg.Store
		g.usageStore, _ = cfg.Store.(keystore.UsageStore)
		return nil
	case cfg.DB != nil:
		// Refused here rather than found out by the notifier, which would
		// only log it: the other instances' revocations would go unseen
		// for CacheTTL.
		if cfg.DB.Name() == "postgres" && cfg.Postgres == nil && cfg.Notifier == nil {
			return fmt.Errorf("%w (Config.DB is a PostgreSQL database; a Config.Notifier of your own would do as well)", gormstore.ErrNoPostgres)
		}
		opened, err := gormstore.New(context.Background(), cfg.DB, cfg.TablePrefix, cfg.Postgres)
		if err != nil {
			return err
		}
		s = opened
	default:
		opened, err := gormstore.Open(context.Background(), cfg.DBPath, cfg.TablePrefix, g.log, cfg.Postgres)
		if err != nil {
			return err
		}
		s, g.closeDB = opened, opened.Close
	}
	g.store, g.usageStore = s, s
	return nil
}

// notifierFor returns Config.Notifier, else the store's own (the GORM
// store's on PostgreSQL), else nil. A store that cannot listen for want of
// its PostgreSQL driver (a Config.Store from gormstore.New(..., nil) on
// PostgreSQL) is an error, as Config.DB without Config.Postgres is: other
// instances' revocations would go unseen for CacheTTL. Any other failure
// to listen is logged, and the guard runs without.
func (g *Guard) notifierFor(cfg *Config) (keystore.Notifier, error) {
	if cfg.Notifier != nil {
		return cfg.Notifier, nil
	}
	src, ok := g.store.(keystore.NotifierSource)
	if !ok {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.StoreTimeout)
	defer cancel()
	n, err := src.Notifier(ctx, cfg.StoreTimeout)
	if errors.Is(err, gormstore.ErrNoPostgres) {
		return nil, fmt.Errorf("%w (Config.Store is a GORM store on PostgreSQL made without pgstore.Driver{}; a Config.Notifier of your own would do as well)", err)
	}
	if err != nil {
		g.log.Warn("ginkey: key changes made by other instances are seen within CacheTTL only: cannot listen for them (set Config.Notifier)",
			"error", err)
		return nil, nil
	}
	return n, nil
}

func (g *Guard) closeStore() error {
	if g.closeDB == nil {
		return nil
	}
	return g.closeDB()
}
