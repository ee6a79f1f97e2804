package orchestration

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// flowSim drives one flow run through successive proposals, keeping the
// written row like the store would.
type flowSim struct {
	t   *testing.T
	in  FlowRunInput
	now time.Time
}

func newFlowSim(t *testing.T, run model.FlowRun) *flowSim {
	if run.ID.IsNil() {
		run.ID = model.NewID()
	}
	if run.FlowID.IsNil() {
		run.FlowID = model.NewID()
	}
	return &flowSim{t: t, in: FlowRunInput{Run: run}, now: testNow}
}

// propose decides p at the sim's clock (advanced by after first) and
// applies what was written.
func (s *flowSim) propose(after time.Duration, p model.StateCreate, force bool) Outcome {
	s.t.Helper()
	s.now = s.now.Add(after)
	in := s.in
	in.Proposed, in.Force, in.Now = p, force, s.now
	current := in.Run.State
	o := ProposeFlowRunState(in)
	checkInvariants(s.t, o, current, p.Type)
	if o.Run != nil {
		s.in.Run = *o.Run
	}
	return o
}

func proposal(t model.StateType) model.StateCreate {
	id := model.NewID()
	return model.StateCreate{Type: t, StateDetails: model.StateDetails{TransitionID: &id}}
}

func named(t model.StateType, name string) model.StateCreate {
	p := proposal(t)
	p.Name = &name
	return p
}

func wantStatus(t *testing.T, o Outcome, status model.SetStateStatus) {
	t.Helper()
	if o.Result.Status != status {
		t.Fatalf("status = %s (%s), want %s", o.Result.Status, o.Result.Details.Reason, status)
	}
}

func TestPendingRunningCompletedBookkeeping(t *testing.T) {
	t.Parallel()
	s := newFlowSim(t, model.FlowRun{Name: "calm-fox"})
	runID := s.in.Run.ID

	pending := proposal(model.StatePending)
	tp := "00-abc-def-01"
	pending.StateDetails.Traceparent = &tp
	o := s.propose(0, pending, false)
	wantStatus(t, o, model.StatusAccept)
	sd := o.Result.State.StateDetails
	if sd.FlowRunID == nil || *sd.FlowRunID != runID || sd.Traceparent == nil || *sd.Traceparent != tp || *sd.TransitionID != *pending.StateDetails.TransitionID {
		t.Fatalf("state_details not echoed: %+v", sd)
	}
	if r := o.Run; r.ExpectedStartTime == nil || !r.ExpectedStartTime.Equal(testNow) || r.StartTime != nil || r.RunCount != 0 {
		t.Fatalf("after Pending: %+v", r)
	}

	o = s.propose(10*time.Second, proposal(model.StateRunning), false)
	wantStatus(t, o, model.StatusAccept)
	r := o.Run
	if r.StartTime == nil || !r.StartTime.Equal(testNow.Add(10*time.Second)) || r.RunCount != 1 {
		t.Fatalf("after Running: start %v run_count %d", r.StartTime, r.RunCount)
	}
	if *r.StateType != model.StateRunning || *r.StateName != "Running" || *r.StateID != o.State.ID || r.State.ID != o.State.ID {
		t.Fatalf("run state columns not updated: %+v", r)
	}
	if r.EstimatedStartTimeDelta != 10 {
		t.Errorf("estimated_start_time_delta = %v, want 10", r.EstimatedStartTimeDelta)
	}

	o = s.propose(60*time.Second, proposal(model.StateCompleted), false)
	wantStatus(t, o, model.StatusAccept)
	r = o.Run
	if r.EndTime == nil || !r.EndTime.Equal(testNow.Add(70*time.Second)) {
		t.Errorf("end_time = %v", r.EndTime)
	}
	if r.TotalRunTime != 60 || r.EstimatedRunTime != 60 || r.RunCount != 1 {
		t.Errorf("total_run_time %v estimated_run_time %v run_count %d", r.TotalRunTime, r.EstimatedRunTime, r.RunCount)
	}
	if !r.Updated.Equal(testNow.Add(70 * time.Second)) {
		t.Errorf("updated = %v", r.Updated)
	}
	if r.NextScheduledStartTime != nil {
		t.Errorf("next_scheduled_start_time = %v", r.NextScheduledStartTime)
	}
}

