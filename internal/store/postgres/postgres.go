// Package postgres is Baton's multi-replica storage engine: store.Store over
// a PostgreSQL database shared by any number of `baton server` replicas,
// through pgx's connection pool.
//
// Unlike the SQLite engine, which owns its file and serializes every write
// through one goroutine, this engine shares the database: each write is one
// transaction on a pooled connection, and the database arbitrates between
// replicas. Writes whose correctness rests on what they read (a name still
// free, a slot still open, a deployment unchanged) run SERIALIZABLE and are
// retried when PostgreSQL reports a serialization failure or a deadlock, so
// they behave as if alone, as on SQLite. The hot paths (run state changes,
// event and task-run ingest, logs) run READ COMMITTED and lock what they
// change (SELECT … FOR UPDATE) or use conflict clauses, so concurrent
// writers never wait on each other's reads. A transaction is never half
// applied: an error rolls it back whole, and one whose connection dropped
// before COMMIT was sent is retried; one whose COMMIT outcome is unknown is
// reported as failed.
//
// Statements are prepared once per connection (pgx's statement cache);
// event and task-run ingest use multi-row statements over arrays.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Config configures Open.
type Config struct {
	// URL is the database's postgres:// (or postgresql://) URL. Required.
	URL string
	// Logger receives connection, migration and retry diagnostics; nil
	// discards them.
	Logger *slog.Logger
	// MaxConns bounds the pool (0: 16). Every replica opens up to this many
	// connections, plus one for leader election and one for notifications.
	MaxConns int32
	// StatementTimeout cancels a statement that runs longer (0: 30 s;
	// negative: none). It protects the database from a runaway query.
	StatementTimeout time.Duration
	// ConnectTimeout bounds how long Open keeps retrying a database that
	// does not answer (0: 60 s), with exponential backoff between attempts.
	ConnectTimeout time.Duration
	// Now is the clock for the times the store stamps itself (created,
	// updated, received); time.Now when nil.
	Now func() time.Time
	// SkipMigrate opens without applying migrations (baton migrate validate).
	SkipMigrate bool
	// Origin names this replica in the events it writes (see
	// RemoteEventsAfter); a random one when empty.
	Origin string
}

// Defaults.
const (
	DefaultMaxConns         = 16
	DefaultStatementTimeout = 30 * time.Second
	DefaultConnectTimeout   = 60 * time.Second
)

// Store is store.Store over a PostgreSQL database.
type Store struct {
	pool  *pgxpool.Pool
	log   *slog.Logger
	clock func() time.Time
	url   string
	// origin is this replica's name, stamped on the events it writes.
	origin string
}

var _ store.Store = (*Store)(nil)

// IsURL reports whether u names a PostgreSQL database (its scheme picks this
// engine).
func IsURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// Redact returns u without its password, for logs and errors.
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable database URL)"
	}
	if p.User != nil {
		if _, ok := p.User.Password(); ok {
			p.User = url.UserPassword(p.User.Username(), "xxxxx")
		}
	}
	return p.String()
}

// poolConfig parses cfg.URL into a pool configuration.
func poolConfig(cfg Config) (*pgxpool.Config, error) {
	if !IsURL(cfg.URL) {
		return nil, fmt.Errorf("postgres: database URL must start with postgres:// or postgresql://")
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// pgx's message may quote the URL; never echo a password.
		return nil, fmt.Errorf("postgres: invalid database URL %s: %s", Redact(cfg.URL), strings.ReplaceAll(err.Error(), cfg.URL, Redact(cfg.URL)))
	}
	pc.MaxConns = cfg.MaxConns
	if pc.MaxConns <= 0 {
		pc.MaxConns = DefaultMaxConns
	}
	st := cfg.StatementTimeout
	if st == 0 {
		st = DefaultStatementTimeout
	}
	if st > 0 {
		pc.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(st.Milliseconds())
	}
	pc.ConnConfig.RuntimeParams["application_name"] = "baton"
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	pc.HealthCheckPeriod = 15 * time.Second
	return pc, nil
}

