// Package store defines Baton's storage seam: one interface, grouped by
// entity, that every engine (SQLite now, PostgreSQL next) implements and that
// one conformance suite (storetest) checks.
//
// Every method takes the workspace it acts in; no query may reach rows of
// another workspace. Methods return the sentinel errors below (wrapped), which
// the API maps to HTTP statuses in one place.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// Sentinel errors. Engines wrap them with context (fmt.Errorf("...: %w")).
var (
	// ErrNotFound: the addressed row does not exist in this workspace.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a uniqueness rule would be broken (name already taken).
	ErrConflict = errors.New("already exists")
	// ErrInvalid: the write would break a rule of the data itself (a
	// reference cycle between block documents); the API answers 400.
	ErrInvalid = errors.New("invalid")
	// ErrSlotsBusy: a concurrency acquisition cannot be granted right now.
	ErrSlotsBusy = errors.New("concurrency slots busy")
	// ErrStorageFull: the write failed because the disk holding the database
	// is full. Nothing of it was committed; it may succeed once space is
	// freed (the API answers 503 with Retry-After).
	ErrStorageFull = errors.New("the database's disk is full")
	// ErrBusy: the write was refused because the engine's writer is not
	// keeping up; nothing was written and it may be retried (the API
	// answers 503 with Retry-After).
	ErrBusy = errors.New("the database is busy")
	// ErrInvalidQuery: a filter the caller passed cannot be applied; the
	// wrapping message names the field (the API answers 422 with it).
	ErrInvalidQuery = errors.New("invalid query")
)

// The well-known tenant that every engine seeds in its first migration.
// Server mode serves it at /api/...; fixed ids let a fresh database and the
// URLs of cloud mode agree on it without a lookup.
var (
	// DefaultAccountID is the account that owns DefaultWorkspaceID.
	DefaultAccountID = model.MustID("00000000-0000-4000-8000-00000000a001")
	// DefaultWorkspaceID is the workspace WorkspaceDefault returns.
	DefaultWorkspaceID = model.MustID("00000000-0000-4000-8000-00000000b001")
)

// Store is the whole storage seam. It is the union of small per-entity
// interfaces so that a consumer can depend on just the part it uses.
type Store interface {
	Workspaces
	Tenancy
	Flows
	FlowRuns
	TaskRuns
	Logs
	Events
	Concurrency
	FlowRunInputs
	SavedSearches
	Deployments
	WorkPools
	Variables
	Artifacts
	Blocks
	Automations
	Webhooks
	EventStream
	Retention
	Audit
	// Close flushes pending writes and releases the database.
	Close() error
}

// Workspaces reads tenants. Cloud-mode management (accounts, users, keys)
// extends this later.
type Workspaces interface {
	// WorkspaceDefault returns the workspace that /api/... serves.
	WorkspaceDefault(ctx context.Context) (model.Workspace, error)
	// WorkspaceGet returns a workspace of the given account.
	WorkspaceGet(ctx context.Context, accountID, workspaceID model.ID) (model.Workspace, error)
}

// Flows stores flows, unique by name within a workspace.
type Flows interface {
	// FlowUpsert creates the flow or returns the existing one with that name
	// (created reports which).
	FlowUpsert(ctx context.Context, ws model.ID, in model.FlowCreate) (f model.Flow, created bool, err error)
	FlowGet(ctx context.Context, ws, id model.ID) (model.Flow, error)
	FlowGetByName(ctx context.Context, ws model.ID, name string) (model.Flow, error)
	// FlowList applies q.Flows and, through joins, q.FlowRuns/q.TaskRuns
	// (a flow matches if any of its runs matches).
	FlowList(ctx context.Context, ws model.ID, q model.RunQuery) ([]model.Flow, error)
	FlowCount(ctx context.Context, ws model.ID, q model.RunQuery) (int, error)
	FlowUpdate(ctx context.Context, ws, id model.ID, in model.FlowUpdate) error
	// FlowDelete removes the flow and its runs.
	FlowDelete(ctx context.Context, ws, id model.ID) error
}