func TestDuplicateTransitionReturnsCurrentState(t *testing.T) {
	t.Parallel()
	s := newFlowSim(t, model.FlowRun{})
	s.propose(0, proposal(model.StatePending), false)
	running := proposal(model.StateRunning)
	first := s.propose(time.Second, running, false)
	wantStatus(t, first, model.StatusAccept)

	again := s.propose(time.Second, running, false)
	wantStatus(t, again, model.StatusReject)
	if again.State != nil || again.Run != nil || len(again.Events) != 0 {
		t.Fatalf("duplicate wrote something: %+v", again)
	}
	if again.Result.State.ID != first.State.ID {
		t.Fatalf("duplicate returned %v, want current state %v", again.Result.State.ID, first.State.ID)
	}
	if s.in.Run.RunCount != 1 {
		t.Fatalf("run_count = %d after duplicate", s.in.Run.RunCount)
	}
}

func TestFlowRetry(t *testing.T) {
	t.Parallel()
	retries, delay := 1, 30.0
	s := newFlowSim(t, model.FlowRun{EmpiricalPolicy: model.FlowRunPolicy{Retries: &retries, RetryDelay: &delay}})
	s.propose(0, proposal(model.StatePending), false)
	s.propose(time.Second, proposal(model.StateRunning), false)

	failed := proposal(model.StateFailed)
	failed.Message = strPtr("boom")
	failed.Data = persisted()
	o := s.propose(5*time.Second, failed, false)
	wantStatus(t, o, model.StatusReject)
	st := o.State
	if st == nil || st.Type != model.StateScheduled || st.Name != "AwaitingRetry" || o.Result.State.ID != st.ID {
		t.Fatalf("retry state = %+v", st)
	}
	failedAt := testNow.Add(6 * time.Second)
	if at := st.StateDetails.ScheduledTime; at == nil || !at.Equal(failedAt.Add(30*time.Second)) {
		t.Fatalf("scheduled_time = %v, want %v", at, failedAt.Add(30*time.Second))
	}
	if *st.Message != "boom" || string(st.Data) != string(persisted()) {
		t.Fatalf("message/data not carried: %+v", st)
	}
	if rt := o.Run.EmpiricalPolicy.RetryType; rt == nil || *rt != "in_process" {
		t.Fatalf("retry_type = %v", rt)
	}
	if o.Run.TotalRunTime != 5 || o.Run.NextScheduledStartTime == nil {
		t.Fatalf("run after retry: total %v next %v", o.Run.TotalRunTime, o.Run.NextScheduledStartTime)
	}
	if len(o.Events) != 1 || o.Events[0].Event != "prefect.flow-run.AwaitingRetry" {
		t.Fatalf("events = %+v", o.Events)
	}

	// Too early: wait the remaining 20 seconds.
	o = s.propose(10*time.Second, proposal(model.StateRunning), false)
	wantStatus(t, o, model.StatusWait)
	if d := o.Result.Details.DelaySeconds; d == nil || *d != 20 {
		t.Fatalf("delay_seconds = %v, want 20", d)
	}
	if o.Result.State.Name != "AwaitingRetry" {
		t.Fatalf("WAIT returned %q, want the current state", o.Result.State.Name)
	}

	o = s.propose(21*time.Second, proposal(model.StateRunning), false)
	wantStatus(t, o, model.StatusAccept)
	if o.Run.RunCount != 2 || o.Run.NextScheduledStartTime != nil {
		t.Fatalf("second attempt: run_count %d next %v", o.Run.RunCount, o.Run.NextScheduledStartTime)
	}

	o = s.propose(time.Second, proposal(model.StateFailed), false)
	wantStatus(t, o, model.StatusAccept)
	if o.State.Type != model.StateFailed || o.Run.EndTime == nil || o.Run.EmpiricalPolicy.RetryType != nil {
		t.Fatalf("final failure: %+v", o.Run)
	}
}

func TestTerminalToCancellingAborts(t *testing.T) {
	t.Parallel()
	s := newFlowSim(t, model.FlowRun{})
	s.propose(0, proposal(model.StateRunning), false)
	done := s.propose(time.Second, proposal(model.StateCompleted), false)
	o := s.propose(time.Second, proposal(model.StateCancelling), false)
	wantStatus(t, o, model.StatusAbort)
	if o.Result.State.ID != done.State.ID || o.Run != nil || len(o.Events) != 0 {
		t.Fatalf("abort outcome = %+v", o)
	}
}