// Open connects to the database (retrying with backoff while it does not
// answer, up to cfg.ConnectTimeout), applies pending migrations under an
// advisory lock (a second replica migrating at the same time waits), and
// returns the store. A wrong URL, bad credentials or a missing database
// fail at once: retrying cannot fix them.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pc, err := poolConfig(cfg)
	if err != nil {
		return nil, err
	}
	clock := cfg.Now
	if clock == nil {
		clock = time.Now
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	origin := cfg.Origin
	if origin == "" {
		origin = model.NewIDv7().String()
	}
	s := &Store{pool: pool, log: log, clock: clock, url: cfg.URL, origin: origin}
	if err := s.waitReady(ctx, cfg.ConnectTimeout); err != nil {
		pool.Close()
		return nil, err
	}
	if !cfg.SkipMigrate {
		if err := s.Migrate(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return s, nil
}

// waitReady pings until the database answers. Errors that retrying cannot
// fix (authentication, unknown database or role) end it at once.
func (s *Store) waitReady(ctx context.Context, bound time.Duration) error {
	if bound <= 0 {
		bound = DefaultConnectTimeout
	}
	deadline := time.Now().Add(bound)
	backoff := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := s.pool.Ping(pctx)
		cancel()
		if err == nil {
			if attempt > 1 {
				s.log.Info("postgres: database is reachable", "url", Redact(s.url), "attempts", attempt)
			}
			return nil
		}
		if permanent(err) {
			return fmt.Errorf("postgres: cannot use database %s: %w", Redact(s.url), err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().Add(backoff).After(deadline) {
			return fmt.Errorf("postgres: database %s did not answer within %s (%d attempts): %w", Redact(s.url), bound, attempt, err)
		}
		s.log.Warn("postgres: database not reachable yet; retrying", "url", Redact(s.url), "attempt", attempt, "retry_in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// permanent reports errors that a retry cannot fix.
func permanent(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "28P01", "28000", "3D000", "42501": // bad password, no such role/auth, no database, no privilege
			return true
		}
		if strings.HasPrefix(pe.Code, "28") {
			return true
		}
	}
	return false
}

// Close releases the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Pool exposes the connection pool to the replica machinery (leader
// election, notifications) of this package's callers in internal/.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Origin is the name this replica stamps on the events it writes.
func (s *Store) Origin() string { return s.origin }

// URL is the database URL the store was opened with.
func (s *Store) URL() string { return s.url }

// Ping checks that the database answers (readiness endpoint).
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// now is the store's clock at model precision.
func (s *Store) now() model.Time { return model.NewTime(s.clock()) }

// ---- transactions ------------------------------------------------------------

// wtx is a write transaction with helpers that take SQL written with ?
// placeholders (rebound to $n).
type wtx struct {
	tx  pgx.Tx
	ctx context.Context
	s   *Store
	// events counts the events this transaction inserted (their positions
	// are the transaction id shifted left plus this counter).
	events int64
}

func (w *wtx) exec(q string, args ...any) (pgconn.CommandTag, error) {
	return w.tx.Exec(w.ctx, rebind(q), args...)
}

func (w *wtx) queryRow(q string, args ...any) pgx.Row {
	return w.tx.QueryRow(w.ctx, rebind(q), args...)
}

func (w *wtx) query(q string, args ...any) (pgx.Rows, error) {
	return w.tx.Query(w.ctx, rebind(q), args...)
}

// maxAttempts bounds retries of a transaction that lost a serialization
// race, a deadlock or its connection before commit.
const maxAttempts = 12

// write runs fn in a SERIALIZABLE transaction, retrying it on
// serialization failures, deadlocks and connections lost before COMMIT.
// fn must only have effects through tx (it may run more than once).
func (s *Store) write(ctx context.Context, fn func(tx *wtx) error) error {
	return s.run(ctx, pgx.Serializable, fn)
}

// writeRC is write at READ COMMITTED, for the hot paths that lock what they
// change themselves.
func (s *Store) writeRC(ctx context.Context, fn func(tx *wtx) error) error {
	return s.run(ctx, pgx.ReadCommitted, fn)
}

func (s *Store) run(ctx context.Context, iso pgx.TxIsoLevel, fn func(tx *wtx) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = s.attempt(ctx, iso, fn)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		// Jittered, growing pause so racing writers spread out.
		d := time.Duration(1+rand.IntN(1<<min(attempt, 7))) * time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
	}
	return err
}

// errCommitUnknown marks a COMMIT whose outcome is unknown (the connection
// broke while it was in flight): never retried.
type errCommitUnknown struct{ err error }

func (e errCommitUnknown) Error() string {
	return "postgres: commit outcome unknown (connection lost): " + e.err.Error()
}
func (e errCommitUnknown) Unwrap() error { return e.err }

func (s *Store) attempt(ctx context.Context, iso pgx.TxIsoLevel, fn func(tx *wtx) error) (err error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: iso})
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			err = fmt.Errorf("postgres: write operation panicked: %v", r)
		}
	}()
	w := &wtx{tx: tx, ctx: ctx, s: s}
	if err := fn(w); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) || pgconn.SafeToRetry(err) {
			return err
		}
		return errCommitUnknown{err}
	}
	return nil
}

