package orchestration

import (
	"slices"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// flowRuleTable runs one flow rule alone over every (from, to) pair.
type flowRuleTable struct {
	desc  string
	rule  string
	force bool // look the rule up in the minimal policy
	// setup adjusts the fixture run and the proposal.
	setup func(in *FlowRunInput)
	want  transitions
	// check, if set, inspects each outcome further.
	check func(t *testing.T, from, to model.StateType, in FlowRunInput, o Outcome)
}

func TestFlowRules(t *testing.T) {
	t.Parallel()
	lease := model.NewID()
	transition := model.NewID()
	all := model.StateTypes
	tables := []flowRuleTable{
		{
			desc: "lease id is carried forward", rule: "PreserveDeploymentConcurrencyLeaseId",
			setup: func(in *FlowRunInput) {
				if in.Run.State != nil {
					in.Run.State.StateDetails.DeploymentConcurrencyLeaseID = &lease
				}
			},
			want: transitions{},
			check: func(t *testing.T, from, to model.StateType, in FlowRunInput, o Outcome) {
				got := o.State.StateDetails.DeploymentConcurrencyLeaseID
				if from == noState {
					if got != nil {
						t.Errorf("lease %v invented", got)
					}
				} else if got == nil || *got != lease {
					t.Errorf("lease = %v, want %v", got, lease)
				}
			},
		},
		{
			desc: "same transition id is a duplicate", rule: "PreventDuplicateTransitions",
			setup: func(in *FlowRunInput) {
				if in.Run.State != nil {
					in.Run.State.StateDetails.TransitionID = &transition
				}
				in.Proposed.StateDetails.TransitionID = &transition
			},
			want: transitions{}.set(all, all, "REJECT"),
		},
		{
			desc: "different transition ids pass", rule: "PreventDuplicateTransitions",
			setup: func(in *FlowRunInput) {
				if in.Run.State != nil {
					in.Run.State.StateDetails.TransitionID = &transition
				}
				other := model.NewID()
				in.Proposed.StateDetails.TransitionID = &other
			},
			want: transitions{},
		},
		{
			desc: "terminal runs without deployment", rule: "HandleFlowTerminalStateTransitions",
			want: transitions{}.
				set(terminals, types(model.StateCancelling, model.StatePaused, model.StateCrashed), "ABORT").
				set(terminals, types(model.StateScheduled), "ABORT"),
			check: func(t *testing.T, from, to model.StateType, in FlowRunInput, o Outcome) {
				if o.Run == nil || !slices.Contains(terminals, from) {
					return
				}
				rt := o.Run.EmpiricalPolicy.RetryType
				if to.Terminal() != (rt == nil && o.Run.EmpiricalPolicy.PauseKeys == nil) {
					t.Errorf("policy after %s→%s: %+v", from, to, o.Run.EmpiricalPolicy)
				}
			},
		},
		{
			desc: "terminal runs with a deployment may be rescheduled", rule: "HandleFlowTerminalStateTransitions",
			setup: func(in *FlowRunInput) {
				dep := model.NewID()
				in.Run.DeploymentID = &dep
				in.Run.EmpiricalPolicy.PauseKeys = []string{"k"}
			},
			want: transitions{}.
				set(terminals, types(model.StateCancelling, model.StatePaused, model.StateCrashed), "ABORT"),
			check: func(t *testing.T, from, to model.StateType, in FlowRunInput, o Outcome) {
				if from.Terminal() && to == model.StateScheduled {
					rt := o.Run.EmpiricalPolicy.RetryType
					if rt == nil || *rt != "reschedule" || len(o.Run.EmpiricalPolicy.PauseKeys) != 0 {
						t.Errorf("rescheduled policy = %+v", o.Run.EmpiricalPolicy)
					}
				}
			},
		},
		{
			desc: "a completed run with a persisted result stays completed", rule: "HandleFlowTerminalStateTransitions",
			setup: func(in *FlowRunInput) {
				dep := model.NewID()
				in.Run.DeploymentID = &dep
				if in.Run.State != nil && in.Run.State.Type == model.StateCompleted {
					in.Run.State.Data = persisted()
				}
			},
			want: transitions{}.
				set(terminals, types(model.StateCancelling, model.StatePaused, model.StateCrashed), "ABORT").
				set(types(model.StateCompleted), types(model.StateScheduled, model.StatePending, model.StateRunning, model.StateCompleted), "REJECT"),
		},
		{
			desc: "cancelling only ends in cancelled", rule: "EnforceCancellingToCancelledTransition",
			want: transitions{}.set(types(model.StateCancelling), slices.DeleteFunc(slices.Clone(all), func(s model.StateType) bool { return s == model.StateCancelled }), "REJECT"),
		},
		{
			desc: "no infrastructure: cancel directly", rule: "BypassCancellingFlowRunsWithNoInfra",
			want: transitions{}.set(types(model.StateScheduled), types(model.StateCancelling), "REJECT:Cancelled"),
			check: func(t *testing.T, from, to model.StateType, in FlowRunInput, o Outcome) {
				if v := verdict(o); v == "REJECT:Cancelled" && o.State.Type != model.StateCancelled {
					t.Errorf("substituted %s", o.State.Type)
				}
			},
		},
		{
			desc: "infrastructure running: go through cancelling", rule: "BypassCancellingFlowRunsWithNoInfra",
			setup: func(in *FlowRunInput) { in.Run.InfrastructurePID = strPtr("host:123") },
			want:  transitions{},
		},
		{
			desc: "suspended and resuming runs have no infrastructure", rule: "BypassCancellingFlowRunsWithNoInfra",
			setup: func(in *FlowRunInput) {
				in.Run.InfrastructurePID = strPtr("host:123")
				if s := in.Run.State; s != nil && s.Type == model.StatePaused {
					s.Name, s.StateDetails.PauseReschedule = "Suspended", true
				}
				if s := in.Run.State; s != nil && s.Type == model.StateScheduled {
					s.Name = "Resuming"
				}
			},
			want: transitions{}.set(types(model.StateScheduled, model.StatePaused), types(model.StateCancelling), "REJECT:Cancelled"),
		},
		{
			desc: "no going back to pending", rule: "PreventPendingTransitions",
			want: transitions{}.set(types(model.StatePending, model.StateCancelling, model.StateRunning, model.StateCancelled), types(model.StatePending), "ABORT"),
		},
		{
			desc: "named pending sub-states progress", rule: "PreventPendingTransitions",
			setup: func(in *FlowRunInput) {
				in.Proposed.Name = strPtr("Submitting")
				if s := in.Run.State; s != nil {
					s.StateDetails.ScheduledTime = model.TimePtr(testNow.Add(-2 * time.Minute))
				}
			},
			want: transitions{}.set(types(model.StateCancelling, model.StateRunning, model.StateCancelled), types(model.StatePending), "ABORT"),
			check: func(t *testing.T, from, to model.StateType, in FlowRunInput, o Outcome) {
				if from == model.StatePending && to == model.StatePending {
					if o.State.Name != "Submitting" || o.State.StateDetails.ScheduledTime == nil {
						t.Errorf("Pending→Submitting wrote %+v", o.State)
					}
				}
			},
		},
		{
			desc: "only scheduled runs become late", rule: "EnsureOnlyScheduledFlowsMarkedLate",
			setup: func(in *FlowRunInput) { in.Proposed.Name = strPtr("Late") },
			want:  transitions{}.set(slices.DeleteFunc(slices.Clone(all), func(s model.StateType) bool { return s == model.StateScheduled }), types(model.StateScheduled), "REJECT"),
		},
		{
			desc: "late runs are not marked late twice", rule: "EnsureOnlyScheduledFlowsMarkedLate",
			setup: func(in *FlowRunInput) {
				in.Proposed.Name = strPtr("Late")
				if s := in.Run.State; s != nil && s.Type == model.StateScheduled {
					s.Name = "Late"
				}
			},
			want: transitions{}.set(all, types(model.StateScheduled), "REJECT"),
		},
		{
			desc: "only running flows pause", rule: "HandlePausingFlows",
			want: transitions{}.
				set(types(noState), types(model.StatePaused), "ABORT").
				set(slices.DeleteFunc(slices.Clone(all), func(s model.StateType) bool { return s == model.StateRunning }), types(model.StatePaused), "REJECT"),
			check: func(t *testing.T, from, to model.StateType, in FlowRunInput, o Outcome) {
				if from == model.StateRunning && to == model.StatePaused && len(o.Run.EmpiricalPolicy.PauseKeys) != 1 {
					t.Errorf("pause key not recorded: %+v", o.Run.EmpiricalPolicy)
				}
			},
		},
		{
			desc: "a pause key fires once", rule: "HandlePausingFlows",
			setup: func(in *FlowRunInput) {
				in.Proposed.StateDetails.PauseKey = strPtr("approval")
				in.Run.EmpiricalPolicy.PauseKeys = []string{"approval"}
			},
			want: transitions{}.
				set(types(noState), types(model.StatePaused), "ABORT").
				set(all, types(model.StatePaused), "REJECT"),
		},
		{
			desc: "suspending needs a deployment", rule: "HandlePausingFlows",
			setup: func(in *FlowRunInput) {
				in.Proposed.Name = strPtr("Suspended")
				in.Proposed.StateDetails.PauseReschedule = true
			},
			want: transitions{}.
				set(types(noState, model.StateRunning), types(model.StatePaused), "ABORT").
				set(slices.DeleteFunc(slices.Clone(all), func(s model.StateType) bool { return s == model.StateRunning }), types(model.StatePaused), "REJECT"),
		},
		{
			desc: "paused runs resume to running, scheduled or final", rule: "HandleResumingPausedFlows",
			want: transitions{}.set(types(model.StatePaused), types(model.StatePending, model.StatePaused, model.StateCancelling), "REJECT"),
			check: func(t *testing.T, from, to model.StateType, in FlowRunInput, o Outcome) {
				if from == model.StatePaused && o.Run != nil {
					if r := o.Run.EmpiricalPolicy.Resuming; r == nil || !*r {
						t.Errorf("%s→%s did not mark the run resuming", from, to)
					}
				}
			},
		},
		{
			desc: "an expired pause fails the run", rule: "HandleResumingPausedFlows",
			setup: func(in *FlowRunInput) {
				if s := in.Run.State; s != nil {
					s.StateDetails.PauseTimeout = model.TimePtr(testNow.Add(-time.Second))
				}
			},
			want: transitions{}.
				set(types(model.StatePaused), types(model.StatePending, model.StatePaused, model.StateCancelling), "REJECT").
				set(types(model.StatePaused), types(model.StateScheduled, model.StateRunning, model.StateCompleted, model.StateFailed, model.StateCancelled, model.StateCrashed), "REJECT:Failed"),
		},
		{
			desc: "scheduled time is copied into pending", rule: "CopyScheduledTime",
			setup: func(in *FlowRunInput) {
				if s := in.Run.State; s != nil {
					s.StateDetails.ScheduledTime = model.TimePtr(testNow.Add(time.Hour))
				}
			},
			want: transitions{},
			check: func(t *testing.T, from, to model.StateType, in FlowRunInput, o Outcome) {
				copied := o.State.StateDetails.ScheduledTime != nil
				if want := from == model.StateScheduled && to == model.StatePending; copied != want {
					t.Errorf("%s→%s copied scheduled time: %v", from, to, copied)
				}
			},
		},
		{
			desc: "early runs wait", rule: "WaitForScheduledTime",
			setup: func(in *FlowRunInput) {
				if s := in.Run.State; s != nil {
					s.StateDetails.ScheduledTime = model.TimePtr(testNow.Add(90*time.Second + 200*time.Millisecond))
				}
			},
			want: transitions{}.set(types(model.StateScheduled, model.StatePending), types(model.StateRunning), "WAIT"),
			check: func(t *testing.T, from, to model.StateType, in FlowRunInput, o Outcome) {
				if d := o.Result.Details.DelaySeconds; d != nil && *d != 91 {
					t.Errorf("delay_seconds = %d, want 91 (rounded up)", *d)
				}
			},
		},
		{
			desc: "due runs start", rule: "WaitForScheduledTime",
			setup: func(in *FlowRunInput) {
				if s := in.Run.State; s != nil {
					s.StateDetails.ScheduledTime = model.TimePtr(testNow.Add(-time.Second))
				}
			},
			want: transitions{},
		},
		{
			desc: "failed runs with retries left are retried", rule: "RetryFailedFlows",
			setup: func(in *FlowRunInput) {
				in.Run.EmpiricalPolicy.Retries = new(int)
				*in.Run.EmpiricalPolicy.Retries = 1
				in.Run.RunCount = 1
			},
			want: transitions{}.set(types(model.StateRunning), types(model.StateFailed), "REJECT:AwaitingRetry"),
		},
		{
			desc: "failed runs out of retries fail", rule: "RetryFailedFlows",
			setup: func(in *FlowRunInput) {
				in.Run.EmpiricalPolicy.Retries = new(int)
				*in.Run.EmpiricalPolicy.Retries = 1
				in.Run.RunCount = 2
			},
			want: transitions{},
		},
		{
			force: true, desc: "forced transitions keep persisted results", rule: "PreventResultDataLoss",
			setup: func(in *FlowRunInput) {
				if s := in.Run.State; s != nil {
					s.Data = persisted()
				}
			},
			want: transitions{}.set(terminals, terminals, "REJECT"),
		},
		{
			force: true, desc: "forced transitions carrying results pass", rule: "PreventResultDataLoss",
			setup: func(in *FlowRunInput) {
				if s := in.Run.State; s != nil {
					s.Data = persisted()
				}
				in.Proposed.Data = persisted()
			},
			want: transitions{},
		},
	}
	for _, tab := range tables {
		t.Run(tab.rule+"/"+tab.desc, func(t *testing.T) {
			t.Parallel()
			policy := coreFlowPolicy
			if tab.force {
				policy = minimalFlowPolicy
			}
			r := flowRuleNamed(t, policy, tab.rule)
			for _, from := range allFroms {
				for _, to := range model.StateTypes {
					in := flowFixture(from)
					in.Proposed = model.StateCreate{Type: to}
					if tab.setup != nil {
						tab.setup(&in)
					}
					current := in.Run.State
					o := proposeFlowRunState(in, []flowRule{r})
					if got, want := verdict(o), tab.want.want(from, to); got != want {
						t.Errorf("%q→%s: got %s (%s), want %s", from, to, got, o.Result.Details.Reason, want)
						continue
					}
					checkInvariants(t, o, current, to)
					if tab.check != nil {
						tab.check(t, from, to, in, o)
					}
				}
			}
		})
	}
}

// TestFlowRuleOrder pins the order of the core flow policy (contract §5.2):
// the first rule to change a proposal wins, so order is behaviour.
func TestFlowRuleOrder(t *testing.T) {
	t.Parallel()
	var names []string
	for _, r := range coreFlowPolicy {
		names = append(names, r.name)
	}
	want := []string{
		"PreserveDeploymentConcurrencyLeaseId", "PreventDuplicateTransitions", "HandleFlowTerminalStateTransitions",
		"EnforceCancellingToCancelledTransition", "BypassCancellingFlowRunsWithNoInfra", "PreventPendingTransitions",
		"ValidateDeploymentConcurrencyAtRunning", "SecureFlowConcurrencySlots", "RemoveDeploymentConcurrencyLeaseForOldClientVersions",
		"EnsureOnlyScheduledFlowsMarkedLate", "EnforceDeploymentConcurrencyOnLate", "HandlePausingFlows", "HandleResumingPausedFlows", "CopyScheduledTime",
		"WaitForScheduledTime", "RetryFailedFlows",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("core flow policy order = %v, want %v", names, want)
	}
}
