package orchestration

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// maxCacheKeyLength is Prefect's default limit on a task cache key.
const maxCacheKeyLength = 2000

// taskCtx is the orchestration context of one task-run proposal.
type taskCtx struct {
	*decision
	in  *TaskRunInput
	run *model.TaskRun
	// slots collects what the decision does to tag concurrency slots.
	slots model.SlotChange
}

// taskRule is a rule of a task-run policy.
type taskRule = rule[*taskCtx]

// coreTaskPolicy is applied, in this order, to unforced task-run proposals
// (contract §5.4).
var coreTaskPolicy = []taskRule{
	{"CacheRetrieval", anyType, only(model.StateRunning), cacheRetrieval},
	{"HandleTaskTerminalStateTransitions", terminalTypes, anyType, handleTaskTerminalStateTransitions},
	{"PreventRunningTasksFromStoppedFlows", anyType, only(model.StateRunning), preventRunningTasksFromStoppedFlows},
	// After the cache and stop checks: a cached state is retrieved even
	// when the slots are full.
	{"SecureTaskConcurrencySlots", anyType, only(model.StateRunning), secureTaskConcurrencySlots},
	{"CopyScheduledTime", only(model.StateScheduled), only(model.StatePending), func(c *taskCtx) { copyScheduledTime(c.decision) }},
	{"WaitForScheduledTime", only(model.StateScheduled, model.StatePending), only(model.StateRunning), func(c *taskCtx) { waitForScheduledTime(c.decision) }},
	{"RetryFailedTasks", only(model.StateRunning), only(model.StateFailed), retryFailedTasks},
	{"RenameReruns", anyType, only(model.StateRunning), renameReruns},
	{"UpdateFlowRunTrackerOnTasks", anyType, only(model.StateRunning), updateFlowRunTrackerOnTasks},
	{"CacheInsertion", anyType, only(model.StateCompleted), cacheInsertion},
	// ReleaseTaskConcurrencySlots runs on every written state
	// (releaseTaskConcurrencySlots).
}

// minimalTaskPolicy is applied to forced task-run proposals: Prefect's only
// rule there, ReleaseTaskConcurrencySlots, runs on every written state, so a
// forced proposal is always written (with the global bookkeeping).
var minimalTaskPolicy = []taskRule{}

// ProposeTaskRunState decides a task-run proposal with the core task policy
// (or the minimal one when forced) and, if a state is written, applies the
// global task transforms. When the written state is COMPLETED with a
// cache_key and the status is ACCEPT, the caller records the cache entry
// (CacheInsertion's write half).
func ProposeTaskRunState(in TaskRunInput) Outcome {
	policy := coreTaskPolicy
	if in.Force {
		policy = minimalTaskPolicy
	}
	return proposeTaskRunState(in, policy)
}

// proposeTaskRunState decides with the given rules (tests pass single rules).
func proposeTaskRunState(in TaskRunInput, policy []taskRule) Outcome {
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	in.Now = now
	if in.Rand == nil {
		in.Rand = rand.Float64
	}

	run := in.Run
	var initial *model.State
	if run.State != nil {
		cur := *run.State
		initial = &cur
	}
	c := &taskCtx{
		decision: newDecision(now, initial, in.Proposed.ToState(model.NewTime(now))),
		in:       &in,
		run:      &run,
	}
	if !in.Proposed.Type.Valid() {
		// The API validates types; this keeps a bad caller from writing a
		// typeless state.
		c.abort(fmt.Sprintf("%q is not a state type.", in.Proposed.Type))
	}
	runRules(c.decision, c, policy)
	if c.proposed == nil {
		c.finish()
		return Outcome{Result: c.result()}
	}
	c.taskGlobals()
	c.finish()
	c.releaseTaskConcurrencySlots()

	written := *c.proposed
	rowState := written
	run.State = &rowState
	estimate(&run.TotalRunTime, &run.EstimatedRunTime, &run.EstimatedStartTimeDelta, run.StartTime, run.ExpectedStartTime, &written, now)
	out := Outcome{Result: c.result(), TaskRun: &run, State: &written, Slots: c.slots}
	resState := written
	out.Result.State = &resState
	if in.EmitEvents {
		out.Events = []model.Event{taskRunStateEvent(&run, initial, &written, now)}
	}
	return out
}

// taskGlobals are Prefect's global task transforms.
func (c *taskCtx) taskGlobals() {
	p, run := c.proposed, c.run
	c.ensureUniqueTimestamp()
	var flowRunID *model.ID
	if run.FlowRunID != nil {
		id := *run.FlowRunID
		flowRunID = &id
	}
	taskID := run.ID
	p.StateDetails.FlowRunID, p.StateDetails.TaskRunID = flowRunID, &taskID

	sid, st, sn := p.ID, p.Type, p.Name
	run.StateID, run.StateType, run.StateName = &sid, &st, &sn
	bookkeepTimes(c.initial, p, &run.StartTime, &run.EndTime, &run.TotalRunTime, &run.ExpectedStartTime, &run.NextScheduledStartTime)
	// IncrementTaskRunCount.
	if p.Type == model.StateRunning {
		run.RunCount++
	}
	run.Updated = model.NewTime(c.now)
}

