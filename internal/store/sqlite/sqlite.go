// Package sqlite is Baton's single-machine storage engine: store.Store over
// one SQLite file, using the pure-Go modernc.org/sqlite driver.
//
// Writes go through one connection owned by one goroutine that commits them
// in groups (group commit): callers hand over an operation and block until
// the transaction that ran it has committed, so throughput scales with the
// number of concurrent writers while each commit pays for one WAL append.
// Every operation of a group runs inside its own SAVEPOINT, so a failing one
// is rolled back alone. Reads use a separate pool of read-only connections,
// which WAL lets proceed while the writer works.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// maxBatch caps how many queued operations one transaction commits, so a
// flood of writers cannot make a single commit (and its WAL frame) unbounded.
const maxBatch = 256

// gatherYields is how many times the writer yields the processor when its
// queue runs dry before it commits the group it has. Handlers that are
// between parsing a request and queueing its write get to queue it into
// this group instead of the next one: groups at 8 concurrent clients grow
// from ~2 to ~3.7 writes, and since the runs written together share their
// index pages (time-ordered ids append to the same leaf pages), each write
// costs fewer WAL frames (102 -> 73 write system calls per lifecycle). A
// yield with nothing else runnable returns at once, so a lone client waits
// no longer; a timed wait was measured too and saved no more CPU.
const gatherYields = 3

// Config configures Open.
type Config struct {
	// Path is the database file; it is created (with its directory's
	// existing permissions) when missing. Required.
	Path string
	// Logger receives migration and writer diagnostics; nil discards them.
	Logger *slog.Logger
	// ReadConns is the size of the read-only connection pool; 0 picks
	// max(4, GOMAXPROCS), enough to keep every core busy with queries.
	ReadConns int
	// WALMaxBytes bounds the write-ahead log: when a group commit leaves it
	// larger, the writer checkpoints and truncates it before the next group.
	// 0 picks DefaultWALMaxBytes; negative disables the bound.
	WALMaxBytes int64
	// MemoryBytes is the budget SQLite's memory is sized from; 0 picks
	// DefaultMemoryBytes. The memory map (whose touched pages count in the
	// resident size) takes a quarter, the writer's page cache a sixteenth
	// and each reader's a thirty-second (sqliteMemory).
	MemoryBytes int64
	// Now is the clock for the times the store stamps itself (created,
	// updated, received); time.Now when nil. Times a caller puts in a row
	// are kept as given.
	Now func() time.Time
	// QueueWait is how long a write may wait for room in the writer's
	// queue before it is refused with store.ErrBusy (the API's 503 with
	// Retry-After): past it the writer is not keeping up, and waiting
	// longer would only pile up requests. 0 picks 10 s.
	QueueWait time.Duration
	// SkipStartupCheck skips SQLite's quick_check of an existing file at
	// Open (it reads every page: about a second per GB). The cheap checks of
	// the header and size always run.
	SkipStartupCheck bool
}

// DefaultWALMaxBytes is the WAL bound when Config.WALMaxBytes is 0. A WAL
// this size replays in well under a second at start, and sustained load
// still commits many groups between two truncations.
const DefaultWALMaxBytes = 128 << 20

