// Package orchestration is Baton's pure decision core: given a run, its
// current state and a proposed state, it decides ACCEPT, REJECT, WAIT or
// ABORT and computes every bookkeeping change (start/end time, run counts,
// run time, expected/next start time, parent-task mirroring, events).
//
// Rules are small named values applied in a fixed order per policy: the core
// flow policy, the core task policy, and the minimal policies used when a
// proposal is forced. Nothing here does I/O; the store reads the current row
// and writes the outcome in one transaction.
package orchestration

import (
	"time"

	"github.com/batonhq/baton/internal/model"
)

// FlowRunInput is everything a flow-run decision may look at.
type FlowRunInput struct {
	// Run is the current row; Run.State is its current state (nil for a run
	// that has none yet).
	Run model.FlowRun
	// Proposed is the state the client asks for.
	Proposed model.StateCreate
	// Force selects the minimal policy instead of the core one.
	Force bool
	// Now is the decision time (injected so tests control it). The zero
	// value means time.Now().
	Now time.Time
	// ClientVersion is the Prefect client version parsed from the
	// User-Agent ("" when unknown).
	ClientVersion string

	// Related names the neighbours of the run so the emitted events carry
	// the same related resources as Prefect's (all optional: a missing name
	// only leaves the label out).
	Related RelatedResources
	// Deployment is the concurrency of the run's deployment, gathered
	// before the write (nil for a run without a deployment). The
	// deployment concurrency rules need it.
	Deployment *DeploymentConcurrency
	// ParentTaskRun is the subflow's tracking task run, when the caller has
	// it. With it the outcome also carries the parent's updated row
	// (Outcome.ParentTaskRun), its flow_run_id on the mirrored state, and
	// the parent's name and tags on the events.
	ParentTaskRun *model.TaskRun
}

// RelatedResources are the names and tags of a run's neighbours that events
// label their related resources with. Ids come from the run itself.
type RelatedResources struct {
	FlowName       string
	FlowTags       []string
	DeploymentName string
	DeploymentTags []string
	// WorkPoolType labels the work-pool resource ("process", "docker"...).
	WorkPoolType string
}

// TaskRunInput is everything a task-run decision may look at.
type TaskRunInput struct {
	Run      model.TaskRun
	Proposed model.StateCreate
	Force    bool
	// Now is the decision time; the zero value means time.Now().
	Now time.Time
	// FlowRun is the parent flow run, if any (used by the rules that stop
	// tasks of stopped flows and that rename retries).
	FlowRun *model.FlowRun
	// CachedState is the unexpired COMPLETED state the caller found for the
	// proposal's cache_key (nil when there is none or the proposal asks to
	// refresh the cache). CacheRetrieval turns a RUNNING proposal into a
	// copy of it named "Cached".
	CachedState *model.State
	// Rand returns a uniform number in [0, 1) for retry jitter; nil means
	// math/rand. Injected so tests are deterministic.
	Rand func() float64
	// EmitEvents asks for a prefect.task-run.<Name> event per written
	// state (labelled prefect.orchestration=server, so the client-event
	// recorder ignores it).
	EmitEvents bool
	// TagLimits are the global concurrency limits of the run's tags (the
	// limits named "tag:<tag>" that exist), gathered before the write.
	TagLimits []model.ConcurrencyLimit
}

// Outcome is a decision and what must be written because of it.
type Outcome struct {
	// Result is returned to the client as-is.
	Result model.OrchestrationResult
	// Run is the updated row when a state is written (nil when nothing
	// changes, e.g. ABORT, WAIT or a REJECT that keeps the current state).
	Run *model.FlowRun
	// TaskRun is the updated task-run row (task decisions only).
	TaskRun *model.TaskRun
	// State is the state appended to the history (the proposed one, or the
	// one a rule substituted, e.g. AwaitingRetry).
	State *model.State
	// ParentTaskState is the state mirrored onto a subflow's parent task run.
	ParentTaskState *model.State
	// ParentTaskRun is the parent task run after ParentTaskState was
	// applied to it with the forced task policy (set only when
	// FlowRunInput.ParentTaskRun was given).
	ParentTaskRun *model.TaskRun
	// Events are the prefect.flow-run.<Name> events the transition emits.
	Events []model.Event
	// Slots is what the decision does to concurrency slots (deployment
	// slots for flow runs, tag slots for task runs); the store applies it
	// with the state.
	Slots model.SlotChange
}