// FlowRunChange is what an orchestration decision asks the store to write,
// atomically, in the transaction that read the run.
type FlowRunChange struct {
	// Run is the updated run row; nil leaves the row untouched.
	Run *model.FlowRun
	// State, when non-nil, is appended to the run's state history (and Run's
	// State/StateID/StateType/StateName must already point at it).
	State *model.State
	// ParentTaskState, when non-nil and Run.ParentTaskRunID is set, becomes
	// the new current state of the parent (tracking) task run and is appended
	// to its history.
	ParentTaskState *model.State
	// Events are persisted in the same transaction (outbox) and returned to
	// the caller for publication after commit.
	Events []model.Event
	// Slots is what the change does to concurrency slots (a deployment
	// run taking, renewing or giving back its slot), applied in the same
	// transaction. A grant that no longer fits, or a renewal of a lease
	// that is gone, is ErrSlotsBusy and nothing is written: the decision
	// was made from a picture that no longer holds, so the caller gathers
	// and decides again.
	Slots model.SlotChange
}

// FlowRunDecider is called inside the write transaction with the current run
// and returns what to write. It must not do I/O: whatever it needs beyond
// the row is gathered by the caller before the write.
type FlowRunDecider func(run model.FlowRun) (FlowRunChange, error)

// NewFlowRun is a flow run to insert with the events its creation emits.
type NewFlowRun struct {
	// Run is the row; its State, if set, is the initial state and goes into
	// the history.
	Run model.FlowRun
	// Events are persisted in the same transaction when (and only when) the
	// run is inserted.
	Events []model.Event
}

// FlowRuns stores flow runs and their state history.
type FlowRuns interface {
	// FlowRunCreate inserts in.Run (whose State, if set, is its initial state
	// and goes into the history) and in.Events in one transaction. When
	// Run.IdempotencyKey is set and a run of the same flow already has that
	// key, the existing run is returned with created=false and nothing is
	// written. The flow must exist in ws (ErrNotFound otherwise).
	FlowRunCreate(ctx context.Context, ws model.ID, in NewFlowRun) (r model.FlowRun, created bool, err error)
	FlowRunGet(ctx context.Context, ws, id model.ID) (model.FlowRun, error)
	FlowRunList(ctx context.Context, ws model.ID, q model.RunQuery) ([]model.FlowRun, error)
	FlowRunCount(ctx context.Context, ws model.ID, q model.RunQuery) (int, error)
	// FlowRunUpdate applies fn to the current row inside a write transaction.
	FlowRunUpdate(ctx context.Context, ws, id model.ID, fn func(*model.FlowRun) error) (model.FlowRun, error)
	// FlowRunSetState runs decide against the current row and writes its
	// change atomically; it returns the change that was written.
	FlowRunSetState(ctx context.Context, ws, id model.ID, decide FlowRunDecider) (FlowRunChange, error)
	// FlowRunStates returns the state history, oldest first.
	FlowRunStates(ctx context.Context, ws, flowRunID model.ID) ([]model.State, error)
	FlowRunDelete(ctx context.Context, ws, id model.ID) error
	// FlowRunHistory counts runs matching q by state in consecutive
	// intervals of width every from start to end (bucketed by expected start
	// time); it returns one entry per interval, empty ones included.
	FlowRunHistory(ctx context.Context, ws model.ID, q model.RunQuery, start, end time.Time, every time.Duration) ([]model.HistoryInterval, error)
	// ObservedStates lists the distinct state type/name pairs of every flow
	// and task run history, optionally those whose type or name starts with
	// prefix (case-insensitive), newest last-seen first when byLastSeen,
	// else by type and name.
	ObservedStates(ctx context.Context, ws model.ID, prefix string, byLastSeen bool, limit int) ([]model.ObservedState, error)
	// FlowRunStateGet returns one state of any flow run's history by id.
	FlowRunStateGet(ctx context.Context, ws, stateID model.ID) (model.State, error)
	// FlowRunLateness averages, in seconds, how late matching runs started
	// (runs neither started nor finished count their lateness at now); nil
	// when no run matches.
	FlowRunLateness(ctx context.Context, ws model.ID, q model.RunQuery, now time.Time) (*float64, error)
}

