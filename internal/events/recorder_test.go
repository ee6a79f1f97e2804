package events

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/model"
)

func TestTaskRunRecordFromEvent(t *testing.T) {
	t.Parallel()
	run := model.NewID()
	ev := taskRunEvent(run, model.StateRunning, "Retrying", t0)
	ev.Received = model.NewTime(t0.Add(1e6))
	rec, err := TaskRunRecordFromEvent(&ev)
	if err != nil {
		t.Fatal(err)
	}
	r, st := rec.Run, rec.State
	if r.ID != run {
		t.Errorf("run id %s, want %s", r.ID, run)
	}
	if r.FlowRunID == nil || *r.FlowRunID != flowRun1 {
		t.Errorf("flow_run_id %v, want %s", r.FlowRunID, flowRun1)
	}
	if r.Name != "b-3fa" || r.TaskKey != "b-abc123" || r.DynamicKey != "3fa85f64" || r.RunCount != 1 || r.FlowRunRunCount != 1 {
		t.Errorf("columns not copied: %+v", r)
	}
	if len(r.Tags) != 1 || r.Tags[0] != "t1" {
		t.Errorf("tags %v", r.Tags)
	}
	if in := r.TaskInputs["x"]; len(in) != 1 || in[0].InputType != "task_run" || in[0].ID == nil {
		t.Errorf("task_inputs %+v", r.TaskInputs)
	}
	if r.EmpiricalPolicy.Retries == nil || *r.EmpiricalPolicy.Retries != 1 {
		t.Errorf("empirical_policy %+v", r.EmpiricalPolicy)
	}
	if r.ExpectedStartTime == nil || !r.ExpectedStartTime.Equal(t0.Time) {
		t.Errorf("expected_start_time %v", r.ExpectedStartTime)
	}
	if st.ID != ev.ID || !st.Timestamp.Equal(t0.Time) || st.Type != model.StateRunning || st.Name != "Retrying" {
		t.Errorf("state %+v", st)
	}
	if st.StateDetails.TaskRunID == nil || *st.StateDetails.TaskRunID != run || st.StateDetails.FlowRunID == nil || *st.StateDetails.FlowRunID != flowRun1 {
		t.Errorf("state_details ids not filled: %+v", st.StateDetails)
	}
	if r.StateID == nil || *r.StateID != ev.ID || r.StateType == nil || *r.StateType != model.StateRunning || r.StateName == nil || *r.StateName != "Retrying" {
		t.Errorf("state columns not copied onto the run: %v %v %v", r.StateID, r.StateType, r.StateName)
	}
	if r.State == nil || r.State.ID != ev.ID {
		t.Errorf("run.State %+v", r.State)
	}
}

