package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/store/postgres"
	"github.com/batonhq/baton/internal/store/sqlite"
)

// openedDB is the server's store with what the engine adds: how to name it
// in logs, and (PostgreSQL) the store the replica machinery works on.
type openedDB struct {
	store.Store
	// describe names the database without secrets.
	describe string
	// pg is set on PostgreSQL.
	pg *postgres.Store
	// release undoes what opening took besides the store (SQLite's lock).
	release func()
}

// openDatabase opens the configured engine for the server: SQLite (one
// server per file, locked) or PostgreSQL (any number of replicas; start-up
// retries a database that does not answer yet, up to the connect timeout,
// then fails). Migrations run on both.
func openDatabase(ctx context.Context, cfg config.Server, log *slog.Logger) (*openedDB, error) {
	db := cfg.Database()
	if db.Engine == config.EnginePostgres {
		st, err := postgres.Open(ctx, pgConfig(cfg, db.URL, log))
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		return &openedDB{Store: st, describe: postgres.Redact(db.URL), pg: st, release: func() {}}, nil
	}
	// One server per database file: a second one (or a restore) is refused.
	unlock, err := sqlite.Lock(db.Path)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: db.Path, Logger: log, WALMaxBytes: cfg.WALMaxBytes(),
		MemoryBytes: cfg.MemoryBytes(), SkipStartupCheck: os.Getenv("BATON_STARTUP_CHECK") == "off"})
	if err != nil {
		unlock()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return &openedDB{Store: st, describe: db.Path, release: unlock}, nil
}

// pgConfig is the PostgreSQL engine's configuration from the server's.
func pgConfig(cfg config.Server, url string, log *slog.Logger) postgres.Config {
	return postgres.Config{URL: url, Logger: log, MaxConns: int32(cfg.Postgres.MaxConns),
		StatementTimeout: cfg.Postgres.StatementTimeout, ConnectTimeout: cfg.Postgres.ConnectTimeout}
}

// openStore opens the configured engine for a command that works on the
// database directly (admin create-user, secrets rotate-key, dev seed):
// SQLite at cfg.DatabasePath, or PostgreSQL when cfg.DatabaseURL names it.
func openStore(ctx context.Context, cfg config.Server, log *slog.Logger) (store.Store, error) {
	db := cfg.Database()
	if db.Engine == config.EnginePostgres {
		st, err := postgres.Open(ctx, pgConfig(cfg, db.URL, log))
		if err != nil {
			return nil, fmt.Errorf("open the database: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: db.Path, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open the database %s: %w", db.Path, err)
	}
	return st, nil
}

// errSQLiteOnly is what the file-level commands (backup, restore, vacuum)
// answer on PostgreSQL.
func errSQLiteOnly(command string) error {
	return usageError(command + " works on Baton's SQLite file; BATON_DATABASE_URL names a PostgreSQL database: use pg_dump and pg_restore (PostgreSQL vacuums by itself)")
}