// Store is store.Store over one SQLite database file. It is safe for
// concurrent use; Close stops the writer after draining queued writes.
type Store struct {
	log    *slog.Logger
	clock  func() time.Time
	wdb    *sql.DB // exactly one connection, used only by the writer goroutine
	rdb    *sql.DB // read-only pool
	wstmts stmtCache
	rstmts stmtCache

	ops      chan *writeOp
	mu       sync.RWMutex // guards closed against concurrent submits
	closed   bool
	writerWG sync.WaitGroup

	// The checkpointer copies WAL frames into the database file from its
	// own connection, so the fsyncs of a checkpoint never stall the writer
	// (auto-checkpointing is off on the writer connection).
	cpdb     *sql.DB
	cpMu     sync.Mutex // one checkpoint at a time: SQLite refuses a second without waiting
	stopCP   chan struct{}
	cpWG     sync.WaitGroup
	batches  atomic.Int64 // committed groups, for tests and benchmarks
	batchOps atomic.Int64 // operations in those groups

	// walPath and walMax bound the WAL (see boundWAL); walRetry is when the
	// writer may try again after readers kept a truncation from finishing.
	walPath  string
	walMax   int64
	walRetry time.Time
	gate     readGate
	// queueWait bounds the wait for room in ops; busy counts refusals.
	queueWait time.Duration
	busy      atomic.Int64
	// failLog rate-limits the log of failing writes (a full disk fails
	// every write until space is freed).
	failMu    sync.Mutex
	failLast  time.Time
	failQuiet int
	stats     writerStats

	// eventSeq is the position of the newest stored event; only the writer
	// goroutine reads and advances it (see insertEvents).
	eventSeq int64
}

// checkpointEvery is how often the checkpointer runs a PASSIVE checkpoint.
const checkpointEvery = 500 * time.Millisecond

// checkpointer runs until Close.
func (s *Store) checkpointer() {
	defer s.cpWG.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stopCP:
			return
		case <-t.C:
			s.cpMu.Lock()
			_, err := s.cpdb.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
			s.cpMu.Unlock()
			if err != nil {
				s.logWriteFailure("sqlite: checkpoint failed", err)
			}
		}
	}
}

var _ store.Store = (*Store)(nil)

// errClosed is returned by writes submitted after Close.
var errClosed = errors.New("sqlite store: closed")

// DefaultMemoryBytes is Config.MemoryBytes when it is 0.
const DefaultMemoryBytes = 256 << 20

// sqliteMemory is how a memory budget is split: the memory map, the
// writer's page cache and each reader's page cache, in bytes. A smaller
// writer cache also makes every commit cheaper: SQLite walks the cache's
// hash table at the end of each write transaction (pcache1TruncateUnsafe,
// 4% of the writer's CPU with the former 64 MB).
func sqliteMemory(budget int64) (mmap, writerCache, readerCache int64) {
	if budget <= 0 {
		budget = DefaultMemoryBytes
	}
	return budget / 4, budget / 16, budget / 32
}

// dsn builds a driver DSN for path. Pragmas are applied per connection in
// the order the driver documents: busy_timeout first, then the rest.
func dsn(path string, readOnly bool, budget int64) string {
	mmap, wcache, rcache := sqliteMemory(budget)
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(memory)")
	q.Add("_pragma", fmt.Sprintf("mmap_size(%d)", mmap))
	if readOnly {
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", rcache>>10))
		q.Add("_pragma", "query_only(1)")
		q.Set("mode", "ro")
	} else {
		q.Add("_pragma", "journal_mode(wal)")
		q.Add("_pragma", "synchronous(normal)")
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", wcache>>10))
		q.Add("_pragma", "journal_size_limit(67108864)")
		q.Add("_pragma", "wal_autocheckpoint(0)")
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath(), RawQuery: q.Encode()}
	return u.String()
}