// taskRetrySettings reads retries, the per-attempt delays (retry_delay is a
// number or a list) and the jitter factor, falling back to the deprecated
// max_retries/retry_delay_seconds.
func taskRetrySettings(p model.TaskRunPolicy) (retries *int, delays []float64, jitter float64) {
	retries = p.Retries
	if retries == nil && p.MaxRetries != 0 {
		n := p.MaxRetries
		retries = &n
	}
	var one float64
	raw := strings.TrimSpace(string(p.RetryDelay))
	switch {
	case raw == "" || raw == "null":
		delays = []float64{p.RetryDelaySeconds}
	case json.Unmarshal(p.RetryDelay, &one) == nil:
		delays = []float64{one}
	case json.Unmarshal(p.RetryDelay, &delays) == nil && len(delays) > 0:
	default:
		delays = []float64{p.RetryDelaySeconds}
	}
	if p.RetryJitterFactor != nil {
		jitter = *p.RetryJitterFactor
	}
	return retries, delays, jitter
}

// retryDelay picks the delay of the attempt that just failed (the last one
// repeats) and applies jitter.
func retryDelay(delays []float64, runCount int, jitter float64, u float64) float64 {
	i := min(max(runCount-1, 0), len(delays)-1)
	base := max(delays[i], 0)
	if jitter <= 0 || base == 0 {
		return base
	}
	return jittered(base, jitter, u)
}

// jittered draws a delay around avg from an exponential distribution cut to
// [avg·lower, avg·(1+factor)], where the lower multiple keeps the mean of
// the cut distribution close to avg. u is uniform in [0, 1).
func jittered(avg, factor, u float64) float64 {
	upperMult := 1 + factor
	lowerMult := 0.0
	if upperMult < 50 {
		p := math.Pow(2, upperMult)
		lowerMult = math.Log2(max(p/(p-1), 1e-10))
	}
	cdf := func(x float64) float64 { return 1 - math.Exp(-x/avg) }
	lo, hi := cdf(max(0, avg*lowerMult)), cdf(avg*upperMult)
	r := lo + u*(hi-lo)
	return -math.Log(max(1-r, 1e-10)) * avg
}

// The task rules.

func cacheRetrieval(c *taskCtx) {
	sd := c.proposed.StateDetails
	if c.in.CachedState == nil || sd.CacheKey == nil || *sd.CacheKey == "" || (sd.RefreshCache != nil && *sd.RefreshCache) {
		return
	}
	cached := *c.in.CachedState
	cached.ID = model.NewID()
	cached.Name = "Cached"
	cached.Timestamp = c.proposed.Timestamp
	cached.StateDetails.TransitionID = nil
	c.reject(&cached, "Retrieved state from cache")
}

func handleTaskTerminalStateTransitions(c *taskCtx) {
	init, p := c.initial, c.proposed
	switch p.Type {
	case model.StateCancelling, model.StatePaused, model.StateCrashed:
		c.abort(fmt.Sprintf("Run is already %s.", init.Type))
		return
	}
	if init.Type == model.StateCompleted && init.HasPersistedData() {
		c.reject(nil, "This run is already completed.")
		return
	}
	if !p.Type.Terminal() {
		// Leaving a terminal state starts the retries afresh.
		saved := c.run.RunCount
		c.run.RunCount = 0
		c.onFizzle(func() { c.run.RunCount = saved })
	}
	if p.Type == model.StateRunning && c.run.FlowRunID != nil && c.in.FlowRun != nil && c.run.FlowRunRunCount < c.in.FlowRun.RunCount {
		c.rename("Retrying")
	}
}

func preventRunningTasksFromStoppedFlows(c *taskCtx) {
	fr := c.in.FlowRun
	if fr == nil {
		return
	}
	const notRunning = "The enclosing flow must be running to begin task execution."
	switch {
	case fr.State == nil:
		c.abort(notRunning)
	case fr.State.Type == model.StatePaused:
		s := newState(model.StatePaused, "NotReady", c.proposed.Timestamp)
		s.StateDetails.PauseTimeout = copyTime(fr.State.StateDetails.PauseTimeout)
		s.StateDetails.PauseReschedule = fr.State.StateDetails.PauseReschedule
		c.reject(s, fmt.Sprintf("The flow is paused, new tasks can execute after resuming flow run: %s.", fr.ID))
	case fr.State.Type != model.StateRunning:
		c.abort(notRunning)
	}
}

func retryFailedTasks(c *taskCtx) {
	if r := c.proposed.StateDetails.Retriable; r != nil && !*r {
		return
	}
	retries, delays, jitter := taskRetrySettings(c.run.EmpiricalPolicy)
	if retries == nil || c.run.RunCount > *retries {
		return
	}
	delay := retryDelay(delays, c.run.RunCount, jitter, c.in.Rand())
	at := c.now.Add(time.Duration(delay * float64(time.Second)))
	c.reject(awaitingRetry(at, c.proposed), "Retrying")
}

func renameReruns(c *taskCtx) {
	if c.initial == nil || c.run.RunCount == 0 {
		return
	}
	if c.initial.Name == "AwaitingRetry" {
		c.rename("Retrying")
	} else {
		c.rename("Rerunning")
	}
}

func updateFlowRunTrackerOnTasks(c *taskCtx) {
	if c.run.FlowRunID == nil || c.in.FlowRun == nil {
		return
	}
	n := c.in.FlowRun.RunCount
	c.afterWrite(func() { c.run.FlowRunRunCount = n })
}

func cacheInsertion(c *taskCtx) {
	if k := c.proposed.StateDetails.CacheKey; k != nil && len(*k) > maxCacheKeyLength {
		// Prefect writes the state but refuses to cache it.
		c.reject(c.proposed, fmt.Sprintf("Cache key exceeded maximum allowed length of %d characters.", maxCacheKeyLength))
	}
}
