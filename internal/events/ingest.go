package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/internal/lifecycle"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// IngestStore is the part of the store the write path needs; the full
// store.Store satisfies it.
type IngestStore interface {
	EventInsert(ctx context.Context, ws model.ID, events []model.Event) ([]model.Event, error)
}

// TaskRunRecorder writes the task runs that client events report. The runs
// layer (runs.Service), the one owner of run writes, is the production one.
type TaskRunRecorder interface {
	RecordTaskRuns(ctx context.Context, ws model.ID, recs []store.TaskRunRecord) error
}

// IngestConfig configures NewIngest. Zero values pick the defaults noted on
// each field.
type IngestConfig struct {
	// Store persists events. Required.
	Store IngestStore
	// Recorder writes the task runs client events report. Required.
	Recorder TaskRunRecorder
	// Bus receives every freshly stored event after commit. Optional.
	Bus Publisher
	// Logger receives skipped events and store failures. Default: discard.
	Logger *slog.Logger
	// MaxBatch is the number of events after which a batch is committed
	// without waiting for more (a single Accept call is never split).
	// Default 4000: under load a bigger group commit costs less per event
	// (an event_resources page dirtied by several events is written once).
	MaxBatch int
	// MaxWait is how long the batcher lingers for more events after the
	// first one of a batch. Zero (the default) means pure group commit:
	// whatever queued up while the previous batch was committing goes into
	// the next one, which batches under load without adding latency to a
	// lone event (runner emitters wait for a pong after every event).
	MaxWait time.Duration
	// CommitTimeout bounds one batch's store calls. Default 30s.
	CommitTimeout time.Duration
	// RecordRetries is how many times a failed TaskRunRecord is retried
	// before the batch fails. Default 3.
	RecordRetries int
	// Now is the clock used for Event.Received. Default time.Now.
	Now func() time.Time
	// QueueDepth bounds how many Accept calls may wait for the batcher
	// (default 4096). QueueWait is how long a call waits for room in a full
	// queue before it is refused with store.ErrBusy (the API's 503 with
	// Retry-After, which the Prefect client retries; a websocket closes with
	// 1013, after which the client reconnects and resends); default 10 s.
	// Past it the store is not keeping up, and waiting longer would only
	// pile up requests.
	QueueDepth int
	QueueWait  time.Duration
}

// ErrStopped is returned by Accept once Stop has been called (or before
// Start): the events were not committed.
var ErrStopped = errors.New("events: ingest is not running")

// IngestStats are cumulative counters of the write path.
type IngestStats struct {
	Batches    uint64 // store round trips (one per workspace per batch)
	Events     uint64 // events handed to Accept
	Fresh      uint64 // events that were new to the store
	Duplicates uint64 // events dropped as already stored
	Records    uint64 // task-run records written
	Skipped    uint64 // task-run events that could not be converted
	Rejected   uint64 // events refused because the queue stayed full
	// Queued is how many Accept calls wait for the batcher now.
	Queued int
	// Lag counts, by LagBuckets' bounds (cumulative), how long accepted
	// events waited from Accept until their batch committed; LagSeconds
	// is their sum and LagCount their number.
	Lag        [len(LagBuckets)]uint64
	LagSeconds float64
	LagCount   uint64
}

// LagBuckets are the upper bounds (seconds) of the ingest-lag histogram.
var LagBuckets = [...]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Ingest is the event write path: it sets Received, persists events
// (deduplicated by id), turns client task-run events into task-run writes
// (Prefect's task-run recorder) and publishes fresh events on the bus.
//
// Calls from all connections are funnelled into one batcher goroutine that
// does one EventInsert and one TaskRunRecord per workspace per batch, which
// is what makes ≥10k task-run events/s possible on SQLite's single writer.
// Accept returns only after its events are committed, so a websocket can
// acknowledge them.
type Ingest struct {
	cfg  IngestConfig
	log  *slog.Logger
	reqs chan *ingestReq
	base lifecycle.Base

	batches, events, fresh, dups, records, skipped, rejected atomic.Uint64
	lag                                                      [len(LagBuckets)]atomic.Uint64
	lagNanos, lagCount                                       atomic.Uint64
}

type ingestReq struct {
	ws   model.ID
	evs  []model.Event
	done chan error
	// at is when Accept queued it (for the lag histogram).
	at time.Time
}

// NewIngest builds an Ingest; call Start before Accept.
func NewIngest(cfg IngestConfig) *Ingest {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 4000
	}
	if cfg.CommitTimeout <= 0 {
		cfg.CommitTimeout = 30 * time.Second
	}
	if cfg.RecordRetries <= 0 {
		cfg.RecordRetries = 3
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.QueueDepth <= 0 {
		cfg.QueueDepth = 4096
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = 10 * time.Second
	}
	return &Ingest{cfg: cfg, log: log, reqs: make(chan *ingestReq, cfg.QueueDepth)}
}