// retryable reports errors after which the whole transaction may run again.
func retryable(err error) bool {
	var cu errCommitUnknown
	if errors.As(err, &cu) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
		return false
	}
	return pgconn.SafeToRetry(err)
}

// ---- reads ------------------------------------------------------------------

func (s *Store) queryRow(ctx context.Context, q string, args ...any) pgx.Row {
	return s.pool.QueryRow(ctx, rebind(q), args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) (pgx.Rows, error) {
	return s.pool.Query(ctx, rebind(q), args...)
}

// rebind turns ? placeholders into $1, $2, … (and ?N into $N; a plain ?
// after it takes the number after the largest so far, as in SQLite),
// outside quoted strings and identifiers. The package writes no SQL that
// uses the jsonb ? operators.
func rebind(q string) string {
	if strings.IndexByte(q, '?') < 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
			b.WriteByte(c)
		case c == '\'' || c == '"':
			quote = c
			b.WriteByte(c)
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			if j > i+1 {
				b.WriteByte('$')
				b.WriteString(q[i+1 : j])
				if v, err := strconv.Atoi(q[i+1 : j]); err == nil && v > n {
					n = v
				}
				i = j - 1
				continue
			}
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ---- value helpers -------------------------------------------------------------

// idv binds an id (a uuid column accepts its 16 bytes).
func idv(id model.ID) []byte { return id[:] }

// optID binds a nullable id.
func optID(id *model.ID) any {
	if id == nil {
		return nil
	}
	return idv(*id)
}

// scanID converts a scanned uuid (its 16 bytes) back into an id.
func scanID(b []byte) (model.ID, error) {
	var id model.ID
	if len(b) != len(id) {
		return id, fmt.Errorf("postgres: stored id has %d bytes", len(b))
	}
	copy(id[:], b)
	return id, nil
}

// scanOptID converts a nullable scanned uuid.
func scanOptID(b []byte) (*model.ID, error) {
	if b == nil {
		return nil, nil
	}
	id, err := scanID(b)
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// optTime binds a nullable instant as unix micros.
func optTime(t *model.Time) any {
	if t == nil {
		return nil
	}
	return t.Micros()
}

// optStr binds a nullable string.
func optStr[T ~string](s *T) any {
	if s == nil {
		return nil
	}
	return string(*s)
}

// optVal binds *T as NULL or its value.
func optVal[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func optInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// isUnique reports whether err is a unique violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// noRows reports whether err says a single-row query found nothing.
func noRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// notFound wraps store.ErrNotFound with what was looked for.
func notFound(what string, key any) error {
	return fmt.Errorf("%s %v: %w", what, key, store.ErrNotFound)
}

// placeholders returns "?,?,…" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}

func anySlice[T any](v []T) []any {
	out := make([]any, len(v))
	for i := range v {
		out[i] = v[i]
	}
	return out
}