func TestCancelScheduledRunWithoutInfra(t *testing.T) {
	t.Parallel()
	dep := model.NewID()
	s := newFlowSim(t, model.FlowRun{DeploymentID: &dep})
	sched := proposal(model.StateScheduled)
	sched.StateDetails.ScheduledTime = model.TimePtr(testNow.Add(time.Hour))
	o := s.propose(0, sched, false)
	if o.Run.ExpectedStartTime == nil || !o.Run.ExpectedStartTime.Equal(testNow.Add(time.Hour)) ||
		o.Run.NextScheduledStartTime == nil || !o.Run.NextScheduledStartTime.Equal(testNow.Add(time.Hour)) {
		t.Fatalf("scheduled run times: expected %v next %v", o.Run.ExpectedStartTime, o.Run.NextScheduledStartTime)
	}

	o = s.propose(time.Minute, proposal(model.StateCancelling), false)
	wantStatus(t, o, model.StatusReject)
	if o.State == nil || o.State.Type != model.StateCancelled || o.State.Name != "Cancelled" || o.Result.State.ID != o.State.ID {
		t.Fatalf("written = %+v", o.State)
	}
	if *o.Run.StateType != model.StateCancelled || o.Run.EndTime != nil || o.Run.NextScheduledStartTime != nil {
		t.Fatalf("run = %+v", o.Run)
	}
	if len(o.Events) != 1 || o.Events[0].Event != "prefect.flow-run.Cancelled" {
		t.Fatalf("events = %+v", o.Events)
	}
	if !o.Run.ExpectedStartTime.Equal(testNow.Add(time.Hour)) {
		t.Fatalf("expected_start_time overwritten: %v", o.Run.ExpectedStartTime)
	}
}

func TestPendingTransitions(t *testing.T) {
	t.Parallel()
	s := newFlowSim(t, model.FlowRun{})
	sched := proposal(model.StateScheduled)
	sched.StateDetails.ScheduledTime = model.TimePtr(testNow)
	s.propose(0, sched, false)
	o := s.propose(time.Second, proposal(model.StatePending), false)
	wantStatus(t, o, model.StatusAccept)
	if o.State.StateDetails.ScheduledTime == nil {
		t.Fatal("scheduled_time not copied into Pending")
	}

	// A second worker proposing Pending is turned away.
	o = s.propose(time.Second, proposal(model.StatePending), false)
	wantStatus(t, o, model.StatusAbort)

	o = s.propose(time.Second, named(model.StatePending, "Submitting"), false)
	wantStatus(t, o, model.StatusAccept)
	if o.State.Name != "Submitting" || o.State.StateDetails.ScheduledTime == nil || !o.State.StateDetails.ScheduledTime.Equal(testNow) {
		t.Fatalf("Submitting = %+v", o.State)
	}
	o = s.propose(time.Second, named(model.StatePending, "InfrastructurePending"), false)
	wantStatus(t, o, model.StatusAccept)
	o = s.propose(time.Second, named(model.StatePending, "InfrastructurePending"), false)
	wantStatus(t, o, model.StatusAbort)
}

func TestForceBypassesCorePolicy(t *testing.T) {
	t.Parallel()
	retries := 3
	s := newFlowSim(t, model.FlowRun{EmpiricalPolicy: model.FlowRunPolicy{Retries: &retries}})
	s.propose(0, proposal(model.StateRunning), false)

	// Unforced, a failure would be retried; forced, it is written as is.
	o := s.propose(time.Second, proposal(model.StateFailed), true)
	wantStatus(t, o, model.StatusAccept)
	if o.State.Type != model.StateFailed {
		t.Fatalf("forced Failed wrote %s", o.State.Type)
	}
	// Terminal → Crashed is aborted by the core policy but not when forced.
	o = s.propose(time.Second, proposal(model.StateCrashed), false)
	wantStatus(t, o, model.StatusAbort)
	o = s.propose(time.Second, proposal(model.StateCrashed), true)
	wantStatus(t, o, model.StatusAccept)
	// Global transforms still run when forced.
	o = s.propose(time.Second, proposal(model.StateRunning), true)
	wantStatus(t, o, model.StatusAccept)
	if o.Run.RunCount != 2 || o.Run.EndTime != nil || len(o.Events) != 1 {
		t.Fatalf("forced rerun: run_count %d end %v events %d", o.Run.RunCount, o.Run.EndTime, len(o.Events))
	}
	// The minimal policy still cancels scheduled runs without infrastructure.
	dep := model.NewID()
	s2 := newFlowSim(t, model.FlowRun{DeploymentID: &dep})
	s2.propose(0, proposal(model.StateScheduled), false)
	o = s2.propose(time.Second, proposal(model.StateCancelling), true)
	if verdict(o) != "REJECT:Cancelled" {
		t.Fatalf("forced Cancelling of a scheduled run: %s", verdict(o))
	}
}

