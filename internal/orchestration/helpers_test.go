package orchestration

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// testNow is the injected decision time of every test.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// allFroms is every current-state type a rule can see, noState (a run with
// no state) first.
var allFroms = append([]model.StateType{noState}, model.StateTypes...)

// transitions maps (from, to) pairs to the verdict a rule must give; pairs
// not listed must be accepted untouched.
type transitions map[[2]model.StateType]string

func (m transitions) set(froms, tos []model.StateType, v string) transitions {
	for _, f := range froms {
		for _, t := range tos {
			m[[2]model.StateType{f, t}] = v
		}
	}
	return m
}

func (m transitions) want(from, to model.StateType) string {
	if v, ok := m[[2]model.StateType{from, to}]; ok {
		return v
	}
	return "ACCEPT"
}

func types(ts ...model.StateType) []model.StateType { return ts }

var terminals = types(model.StateCompleted, model.StateFailed, model.StateCancelled, model.StateCrashed)

// verdict summarises an outcome: the status, plus the written state's name
// for a REJECT that substitutes a state.
func verdict(o Outcome) string {
	s := string(o.Result.Status)
	if o.Result.Status == model.StatusReject && o.State != nil {
		s += ":" + o.State.Name
	}
	return s
}

func currentState(t model.StateType) *model.State {
	if t == noState {
		return nil
	}
	return &model.State{ID: model.NewID(), Type: t, Name: t.DefaultName(), Timestamp: model.NewTime(testNow.Add(-time.Minute))}
}

func flowFixture(from model.StateType) FlowRunInput {
	run := model.FlowRun{ID: model.NewID(), FlowID: model.NewID(), Name: "brave-otter", Tags: []string{"etl"}}
	if s := currentState(from); s != nil {
		run.State = s
		run.StateID, run.StateType, run.StateName = &s.ID, &s.Type, &s.Name
	}
	return FlowRunInput{Run: run, Now: testNow}
}

func taskFixture(from model.StateType) TaskRunInput {
	flowRunID := model.NewID()
	run := model.TaskRun{ID: model.NewID(), Name: "a-3fa", FlowRunID: &flowRunID, TaskKey: "a", DynamicKey: "0"}
	if s := currentState(from); s != nil {
		run.State = s
		run.StateID, run.StateType, run.StateName = &s.ID, &s.Type, &s.Name
	}
	flowState := &model.State{ID: model.NewID(), Type: model.StateRunning, Name: "Running", Timestamp: model.NewTime(testNow.Add(-time.Hour))}
	fr := &model.FlowRun{ID: flowRunID, State: flowState, RunCount: 1}
	return TaskRunInput{Run: run, Now: testNow, FlowRun: fr, Rand: func() float64 { return 0.5 }}
}

func flowRuleNamed(t *testing.T, policy []flowRule, name string) flowRule {
	t.Helper()
	for _, r := range policy {
		if r.name == name {
			return r
		}
	}
	t.Fatalf("no flow rule %q", name)
	return flowRule{}
}

func taskRuleNamed(t *testing.T, policy []taskRule, name string) taskRule {
	t.Helper()
	for _, r := range policy {
		if r.name == name {
			return r
		}
	}
	t.Fatalf("no task rule %q", name)
	return taskRule{}
}

// checkInvariants asserts what holds for every outcome: the result's state
// is the written one or, when nothing is written, the current one; details
// match the status.
func checkInvariants(t *testing.T, o Outcome, current *model.State, proposedType model.StateType) {
	t.Helper()
	r := o.Result
	wantDetails := map[model.SetStateStatus]string{
		model.StatusAccept: "accept_details", model.StatusReject: "reject_details",
		model.StatusAbort: "abort_details", model.StatusWait: "wait_details",
	}[r.Status]
	if wantDetails == "" || r.Details.Type != wantDetails {
		t.Fatalf("status %q with details %q", r.Status, r.Details.Type)
	}
	if r.Status != model.StatusAccept && r.Details.Reason == "" {
		t.Errorf("%s without a reason", r.Status)
	}
	if (r.Status == model.StatusWait) != (r.Details.DelaySeconds != nil) {
		t.Errorf("delay_seconds %v with status %s", r.Details.DelaySeconds, r.Status)
	}
	written := o.State != nil
	if written != (o.Run != nil || o.TaskRun != nil) {
		t.Fatalf("state written %v but run row %v/%v", written, o.Run != nil, o.TaskRun != nil)
	}
	switch {
	case written:
		if r.State == nil || r.State.ID != o.State.ID {
			t.Fatalf("result state %+v is not the written state %+v", r.State, o.State)
		}
		if r.Status == model.StatusWait || r.Status == model.StatusAbort {
			t.Fatalf("%s wrote a state", r.Status)
		}
		if r.Status == model.StatusAccept && o.State.Type != proposedType {
			t.Fatalf("ACCEPT wrote %s for a %s proposal", o.State.Type, proposedType)
		}
		if current != nil && !o.State.Timestamp.After(current.Timestamp.Time) {
			t.Errorf("new state at %v is not after current %v", o.State.Timestamp, current.Timestamp)
		}
	case current != nil:
		if r.State == nil || r.State.ID != current.ID {
			t.Fatalf("nothing written but result state %+v is not the current one", r.State)
		}
	default:
		if r.State != nil {
			t.Fatalf("no current state and nothing written, yet result state %+v", r.State)
		}
	}
}

func persisted() json.RawMessage {
	return json.RawMessage(`{"storage_key":"/tmp/r","serializer":{"type":"pickle"}}`)
}