// TaskRunChange mirrors FlowRunChange for task runs.
type TaskRunChange struct {
	Run    *model.TaskRun
	State  *model.State
	Events []model.Event
	// Slots is what the change does to the slots of the task run's tag
	// concurrency limits, applied as FlowRunChange.Slots is.
	Slots model.SlotChange
}

// TaskRunDecider is FlowRunDecider for task runs. flowRun is the task run's
// flow run as read in the same transaction (nil when the task run has none,
// or it no longer exists), so the decision sees a consistent pair.
type TaskRunDecider func(run model.TaskRun, flowRun *model.FlowRun) (TaskRunChange, error)

// TaskRunRecord is one task-run state change reported by a client event:
// Run carries every column from the event payload plus the state fields, and
// State is the state to append to the history.
type TaskRunRecord struct {
	Run   model.TaskRun
	State model.State
}

// TaskRuns stores task runs and their state history.
type TaskRuns interface {
	// TaskRunCreate inserts a task run, or returns the existing one with the
	// same (flow_run_id, task_key, dynamic_key) with created=false.
	TaskRunCreate(ctx context.Context, ws model.ID, run model.TaskRun) (r model.TaskRun, created bool, err error)
	TaskRunGet(ctx context.Context, ws, id model.ID) (model.TaskRun, error)
	TaskRunList(ctx context.Context, ws model.ID, q model.RunQuery) ([]model.TaskRun, error)
	TaskRunCount(ctx context.Context, ws model.ID, q model.RunQuery) (int, error)
	// TaskRunGraph returns up to limit task runs of a flow run, earliest
	// expected start first, with only what a run graph draws filled in: ID,
	// Name, StateType, ExpectedStartTime, StartTime, EndTime and TaskInputs
	// (read without decoding each whole run: GET /flow_runs/{id}/graph-v2
	// of 10,000 task runs).
	TaskRunGraph(ctx context.Context, ws, flowRunID model.ID, limit int) ([]model.TaskRun, error)
	TaskRunUpdate(ctx context.Context, ws, id model.ID, fn func(*model.TaskRun) error) (model.TaskRun, error)
	TaskRunSetState(ctx context.Context, ws, id model.ID, decide TaskRunDecider) (TaskRunChange, error)
	TaskRunStates(ctx context.Context, ws, taskRunID model.ID) ([]model.State, error)
	TaskRunDelete(ctx context.Context, ws, id model.ID) error
	// TaskRunRecord upserts task runs from client events: a row is inserted
	// if absent (by id), and its columns are overwritten only when the
	// record's state timestamp is newer than the stored one, so duplicate and
	// out-of-order delivery converge. The state is always appended to the
	// history unless a state with that id exists.
	TaskRunRecord(ctx context.Context, ws model.ID, recs []TaskRunRecord) error
	// TaskRunStateGet returns one state of any task run's history by id.
	TaskRunStateGet(ctx context.Context, ws, stateID model.ID) (model.State, error)
	// TaskRunHistory is FlowRunHistory for task runs.
	TaskRunHistory(ctx context.Context, ws model.ID, q model.RunQuery, start, end time.Time, every time.Duration) ([]model.HistoryInterval, error)
}

// Logs stores run logs.
type Logs interface {
	LogCreate(ctx context.Context, ws model.ID, logs []model.Log) error
	LogList(ctx context.Context, ws model.ID, q model.LogQuery) ([]model.Log, error)
}

// EventPage is one page of an event query.
type EventPage struct {
	Events []model.Event
	Total  int
}

// EventCount is one bucket of POST /events/count-by.
type EventCount struct {
	Value     string     `json:"value"`
	Label     string     `json:"label"`
	Count     int        `json:"count"`
	StartTime model.Time `json:"start_time"`
	EndTime   model.Time `json:"end_time"`
}