// Start launches the batcher (lifecycle contract: idempotent, and the
// batcher's store calls do not depend on ctx's cancellation, so a server
// whose context is cancelled at shutdown still commits what its sockets
// read; only Stop ends it).
func (in *Ingest) Start(ctx context.Context) error {
	if in.cfg.Store == nil || in.cfg.Recorder == nil {
		return errors.New("events: IngestConfig.Store and IngestConfig.Recorder are required")
	}
	in.base.Start(ctx, in.run)
	return nil
}

// Stop refuses new events, commits everything already queued and waits for
// the batcher to finish. If ctx expires first, in-flight store calls are
// cancelled and ctx's error is returned.
func (in *Ingest) Stop(ctx context.Context) error {
	if err := in.base.Stop(ctx); err != nil {
		return fmt.Errorf("events: ingest: %w", err)
	}
	return nil
}

// Stats returns the cumulative counters.
func (in *Ingest) Stats() IngestStats {
	st := IngestStats{
		Batches: in.batches.Load(), Events: in.events.Load(), Fresh: in.fresh.Load(),
		Duplicates: in.dups.Load(), Records: in.records.Load(), Skipped: in.skipped.Load(),
		Rejected: in.rejected.Load(), Queued: len(in.reqs),
		LagSeconds: float64(in.lagNanos.Load()) / 1e9, LagCount: in.lagCount.Load(),
	}
	for i := range st.Lag {
		st.Lag[i] = in.lag[i].Load()
	}
	return st
}

// observeLag records how long r waited from Accept to its commit.
func (in *Ingest) observeLag(r *ingestReq, now time.Time) {
	d := now.Sub(r.at)
	n := uint64(len(r.evs))
	in.lagNanos.Add(uint64(d.Nanoseconds()) * n)
	in.lagCount.Add(n)
	for i, b := range LagBuckets {
		if d.Seconds() <= b {
			in.lag[i].Add(n)
		}
	}
}

// Accept sets Received on evs (it takes ownership of the slice), queues them
// for the next batch and waits until that batch is committed. A nil error
// means every event is durably stored (or was already) and its task-run
// write, if any, is done.
func (in *Ingest) Accept(ctx context.Context, ws model.ID, evs []model.Event) error {
	if len(evs) == 0 {
		return nil
	}
	stopping, exited := in.base.State()
	if stopping == nil {
		return ErrStopped
	}
	select {
	case <-stopping:
		return ErrStopped
	default:
	}
	now := model.NewTime(in.cfg.Now())
	for i := range evs {
		evs[i].Received = now
	}
	r := &ingestReq{ws: ws, evs: evs, done: make(chan error, 1), at: time.Now()}
	select {
	case in.reqs <- r:
	default:
		// The queue is full: wait a bounded time for room, then refuse
		// (retryable) rather than queue without bound.
		t := time.NewTimer(in.cfg.QueueWait)
		select {
		case in.reqs <- r:
			t.Stop()
		case <-stopping:
			t.Stop()
			return ErrStopped
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
			in.rejected.Add(uint64(len(evs)))
			return fmt.Errorf("events: the ingest queue stayed full for %v: %w", in.cfg.QueueWait, store.ErrBusy)
		}
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-exited:
		select {
		case err := <-r.done:
			return err
		default:
			return ErrStopped
		}
	}
}

// run is the batcher: it commits batches until Stop, then drains.
func (in *Ingest) run(ctx context.Context, stopping <-chan struct{}) {
	for {
		select {
		case r := <-in.reqs:
			in.commit(ctx, in.collect(r, stopping))
		case <-stopping:
			in.drain(ctx, stopping)
			return
		}
	}
}

// collect gathers queued requests behind first until MaxBatch events, and,
// with MaxWait set, lingers that long for more (not once stopping).
func (in *Ingest) collect(first *ingestReq, stopping <-chan struct{}) []*ingestReq {
	batch := []*ingestReq{first}
	n := len(first.evs)
	var timer <-chan time.Time
	if in.cfg.MaxWait > 0 {
		t := time.NewTimer(in.cfg.MaxWait)
		defer t.Stop()
		timer = t.C
	}
	for n < in.cfg.MaxBatch {
		select {
		case r := <-in.reqs:
			batch = append(batch, r)
			n += len(r.evs)
			continue
		default:
		}
		if timer == nil {
			break
		}
		select {
		case r := <-in.reqs:
			batch = append(batch, r)
			n += len(r.evs)
			continue
		case <-timer:
		case <-stopping:
		}
		break
	}
	return batch
}

// drain commits whatever is still queued after Stop, on the batcher's own
// context (cancelled only when Stop's deadline passes).
func (in *Ingest) drain(ctx context.Context, stopping <-chan struct{}) {
	for {
		select {
		case r := <-in.reqs:
			in.commit(ctx, in.collect(r, stopping))
		default:
			return
		}
	}
}

