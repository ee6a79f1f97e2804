package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// testRunViews covers the read-only run views: single states by id (scoped
// to the workspace), task-run history and flow-run lateness.
func testRunViews(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := flow(t, s, ws, "views")
	// Started 30 s after it was expected: 30 s late.
	late := model.FlowRun{FlowID: f.ID, Name: "late", State: state(model.StateCompleted, "Completed", at(time.Hour)),
		ExpectedStartTime: atp(0), StartTime: atp(30 * time.Second)}
	r, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: late})
	must(t, err)
	// On time: 0 s late.
	_, _, err = s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "on-time", State: state(model.StateCompleted, "Completed", at(time.Hour)),
		ExpectedStartTime: atp(0), StartTime: atp(0)}})
	must(t, err)

	got, err := s.FlowRunStateGet(ctx, ws, *r.StateID)
	must(t, err)
	if got.ID != *r.StateID || got.Type != model.StateCompleted {
		t.Fatalf("FlowRunStateGet = %+v", got)
	}
	_, err = s.FlowRunStateGet(ctx, ws, model.NewID())
	wantErr(t, err, store.ErrNotFound)
	_, err = s.FlowRunStateGet(ctx, model.NewID(), *r.StateID)
	wantErr(t, err, store.ErrNotFound)

	avg, err := s.FlowRunLateness(ctx, ws, model.RunQuery{Flows: &model.FlowFilter{ID: &model.IDFilter{Any: []model.ID{f.ID}}}}, base.Add(2*time.Hour))
	must(t, err)
	if avg == nil || *avg != 15 {
		t.Fatalf("lateness = %v, want 15 s", avg)
	}
	none, err := s.FlowRunLateness(ctx, ws, model.RunQuery{FlowRuns: &model.FlowRunFilter{Name: &model.NameFilter{Any: []string{"nothing"}}}}, base)
	must(t, err)
	if none != nil {
		t.Fatalf("lateness of no runs = %v, want nil", *none)
	}

	tr, _, err := s.TaskRunCreate(ctx, ws, model.TaskRun{FlowRunID: &r.ID, Name: "t", TaskKey: "t", DynamicKey: "0",
		State: state(model.StateCompleted, "Completed", at(time.Minute)), ExpectedStartTime: atp(time.Minute)})
	must(t, err)
	st, err := s.TaskRunStateGet(ctx, ws, *tr.StateID)
	must(t, err)
	if st.ID != *tr.StateID {
		t.Fatalf("TaskRunStateGet = %+v", st)
	}
	_, err = s.TaskRunStateGet(ctx, ws, *r.StateID)
	wantErr(t, err, store.ErrNotFound)

	obs, err := s.ObservedStates(ctx, ws, "comp", true, 10)
	must(t, err)
	if len(obs) != 1 || obs[0].StateType != "COMPLETED" || obs[0].StateName != "Completed" || !obs[0].FirstSeen.Equal(at(time.Minute).Time) || !obs[0].LastSeen.Equal(at(time.Hour).Time) {
		t.Fatalf("ObservedStates = %+v", obs)
	}
	none2, err := s.ObservedStates(ctx, model.NewID(), "", false, 10)
	must(t, err)
	if len(none2) != 0 {
		t.Fatalf("ObservedStates of another workspace = %+v", none2)
	}

	hist, err := s.TaskRunHistory(ctx, ws, model.RunQuery{}, base, base.Add(2*time.Hour), time.Hour)
	must(t, err)
	if len(hist) != 2 || len(hist[0].States) != 1 || hist[0].States[0].CountRuns != 1 || len(hist[1].States) != 0 {
		t.Fatalf("TaskRunHistory = %+v", hist)
	}

	// The run graph's slim read: only the flow run's task runs, earliest
	// expected start first (none last), with the graph's fields filled.
	wait := model.TaskRunInput{InputType: "task_run", ID: &tr.ID}
	u, _, err := s.TaskRunCreate(ctx, ws, model.TaskRun{FlowRunID: &r.ID, Name: "u", TaskKey: "u", DynamicKey: "0",
		State: state(model.StateRunning, "Running", at(2*time.Minute)), ExpectedStartTime: atp(2 * time.Minute), StartTime: atp(2 * time.Minute),
		TaskInputs: map[string][]model.TaskRunInput{"x": {wait}, "wait_for": {wait}}})
	must(t, err)
	n, _, err := s.TaskRunCreate(ctx, ws, model.TaskRun{FlowRunID: &r.ID, Name: "n", TaskKey: "n", DynamicKey: "0"})
	must(t, err)
	other, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "other"}})
	must(t, err)
	_, _, err = s.TaskRunCreate(ctx, ws, model.TaskRun{FlowRunID: &other.ID, Name: "elsewhere", TaskKey: "t", DynamicKey: "0", ExpectedStartTime: atp(0)})
	must(t, err)
	g, err := s.TaskRunGraph(ctx, ws, r.ID, 10)
	must(t, err)
	if len(g) != 3 || g[0].ID != tr.ID || g[1].ID != u.ID || g[2].ID != n.ID {
		t.Fatalf("TaskRunGraph = %+v, want t, u, n", g)
	}
	if g[1].Name != "u" || g[1].StateType == nil || *g[1].StateType != model.StateRunning || g[1].StartTime == nil || !g[1].StartTime.Equal(at(2*time.Minute).Time) ||
		g[1].EndTime != nil || g[1].ExpectedStartTime == nil || len(g[1].TaskInputs["x"]) != 1 || *g[1].TaskInputs["x"][0].ID != tr.ID || len(g[1].TaskInputs["wait_for"]) != 1 {
		t.Fatalf("TaskRunGraph u = %+v", g[1])
	}
	if g[2].StateType != nil || g[2].ExpectedStartTime != nil || len(g[2].TaskInputs) != 0 {
		t.Fatalf("TaskRunGraph n = %+v", g[2])
	}
	if g, err = s.TaskRunGraph(ctx, ws, r.ID, 2); err != nil || len(g) != 2 {
		t.Fatalf("TaskRunGraph limit 2 = %d runs, %v", len(g), err)
	}
	if g, err = s.TaskRunGraph(ctx, model.NewID(), r.ID, 10); err != nil || len(g) != 0 {
		t.Fatalf("TaskRunGraph of another workspace = %+v, %v", g, err)
	}
}