// Open opens (creating if needed) the database at cfg.Path, applies pending
// migrations and starts the writer.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Path == "" {
		return nil, errors.New("sqlite: Config.Path is required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	readConns := cfg.ReadConns
	if readConns <= 0 {
		readConns = max(4, runtime.GOMAXPROCS(0))
	}
	_, statErr := os.Stat(cfg.Path)
	existed := statErr == nil
	if err := checkFile(cfg.Path); err != nil {
		return nil, err
	}
	wdb, err := sql.Open("sqlite", dsn(cfg.Path, false, cfg.MemoryBytes))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	if existed && !cfg.SkipStartupCheck {
		if err := quickCheck(ctx, wdb, cfg.Path); err != nil {
			_ = wdb.Close()
			return nil, err
		}
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	walMax := cfg.WALMaxBytes
	if walMax == 0 {
		walMax = DefaultWALMaxBytes
	}
	clock := cfg.Now
	if clock == nil {
		clock = time.Now
	}
	queueWait := cfg.QueueWait
	if queueWait <= 0 {
		queueWait = 10 * time.Second
	}
	s := &Store{log: log, clock: clock, wdb: wdb, ops: make(chan *writeOp, maxBatch), walPath: cfg.Path + "-wal", walMax: walMax, queueWait: queueWait}
	if err := setAutoVacuum(ctx, wdb, cfg.Path, log); err != nil {
		_ = wdb.Close()
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		_ = wdb.Close()
		if existed && isCorrupt(err) {
			return nil, damaged(cfg.Path, "cannot be read: "+err.Error())
		}
		return nil, err
	}
	if err := wdb.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&s.eventSeq); err != nil {
		_ = wdb.Close()
		return nil, fmt.Errorf("sqlite: read event position: %w", err)
	}
	// The readers open after the writer has switched the file to WAL mode.
	rdb, err := openGated(dsn(cfg.Path, true, cfg.MemoryBytes), &s.gate)
	if err != nil {
		_ = wdb.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	rdb.SetMaxOpenConns(readConns)
	rdb.SetMaxIdleConns(readConns)
	rdb.SetConnMaxIdleTime(0)
	if err := rdb.PingContext(ctx); err != nil {
		_ = wdb.Close()
		_ = rdb.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	cpdb, err := sql.Open("sqlite", dsn(cfg.Path, false, cfg.MemoryBytes))
	if err != nil {
		_ = wdb.Close()
		_ = rdb.Close()
		return nil, fmt.Errorf("sqlite: open checkpointer: %w", err)
	}
	cpdb.SetMaxOpenConns(1)
	s.rdb = rdb
	s.cpdb = cpdb
	s.stopCP = make(chan struct{})
	s.cpWG.Add(1)
	go s.checkpointer()
	s.wstmts.db = wdb
	s.rstmts.db = rdb
	s.writerWG.Add(1)
	go s.writer()
	return s, nil
}

// setAutoVacuum gives a new database incremental auto-vacuum, so the
// space retention frees can be returned to the file system while the server
// runs (RetentionReclaim). SQLite fixes the mode when the first table is
// created; an older file keeps its mode until `baton vacuum` rewrites it,
// and is told so once here.
func setAutoVacuum(ctx context.Context, db *sql.DB, path string, log *slog.Logger) error {
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil {
		return fmt.Errorf("sqlite: read schema of %s: %w", path, err)
	}
	if tables == 0 {
		// The connection has already put the file in WAL mode, after which
		// SQLite applies a new mode only on a VACUUM (instant when empty).
		for _, q := range []string{`PRAGMA auto_vacuum = INCREMENTAL`, `VACUUM`} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("sqlite: set auto_vacuum on %s: %w", path, err)
			}
		}
		return nil
	}
	var mode int
	if err := db.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: read auto_vacuum of %s: %w", path, err)
	}
	if mode != autoVacuumIncremental {
		log.Warn("sqlite: this database was created without incremental auto-vacuum: retention deletes old rows and their space is reused, "+
			"but the file never shrinks. Stop the server and run `baton vacuum` once to convert it", slog.String("database", path))
	}
	return nil
}

// Close drains queued writes, stops the writer and closes the database.
// Writes submitted afterwards fail.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.ops)
	s.mu.Unlock()
	s.writerWG.Wait()
	close(s.stopCP)
	s.cpWG.Wait()
	s.wstmts.close()
	s.rstmts.close()
	// A final checkpoint leaves a compact database file behind.
	_, cpErr := s.cpdb.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return errors.Join(cpErr, s.cpdb.Close(), s.rdb.Close(), s.wdb.Close())
}

// writeOp is one caller's unit of work for the writer.
type writeOp struct {
	ctx  context.Context
	fn   func(tx *wtx) error
	done chan error
}

// wtx is the write transaction handed to operations: the *sql.Tx plus
// helpers that run cached prepared statements inside it.
type wtx struct {
	*sql.Tx
	s *Store
}