func TestForcedTransitionKeepsPersistedResult(t *testing.T) {
	t.Parallel()
	s := newFlowSim(t, model.FlowRun{})
	s.propose(0, proposal(model.StateRunning), false)
	done := proposal(model.StateCompleted)
	done.Data = persisted()
	s.propose(time.Second, done, false)
	o := s.propose(time.Second, proposal(model.StateCancelled), true)
	wantStatus(t, o, model.StatusReject)
	if o.State != nil || o.Result.State.Type != model.StateCompleted {
		t.Fatalf("forced Cancelled over a persisted result: %+v", o)
	}
}

func TestSubflowMirroring(t *testing.T) {
	t.Parallel()
	parentFlowRun, parentTask := model.NewID(), model.NewID()
	s := newFlowSim(t, model.FlowRun{ParentTaskRunID: &parentTask})
	runID := s.in.Run.ID

	o := s.propose(0, proposal(model.StateRunning), false)
	ps := o.ParentTaskState
	if ps == nil {
		t.Fatal("no parent task state")
	}
	if ps.ID == o.State.ID || ps.Type != model.StateRunning || ps.Name != "Running" || !ps.Timestamp.Equal(o.State.Timestamp.Time) {
		t.Fatalf("parent state = %+v", ps)
	}
	if ps.StateDetails.ChildFlowRunID == nil || *ps.StateDetails.ChildFlowRunID != runID || *ps.StateDetails.TaskRunID != parentTask {
		t.Fatalf("parent state details = %+v", ps.StateDetails)
	}
	if tr := o.State.StateDetails.TaskRunID; tr == nil || *tr != parentTask {
		t.Fatalf("subflow state task_run_id = %v", tr)
	}
	if rel, ok := o.Events[0].RelatedOfRole("task-run"); !ok || rel != "prefect.task-run."+parentTask.String() {
		t.Fatalf("event related task-run = %q", rel)
	}

	// With the parent row, the outcome also carries its bookkeeping.
	s.in.ParentTaskRun = &model.TaskRun{ID: parentTask, FlowRunID: &parentFlowRun, Name: "child-flow-0"}
	o = s.propose(time.Second, proposal(model.StateCompleted), false)
	pr := o.ParentTaskRun
	if pr == nil || *pr.StateType != model.StateCompleted || pr.State.ID != o.ParentTaskState.ID {
		t.Fatalf("parent row = %+v", pr)
	}
	if fr := o.ParentTaskState.StateDetails.FlowRunID; fr == nil || *fr != parentFlowRun {
		t.Fatalf("parent state flow_run_id = %v, want the parent flow run", fr)
	}

	// A flow that is not a subflow mirrors nothing.
	plain := newFlowSim(t, model.FlowRun{})
	if o := plain.propose(0, proposal(model.StateRunning), false); o.ParentTaskState != nil {
		t.Fatal("mirrored a top-level flow run")
	}
}

func TestSuspendAndResume(t *testing.T) {
	t.Parallel()
	dep := model.NewID()
	s := newFlowSim(t, model.FlowRun{DeploymentID: &dep, InfrastructurePID: strPtr("h:1")})
	s.propose(0, proposal(model.StateRunning), false)
	susp := named(model.StatePaused, "Suspended")
	susp.StateDetails.PauseReschedule = true
	susp.StateDetails.PauseKey = strPtr("k1")
	o := s.propose(time.Second, susp, false)
	wantStatus(t, o, model.StatusAccept)
	if len(o.Run.EmpiricalPolicy.PauseKeys) != 1 || o.Run.EmpiricalPolicy.PauseKeys[0] != "k1" {
		t.Fatalf("pause keys = %v", o.Run.EmpiricalPolicy.PauseKeys)
	}
	// Trying to pause again is rejected (not running any more).
	wantStatus(t, s.propose(time.Second, susp, false), model.StatusReject)

	o = s.propose(time.Second, named(model.StateScheduled, "Resuming"), false)
	wantStatus(t, o, model.StatusAccept)
	if r := o.Run.EmpiricalPolicy.Resuming; r == nil || !*r {
		t.Fatal("resuming flag not set")
	}
	s.propose(time.Second, proposal(model.StatePending), false)
	o = s.propose(time.Second, proposal(model.StateRunning), false)
	wantStatus(t, o, model.StatusAccept)
	if o.Run.RunCount != 1 {
		t.Fatalf("resuming counted a new run: run_count %d", o.Run.RunCount)
	}
	if r := o.Run.EmpiricalPolicy.Resuming; r == nil || *r {
		t.Fatal("resuming flag not cleared")
	}
}

