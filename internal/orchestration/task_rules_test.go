package orchestration

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

type taskRuleTable struct {
	desc  string
	rule  string
	setup func(in *TaskRunInput)
	want  transitions
	check func(t *testing.T, from, to model.StateType, in TaskRunInput, o Outcome)
}

func TestTaskRules(t *testing.T) {
	t.Parallel()
	tables := []taskRuleTable{
		{
			desc: "a cache hit answers with the cached state", rule: "CacheRetrieval",
			setup: func(in *TaskRunInput) {
				in.Proposed.StateDetails.CacheKey = strPtr("k")
				in.CachedState = &model.State{ID: model.NewID(), Type: model.StateCompleted, Name: "Completed", Data: persisted()}
			},
			want: transitions{}.set(allFroms, types(model.StateRunning), "REJECT:Cached"),
			check: func(t *testing.T, from, to model.StateType, in TaskRunInput, o Outcome) {
				if to == model.StateRunning && (o.State.Type != model.StateCompleted || o.State.ID == in.CachedState.ID || string(o.State.Data) != string(in.CachedState.Data)) {
					t.Errorf("cached copy = %+v", o.State)
				}
			},
		},
		{
			desc: "refresh_cache skips the cache", rule: "CacheRetrieval",
			setup: func(in *TaskRunInput) {
				in.Proposed.StateDetails.CacheKey = strPtr("k")
				in.Proposed.StateDetails.RefreshCache = boolPtr(true)
				in.CachedState = &model.State{ID: model.NewID(), Type: model.StateCompleted, Name: "Completed"}
			},
			want: transitions{},
		},
		{
			desc: "terminal task runs", rule: "HandleTaskTerminalStateTransitions",
			setup: func(in *TaskRunInput) { in.Run.RunCount = 3 },
			want:  transitions{}.set(terminals, types(model.StateCancelling, model.StatePaused, model.StateCrashed), "ABORT"),
			check: func(t *testing.T, from, to model.StateType, in TaskRunInput, o Outcome) {
				if o.TaskRun == nil || !from.Terminal() {
					return
				}
				want := 3
				switch {
				case to == model.StateRunning:
					want = 1 // reset, then entering RUNNING counts once
				case !to.Terminal():
					want = 0
				}
				if o.TaskRun.RunCount != want {
					t.Errorf("run_count after %s→%s = %d, want %d", from, to, o.TaskRun.RunCount, want)
				}
			},
		},
		{
			desc: "persisted completed task runs stay completed", rule: "HandleTaskTerminalStateTransitions",
			setup: func(in *TaskRunInput) {
				if s := in.Run.State; s != nil && s.Type == model.StateCompleted {
					s.Data = persisted()
				}
			},
			want: transitions{}.
				set(terminals, types(model.StateCancelling, model.StatePaused, model.StateCrashed), "ABORT").
				set(types(model.StateCompleted), types(model.StateScheduled, model.StatePending, model.StateRunning, model.StateCompleted, model.StateFailed, model.StateCancelled), "REJECT"),
		},
		{
			desc: "a retrying flow renames its rerun tasks", rule: "HandleTaskTerminalStateTransitions",
			setup: func(in *TaskRunInput) { in.Run.FlowRunRunCount = 1; in.FlowRun.RunCount = 2 },
			want:  transitions{}.set(terminals, types(model.StateCancelling, model.StatePaused, model.StateCrashed), "ABORT"),
			check: func(t *testing.T, from, to model.StateType, in TaskRunInput, o Outcome) {
				if from.Terminal() && to == model.StateRunning && o.State.Name != "Retrying" {
					t.Errorf("%s→RUNNING named %q, want Retrying", from, o.State.Name)
				}
			},
		},
		{
			desc: "tasks of finished flows do not run", rule: "PreventRunningTasksFromStoppedFlows",
			setup: func(in *TaskRunInput) { in.FlowRun.State.Type = model.StateCompleted },
			want:  transitions{}.set(allFroms, types(model.StateRunning), "ABORT"),
		},
		{
			desc: "tasks of paused flows are not ready", rule: "PreventRunningTasksFromStoppedFlows",
			setup: func(in *TaskRunInput) { in.FlowRun.State.Type = model.StatePaused },
			want:  transitions{}.set(allFroms, types(model.StateRunning), "REJECT:NotReady"),
		},
		{
			desc: "tasks of running flows run", rule: "PreventRunningTasksFromStoppedFlows",
			want: transitions{},
		},
		{
			desc: "early tasks wait", rule: "WaitForScheduledTime",
			setup: func(in *TaskRunInput) {
				if s := in.Run.State; s != nil {
					s.StateDetails.ScheduledTime = model.TimePtr(testNow.Add(10 * time.Second))
				}
			},
			want: transitions{}.set(types(model.StateScheduled, model.StatePending), types(model.StateRunning), "WAIT"),
		},
		{
			desc: "scheduled time is copied into pending", rule: "CopyScheduledTime",
			setup: func(in *TaskRunInput) {
				if s := in.Run.State; s != nil {
					s.StateDetails.ScheduledTime = model.TimePtr(testNow.Add(time.Hour))
				}
			},
			want: transitions{},
			check: func(t *testing.T, from, to model.StateType, in TaskRunInput, o Outcome) {
				copied := o.State.StateDetails.ScheduledTime != nil
				if want := from == model.StateScheduled && to == model.StatePending; copied != want {
					t.Errorf("%s→%s copied scheduled time: %v", from, to, copied)
				}
			},
		},
		{
			desc: "failed tasks with retries left are retried", rule: "RetryFailedTasks",
			setup: func(in *TaskRunInput) {
				in.Run.EmpiricalPolicy.Retries = new(int)
				*in.Run.EmpiricalPolicy.Retries = 2
				in.Run.EmpiricalPolicy.RetryDelay = json.RawMessage(`[10, 20]`)
				in.Run.RunCount = 2
			},
			want: transitions{}.set(types(model.StateRunning), types(model.StateFailed), "REJECT:AwaitingRetry"),
			check: func(t *testing.T, from, to model.StateType, in TaskRunInput, o Outcome) {
				if verdict(o) == "REJECT:AwaitingRetry" {
					if at := o.State.StateDetails.ScheduledTime; at == nil || !at.Equal(testNow.Add(20*time.Second)) {
						t.Errorf("second retry scheduled at %v, want now+20s", at)
					}
				}
			},
		},
		{
			desc: "non-retriable failures fail", rule: "RetryFailedTasks",
			setup: func(in *TaskRunInput) {
				in.Run.EmpiricalPolicy.Retries = new(int)
				*in.Run.EmpiricalPolicy.Retries = 2
				in.Run.RunCount = 1
				in.Proposed.StateDetails.Retriable = boolPtr(false)
			},
			want: transitions{},
		},
		{
			desc: "reruns are renamed", rule: "RenameReruns",
			setup: func(in *TaskRunInput) {
				in.Run.RunCount = 1
				if s := in.Run.State; s != nil && s.Type == model.StateScheduled {
					s.Name = "AwaitingRetry"
				}
			},
			want: transitions{},
			check: func(t *testing.T, from, to model.StateType, in TaskRunInput, o Outcome) {
				want := to.DefaultName()
				switch {
				case to != model.StateRunning || from == noState:
				case from == model.StateScheduled:
					want = "Retrying"
				default:
					want = "Rerunning"
				}
				if o.State.Name != want {
					t.Errorf("%q→%s named %q, want %q", from, to, o.State.Name, want)
				}
			},
		},
		{
			desc: "running tasks record the flow attempt", rule: "UpdateFlowRunTrackerOnTasks",
			setup: func(in *TaskRunInput) { in.FlowRun.RunCount = 4 },
			want:  transitions{},
			check: func(t *testing.T, from, to model.StateType, in TaskRunInput, o Outcome) {
				want := 0
				if to == model.StateRunning {
					want = 4
				}
				if o.TaskRun.FlowRunRunCount != want {
					t.Errorf("%q→%s flow_run_run_count = %d, want %d", from, to, o.TaskRun.FlowRunRunCount, want)
				}
			},
		},
		{
			desc: "over-long cache keys are refused", rule: "CacheInsertion",
			setup: func(in *TaskRunInput) { in.Proposed.StateDetails.CacheKey = strPtr(strings.Repeat("k", 2001)) },
			want:  transitions{}.set(allFroms, types(model.StateCompleted), "REJECT:Completed"),
		},
	}
	for _, tab := range tables {
		t.Run(tab.rule+"/"+tab.desc, func(t *testing.T) {
			t.Parallel()
			r := taskRuleNamed(t, coreTaskPolicy, tab.rule)
			for _, from := range allFroms {
				for _, to := range model.StateTypes {
					in := taskFixture(from)
					in.Proposed = model.StateCreate{Type: to}
					if tab.setup != nil {
						tab.setup(&in)
					}
					current := in.Run.State
					o := proposeTaskRunState(in, []taskRule{r})
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

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		delays   []float64
		runCount int
		jitter   float64
		u        float64
		lo, hi   float64
	}{
		{"single", []float64{5}, 1, 0, 0.5, 5, 5},
		{"list first", []float64{1, 2, 3}, 1, 0, 0.5, 1, 1},
		{"list past end repeats last", []float64{1, 2, 3}, 7, 0, 0.5, 3, 3},
		{"negative clamps to zero", []float64{-4}, 1, 0, 0.5, 0, 0},
		{"jitter low", []float64{10}, 1, 0.5, 0, 10 * 0.4, 10 * 1.5},
		{"jitter high", []float64{10}, 1, 0.5, 0.999999, 10 * 0.4, 10 * 1.5},
		{"zero delay ignores jitter", []float64{0}, 1, 0.5, 0.3, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := retryDelay(tt.delays, tt.runCount, tt.jitter, tt.u)
			if got < tt.lo-1e-9 || got > tt.hi+1e-9 {
				t.Errorf("retryDelay = %v, want in [%v, %v]", got, tt.lo, tt.hi)
			}
		})
	}
	// Jitter actually spreads the delays.
	if a, b := retryDelay([]float64{10}, 1, 0.5, 0.1), retryDelay([]float64{10}, 1, 0.5, 0.9); !(a < b) {
		t.Errorf("jitter does not spread: %v vs %v", a, b)
	}
}

func TestTaskRetrySettings(t *testing.T) {
	t.Parallel()
	two := 2
	tests := []struct {
		name    string
		pol     model.TaskRunPolicy
		retries int // -1: none
		delays  []float64
	}{
		{"number", model.TaskRunPolicy{Retries: &two, RetryDelay: json.RawMessage(`3`)}, 2, []float64{3}},
		{"list", model.TaskRunPolicy{Retries: &two, RetryDelay: json.RawMessage(`[1,4]`)}, 2, []float64{1, 4}},
		{"null falls back", model.TaskRunPolicy{Retries: &two, RetryDelay: json.RawMessage(`null`), RetryDelaySeconds: 7}, 2, []float64{7}},
		{"deprecated max_retries", model.TaskRunPolicy{MaxRetries: 3, RetryDelaySeconds: 1}, 3, []float64{1}},
		{"no retries", model.TaskRunPolicy{}, -1, []float64{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, d, _ := taskRetrySettings(tt.pol)
			got := -1
			if r != nil {
				got = *r
			}
			if got != tt.retries || !slices.Equal(d, tt.delays) {
				t.Errorf("got retries %d delays %v, want %d %v", got, d, tt.retries, tt.delays)
			}
		})
	}
}
