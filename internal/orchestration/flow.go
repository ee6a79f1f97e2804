package orchestration

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// flowCtx is the orchestration context of one flow-run proposal: the shared
// decision plus a working copy of the run that rules and transforms edit.
type flowCtx struct {
	*decision
	in  *FlowRunInput
	run *model.FlowRun
	// slots collects what the decision does to concurrency slots.
	slots model.SlotChange
}

// flowRule is a rule of a flow-run policy.
type flowRule = rule[*flowCtx]

// coreFlowPolicy is applied, in this order, to unforced flow-run proposals
// (contract §5.2).
var coreFlowPolicy = []flowRule{
	{"PreserveDeploymentConcurrencyLeaseId", anyType, anyType, preserveDeploymentConcurrencyLeaseID},
	{"PreventDuplicateTransitions", anyType, anyType, preventDuplicateTransitions},
	{"HandleFlowTerminalStateTransitions", terminalTypes, anyType, handleFlowTerminalStateTransitions},
	{"EnforceCancellingToCancelledTransition", only(model.StateCancelling), anyExcept(model.StateCancelled), enforceCancellingToCancelled},
	{"BypassCancellingFlowRunsWithNoInfra", only(model.StateScheduled, model.StatePaused), only(model.StateCancelling), bypassCancellingFlowRunsWithNoInfra},
	{"PreventPendingTransitions", only(model.StatePending, model.StateCancelling, model.StateRunning, model.StateCancelled), only(model.StatePending), preventPendingTransitions},
	{"ValidateDeploymentConcurrencyAtRunning", only(model.StatePending), only(model.StateRunning), validateDeploymentConcurrencyAtRunning},
	{"SecureFlowConcurrencySlots", anyExcept(model.StatePending, model.StateRunning, model.StateCancelling), only(model.StatePending), secureFlowConcurrencySlots},
	{"RemoveDeploymentConcurrencyLeaseForOldClientVersions", only(model.StatePending), only(model.StateRunning, model.StateCancelling), removeDeploymentConcurrencyLeaseForOldClientVersions},
	{"EnsureOnlyScheduledFlowsMarkedLate", anyType, only(model.StateScheduled), ensureOnlyScheduledFlowsMarkedLate},
	// Prefect applies this one in the policy it marks runs late with; only
	// the late-runs service proposes "Late", so here it sits in the core.
	{"EnforceDeploymentConcurrencyOnLate", only(model.StateScheduled), only(model.StateScheduled), enforceDeploymentConcurrencyOnLate},
	{"HandlePausingFlows", anyType, only(model.StatePaused), handlePausingFlows},
	{"HandleResumingPausedFlows", only(model.StatePaused), anyType, handleResumingPausedFlows},
	{"CopyScheduledTime", only(model.StateScheduled), only(model.StatePending), func(c *flowCtx) { copyScheduledTime(c.decision) }},
	{"WaitForScheduledTime", only(model.StateScheduled, model.StatePending), only(model.StateRunning), func(c *flowCtx) { waitForScheduledTime(c.decision) }},
	{"RetryFailedFlows", only(model.StateRunning), only(model.StateFailed), retryFailedFlows},
	// InstrumentFlowRunStateTransitions is flowRunStateEvent, built for
	// every written state once the outcome is known;
	// ReleaseFlowConcurrencySlots runs then too (releaseFlowConcurrencySlots).
}

// minimalFlowPolicy is applied to forced flow-run proposals (contract §5.3).
var minimalFlowPolicy = []flowRule{
	{"PreserveDeploymentConcurrencyLeaseId", anyType, anyType, preserveDeploymentConcurrencyLeaseID},
	{"PreventResultDataLoss", terminalTypes, terminalTypes, preventResultDataLoss},
	{"BypassCancellingFlowRunsWithNoInfra", only(model.StateScheduled, model.StatePaused), only(model.StateCancelling), bypassCancellingFlowRunsWithNoInfra},
}

// ProposeFlowRunState decides a flow-run proposal: the core policy (or the
// minimal one when forced), then, if a state is written, the global
// bookkeeping transforms, the subflow parent mirroring and the state-change
// event. It never fails: a proposal it refuses is a REJECT or an ABORT.
func ProposeFlowRunState(in FlowRunInput) Outcome {
	policy := coreFlowPolicy
	if in.Force {
		policy = minimalFlowPolicy
	}
	return proposeFlowRunState(in, policy)
}

