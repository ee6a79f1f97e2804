package postgres

import (
	"context"
	"crypto/sha256"
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

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLockKey is the advisory lock that serializes migrators: two
// replicas starting at once apply the migrations once, the second waiting
// for the first (and then finding nothing to do).
const migrationLockKey int64 = 0x6261746f6e01 // "baton" 01

type migration struct {
	version  int
	name     string
	sql      string
	checksum string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: read migrations: %w", err)
	}
	var ms []migration
	seen := map[int]bool{}
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || seen[v] {
			return nil, fmt.Errorf("postgres: bad migration file name %q", name)
		}
		seen[v] = true
		b, err := migrationFS.ReadFile(path.Join("migrations", name))
		if err != nil {
			return nil, fmt.Errorf("postgres: read migration %s: %w", name, err)
		}
		sum := sha256.Sum256(b)
		ms = append(ms, migration{version: v, name: name, sql: string(b), checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at bigint NOT NULL
)`

// Migrate applies every embedded migration the database has not seen, in
// one transaction, holding the migration advisory lock (a concurrent
// migrator waits, then finds the work done). It refuses a database whose
// applied migrations differ from the embedded ones.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	waitLog := time.AfterFunc(2*time.Second, func() {
		s.log.Info("postgres: waiting for another replica's migration to finish")
	})
	_, err = conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey)
	waitLog.Stop()
	if err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey)
	}()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
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
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)`,
			m.version, m.name, m.checksum, time.Now().UnixMicro()); err != nil {
			return fmt.Errorf("postgres: record migration %s: %w", m.name, err)
		}
		s.log.Info("postgres: applied migration", slog.String("migration", m.name))
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: commit: %w", err)
	}
	return nil
}

type appliedMigration struct{ name, checksum string }

func appliedMigrations(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) (map[int]appliedMigration, error) {
	rows, err := q.Query(ctx, `SELECT version, name, checksum FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("postgres: read schema_migrations: %w", err)
	}
	defer rows.Close()
	out := map[int]appliedMigration{}
	for rows.Next() {
		var v int
		var a appliedMigration
		if err := rows.Scan(&v, &a.name, &a.checksum); err != nil {
			return nil, fmt.Errorf("postgres: read schema_migrations: %w", err)
		}
		out[v] = a
	}
	return out, rows.Err()
}

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
		return fmt.Errorf("postgres: schema mismatch: %w", errors.Join(problems...))
	}
	return nil
}

// Validate checks the database without modifying it: the applied
// migrations must be exactly the embedded ones. It backs `baton migrate
// validate`.
func Validate(ctx context.Context, cfg Config) error {
	cfg.SkipMigrate = true
	s, err := Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	ms, err := migrations()
	if err != nil {
		return err
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: validate: %w", err)
	}
	if !exists {
		return errors.New("postgres: validate: the database has no Baton schema (run `baton migrate up`)")
	}
	applied, err := appliedMigrations(ctx, s.pool)
	if err != nil {
		return err
	}
	return compareMigrations(applied, ms, false)
}
