package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/store/sqlite"
)

// serverConfig resolves the server's settings from this command's
// environment (BATON_HOME, BATON_DATABASE_PATH, BATON_DATABASE_URL…), as
// `baton server start` would: the commands that open its database directly
// use it.
func (a *app) serverConfig() (config.Server, error) {
	cfg, err := config.ServerFromEnv()
	if err == nil {
		cfg.Home = batonHome(a.env)
		cfg.DatabasePath = a.env.Getenv("BATON_DATABASE_PATH")
		cfg.DatabaseURL = a.env.Getenv("BATON_DATABASE_URL")
		err = cfg.Validate()
	}
	if err != nil {
		return cfg, usageError(err.Error())
	}
	return cfg, nil
}

// serverDatabase resolves the database file the server uses (BATON_HOME,
// BATON_DATABASE_PATH), as `baton server start` would.
func (a *app) serverDatabase() (string, error) {
	cfg, err := a.serverConfig()
	if err != nil {
		return "", err
	}
	if cfg.Database().Engine != config.EngineSQLite {
		return "", errSQLiteOnly("this command")
	}
	return cfg.DatabasePath, nil
}

// backupCmd copies the live database to a file, online.
func (a *app) backupCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Copy the database to FILE while the server runs (consistent, checked)",
		Long: "Write a consistent copy of the server's database to FILE. The server keeps serving, writes\n" +
			"included: the copy is one snapshot of the database, compacted, and checked (SQLite's integrity\n" +
			"check and the migration history) before it is renamed to FILE. FILE must not exist.\n" +
			"Restore it with `baton restore FILE` while the server is stopped.",
		Example: "  baton backup /backups/baton-$(date +%F).db",
		Args:    exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.serverDatabase()
			if err != nil {
				return err
			}
			start := time.Now()
			if err := sqlite.Backup(cmd.Context(), db, args[0]); err != nil {
				return err
			}
			fi, err := os.Stat(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "Backed up %s to %s (%d bytes, %s).\n", db, args[0], fi.Size(), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}

// restoreCmd replaces the database with a backup, with the server stopped.
func (a *app) restoreCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the database with the backup FILE (the server must be stopped)",
		Long: "Replace the server's database with a backup made by `baton backup`. The backup is checked\n" +
			"first; the current database (and its WAL) is moved aside, not deleted, under a\n" +
			"'.before-restore-<time>' name. Refused while a server runs on the database.",
		Example: "  baton restore /backups/baton-2026-05-17.db",
		Args:    exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.serverDatabase()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
				return err
			}
			unlock, err := sqlite.Lock(db)
			if err != nil {
				return err
			}
			defer unlock()
			kept, err := sqlite.Restore(cmd.Context(), args[0], db)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "Restored %s from %s.\n", db, args[0])
			if kept != "" {
				fmt.Fprintf(a.env.Stdout, "The database it replaced is kept as %s.\n", kept)
			}
			return nil
		},
	}
}

// vacuumCmd converts a database made before incremental auto-vacuum, so
// that retention returns the space it frees to the file system.
func (a *app) vacuumCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "vacuum",
		Short: "Compact the database and let it shrink as retention deletes (one time; the server must be stopped)",
		Long: "Rebuild the server's database with SQLite's incremental auto-vacuum. Databases created by this\n" +
			"version have it; older ones reuse the space retention frees but never shrink until converted\n" +
			"once with this command (the server logs a warning at start until then). It rewrites the whole\n" +
			"file, so it needs free disk about the database's size and takes about a second per 100 MB.\n" +
			"Refused while a server runs on the database. Take a backup first (`baton backup FILE`).",
		Example: "  baton backup /backups/before-vacuum.db && baton vacuum",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.serverDatabase()
			if err != nil {
				return err
			}
			unlock, err := sqlite.Lock(db)
			if err != nil {
				return err
			}
			defer unlock()
			start := time.Now()
			before, after, err := sqlite.Vacuum(cmd.Context(), db)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "Vacuumed %s: %d bytes before, %d after (%s). Retention now returns freed space to the disk.\n",
				db, before, after, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}