// commit writes one batch, one workspace at a time, and answers every
// request.
func (in *Ingest) commit(ctx context.Context, batch []*ingestReq) {
	if len(batch) == 1 {
		in.commitGroup(ctx, batch[0].ws, batch)
		return
	}
	var order []model.ID
	groups := make(map[model.ID][]*ingestReq)
	for _, r := range batch {
		if _, ok := groups[r.ws]; !ok {
			order = append(order, r.ws)
		}
		groups[r.ws] = append(groups[r.ws], r)
	}
	for _, ws := range order {
		in.commitGroup(ctx, ws, groups[ws])
	}
}

// commitGroup commits the requests of one workspace together. If that fails
// and there are several, each is retried alone so that one bad request
// cannot fail its neighbours.
func (in *Ingest) commitGroup(ctx context.Context, ws model.ID, reqs []*ingestReq) {
	err := in.write(ctx, ws, reqs)
	if err != nil && len(reqs) > 1 {
		for _, r := range reqs {
			in.commitGroup(ctx, ws, []*ingestReq{r})
		}
		return
	}
	now := time.Now()
	for _, r := range reqs {
		if err == nil {
			in.observeLag(r, now)
		}
		r.done <- err
	}
}

// write does the store round trips for one workspace's requests.
func (in *Ingest) write(ctx context.Context, ws model.ID, reqs []*ingestReq) error {
	ctx, cancel := context.WithTimeout(ctx, in.cfg.CommitTimeout)
	defer cancel()
	var evs []model.Event
	if len(reqs) == 1 {
		evs = dedupeByID(reqs[0].evs)
	} else {
		n := 0
		for _, r := range reqs {
			n += len(r.evs)
		}
		evs = make([]model.Event, 0, n)
		for _, r := range reqs {
			evs = append(evs, r.evs...)
		}
		evs = dedupeByID(evs)
	}
	in.batches.Add(1)
	in.events.Add(uint64(len(evs)))
	fresh, err := in.cfg.Store.EventInsert(ctx, ws, evs)
	if err != nil {
		in.log.ErrorContext(ctx, "event insert failed", slog.String("workspace", ws.String()), slog.Int("events", len(evs)), slog.Any("error", err))
		return fmt.Errorf("events: insert: %w", err)
	}
	in.fresh.Add(uint64(len(fresh)))
	in.dups.Add(uint64(len(evs) - len(fresh)))

	// Records are derived from every task-run event of the batch, duplicates
	// included: TaskRunRecord is idempotent (newer-only columns, state rows
	// unique by id), and this way a batch whose record write failed is
	// repaired when the client resends it, although its events are by then
	// duplicates.
	var recs []store.TaskRunRecord
	for i := range evs {
		e := &evs[i]
		if !IsClientTaskRunEvent(e) {
			continue
		}
		rec, err := TaskRunRecordFromEvent(e)
		if err != nil {
			in.skipped.Add(1)
			in.log.WarnContext(ctx, "task-run event not recorded", slog.String("event_id", e.ID.String()), slog.String("event", e.Event), slog.Any("error", err))
			continue
		}
		recs = append(recs, rec)
	}
	if len(recs) > 0 {
		if err := in.record(ctx, ws, recs); err != nil {
			return err
		}
	}
	if in.cfg.Bus != nil {
		in.cfg.Bus.Publish(ws, fresh)
	}
	return nil
}

func (in *Ingest) record(ctx context.Context, ws model.ID, recs []store.TaskRunRecord) error {
	var err error
	for attempt := 0; attempt <= in.cfg.RecordRetries; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(time.Duration(attempt) * 10 * time.Millisecond):
			case <-ctx.Done():
				return fmt.Errorf("events: task-run record: %w", ctx.Err())
			}
		}
		if err = in.cfg.Recorder.RecordTaskRuns(ctx, ws, recs); err == nil {
			in.records.Add(uint64(len(recs)))
			return nil
		}
		in.log.WarnContext(ctx, "task-run record failed", slog.String("workspace", ws.String()), slog.Int("records", len(recs)), slog.Int("attempt", attempt+1), slog.Any("error", err))
	}
	return fmt.Errorf("events: task-run record: %w", err)
}

// dedupeByID drops repeated ids within one batch (a client that resent over
// a second connection), keeping the first.
func dedupeByID(evs []model.Event) []model.Event {
	if len(evs) < 2 {
		return evs
	}
	seen := make(map[model.ID]struct{}, len(evs))
	dup := false
	for i := range evs {
		if _, ok := seen[evs[i].ID]; ok {
			dup = true
			continue
		}
		seen[evs[i].ID] = struct{}{}
	}
	if !dup {
		return evs
	}
	clear(seen)
	out := make([]model.Event, 0, len(evs))
	for i := range evs {
		if _, ok := seen[evs[i].ID]; ok {
			continue
		}
		seen[evs[i].ID] = struct{}{}
		out = append(out, evs[i])
	}
	return out
}