func TestStateTimestampsAreUnique(t *testing.T) {
	t.Parallel()
	s := newFlowSim(t, model.FlowRun{})
	first := s.propose(0, proposal(model.StatePending), false)
	// Same instant (or a clock behind the last state) still orders strictly.
	o := s.propose(-time.Second, proposal(model.StateRunning), false)
	if want := first.State.Timestamp.Add(time.Microsecond); !o.State.Timestamp.Equal(want) {
		t.Fatalf("timestamp = %v, want %v", o.State.Timestamp, want)
	}
}

func TestFlowRunEvents(t *testing.T) {
	t.Parallel()
	dep, wq, wp := model.NewID(), model.NewID(), model.NewID()
	creator := model.NewID()
	s := newFlowSim(t, model.FlowRun{
		Name: "calm-fox", Tags: []string{"b", "a"}, DeploymentID: &dep, WorkQueueID: &wq, WorkQueueName: strPtr("default"),
		WorkPoolID: &wp, WorkPoolName: strPtr("pool"), CreatedBy: &model.CreatedBy{ID: &creator, Type: "AUTOMATION", DisplayValue: "auto"},
	})
	s.in.Related = RelatedResources{FlowName: "etl", FlowTags: []string{"a", "flow-tag"}, DeploymentName: "nightly", WorkPoolType: "process"}
	first := s.propose(0, proposal(model.StatePending), false)
	run := proposal(model.StateRunning)
	run.Message = strPtr("go")
	o := s.propose(2*time.Second, run, false)
	if len(o.Events) != 1 {
		t.Fatalf("%d events", len(o.Events))
	}
	ev := o.Events[0]
	if ev.Event != "prefect.flow-run.Running" || ev.ID != o.State.ID || !ev.Occurred.Equal(o.State.Timestamp.Time) {
		t.Fatalf("event head = %s %v %v", ev.Event, ev.ID, ev.Occurred)
	}
	if ev.Follows == nil || *ev.Follows != first.State.ID {
		t.Fatalf("follows = %v, want %v", ev.Follows, first.State.ID)
	}
	wantRes := map[string]string{
		"prefect.resource.id":     "prefect.flow-run." + s.in.Run.ID.String(),
		"prefect.resource.name":   "calm-fox",
		"prefect.state-message":   "go",
		"prefect.state-name":      "Running",
		"prefect.state-type":      "RUNNING",
		"prefect.run-count":       "1",
		"prefect.state-timestamp": o.State.Timestamp.UTC().Format(model.TimeLayout),
	}
	for k, v := range wantRes {
		if ev.Resource[k] != v {
			t.Errorf("resource[%s] = %q, want %q", k, ev.Resource[k], v)
		}
	}
	roles := map[string][]string{}
	for _, r := range ev.Related {
		roles[r["prefect.resource.role"]] = append(roles[r["prefect.resource.role"]], r["prefect.resource.id"])
	}
	checks := map[string][]string{
		"flow":       {"prefect.flow." + s.in.Run.FlowID.String()},
		"deployment": {"prefect.deployment." + dep.String()},
		"work-queue": {"prefect.work-queue." + wq.String()},
		"work-pool":  {"prefect.work-pool." + wp.String()},
		"tag":        {"prefect.tag.a", "prefect.tag.b", "prefect.tag.flow-tag"},
		"creator":    {"prefect.automation." + creator.String()},
	}
	for role, ids := range checks {
		if got := roles[role]; len(got) != len(ids) || func() bool {
			for i := range ids {
				if got[i] != ids[i] {
					return true
				}
			}
			return false
		}() {
			t.Errorf("related %s = %v, want %v", role, got, ids)
		}
	}
	var payload struct {
		Intended struct {
			From *string `json:"from"`
			To   string  `json:"to"`
		} `json:"intended"`
		Initial   map[string]string `json:"initial_state"`
		Validated map[string]string `json:"validated_state"`
	}
	if err := json.Unmarshal(ev.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	if payload.Intended.From == nil || *payload.Intended.From != "PENDING" || payload.Intended.To != "RUNNING" ||
		payload.Initial["name"] != "Pending" || payload.Validated["message"] != "go" {
		t.Fatalf("payload = %s", ev.Payload)
	}

	// A first state has no predecessor; a late change does not claim one.
	fresh := newFlowSim(t, model.FlowRun{})
	e0 := fresh.propose(0, proposal(model.StatePending), false).Events[0]
	if e0.Follows != nil || string(e0.Payload) == "" {
		t.Fatalf("first event follows %v", e0.Follows)
	}
	if e := fresh.propose(10*time.Minute, proposal(model.StateRunning), false).Events[0]; e.Follows != nil {
		t.Fatalf("event 10 minutes later follows %v", e.Follows)
	}
	// Nothing written, no event.
	if o := fresh.propose(time.Second, proposal(model.StatePending), false); len(o.Events) != 0 {
		t.Fatalf("aborted proposal emitted %d events", len(o.Events))
	}
}

func TestTaskRunPolicyEndToEnd(t *testing.T) {
	t.Parallel()
	in := taskFixture(noState)
	in.EmitEvents = true
	retries := 1
	in.Run.EmpiricalPolicy.Retries = &retries
	step := func(after time.Duration, p model.StateCreate) Outcome {
		t.Helper()
		in.Now = in.Now.Add(after)
		in.Proposed = p
		cur := in.Run.State
		o := ProposeTaskRunState(in)
		checkInvariants(t, o, cur, p.Type)
		if o.TaskRun != nil {
			in.Run = *o.TaskRun
		}
		return o
	}
	step(0, proposal(model.StatePending))
	o := step(time.Second, proposal(model.StateRunning))
	if o.TaskRun.RunCount != 1 || o.TaskRun.FlowRunRunCount != 1 || o.TaskRun.StartTime == nil {
		t.Fatalf("running task = %+v", o.TaskRun)
	}
	if sd := o.State.StateDetails; sd.TaskRunID == nil || *sd.TaskRunID != in.Run.ID || sd.FlowRunID == nil || *sd.FlowRunID != *in.Run.FlowRunID {
		t.Fatalf("state details = %+v", sd)
	}
	if len(o.Events) != 1 || o.Events[0].Event != "prefect.task-run.Running" || o.Events[0].Resource["prefect.orchestration"] != "server" {
		t.Fatalf("task events = %+v", o.Events)
	}
	o = step(time.Second, proposal(model.StateFailed))
	if verdict(o) != "REJECT:AwaitingRetry" {
		t.Fatalf("failure with a retry left: %s", verdict(o))
	}
	o = step(time.Second, proposal(model.StateRunning))
	if o.State.Name != "Retrying" || o.TaskRun.RunCount != 2 {
		t.Fatalf("retry attempt: %q run_count %d", o.State.Name, o.TaskRun.RunCount)
	}
	o = step(time.Second, proposal(model.StateFailed))
	wantStatus(t, o, model.StatusAccept)
	if o.TaskRun.EndTime == nil || o.TaskRun.TotalRunTime != 2 {
		t.Fatalf("failed task: end %v total %v", o.TaskRun.EndTime, o.TaskRun.TotalRunTime)
	}
	// Forced: the minimal policy writes anything.
	in.FlowRun.State.Type = model.StateCompleted
	in.Force = true
	o = step(time.Second, proposal(model.StateRunning))
	wantStatus(t, o, model.StatusAccept)
}

func TestClientVersionFromUserAgent(t *testing.T) {
	t.Parallel()
	tests := []struct{ ua, want string }{
		{"prefect/3.4.11 (API 0.8.4)", "3.4.11"},
		{"prefect/3.9.1.dev3+g1234 (API 0.8.4)", "3.9.1.dev3+g1234"},
		{"prefect/3.4 (API 0.8.4)", ""},
		{"python-httpx/0.27.0", ""},
		{"prefect/3.4.11 (API 0.8.4) extra", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ClientVersionFromUserAgent(tt.ua); got != tt.want {
			t.Errorf("ClientVersionFromUserAgent(%q) = %q, want %q", tt.ua, got, tt.want)
		}
	}
}

func TestInvalidProposedTypeAborts(t *testing.T) {
	t.Parallel()
	in := flowFixture(model.StateRunning)
	in.Proposed = model.StateCreate{Type: "BOGUS"}
	if o := ProposeFlowRunState(in); o.Result.Status != model.StatusAbort || o.State != nil {
		t.Fatalf("flow: %+v", o.Result)
	}
	tin := taskFixture(noState)
	if o := ProposeTaskRunState(tin); o.Result.Status != model.StatusAbort || o.State != nil {
		t.Fatalf("task: %+v", o.Result)
	}
}