// proposeFlowRunState decides with the given rules (tests pass single rules).
func proposeFlowRunState(in FlowRunInput, policy []flowRule) Outcome {
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	in.Now = now

	run := in.Run
	var initial *model.State
	if run.State != nil {
		cur := *run.State
		initial = &cur
	}
	c := &flowCtx{
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
	c.flowGlobals()
	c.finish()
	c.releaseFlowConcurrencySlots()

	written := *c.proposed
	rowState := written
	run.State = &rowState
	estimate(&run.TotalRunTime, &run.EstimatedRunTime, &run.EstimatedStartTimeDelta, run.StartTime, run.ExpectedStartTime, &written, now)

	out := Outcome{Result: c.result(), Run: &run, State: &written, Slots: c.slots}
	resState := written
	out.Result.State = &resState
	out.Events = []model.Event{flowRunStateEvent(&in, &run, initial, &written)}
	c.mirrorOntoParentTask(&out)
	return out
}

// flowGlobals are Prefect's global flow transforms: bookkeeping that runs on
// every written transition, forced or not, in this order.
func (c *flowCtx) flowGlobals() {
	p, run, init := c.proposed, c.run, c.initial
	c.ensureUniqueTimestamp()

	// UpdateStateDetails and UpdateSubflowStateDetails.
	runID := run.ID
	p.StateDetails.FlowRunID = &runID
	if run.ParentTaskRunID != nil {
		parent := *run.ParentTaskRunID
		p.StateDetails.TaskRunID = &parent
	}

	// SetRunStateType/Name/Timestamp.
	sid, st, sn := p.ID, p.Type, p.Name
	run.StateID, run.StateType, run.StateName = &sid, &st, &sn

	bookkeepTimes(init, p, &run.StartTime, &run.EndTime, &run.TotalRunTime, &run.ExpectedStartTime, &run.NextScheduledStartTime)

	// IncrementFlowRunCount: resuming from a pause continues the same run.
	resuming := run.EmpiricalPolicy.Resuming != nil && *run.EmpiricalPolicy.Resuming
	if p.Type == model.StateRunning && !resuming {
		run.RunCount++
	}
	// RemoveResumingIndicator.
	if resuming && (p.Type == model.StateRunning || p.Type.Terminal()) {
		run.EmpiricalPolicy.Resuming = boolPtr(false)
	}
	run.Updated = model.NewTime(c.now)
}

// bookkeepTimes applies the time-keeping transforms shared by flow and task
// runs: SetStartTime, SetEndTime, IncrementRunTime, SetExpectedStartTime and
// SetNextScheduledStartTime.
func bookkeepTimes(init, p *model.State, start, end **model.Time, total *model.Duration, expected, next **model.Time) {
	ts := p.Timestamp
	if p.Type == model.StateRunning && *start == nil {
		*start = &ts
	}
	if init != nil && init.Type.Terminal() && !p.Type.Terminal() {
		*end = nil
	}
	if p.Type.Terminal() && *start != nil && *end == nil {
		*end = &ts
	}
	if init != nil && init.Type == model.StateRunning {
		*total += model.DurationOf(p.Timestamp.Sub(init.Timestamp.Time))
	}
	if *expected == nil {
		if p.Type == model.StateScheduled {
			*expected = copyTime(p.StateDetails.ScheduledTime)
		} else {
			*expected = &ts
		}
	}
	if init != nil && init.Type == model.StateScheduled {
		*next = nil
	}
	if p.Type == model.StateScheduled {
		*next = copyTime(p.StateDetails.ScheduledTime)
	}
}

// estimate fills the computed duration fields Prefect derives on read: the
// run time including the current RUNNING stretch, and how late the run
// started (or, not started yet, how late it is now).
func estimate(total, estRun, estDelta *model.Duration, start, expected *model.Time, cur *model.State, now time.Time) {
	*estRun = *total
	if cur != nil && cur.Type == model.StateRunning && now.After(cur.Timestamp.Time) {
		*estRun += model.DurationOf(now.Sub(cur.Timestamp.Time))
	}
	*estDelta = 0
	switch {
	case start != nil && expected != nil:
		if d := start.Sub(expected.Time); d > 0 {
			*estDelta = model.DurationOf(d)
		}
	case start == nil && expected != nil && cur != nil && !cur.Type.Terminal() && expected.Before(now):
		*estDelta = model.DurationOf(now.Sub(expected.Time))
	}
}

func copyTime(t *model.Time) *model.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}

