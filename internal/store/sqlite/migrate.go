package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded, numbered SQL file.
type migration struct {
	version  int
	name     string
	sql      string
	checksum string
}

// migrations returns the embedded migrations in version order. File names
// are NNNN_description.sql; a duplicate or malformed number is a build bug.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: read migrations: %w", err)
	}
	var ms []migration
	seen := map[int]bool{}
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || seen[v] {
			return nil, fmt.Errorf("sqlite: bad migration file name %q", name)
		}
		seen[v] = true
		b, err := migrationFS.ReadFile(path.Join("migrations", name))
		if err != nil {
			return nil, fmt.Errorf("sqlite: read migration %s: %w", name, err)
		}
		sum := sha256.Sum256(b)
		ms = append(ms, migration{version: v, name: name, sql: string(b), checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at INTEGER NOT NULL
)`

// Migrate applies every embedded migration that the database has not seen,
// all in one transaction together with their schema_migrations rows. Open
// calls it before starting the writer; calling it again is a no-op. It
// refuses to run against a database whose applied migrations differ from
// the embedded ones (edited files, or a newer binary's schema).
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if s.rdb != nil {
		// After Open the writer goroutine owns the connection.
		return s.write(ctx, func(tx *wtx) error { return migrateTx(ctx, s.log, tx.Tx, ms) })
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: begin: %w", err)
	}
	if err := migrateTx(ctx, s.log, tx, ms); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate: commit: %w", err)
	}
	return nil
}

// migrateTx applies the pending migrations inside tx. One transaction for
// all of them keeps a half-migrated file impossible.
func migrateTx(ctx context.Context, log *slog.Logger, tx *sql.Tx, ms []migration) error {
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	applied, err := appliedMigrations(ctx, tx)
	if err != nil {
		return err
	}
	if err := compareMigrations(applied, ms, true); err != nil {
		return err
	}
	for _, m := range ms {
		if _, ok := applied[m.version]; ok {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)`,
			m.version, m.name, m.checksum, time.Now().UnixMicro()); err != nil {
			return fmt.Errorf("sqlite: record migration %s: %w", m.name, err)
		}
		log.Info("sqlite: applied migration", slog.String("migration", m.name))
	}
	return nil
}

type appliedMigration struct{ name, checksum string }

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func appliedMigrations(ctx context.Context, q querier) (map[int]appliedMigration, error) {
	rows, err := q.QueryContext(ctx, `SELECT version, name, checksum FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read schema_migrations: %w", err)
	}
	defer rows.Close()
	out := map[int]appliedMigration{}
	for rows.Next() {
		var v int
		var a appliedMigration
		if err := rows.Scan(&v, &a.name, &a.checksum); err != nil {
			return nil, fmt.Errorf("sqlite: read schema_migrations: %w", err)
		}
		out[v] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read schema_migrations: %w", err)
	}
	return out, nil
}

// compareMigrations checks applied against the embedded list: every applied
// migration must be embedded with the same checksum, and (unless pending is
// allowed) every embedded one must be applied.
func compareMigrations(applied map[int]appliedMigration, ms []migration, allowPending bool) error {
	var problems []error
	known := map[int]bool{}
	for _, m := range ms {
		known[m.version] = true
		a, ok := applied[m.version]
		switch {
		case !ok && !allowPending:
			problems = append(problems, fmt.Errorf("migration %s is not applied", m.name))
		case ok && a.checksum != m.checksum:
			problems = append(problems, fmt.Errorf("migration %s was applied with a different content (checksum %s, embedded %s)", m.name, a.checksum, m.checksum))
		}
	}
	for v, a := range applied {
		if !known[v] {
			problems = append(problems, fmt.Errorf("applied migration %d (%s) is unknown to this binary", v, a.name))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("sqlite: schema mismatch: %w", errors.Join(problems...))
	}
	return nil
}

// Validate checks the database at path without modifying it: the applied
// migrations must be exactly the embedded ones (same numbers and contents)
// and PRAGMA integrity_check must report ok. It backs `baton migrate validate`.
func Validate(ctx context.Context, path string) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", dsn(path, true, 0))
	if err != nil {
		return fmt.Errorf("sqlite: validate: open: %w", err)
	}
	defer db.Close()
	applied, err := appliedMigrations(ctx, db)
	if err != nil {
		return fmt.Errorf("sqlite: validate %s: %w", path, err)
	}
	if err := compareMigrations(applied, ms, false); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("sqlite: integrity_check: %w", err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return fmt.Errorf("sqlite: integrity_check: %w", err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: integrity_check: %w", err)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("sqlite: integrity_check failed: %s", strings.Join(msgs, "; "))
	}
	return nil
}