func TestTaskRunRecordFromEventTolerance(t *testing.T) {
	t.Parallel()
	run := model.NewID()
	base := func() model.Event { return taskRunEvent(run, model.StateCompleted, "Completed", t0) }
	withPayload := func(p string) model.Event { e := base(); e.Payload = json.RawMessage(p); return e }

	t.Run("odd task_run fields keep the rest", func(t *testing.T) {
		t.Parallel()
		e := withPayload(`{"validated_state":{"type":"COMPLETED","name":"Completed","state_details":{"retriable":"maybe"}},
			"task_run":{"name":"a-1","task_key":"k","run_count":"two","tags":"notalist","start_time":"yesterday","extra":{"x":1}}}`)
		rec, err := TaskRunRecordFromEvent(&e)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Run.Name != "a-1" || rec.Run.TaskKey != "k" || rec.Run.RunCount != 0 || rec.Run.StartTime != nil || len(rec.Run.Tags) != 0 {
			t.Errorf("lenient decode gave %+v", rec.Run)
		}
		if rec.State.Type != model.StateCompleted {
			t.Errorf("state type %q", rec.State.Type)
		}
	})
	t.Run("missing task_run and name falls back to resource name", func(t *testing.T) {
		t.Parallel()
		e := withPayload(`{"validated_state":{"type":"PENDING"}}`)
		rec, err := TaskRunRecordFromEvent(&e)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Run.Name != "b-3fa" || rec.State.Name != "Pending" {
			t.Errorf("name %q state name %q", rec.Run.Name, rec.State.Name)
		}
	})
	t.Run("no flow-run related", func(t *testing.T) {
		t.Parallel()
		e := base()
		e.Related = e.Related[1:]
		rec, err := TaskRunRecordFromEvent(&e)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Run.FlowRunID != nil {
			t.Errorf("flow_run_id %v, want nil", rec.Run.FlowRunID)
		}
	})

	bad := []struct {
		name string
		mod  func(*model.Event)
		want string
	}{
		{"resource is not a task run", func(e *model.Event) { e.Resource["prefect.resource.id"] = "prefect.flow-run.x" }, "not a task run"},
		{"resource uuid malformed", func(e *model.Event) { e.Resource["prefect.resource.id"] = "prefect.task-run.nope" }, "resource id"},
		{"no validated state", func(e *model.Event) { e.Payload = json.RawMessage(`{"task_run":{}}`) }, "valid type"},
		{"unknown state type", func(e *model.Event) { e.Payload = json.RawMessage(`{"validated_state":{"type":"BOGUS"}}`) }, "valid type"},
		{"payload not an object", func(e *model.Event) { e.Payload = json.RawMessage(`[1]`) }, "payload"},
		{"validated_state not an object", func(e *model.Event) { e.Payload = json.RawMessage(`{"validated_state":"RUNNING"}`) }, "validated_state"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := base()
			tt.mod(&e)
			if _, err := TaskRunRecordFromEvent(&e); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestIsClientTaskRunEvent(t *testing.T) {
	t.Parallel()
	e := taskRunEvent(model.NewID(), model.StatePending, "Pending", t0)
	if !IsClientTaskRunEvent(&e) {
		t.Error("client task-run event not recognised")
	}
	e.Resource["prefect.orchestration"] = "server"
	if IsClientTaskRunEvent(&e) {
		t.Error("server-orchestrated task-run event must not be recorded")
	}
	f := plainEvent("prefect.flow-run.Running", "prefect.flow-run.x", t0)
	if IsClientTaskRunEvent(&f) {
		t.Error("flow-run event recognised as task-run")
	}
}

func TestDecodeEventValidation(t *testing.T) {
	t.Parallel()
	good := `"id":"66666666-6666-4666-8666-666666666666","occurred":"2026-03-01T12:00:00Z"`
	tests := []struct {
		name, doc string
		ok        bool
	}{
		{"minimal", `{` + good + `,"event":"x","resource":{"prefect.resource.id":"r"}}`, true},
		{"missing id", `{"occurred":"2026-03-01T12:00:00Z","event":"x","resource":{"prefect.resource.id":"r"}}`, false},
		{"missing occurred", `{"id":"66666666-6666-4666-8666-666666666666","event":"x","resource":{"prefect.resource.id":"r"}}`, false},
		{"missing name", `{` + good + `,"resource":{"prefect.resource.id":"r"}}`, false},
		{"long name", `{` + good + `,"event":"` + strings.Repeat("é", 1025) + `","resource":{"prefect.resource.id":"r"}}`, false},
		{"1024-char name", `{` + good + `,"event":"` + strings.Repeat("é", 1024) + `","resource":{"prefect.resource.id":"r"}}`, true},
		{"no resource id", `{` + good + `,"event":"x","resource":{"a":"b"}}`, false},
		{"related without role", `{` + good + `,"event":"x","resource":{"prefect.resource.id":"r"},"related":[{"prefect.resource.id":"q"}]}`, false},
		{"bad uuid", `{"id":"nope","occurred":"2026-03-01T12:00:00Z","event":"x","resource":{"prefect.resource.id":"r"}}`, false},
		{"not json", `{`, false},
		{"too many related", `{` + good + `,"event":"x","resource":{"prefect.resource.id":"r"},"related":[` + strings.TrimSuffix(strings.Repeat(`{"prefect.resource.id":"q","prefect.resource.role":"r"},`, 101), ",") + `]}`, false},
		{"too large", `{` + good + `,"event":"x","resource":{"prefect.resource.id":"r"},"payload":{"x":"` + strings.Repeat("a", MaxEventBytes) + `"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := DecodeEvent([]byte(tt.doc))
			if (err == nil) != tt.ok {
				t.Fatalf("DecodeEvent err = %v, want ok=%v", err, tt.ok)
			}
			if err == nil && (string(e.Payload) != "{}" || e.Related == nil) {
				t.Errorf("not normalised: payload %s related %v", e.Payload, e.Related)
			}
		})
	}
	labels := map[string]string{"prefect.resource.id": "r"}
	for i := 0; i < MaxResourceLabels; i++ {
		labels["k"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+strings.Repeat("y", i/26)] = "v"
	}
	e := model.Event{ID: model.NewID(), Occurred: t0, Event: "x", Resource: labels}
	if err := Validate(&e); err == nil {
		t.Errorf("resource with %d labels accepted", len(labels))
	}
}

// BenchmarkTaskRunRecordFromEvent measures turning one client task-run
// event into its task-run write (the recorder's per-event decoding).
func BenchmarkTaskRunRecordFromEvent(b *testing.B) {
	ev := taskRunEvent(model.NewID(), model.StateRunning, "Running", t0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := TaskRunRecordFromEvent(&ev); err != nil {
			b.Fatal(err)
		}
	}
}