// mirrorOntoParentTask gives a subflow's tracking task run the subflow's
// new state (UpdateSubflowParentTask).
func (c *flowCtx) mirrorOntoParentTask(out *Outcome) {
	run := c.run
	if run.ParentTaskRunID == nil {
		return
	}
	ps := *out.State
	ps.ID = model.NewIDv7()
	childID, parentID := run.ID, *run.ParentTaskRunID
	ps.StateDetails.ChildFlowRunID = &childID
	ps.StateDetails.TaskRunID = &parentID
	ps.StateDetails.FlowRunID = nil
	if c.in.ParentTaskRun == nil {
		out.ParentTaskState = &ps
		return
	}
	ps.StateDetails.FlowRunID = c.in.ParentTaskRun.FlowRunID
	name := ps.Name
	tout := ProposeTaskRunState(TaskRunInput{
		Run:   *c.in.ParentTaskRun,
		Force: true,
		Now:   c.now,
		Proposed: model.StateCreate{
			Type: ps.Type, Name: &name, Message: ps.Message, Data: ps.Data,
			StateDetails: ps.StateDetails, Timestamp: &ps.Timestamp, ID: &ps.ID,
		},
	})
	out.ParentTaskState, out.ParentTaskRun = tout.State, tout.TaskRun
}

// flowRetrySettings reads retries and the retry delay, falling back to the
// deprecated max_retries/retry_delay_seconds that old clients send.
func flowRetrySettings(p model.FlowRunPolicy) (retries *int, delay float64) {
	retries = p.Retries
	if retries == nil && p.MaxRetries != 0 {
		n := p.MaxRetries
		retries = &n
	}
	if p.RetryDelay != nil {
		delay = *p.RetryDelay
	} else {
		delay = p.RetryDelaySeconds
	}
	return retries, max(delay, 0)
}

// The flow rules. Each reads c.initial (non-nil unless its from-set admits
// noState) and edits c.proposed or calls reject/abort/wait.

func preserveDeploymentConcurrencyLeaseID(c *flowCtx) {
	if c.initial == nil || c.proposed.StateDetails.DeploymentConcurrencyLeaseID != nil {
		return
	}
	c.proposed.StateDetails.DeploymentConcurrencyLeaseID = c.initial.StateDetails.DeploymentConcurrencyLeaseID
}

func preventDuplicateTransitions(c *flowCtx) {
	if c.initial == nil {
		return
	}
	cur, next := c.initial.StateDetails.TransitionID, c.proposed.StateDetails.TransitionID
	if cur != nil && next != nil && *cur == *next {
		c.reject(nil, "This run has already made this state transition.")
	}
}

func handleFlowTerminalStateTransitions(c *flowCtx) {
	init, p := c.initial, c.proposed
	switch p.Type {
	case model.StateCancelling, model.StatePaused, model.StateCrashed:
		c.abort(fmt.Sprintf("Run is already in terminal state %s.", init.Type))
		return
	}
	if init.Type == model.StateCompleted && init.HasPersistedData() {
		if !p.Type.Terminal() {
			c.reject(nil, "Run is already COMPLETED.")
			return
		}
		if p.Type == model.StateCompleted && !p.HasPersistedData() {
			c.reject(nil, "Run is already COMPLETED with a persisted result, which an unpersisted one cannot replace.")
			return
		}
	}
	if p.Type == model.StateScheduled && c.run.DeploymentID == nil {
		c.abort("Cannot reschedule a run without an associated deployment.")
		return
	}
	if !p.Type.Terminal() {
		// Leaving a terminal state is a manual rerun: forget past pauses.
		saved := c.run.EmpiricalPolicy
		pol := saved
		pol.Resuming = boolPtr(false)
		pol.PauseKeys = []string{}
		pol.RetryType = nil
		if p.Type == model.StateScheduled {
			pol.RetryType = strPtr("reschedule")
		}
		c.run.EmpiricalPolicy = pol
		c.onFizzle(func() { c.run.EmpiricalPolicy = saved })
	}
}

func enforceCancellingToCancelled(c *flowCtx) {
	c.reject(nil, "Cannot transition flows that are cancelling to a state other than Cancelled.")
}

func bypassCancellingFlowRunsWithNoInfra(c *flowCtx) {
	init := c.initial
	noInfra := c.run.InfrastructurePID == nil || *c.run.InfrastructurePID == ""
	switch {
	case init.Type == model.StateScheduled && noInfra, init.Name == "Resuming":
		c.reject(newState(model.StateCancelled, "", c.proposed.Timestamp), "Scheduled flow run has no infrastructure to terminate.")
	case init.Type == model.StatePaused && init.StateDetails.PauseReschedule:
		c.reject(newState(model.StateCancelled, "", c.proposed.Timestamp), "Suspended flow run has no infrastructure to terminate.")
	}
}