// exec runs a static statement, prepared once per process: the writer
// connection is busy inside the transaction, so a statement seen for the
// first time runs unprepared and is prepared after the commit.
func (w *wtx) exec(q string, args ...any) (sql.Result, error) {
	if st := w.s.wstmts.lookup(q); st != nil {
		return w.Tx.Stmt(st).Exec(args...)
	}
	w.s.wstmts.want(q)
	return w.Tx.Exec(q, args...)
}

// queryRow is exec for single-row queries.
func (w *wtx) queryRow(q string, args ...any) *sql.Row {
	if st := w.s.wstmts.lookup(q); st != nil {
		return w.Tx.Stmt(st).QueryRow(args...)
	}
	w.s.wstmts.want(q)
	return w.Tx.QueryRow(q, args...)
}

// write submits fn to the writer and waits until the transaction that ran
// it has committed (nil) or until fn's own error rolled it back. A caller
// whose ctx ends while waiting for room in the queue gives up; once queued,
// an operation whose ctx has ended by the time it runs is skipped.
func (s *Store) write(ctx context.Context, fn func(tx *wtx) error) error {
	op := &writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return errClosed
	}
	select {
	case s.ops <- op:
	default:
		// The queue is full: wait a bounded time for room, then refuse
		// (retryable) rather than queue without bound.
		t := time.NewTimer(s.queueWait)
		select {
		case s.ops <- op:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			s.mu.RUnlock()
			return ctx.Err()
		case <-t.C:
			s.mu.RUnlock()
			s.busy.Add(1)
			return fmt.Errorf("sqlite: the writer's queue stayed full for %v: %w", s.queueWait, store.ErrBusy)
		}
	}
	s.mu.RUnlock()
	err := <-op.done
	if isFull(err) {
		return fullError(err)
	}
	return err
}

// writer is the single goroutine that owns the write connection.
func (s *Store) writer() {
	defer s.writerWG.Done()
	batch := make([]*writeOp, 0, maxBatch)
	for op := range s.ops {
		batch = append(batch[:0], op)
		yields := 0
	drain:
		for len(batch) < maxBatch {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break drain
				}
				batch = append(batch, o)
			default:
				if yields < gatherYields {
					yields++
					runtime.Gosched()
					continue
				}
				break drain
			}
		}
		s.commit(batch)
		s.boundWAL()
		s.wstmts.preparePending(s.log)
	}
}

// walBusyWait is how long a truncating checkpoint waits for readers to move
// off the WAL before it gives up (and the writer goes on committing).
const walBusyWait = 250 * time.Millisecond

// boundWAL keeps the WAL under walMax. The background checkpointer's
// PASSIVE checkpoints copy frames into the database while the writer works,
// but they can never reset the log while groups keep arriving, so a busy
// writer would grow the WAL without limit. Between two groups the writer is
// idle by construction, so this is where it truncates: most frames are
// already copied, and what remains is one short checkpoint. If readers hold
// old snapshots past walBusyWait the truncation is retried a little later
// instead of stalling every writer.
func (s *Store) boundWAL() {
	if s.walMax <= 0 {
		return
	}
	fi, err := os.Stat(s.walPath)
	if err != nil || fi.Size() <= s.walMax {
		return
	}
	now := time.Now()
	if now.Before(s.walRetry) {
		return
	}
	start := now
	busy, err := s.truncateWAL()
	took := time.Since(start)
	s.stats.walTruncations.Add(1)
	s.stats.walTruncateNanos.Add(took.Nanoseconds())
	switch {
	case err != nil:
		s.walRetry = time.Now().Add(walBusyWait)
		s.log.Warn("sqlite: truncating checkpoint failed", slog.Int64("wal_bytes", fi.Size()), slog.Any("err", err))
	case busy:
		s.walRetry = time.Now().Add(walBusyWait)
		s.log.Warn("sqlite: readers kept the WAL from being truncated; retrying shortly",
			slog.Int64("wal_bytes", fi.Size()), slog.Duration("waited", took))
	}
}

