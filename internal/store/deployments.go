package store

import (
	"context"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// Deployments stores deployments (with their schedules inline) and the
// bookkeeping the scheduler service needs to create runs ahead of time.
type Deployments interface {
	// DeploymentUpsert creates d, or replaces the deployment with the same
	// (flow_id, name), keeping its id and created time (created reports
	// which). Replacing deletes the deployment's future auto-scheduled runs
	// so the scheduler regenerates them from the new definition.
	DeploymentUpsert(ctx context.Context, ws model.ID, d model.Deployment) (out model.Deployment, created bool, err error)
	DeploymentGet(ctx context.Context, ws, id model.ID) (model.Deployment, error)
	// DeploymentGetByName finds a deployment by its flow's name and its own.
	DeploymentGetByName(ctx context.Context, ws model.ID, flowName, name string) (model.Deployment, error)
	DeploymentList(ctx context.Context, ws model.ID, q model.DeploymentQuery) ([]model.Deployment, error)
	DeploymentCount(ctx context.Context, ws model.ID, q model.DeploymentQuery) (int, error)
	// DeploymentUpdate applies fn to the current row in a write transaction.
	// When fn changes what scheduled runs derive from (schedules, paused,
	// parameters, tags, work queue), future auto-scheduled runs are deleted.
	DeploymentUpdate(ctx context.Context, ws, id model.ID, fn func(*model.Deployment) error) (model.Deployment, error)
	// DeploymentDelete removes the deployment and its future auto-scheduled
	// runs (other runs keep their deployment_id, as in Prefect).
	DeploymentDelete(ctx context.Context, ws, id model.ID) error
	// DeploymentsMarkPolled sets last_polled and READY on deployments a
	// runner or worker just polled for.
	DeploymentsMarkPolled(ctx context.Context, ws model.ID, ids []model.ID, now time.Time) error
	// DeploymentsDue returns, across workspaces, up to limit unpaused
	// deployments with an active schedule whose runs must be (re)generated
	// at now (never generated, or their next check time has come).
	DeploymentsDue(ctx context.Context, now time.Time, limit int) ([]ScheduleTarget, error)
	// DeploymentScheduleRuns inserts auto-scheduled runs for a deployment,
	// each with its events, skipping any whose idempotency key exists (so
	// concurrent scheduler loops never duplicate a run), and records when to
	// check it next, all in one transaction. It inserts nothing when the
	// deployment changed since target.Generation was read. It reports how
	// many runs were new and the events of those runs.
	DeploymentScheduleRuns(ctx context.Context, target ScheduleTarget, runs []NewFlowRun, nextCheck time.Time) (ScheduledRuns, error)
	// DeploymentScheduleTarget reads one deployment as a Manual schedule
	// target (POST /deployments/{id}/schedule).
	DeploymentScheduleTarget(ctx context.Context, ws, id model.ID) (ScheduleTarget, error)
	// DeploymentAdmitRuns keeps, in order, the scheduled runs that may be
	// dispatched now under their deployments' concurrency limits (a
	// deployment at its limit of PENDING, RUNNING and CANCELLING runs gets
	// none; slots are counted from states, so every way a run ends frees
	// its slot).
	DeploymentAdmitRuns(ctx context.Context, ws model.ID, runs []model.FlowRun) ([]model.FlowRun, error)
}

// ScheduleTarget is a deployment the scheduler must generate runs for.
type ScheduleTarget struct {
	Workspace  model.ID
	Deployment model.Deployment
	// Generation increments whenever the deployment's scheduling inputs
	// change; DeploymentScheduleRuns refuses to insert for a stale one.
	Generation int64
	// Manual marks runs asked for through the API rather than by the
	// scheduler: they are inserted even when the deployment is paused (as
	// Prefect's schedule route does), and the scheduler's next check time
	// is left alone.
	Manual bool
}

// ScheduledRuns is what DeploymentScheduleRuns inserted.
type ScheduledRuns struct {
	// Created counts the runs that were new.
	Created int
	// Events are the events of the new runs (written with them), for the
	// caller to publish.
	Events []model.Event
}

// PoolRunsQuery selects the runs a pool's workers may start now.
type PoolRunsQuery struct {
	Pool string
	// QueueNames restricts to these queues (empty: every queue).
	QueueNames []string
	// Before and After bound next_scheduled_start_time (nil: unbounded).
	Before, After *time.Time
	Limit         int
	// Now stamps last_polled on the polled queues and deployments.
	Now time.Time
	// BecameReady, when non-nil, receives the queues and deployments this
	// poll moved from NOT_READY to READY (for their prefect.work-queue.ready
	// and prefect.deployment.ready events).
	BecameReady *ReadyChanges
}

// ReadyChanges are the work queues and deployments a poll made READY.
type ReadyChanges struct {
	Queues, Deployments []model.ID
}

// RunSweepQuery selects flow runs across all workspaces for the background
// services (late runs, cancellation backstop, crash detection).
type RunSweepQuery struct {
	StateTypes []model.StateType
	// StateNames, when set, restricts to these state names.
	StateNames []string
	// NextScheduledBefore bounds next_scheduled_start_time (inclusive).
	NextScheduledBefore *time.Time
	// StateBefore bounds the current state's timestamp (inclusive).
	StateBefore *time.Time
	// StateAfter bounds the current state's timestamp (inclusive).
	StateAfter *time.Time
	Limit      int
}

// SweptRun is one run found by FlowRunSweep with what the crash detector
// needs to judge whether anything still looks after it.
type SweptRun struct {
	Workspace model.ID
	Run       model.FlowRun
	// LastRunHeartbeat is the newest prefect.flow-run.heartbeat event of the
	// run (nil when it never sent one).
	LastRunHeartbeat *time.Time
	// PrevRunHeartbeat is the heartbeat before the last one (nil when
	// fewer than two were sent); the gap tells the run's heartbeat cadence.
	PrevRunHeartbeat *time.Time
	// Worker is the worker that claimed the run (from the run's
	// prefect.worker.name label), nil when none or unknown.
	Worker *model.Worker
	// WorkerGone is true when the run names a worker that no longer exists.
	WorkerGone bool
}

// PoolSweep reports what a foreman round changed.
type PoolSweep struct {
	// WorkersOffline are workers that just went OFFLINE.
	WorkersOffline int
	// PoolsNotReady are pools that just lost their last online worker.
	PoolsNotReady int
	// QueuesNotReady and DeploymentsNotReady were not polled recently.
	QueuesNotReady      int
	DeploymentsNotReady int
	// Changed lists the pools, queues and deployments the round moved to
	// NOT_READY (for their prefect.<kind>.not-ready events).
	Changed []StatusChange
}

// StatusChange is a work pool, work queue or deployment whose status a
// background round changed.
type StatusChange struct {
	Workspace model.ID
	// Kind is "work-pool", "work-queue" or "deployment".
	Kind   string
	ID     model.ID
	Name   string
	Status string
	// PoolType is the pool's type (work pools only).
	PoolType string
	// PoolID is the queue's pool (work queues only).
	PoolID *model.ID
}

// WorkPools stores work pools, their queues and their workers, and answers
// the dispatch query workers poll.
type WorkPools interface {
	// WorkPoolCreate creates p and its "default" queue (ErrConflict when
	// the name is taken).
	WorkPoolCreate(ctx context.Context, ws model.ID, p model.WorkPool) (model.WorkPool, error)
	WorkPoolGet(ctx context.Context, ws model.ID, name string) (model.WorkPool, error)
	WorkPoolGetByID(ctx context.Context, ws, id model.ID) (model.WorkPool, error)
	WorkPoolList(ctx context.Context, ws model.ID, q model.WorkPoolQuery) ([]model.WorkPool, error)
	WorkPoolCount(ctx context.Context, ws model.ID, q model.WorkPoolQuery) (int, error)
	WorkPoolUpdate(ctx context.Context, ws model.ID, name string, fn func(*model.WorkPool) error) (model.WorkPool, error)
	// WorkPoolDelete removes the pool with its queues and workers.
	WorkPoolDelete(ctx context.Context, ws model.ID, name string) error

	WorkQueueCreate(ctx context.Context, ws model.ID, pool string, q model.WorkQueue) (model.WorkQueue, error)
	WorkQueueGet(ctx context.Context, ws model.ID, pool, name string) (model.WorkQueue, error)
	WorkQueueGetByID(ctx context.Context, ws, id model.ID) (model.WorkQueue, error)
	// WorkQueueEnsure returns the named queue of the pool, creating it if
	// missing (an empty name means the pool's default queue).
	WorkQueueEnsure(ctx context.Context, ws model.ID, pool, name string) (model.WorkQueue, error)
	WorkQueueList(ctx context.Context, ws model.ID, pool string, q model.WorkQueueQuery) ([]model.WorkQueue, error)
	WorkQueueUpdate(ctx context.Context, ws model.ID, pool, name string, fn func(*model.WorkQueue) error) (model.WorkQueue, error)
	// WorkQueueDelete removes a queue; the default queue cannot be deleted
	// (ErrConflict).
	WorkQueueDelete(ctx context.Context, ws model.ID, pool, name string) error

	// WorkerHeartbeat records a heartbeat (creating the worker on first
	// contact), marks it ONLINE and its pool READY unless paused.
	WorkerHeartbeat(ctx context.Context, ws model.ID, pool, name string, intervalSeconds *int, now time.Time) (model.Worker, error)
	WorkerList(ctx context.Context, ws model.ID, pool string, q model.WorkerQuery) ([]model.Worker, error)
	WorkerDelete(ctx context.Context, ws model.ID, pool, name string) error

	// WorkPoolScheduledRuns returns the pool's SCHEDULED runs that workers
	// may start: not in-process retries, in unpaused queues of an unpaused
	// pool, within the pool's and each queue's concurrency limit (counting
	// PENDING, RUNNING and CANCELLING runs), ordered by queue priority then
	// scheduled time. It marks the polled queues and deployments READY.
	WorkPoolScheduledRuns(ctx context.Context, ws model.ID, q PoolRunsQuery) ([]model.WorkerFlowRun, error)
	// WorkPoolsSweep is the foreman's round: workers silent for three
	// heartbeat intervals (30 s when unknown) go OFFLINE, pools without an
	// online worker go NOT_READY, queues and deployments not polled within
	// pollWindow go NOT_READY.
	WorkPoolsSweep(ctx context.Context, now time.Time, pollWindow time.Duration) (PoolSweep, error)

	// FlowRunSweep lists flow runs across every workspace for the
	// background services, oldest state first.
	FlowRunSweep(ctx context.Context, q RunSweepQuery) ([]SweptRun, error)
}