// Events stores events, deduplicated by id.
type Events interface {
	// EventInsert stores events and returns those that were new (duplicates
	// by id are dropped silently).
	EventInsert(ctx context.Context, ws model.ID, events []model.Event) ([]model.Event, error)
	// EventList returns events matching f, ordered by occurred (descending
	// when f.Order is "DESC", ascending otherwise), after skipping offset.
	EventList(ctx context.Context, ws model.ID, f model.EventFilter, limit, offset int) (EventPage, error)
	// EventCountBy groups matching events by "event", "resource", "day" or
	// "time" (with the bucket width for "time").
	EventCountBy(ctx context.Context, ws model.ID, f model.EventFilter, countable string, bucket time.Duration) ([]EventCount, error)
}

// Concurrency stores global (v2) concurrency limits and their leases.
type Concurrency interface {
	ConcurrencyLimitCreate(ctx context.Context, ws model.ID, in model.ConcurrencyLimitCreate) (model.ConcurrencyLimit, error)
	// ConcurrencyLimitGet accepts an id or a name.
	ConcurrencyLimitGet(ctx context.Context, ws model.ID, idOrName string) (model.ConcurrencyLimit, error)
	ConcurrencyLimitList(ctx context.Context, ws model.ID, offset, limit int) ([]model.ConcurrencyLimit, error)
	ConcurrencyLimitUpdate(ctx context.Context, ws model.ID, idOrName string, in model.ConcurrencyLimitUpdate) error
	ConcurrencyLimitDelete(ctx context.Context, ws model.ID, idOrName string) error
	// ConcurrencyAcquire takes slots on every active limit among names, all
	// or nothing. It returns the limits involved (empty when none of the
	// names has a limit; then no lease is created and the lease is nil) or
	// ErrSlotsBusy when any limit is full.
	ConcurrencyAcquire(ctx context.Context, ws model.ID, names []string, slots int, ttl time.Duration, holder *model.LeaseHolder) (*model.ConcurrencyLease, []model.MinimalConcurrencyLimit, error)
	// ConcurrencyRelease frees a lease's slots; releasing an unknown or
	// already released lease is not an error.
	ConcurrencyRelease(ctx context.Context, ws model.ID, leaseID model.ID) error
	// ConcurrencyRenew extends a live lease; ErrNotFound if it is gone.
	ConcurrencyRenew(ctx context.Context, ws model.ID, leaseID model.ID, ttl time.Duration) error
	// ConcurrencyExpire releases every lease (in any workspace) that expired
	// before now, and every lease held by a task run whose flow run has
	// ended (COMPLETED, FAILED, CANCELLED or CRASHED: whatever held the
	// slot can no longer give it back, as after a crash), and returns how
	// many it released.
	ConcurrencyExpire(ctx context.Context, now time.Time) (int, error)
	// ConcurrencyIncrement takes slots like ConcurrencyAcquire but records
	// no lease: they stay taken until ConcurrencyDecrement.
	ConcurrencyIncrement(ctx context.Context, ws model.ID, names []string, slots int) ([]model.MinimalConcurrencyLimit, error)
	// ConcurrencyDecrement gives slots back to the active limits named
	// (never below zero) and returns every named limit.
	ConcurrencyDecrement(ctx context.Context, ws model.ID, names []string, slots int) ([]model.MinimalConcurrencyLimit, error)
	// ConcurrencyLeasesOf lists the live leases holding slots of a limit
	// (the tag limits' active_slots are their task-run holders).
	ConcurrencyLeasesOf(ctx context.Context, ws, limitID model.ID) ([]model.ConcurrencyLease, error)
	// ConcurrencyReleaseWhere releases every lease on the limit, or only
	// holder's when holder is set, and returns how many it released.
	ConcurrencyReleaseWhere(ctx context.Context, ws, limitID model.ID, holder *model.LeaseHolder) (int, error)
}