// truncateWAL runs a TRUNCATE checkpoint on the writer connection with a
// short busy timeout and reports whether readers kept it from finishing.
func (s *Store) truncateWAL() (busy bool, err error) {
	// A checkpoint that finds another one running fails at once, without
	// calling the busy handler; wait for the passive one to finish instead.
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	release := s.gate.hold()
	defer release()
	if _, err := s.wdb.Exec(fmt.Sprintf("PRAGMA busy_timeout = %d", walBusyWait.Milliseconds())); err != nil {
		return false, err
	}
	defer func() {
		if _, rerr := s.wdb.Exec("PRAGMA busy_timeout = 10000"); rerr != nil && err == nil {
			err = rerr
		}
	}()
	var b, logFrames, done int
	if err := s.wdb.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&b, &logFrames, &done); err != nil {
		return false, err
	}
	return b != 0, nil
}

// commit runs one group of operations in one transaction and reports each
// operation's outcome to its caller.
func (s *Store) commit(batch []*writeOp) {
	errs := make([]error, len(batch))
	began := time.Now()
	// finish records the commit before answering anyone, so a caller that
	// reads Stats right after its write returned sees it counted.
	finish := func(shared error) {
		s.stats.observeCommit(time.Since(began))
		for i, op := range batch {
			if errs[i] == nil {
				errs[i] = shared
			}
			op.done <- errs[i]
		}
	}
	tx, err := s.wdb.BeginTx(context.Background(), nil)
	if err != nil {
		finish(fmt.Errorf("sqlite: begin: %w", err))
		return
	}
	w := &wtx{Tx: tx, s: s}
	savepoints := len(batch) > 1
	for i, op := range batch {
		if err := op.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if !savepoints {
			if errs[i] = runOp(op.fn, w); errs[i] != nil {
				_ = tx.Rollback()
				finish(nil)
				return
			}
			continue
		}
		if _, err := tx.Exec("SAVEPOINT op"); err != nil {
			_ = tx.Rollback()
			finish(fmt.Errorf("sqlite: savepoint: %w", err))
			return
		}
		errs[i] = runOp(op.fn, w)
		if errs[i] != nil {
			if _, err := tx.Exec("ROLLBACK TO op"); err != nil {
				// SQLite may have rolled back the whole transaction (for
				// instance on SQLITE_FULL); nothing of the batch is safe.
				_ = tx.Rollback()
				finish(fmt.Errorf("sqlite: rollback to savepoint after %w: %w", errs[i], err))
				return
			}
		}
		if _, err := tx.Exec("RELEASE op"); err != nil {
			_ = tx.Rollback()
			finish(fmt.Errorf("sqlite: release savepoint: %w", err))
			return
		}
	}
	s.batches.Add(1)
	s.batchOps.Add(int64(len(batch)))
	if err := tx.Commit(); err != nil {
		s.logWriteFailure("sqlite: commit failed", err, slog.Int("ops", len(batch)))
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("sqlite: commit: %w", err)
			}
		}
	}
	finish(nil)
}

// runOp calls fn, turning a panic into an error so one bad operation cannot
// kill the writer (and with it every other caller).
func runOp(fn func(*wtx) error, w *wtx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqlite: write operation panicked: %v", r)
		}
	}()
	return fn(w)
}

// stmtCache keeps one prepared statement per static query text. Only
// constant SQL goes through it; filter queries vary and are run directly.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
}

// lookup returns the prepared statement for q, or nil.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

// want records q for preparation by preparePending.
func (c *stmtCache) want(q string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = make(map[string]bool)
	}
	c.pending[q] = true
}

// preparePending prepares the statements recorded by want; the writer calls
// it between transactions, when its only connection is free.
func (c *stmtCache) preparePending(log *slog.Logger) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q := range c.pending {
		delete(c.pending, q)
		st, err := c.db.Prepare(q)
		if err != nil {
			log.Warn("sqlite: prepare statement", slog.Any("err", err))
			continue
		}
		if c.m == nil {
			c.m = make(map[string]*sql.Stmt)
		}
		c.m[q] = st
	}
}