func preventPendingTransitions(c *flowCtx) {
	init, p := c.initial, c.proposed
	if init.Type == model.StatePending && init.Name != p.Name && p.Name != "Pending" {
		// Progress through named sub-states (Submitting,
		// InfrastructurePending) keeps what earlier rules put on Pending.
		p.StateDetails.ScheduledTime = copyTime(init.StateDetails.ScheduledTime)
		p.StateDetails.DeploymentConcurrencyLeaseID = init.StateDetails.DeploymentConcurrencyLeaseID
		return
	}
	c.abort(fmt.Sprintf("This run is in a %s state and cannot transition to a PENDING state.", init.Type))
}

func ensureOnlyScheduledFlowsMarkedLate(c *flowCtx) {
	if c.initial == nil || c.proposed.Name != "Late" {
		return
	}
	switch {
	case c.initial.Type != model.StateScheduled:
		c.reject(nil, "Only scheduled flows can be marked late.")
	case c.initial.Name == "Late":
		c.reject(nil, "This run is already marked late.")
	}
}

func handlePausingFlows(c *flowCtx) {
	init, p := c.initial, c.proposed
	verb := "pause"
	if p.Name == "Suspended" {
		verb = "suspend"
	}
	if init == nil {
		c.abort(fmt.Sprintf("Cannot %s flows with no state.", verb))
		return
	}
	if init.Type != model.StateRunning {
		c.reject(nil, fmt.Sprintf("Cannot %s flows that are not currently running.", verb))
		return
	}
	key := model.NewID().String()
	if p.StateDetails.PauseKey != nil {
		key = *p.StateDetails.PauseKey
	}
	if slices.Contains(c.run.EmpiricalPolicy.PauseKeys, key) {
		c.reject(nil, fmt.Sprintf("This %s has already fired.", verb))
		return
	}
	if p.StateDetails.PauseReschedule {
		if c.run.ParentTaskRunID != nil {
			c.abort(fmt.Sprintf("Cannot %s subflows.", verb))
			return
		}
		if c.run.DeploymentID == nil {
			c.abort(fmt.Sprintf("Cannot %s flows without a deployment.", verb))
			return
		}
	}
	c.afterWrite(func() {
		c.run.EmpiricalPolicy.PauseKeys = append(slices.Clone(c.run.EmpiricalPolicy.PauseKeys), key)
	})
}

func handleResumingPausedFlows(c *flowCtx) {
	init, p := c.initial, c.proposed
	if p.Type != model.StateRunning && p.Type != model.StateScheduled && !p.Type.Terminal() {
		c.reject(nil, fmt.Sprintf("This run cannot transition to the %s state from the %s state.", p.Type, init.Type))
		return
	}
	paused := strings.ToLower(init.Name)
	if init.StateDetails.PauseReschedule && c.run.DeploymentID == nil {
		c.reject(nil, fmt.Sprintf("Cannot reschedule a %s flow run without a deployment.", paused))
		return
	}
	if to := init.StateDetails.PauseTimeout; to != nil && to.Before(c.now) {
		failed := newState(model.StateFailed, "", p.Timestamp)
		failed.Message = strPtr(fmt.Sprintf("The flow was %s and never resumed.", paused))
		c.reject(failed, "The flow run pause has timed out and can no longer resume.")
		return
	}
	c.afterWrite(func() { c.run.EmpiricalPolicy.Resuming = boolPtr(true) })
}

func retryFailedFlows(c *flowCtx) {
	retries, delay := flowRetrySettings(c.run.EmpiricalPolicy)
	if retries == nil || c.run.RunCount > *retries {
		// Out of retries: clear the retry type so a later manual retry
		// (e.g. from the UI) is not mistaken for an in-process one.
		c.run.EmpiricalPolicy.RetryType = nil
		return
	}
	pol := c.run.EmpiricalPolicy
	pol.Resuming = boolPtr(false)
	pol.PauseKeys = []string{}
	pol.RetryType = strPtr("in_process")
	c.run.EmpiricalPolicy = pol
	at := c.now.Add(time.Duration(delay * float64(time.Second)))
	c.reject(awaitingRetry(at, c.proposed), "Retrying")
}

func preventResultDataLoss(c *flowCtx) {
	if c.initial.HasPersistedData() && !c.proposed.HasPersistedData() {
		c.reject(nil, fmt.Sprintf("The run is %s with a persisted result that a %s state without one would lose.", c.initial.Type, c.proposed.Type))
	}
}
