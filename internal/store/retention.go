package store

import (
	"context"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// RetentionResource names a kind of row that retention deletes once it is
// older than its period. Each has its own period (server default, per
// workspace override) because their volumes and their worth differ: events
// pile up fastest and matter least after a week, finished runs are history
// an operator looks back on for months.
type RetentionResource string

// The resources retention knows. What "older than" means for each is the
// contract every engine follows (RetentionPurge).
const (
	// RetainFlowRuns: flow runs in a terminal state (COMPLETED, FAILED,
	// CANCELLED, CRASHED) entered before the cutoff, with their state
	// history, inputs, task runs (and theirs), and the logs and artifacts
	// of the run and its task runs.
	RetainFlowRuns RetentionResource = "flow_runs"
	// RetainTaskRuns: task runs in a terminal state entered before the
	// cutoff (whatever their flow run's fate), with their state history,
	// logs and artifacts.
	RetainTaskRuns RetentionResource = "task_runs"
	// RetainLogs: log lines whose timestamp is before the cutoff.
	RetainLogs RetentionResource = "logs"
	// RetainEvents: events that occurred before the cutoff, with their
	// resource rows; never an event the automations engine has not yet
	// read (its triggers would miss it).
	RetainEvents RetentionResource = "events"
	// RetainArtifacts: artifacts created before the cutoff; a key's latest
	// artifact moves back to the newest one left (or the key goes).
	RetainArtifacts RetentionResource = "artifacts"
)

// RetentionResources lists every resource, in the order the retention
// service purges them (runs first: they take their logs and artifacts with
// them, so the later passes find less).
var RetentionResources = []RetentionResource{RetainFlowRuns, RetainTaskRuns, RetainLogs, RetainEvents, RetainArtifacts}

// Purged reports one RetentionPurge call.
type Purged struct {
	// Rows is how many rows of the resource itself were deleted.
	Rows int
	// Dependants is how many rows that went with them were deleted (logs,
	// artifacts and task runs of a flow run, an event's resource rows);
	// state histories and run inputs go by cascade and are not counted.
	Dependants int
	// More is true when the call stopped at its limit: older rows may be
	// left.
	More bool
}

// Reclaimed reports a round of space reclamation.
type Reclaimed struct {
	// FreedBytes were returned to the file system by this call.
	FreedBytes int64
	// FreeBytes are still free inside the database file (reusable by new
	// rows, not yet returned).
	FreeBytes int64
	// Supported is false when the engine (or this database file) cannot
	// return space while serving: an SQLite file created before
	// incremental auto-vacuum, until `baton vacuum` converts it.
	Supported bool
}

// Retention is what the retention service needs from an engine: the
// workspaces to walk, bounded deletes, and space reclamation.
type Retention interface {
	// RetentionWorkspaces lists the id of every workspace (of every
	// account): retention walks them all.
	RetentionWorkspaces(ctx context.Context) ([]model.ID, error)
	// RetentionPurge deletes, in one short write, up to limit rows of res
	// in ws that are older than before (see each RetentionResource for
	// what that means and what goes with them). A row's dependants count
	// against limit too, so one call never holds the writer for long: a run
	// with a million logs takes many calls, and the call that finds its
	// dependants gone deletes it. Call again while Purged.More.
	RetentionPurge(ctx context.Context, ws model.ID, res RetentionResource, before time.Time, limit int) (Purged, error)
	// RetentionReclaim returns up to maxBytes of the database's free space
	// to the file system, in one short write.
	RetentionReclaim(ctx context.Context, maxBytes int64) (Reclaimed, error)
}

// SettingRetention is the workspace setting (store.Blocks' SettingGet)
// holding a workspace's retention overrides as RetentionOverrides' JSON.
const SettingRetention = "retention"

// RetentionOverrides are one workspace's periods in seconds, by resource,
// in place of the server's; 0 keeps the resource for ever. A resource
// absent from the map takes the server's period.
type RetentionOverrides map[RetentionResource]int64