// FlowRunInputs stores key/value inputs of flow runs (what a paused run
// waits for and what resumed it; messages sent to a running flow).
type FlowRunInputs interface {
	// FlowRunInputCreate stores an input (ErrConflict: the run has that
	// key; ErrNotFound: no such run in ws).
	FlowRunInputCreate(ctx context.Context, ws model.ID, in model.FlowRunInput) (model.FlowRunInput, error)
	FlowRunInputGet(ctx context.Context, ws, runID model.ID, key string) (model.FlowRunInput, error)
	// FlowRunInputFilter lists up to limit inputs whose key starts with
	// prefix, oldest first, without the excluded keys.
	FlowRunInputFilter(ctx context.Context, ws, runID model.ID, prefix string, limit int, exclude []string) ([]model.FlowRunInput, error)
	FlowRunInputDelete(ctx context.Context, ws, runID model.ID, key string) error
}

// SavedSearches stores the UI's named filter sets.
type SavedSearches interface {
	// SavedSearchUpsert creates the search or replaces the filters of the
	// one with that name (created reports which).
	SavedSearchUpsert(ctx context.Context, ws model.ID, name string, filters []model.SavedSearchFilter) (model.SavedSearch, bool, error)
	SavedSearchGet(ctx context.Context, ws, id model.ID) (model.SavedSearch, error)
	SavedSearchList(ctx context.Context, ws model.ID, offset, limit int) ([]model.SavedSearch, error)
	SavedSearchDelete(ctx context.Context, ws, id model.ID) error
}

// CommitLatencyBuckets are the upper bounds (seconds) of the commit-latency
// histogram engines report.
var CommitLatencyBuckets = [...]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

// EngineStats are an engine's operating figures, for the operator's
// /metrics: how big its files are and how its writer keeps up.
type EngineStats struct {
	// WALBytes and DatabaseBytes are the sizes of the write-ahead log and
	// of the database file.
	WALBytes, DatabaseBytes int64
	// QueueDepth is how many writes wait for the writer now.
	QueueDepth int
	// Commits counts group commits (attempted) and CommittedOps the writes
	// in those that committed.
	Commits, CommittedOps int64
	// CommitSeconds is the time spent committing; CommitBuckets counts
	// commits by latency (cumulative, CommitLatencyBuckets' bounds).
	CommitSeconds float64
	CommitBuckets [len(CommitLatencyBuckets)]uint64
	// WALTruncations counts the writer's truncating checkpoints and
	// WALTruncationSec the time they took.
	WALTruncations   int64
	WALTruncationSec float64
	// BusyRefusals counts writes refused with ErrBusy.
	BusyRefusals int64
}

// StatsReporter is implemented by engines that report EngineStats.
type StatsReporter interface {
	Stats() EngineStats
}

// Gauges are the figures /metrics reports about what the store holds, over
// every workspace: taken by a background refresher, never per scrape.
type Gauges struct {
	// FlowRunsByState and TaskRunsByState count runs by state type.
	FlowRunsByState, TaskRunsByState map[model.StateType]int64
	// LateRuns counts SCHEDULED flow runs whose start time passed more than
	// the cutoff given to OperatorGauges ago; OldestDue is the earliest
	// start time among them (zero without any).
	LateRuns  int64
	OldestDue time.Time
	// Queues are the work queues with SCHEDULED flow runs that are due.
	Queues []QueueDepth
	// Slots sums the active concurrency limits by kind ("tag",
	// "deployment", "global").
	Slots map[string]SlotGauge
	// Leases counts concurrency leases, LeaseSlots the slots they hold and
	// LeasesExpired those past their expiration the reaper has not
	// released yet.
	Leases, LeaseSlots, LeasesExpired int64
}

// QueueDepth is one work queue's count of due SCHEDULED flow runs.
type QueueDepth struct {
	Pool, Queue string
	Ready       int64
}

// SlotGauge sums concurrency limits: how many, their slots, and how many
// of those are taken.
type SlotGauge struct {
	Limits, Slots, Active int64
}

// GaugeReporter is implemented by engines that report Gauges.
type GaugeReporter interface {
	// OperatorGauges counts as of now; runs due before lateCutoff are late.
	OperatorGauges(ctx context.Context, now, lateCutoff time.Time) (Gauges, error)
}