// get returns the statement for q, preparing it now (reader pool only: it
// may wait for a free connection).
func (c *stmtCache) get(q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	st, err := c.db.Prepare(q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	if c.m == nil {
		c.m = make(map[string]*sql.Stmt)
	}
	c.m[q] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		_ = st.Close()
	}
	c.m = nil
}

// queryRow runs a static single-row read through the reader cache.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := s.rstmts.get(q)
	if err != nil {
		return s.rdb.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a static multi-row read through the reader cache.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.rstmts.get(q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// --- value helpers -------------------------------------------------------

// idv binds an id as its 16-byte BLOB.
func idv(id model.ID) []byte { return id[:] }

// optID binds a nullable id.
func optID(id *model.ID) any {
	if id == nil {
		return nil
	}
	return idv(*id)
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

// scanID converts a scanned BLOB back into an id.
func scanID(b []byte) (model.ID, error) {
	var id model.ID
	if len(b) != len(id) {
		return id, fmt.Errorf("sqlite: stored id has %d bytes", len(b))
	}
	copy(id[:], b)
	return id, nil
}

// now is the store's notion of the current time, at model precision.
// now is the store's clock (Config.Now): the times it stamps itself
// (created, updated, received) come from it, so tests and a second engine
// control them.
func (s *Store) now() model.Time { return model.NewTime(s.clock()) }

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

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

// writerStats are the writer's counters, read by Stats.
type writerStats struct {
	walTruncations   atomic.Int64
	walTruncateNanos atomic.Int64
	commitNanos      atomic.Int64
	commitCount      atomic.Int64
	commitBuckets    [len(store.CommitLatencyBuckets)]atomic.Uint64
}

func (w *writerStats) observeCommit(d time.Duration) {
	w.commitNanos.Add(d.Nanoseconds())
	w.commitCount.Add(1)
	for i, b := range store.CommitLatencyBuckets {
		if d.Seconds() <= b {
			w.commitBuckets[i].Add(1)
		}
	}
}

// Stats reports the writer's and the files' figures for /metrics.
func (s *Store) Stats() store.EngineStats {
	st := store.EngineStats{
		WALBytes:         walBytes(strings.TrimSuffix(s.walPath, "-wal")),
		QueueDepth:       len(s.ops),
		Commits:          s.stats.commitCount.Load(),
		CommittedOps:     s.batchOps.Load(),
		CommitSeconds:    float64(s.stats.commitNanos.Load()) / 1e9,
		WALTruncations:   s.stats.walTruncations.Load(),
		BusyRefusals:     s.busy.Load(),
		WALTruncationSec: float64(s.stats.walTruncateNanos.Load()) / 1e9,
	}
	for i := range st.CommitBuckets {
		st.CommitBuckets[i] = s.stats.commitBuckets[i].Load()
	}
	if fi, err := os.Stat(strings.TrimSuffix(s.walPath, "-wal")); err == nil {
		st.DatabaseBytes = fi.Size()
	}
	return st
}

// failLogEvery is how often a run of failing writes is logged.
const failLogEvery = 10 * time.Second

// logWriteFailure logs a failed commit or checkpoint at ERROR, at most once
// every failLogEvery, with the number of failures not logged since. A full
// disk gets a message that says so and what brings writes back.
func (s *Store) logWriteFailure(msg string, err error, attrs ...slog.Attr) {
	s.failMu.Lock()
	now := time.Now()
	if now.Sub(s.failLast) < failLogEvery {
		s.failQuiet++
		s.failMu.Unlock()
		return
	}
	quiet := s.failQuiet
	s.failLast, s.failQuiet = now, 0
	s.failMu.Unlock()
	if isFull(err) {
		msg = "sqlite: the database's disk is full: writes fail (answered 503) until space is freed"
	}
	attrs = append(attrs, slog.Any("err", err), slog.Int("failures_not_logged", quiet))
	s.log.LogAttrs(context.Background(), slog.LevelError, msg, attrs...)
}
