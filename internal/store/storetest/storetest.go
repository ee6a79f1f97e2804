// Package storetest is the conformance suite every store.Store engine must
// pass. An engine's test calls Run with a constructor of fresh, empty
// stores; the suite covers every method of the flow, run, log, event and
// concurrency parts of the interface, each filter field, sorts, pagination,
// idempotency, tenant isolation and concurrent writers.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Run runs the whole suite. newStore must return a new empty store (with
// the default workspace seeded) and arrange for it to be closed when t ends.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Workspaces", testWorkspaces},
		{"Flows", testFlows},
		{"FlowRunLifecycle", testFlowRunLifecycle},
		{"FlowRunFilters", testRunFilters},
		{"FilterFields", testFilterFields},
		{"TaskRuns", testTaskRuns},
		{"TaskRunRecord", testTaskRunRecord},
		{"Logs", testLogs},
		{"Events", testEvents},
		{"Concurrency", testConcurrency},
		{"RunSlotChanges", testRunSlotChanges},
		{"DeploymentConcurrencyLimit", testDeploymentConcurrencyLimit},
		{"Isolation", testIsolation},
		{"ConcurrentWriters", testConcurrentWriters},
		{"DeploymentsAndPools", testDeploymentsAndPools},
		{"Tenancy", testTenancy},
		{"TenancyReads", testTenancyReads},
		{"Settings", testSettings},
		{"PoolAndQueueReads", testPoolAndQueueReads},
		{"DeploymentReads", testDeploymentReads},
		{"FlowRunHistory", testFlowRunHistory},
		{"Variables", testVariables},
		{"Artifacts", testArtifacts},
		{"RunViews", testRunViews},
		{"Blocks", testBlocks},
		{"ConcurrencyHolders", testConcurrencyHolders},
		{"FlowRunInputs", testFlowRunInputs},
		{"Automations", testAutomations},
		{"Webhooks", testWebhooks},
		{"EngineStats", testEngineStats},
		{"Gauges", testGauges},
		{"Retention", testRetention},
		{"Audit", testAudit},
		{"Teams", testTeams},
		{"Invitations", testInvitations},
		{"AccountSecurity", testAccountSecurity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

var ws = store.DefaultWorkspaceID

// base is a fixed, midnight-aligned instant the fixtures count from.
var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) model.Time   { return model.NewTime(base.Add(d)) }
func atp(d time.Duration) *model.Time { t := at(d); return &t }
func ptr[T any](v T) *T               { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

func state(typ model.StateType, name string, ts model.Time) *model.State {
	return &model.State{ID: model.NewID(), Type: typ, Name: name, Timestamp: ts}
}

func flow(t *testing.T, s store.Store, w model.ID, name string, tags ...string) model.Flow {
	t.Helper()
	f, _, err := s.FlowUpsert(context.Background(), w, model.FlowCreate{Name: name, Tags: tags})
	must(t, err)
	return f
}

// sameSet compares two name lists ignoring order.
func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	sort.Strings(g)
	sort.Strings(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func flowNames(fs []model.Flow) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

func runNames(rs []model.FlowRun) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func taskNames(rs []model.TaskRun) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func testWorkspaces(t *testing.T, s store.Store) {
	ctx := context.Background()
	w, err := s.WorkspaceDefault(ctx)
	must(t, err)
	if w.ID != store.DefaultWorkspaceID || w.AccountID != store.DefaultAccountID {
		t.Fatalf("default workspace = %+v", w)
	}
	got, err := s.WorkspaceGet(ctx, store.DefaultAccountID, store.DefaultWorkspaceID)
	must(t, err)
	if got != w {
		t.Fatalf("WorkspaceGet = %+v, want %+v", got, w)
	}
	_, err = s.WorkspaceGet(ctx, model.NewID(), store.DefaultWorkspaceID)
	wantErr(t, err, store.ErrNotFound)
}

func testFlows(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, created, err := s.FlowUpsert(ctx, ws, model.FlowCreate{Name: "Alpha", Tags: []string{"x", "y"}, Labels: model.Labels{"k": "v"}})
	must(t, err)
	if !created || a.ID.IsNil() || a.Tags == nil || a.Labels["k"] != "v" {
		t.Fatalf("created flow = %+v (created=%v)", a, created)
	}
	again, created, err := s.FlowUpsert(ctx, ws, model.FlowCreate{Name: "Alpha"})
	must(t, err)
	if created || again.ID != a.ID {
		t.Fatalf("upsert of existing name created=%v id=%s, want %s", created, again.ID, a.ID)
	}
	time.Sleep(2 * time.Millisecond) // distinct created instants for the sort checks
	b := flow(t, s, ws, "beta", "y")
	time.Sleep(2 * time.Millisecond)
	c := flow(t, s, ws, "gamma")

	got, err := s.FlowGet(ctx, ws, b.ID)
	must(t, err)
	if got.Name != "beta" || got.ID != b.ID {
		t.Fatalf("FlowGet = %+v", got)
	}
	got, err = s.FlowGetByName(ctx, ws, "gamma")
	must(t, err)
	if got.ID != c.ID {
		t.Fatalf("FlowGetByName = %+v", got)
	}
	_, err = s.FlowGet(ctx, ws, model.NewID())
	wantErr(t, err, store.ErrNotFound)
	_, err = s.FlowGetByName(ctx, ws, "nope")
	wantErr(t, err, store.ErrNotFound)

	filters := []struct {
		name string
		f    *model.FlowFilter
		want []string
	}{
		{"none", nil, []string{"Alpha", "beta", "gamma"}},
		{"id any", &model.FlowFilter{ID: &model.IDFilter{Any: []model.ID{a.ID, c.ID}}}, []string{"Alpha", "gamma"}},
		{"id not_any", &model.FlowFilter{ID: &model.IDFilter{NotAny: []model.ID{a.ID}}}, []string{"beta", "gamma"}},
		{"id any empty", &model.FlowFilter{ID: &model.IDFilter{Any: []model.ID{}}}, nil},
		{"name any", &model.FlowFilter{Name: &model.NameFilter{Any: []string{"beta"}}}, []string{"beta"}},
		{"name not_any", &model.FlowFilter{Name: &model.NameFilter{NotAny: []string{"beta"}}}, []string{"Alpha", "gamma"}},
		{"name like is case-insensitive", &model.FlowFilter{Name: &model.NameFilter{Like: ptr("ALP")}}, []string{"Alpha"}},
		// Prefect's like_ is ilike('%' || value || '%') without escaping:
		// % and _ in the value are wildcards there, so they are here.
		{"name like: % is a wildcard", &model.FlowFilter{Name: &model.NameFilter{Like: ptr("a%a")}}, []string{"Alpha", "gamma"}},
		{"name like: _ is one character", &model.FlowFilter{Name: &model.NameFilter{Like: ptr("B_T")}}, []string{"beta"}},
		{"name like: _ is exactly one", &model.FlowFilter{Name: &model.NameFilter{Like: ptr("alp_ha")}}, nil},
		{"tags all", &model.FlowFilter{Tags: &model.TagsFilter{All: []string{"x", "y"}}}, []string{"Alpha"}},
		{"tags any", &model.FlowFilter{Tags: &model.TagsFilter{Any: []string{"y"}}}, []string{"Alpha", "beta"}},
		{"tags is_null", &model.FlowFilter{Tags: &model.TagsFilter{IsNull: ptr(true)}}, []string{"gamma"}},
		{"tags not null", &model.FlowFilter{Tags: &model.TagsFilter{IsNull: ptr(false)}}, []string{"Alpha", "beta"}},
		{"or_", &model.FlowFilter{Operator: "or_", Name: &model.NameFilter{Any: []string{"gamma"}}, Tags: &model.TagsFilter{All: []string{"x"}}}, []string{"Alpha", "gamma"}},
		{"and", &model.FlowFilter{Name: &model.NameFilter{Any: []string{"gamma"}}, Tags: &model.TagsFilter{All: []string{"x"}}}, nil},
	}
	for _, tc := range filters {
		fs, err := s.FlowList(ctx, ws, model.RunQuery{Flows: tc.f})
		must(t, err)
		sameSet(t, "flows "+tc.name, flowNames(fs), tc.want)
		n, err := s.FlowCount(ctx, ws, model.RunQuery{Flows: tc.f})
		must(t, err)
		if n != len(tc.want) {
			t.Errorf("FlowCount %s = %d, want %d", tc.name, n, len(tc.want))
		}
	}

	sorts := map[string][]string{
		"":             {"gamma", "beta", "Alpha"},
		"CREATED_DESC": {"gamma", "beta", "Alpha"},
		"NAME_ASC":     {"Alpha", "beta", "gamma"},
		"NAME_DESC":    {"gamma", "beta", "Alpha"},
	}
	for key, want := range sorts {
		fs, err := s.FlowList(ctx, ws, model.RunQuery{Sort: key})
		must(t, err)
		if got := flowNames(fs); !slices.Equal(got, want) {
			t.Errorf("sort %q = %v, want %v", key, got, want)
		}
	}
	fs, err := s.FlowList(ctx, ws, model.RunQuery{Sort: "NAME_ASC", Offset: 1, Limit: 1})
	must(t, err)
	if got := flowNames(fs); !slices.Equal(got, []string{"beta"}) {
		t.Errorf("page = %v", got)
	}

	must(t, s.FlowUpdate(ctx, ws, a.ID, model.FlowUpdate{Tags: &[]string{"z"}}))
	got, err = s.FlowGet(ctx, ws, a.ID)
	must(t, err)
	if !slices.Equal(got.Tags, []string{"z"}) || got.Updated.Before(a.Updated.Time) {
		t.Fatalf("updated flow = %+v", got)
	}
	fs, err = s.FlowList(ctx, ws, model.RunQuery{Sort: "UPDATED_DESC", Limit: 1})
	must(t, err)
	if flowNames(fs)[0] != "Alpha" {
		t.Errorf("UPDATED_DESC first = %v", flowNames(fs))
	}
	wantErr(t, s.FlowUpdate(ctx, ws, model.NewID(), model.FlowUpdate{}), store.ErrNotFound)

	// Deleting a flow deletes its runs, their task runs and histories.
	r, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: a.ID, Name: "r", State: state(model.StatePending, "Pending", at(0))}})
	must(t, err)
	tr, _, err := s.TaskRunCreate(ctx, ws, model.TaskRun{FlowRunID: &r.ID, Name: "t", TaskKey: "k", DynamicKey: "0"})
	must(t, err)
	must(t, s.FlowDelete(ctx, ws, a.ID))
	_, err = s.FlowGet(ctx, ws, a.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.FlowRunGet(ctx, ws, r.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.TaskRunGet(ctx, ws, tr.ID)
	wantErr(t, err, store.ErrNotFound)
	sts, err := s.FlowRunStates(ctx, ws, r.ID)
	must(t, err)
	if len(sts) != 0 {
		t.Errorf("states of deleted run: %v", sts)
	}
	wantErr(t, s.FlowDelete(ctx, ws, a.ID), store.ErrNotFound)
}

func testFlowRunLifecycle(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := flow(t, s, ws, "f")
	pending := state(model.StatePending, "Pending", at(0))
	r, created, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "run", State: pending, Parameters: []byte(`{"x":1}`)}})
	must(t, err)
	if !created || r.ID.IsNil() || r.StateID == nil || *r.StateID != pending.ID || *r.StateType != model.StatePending || r.Created.IsZero() {
		t.Fatalf("created run = %+v", r)
	}
	got, err := s.FlowRunGet(ctx, ws, r.ID)
	must(t, err)
	if got.Name != "run" || string(got.Parameters) != `{"x":1}` || got.State == nil || got.State.ID != pending.ID {
		t.Fatalf("FlowRunGet = %+v", got)
	}
	_, err = s.FlowRunGet(ctx, ws, model.NewID())
	wantErr(t, err, store.ErrNotFound)
	_, _, err = s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: model.NewID(), Name: "orphan"}})
	wantErr(t, err, store.ErrNotFound)

	// Idempotency: same flow and key → the existing run.
	k1, created, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "k", IdempotencyKey: ptr("key")}})
	must(t, err)
	if !created {
		t.Fatal("first idempotent create not created")
	}
	k2, created, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "k-again", IdempotencyKey: ptr("key")}})
	must(t, err)
	if created || k2.ID != k1.ID || k2.Name != "k" {
		t.Fatalf("idempotent create = %+v created=%v", k2, created)
	}
	// Creation events are written with the run, and only when it is new.
	created1 := model.Event{ID: model.NewID(), Occurred: at(0), Event: "prefect.flow-run.Pending",
		Resource: map[string]string{"prefect.resource.id": "prefect.flow-run.created-1"}}
	k4, created, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "ev", IdempotencyKey: ptr("ev-key")},
		Events: []model.Event{created1}})
	must(t, err)
	dupEv := model.Event{ID: model.NewID(), Occurred: at(0), Event: "prefect.flow-run.Pending",
		Resource: map[string]string{"prefect.resource.id": "prefect.flow-run.created-2"}}
	k5, again, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "ev-again", IdempotencyKey: ptr("ev-key")},
		Events: []model.Event{dupEv}})
	must(t, err)
	if !created || again || k5.ID != k4.ID {
		t.Fatalf("idempotent create with events: created=%v again=%v", created, again)
	}
	for _, c := range []struct {
		ev   model.Event
		want int
	}{{created1, 1}, {dupEv, 0}} {
		page, err := s.EventList(ctx, ws, model.EventFilter{ID: &struct {
			ID []model.ID `json:"id"`
		}{ID: []model.ID{c.ev.ID}}}, 10, 0)
		must(t, err)
		if page.Total != c.want {
			t.Fatalf("creation event %s stored %d times, want %d", c.ev.Resource["prefect.resource.id"], page.Total, c.want)
		}
	}
	other := flow(t, s, ws, "other")
	k3, created, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: other.ID, Name: "k3", IdempotencyKey: ptr("key")}})
	must(t, err)
	if !created || k3.ID == k1.ID {
		t.Fatal("same key on another flow must create a run")
	}

	// Update.
	up, err := s.FlowRunUpdate(ctx, ws, r.ID, func(fr *model.FlowRun) error { fr.Name = "renamed"; return nil })
	must(t, err)
	if up.Name != "renamed" {
		t.Fatalf("update returned %+v", up)
	}
	got, _ = s.FlowRunGet(ctx, ws, r.ID)
	if got.Name != "renamed" {
		t.Fatalf("update not stored: %+v", got)
	}
	boom := errors.New("boom")
	_, err = s.FlowRunUpdate(ctx, ws, r.ID, func(fr *model.FlowRun) error { fr.Name = "lost"; return boom })
	wantErr(t, err, boom)
	got, _ = s.FlowRunGet(ctx, ws, r.ID)
	if got.Name != "renamed" {
		t.Fatalf("failed update was written: %+v", got)
	}
	_, err = s.FlowRunUpdate(ctx, ws, model.NewID(), func(*model.FlowRun) error { return nil })
	wantErr(t, err, store.ErrNotFound)

	// Set state: the decider sees the current row; run, state and events
	// are written together.
	running := state(model.StateRunning, "Running", at(time.Minute))
	ev := model.Event{ID: running.ID, Occurred: running.Timestamp, Event: "prefect.flow-run.Running",
		Resource: map[string]string{"prefect.resource.id": "prefect.flow-run." + r.ID.String()}}
	ch, err := s.FlowRunSetState(ctx, ws, r.ID, func(cur model.FlowRun) (store.FlowRunChange, error) {
		if cur.Name != "renamed" || cur.State == nil || cur.State.ID != pending.ID {
			return store.FlowRunChange{}, fmt.Errorf("decider saw %+v", cur)
		}
		cur.State = running
		cur.StateID, cur.StateType, cur.StateName = &running.ID, &running.Type, &running.Name
		cur.StartTime = ptr(running.Timestamp)
		cur.RunCount = 1
		return store.FlowRunChange{Run: &cur, State: running, Events: []model.Event{ev}}, nil
	})
	must(t, err)
	if ch.Run == nil || ch.State.ID != running.ID {
		t.Fatalf("change = %+v", ch)
	}
	got, _ = s.FlowRunGet(ctx, ws, r.ID)
	if *got.StateType != model.StateRunning || got.RunCount != 1 || got.StartTime == nil {
		t.Fatalf("after set state: %+v", got)
	}
	page, err := s.EventList(ctx, ws, model.EventFilter{ID: &struct {
		ID []model.ID `json:"id"`
	}{ID: []model.ID{ev.ID}}}, 10, 0)
	must(t, err)
	if page.Total != 1 {
		t.Fatalf("outbox event not stored: %+v", page)
	}
	// A decider error writes nothing; a change without Run keeps the row.
	_, err = s.FlowRunSetState(ctx, ws, r.ID, func(model.FlowRun) (store.FlowRunChange, error) { return store.FlowRunChange{}, boom })
	wantErr(t, err, boom)
	_, err = s.FlowRunSetState(ctx, ws, r.ID, func(model.FlowRun) (store.FlowRunChange, error) { return store.FlowRunChange{}, nil })
	must(t, err)
	_, err = s.FlowRunSetState(ctx, ws, model.NewID(), func(model.FlowRun) (store.FlowRunChange, error) { return store.FlowRunChange{}, nil })
	wantErr(t, err, store.ErrNotFound)

	sts, err := s.FlowRunStates(ctx, ws, r.ID)
	must(t, err)
	if len(sts) != 2 || sts[0].ID != pending.ID || sts[1].ID != running.ID {
		t.Fatalf("history = %+v", sts)
	}

	// A subflow mirrors its state onto the parent task run.
	parentTask, _, err := s.TaskRunCreate(ctx, ws, model.TaskRun{FlowRunID: &r.ID, Name: "sub-tracker", TaskKey: "sub", DynamicKey: "0",
		State: state(model.StatePending, "Pending", at(2*time.Minute))})
	must(t, err)
	child, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "child", ParentTaskRunID: &parentTask.ID}})
	must(t, err)
	childRunning := state(model.StateRunning, "Running", at(3*time.Minute))
	mirror := state(model.StateRunning, "Running", at(3*time.Minute))
	_, err = s.FlowRunSetState(ctx, ws, child.ID, func(cur model.FlowRun) (store.FlowRunChange, error) {
		cur.State = childRunning
		cur.StateID, cur.StateType, cur.StateName = &childRunning.ID, &childRunning.Type, &childRunning.Name
		return store.FlowRunChange{Run: &cur, State: childRunning, ParentTaskState: mirror}, nil
	})
	must(t, err)
	pt, err := s.TaskRunGet(ctx, ws, parentTask.ID)
	must(t, err)
	if pt.StateID == nil || *pt.StateID != mirror.ID || *pt.StateType != model.StateRunning || pt.State == nil || pt.State.ID != mirror.ID {
		t.Fatalf("parent task run after mirror: %+v", pt)
	}
	tsts, err := s.TaskRunStates(ctx, ws, parentTask.ID)
	must(t, err)
	if len(tsts) != 2 || tsts[1].ID != mirror.ID {
		t.Fatalf("parent task history = %+v", tsts)
	}

	// Delete removes the run, its task runs and its history.
	must(t, s.FlowRunDelete(ctx, ws, r.ID))
	_, err = s.FlowRunGet(ctx, ws, r.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.TaskRunGet(ctx, ws, parentTask.ID)
	wantErr(t, err, store.ErrNotFound)
	sts, err = s.FlowRunStates(ctx, ws, r.ID)
	must(t, err)
	if len(sts) != 0 {
		t.Fatalf("history after delete = %v", sts)
	}
	wantErr(t, s.FlowRunDelete(ctx, ws, r.ID), store.ErrNotFound)
}

// runFixture is the data set of the filter tests:
//
//	flows f1 (tag fx), f2
//	r1 alpha-run  f1 tags[a b] dep d1 queue q1 RUNNING  v1 start+1h expected 0 next 0 key k1
//	r2 beta-run   f2 tags[b]          queue q2 COMPLETED v2 start+2h end+3h expected+1h parent task t1
//	r3 gamma      f1 tags[]                    SCHEDULED/Late         expected+2h next+2h
//	t1 t1-task in r1 tags[x] COMPLETED start 0 end+1m expected 0 (tracks r2)
//	t2 t2-task in r1 RUNNING start+5m expected+5m
//	t3 t3      in r2 FAILED
//	t4 free    no flow run, PENDING
type runFixture struct {
	f1, f2         model.Flow
	r1, r2, r3     model.FlowRun
	t1, t2, t3, t4 model.TaskRun
	d1             model.ID
}

func newRunFixture(t *testing.T, s store.Store) runFixture {
	ctx := context.Background()
	var fx runFixture
	fx.f1 = flow(t, s, ws, "f1", "fx")
	fx.f2 = flow(t, s, ws, "f2")
	fx.d1 = model.NewID()
	mk := func(r model.FlowRun) model.FlowRun {
		t.Helper()
		out, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: r})
		must(t, err)
		return out
	}
	mkt := func(r model.TaskRun) model.TaskRun {
		t.Helper()
		out, _, err := s.TaskRunCreate(ctx, ws, r)
		must(t, err)
		return out
	}
	fx.r1 = mk(model.FlowRun{FlowID: fx.f1.ID, Name: "alpha-run", Tags: []string{"a", "b"}, DeploymentID: &fx.d1, WorkQueueName: ptr("q1"),
		State: state(model.StateRunning, "Running", at(time.Hour)), FlowVersion: ptr("v1"), StartTime: atp(time.Hour),
		ExpectedStartTime: atp(0), NextScheduledStartTime: atp(0), IdempotencyKey: ptr("k1")})
	fx.t1 = mkt(model.TaskRun{FlowRunID: &fx.r1.ID, Name: "t1-task", TaskKey: "k1", DynamicKey: "0", Tags: []string{"x"},
		State: state(model.StateCompleted, "Completed", at(time.Minute)), StartTime: atp(0), EndTime: atp(time.Minute), ExpectedStartTime: atp(0)})
	fx.t2 = mkt(model.TaskRun{FlowRunID: &fx.r1.ID, Name: "t2-task", TaskKey: "k2", DynamicKey: "0",
		State: state(model.StateRunning, "Running", at(5*time.Minute)), StartTime: atp(5 * time.Minute), ExpectedStartTime: atp(5 * time.Minute)})
	fx.r2 = mk(model.FlowRun{FlowID: fx.f2.ID, Name: "beta-run", Tags: []string{"b"}, WorkQueueName: ptr("q2"),
		State: state(model.StateCompleted, "Completed", at(3*time.Hour)), FlowVersion: ptr("v2"), StartTime: atp(2 * time.Hour),
		EndTime: atp(3 * time.Hour), ExpectedStartTime: atp(time.Hour), ParentTaskRunID: &fx.t1.ID})
	fx.r3 = mk(model.FlowRun{FlowID: fx.f1.ID, Name: "gamma", State: state(model.StateScheduled, "Late", at(0)),
		ExpectedStartTime: atp(2 * time.Hour), NextScheduledStartTime: atp(2 * time.Hour)})
	fx.t3 = mkt(model.TaskRun{FlowRunID: &fx.r2.ID, Name: "t3", TaskKey: "k3", DynamicKey: "0", State: state(model.StateFailed, "Failed", at(0))})
	fx.t4 = mkt(model.TaskRun{Name: "free", TaskKey: "k4", DynamicKey: "0", State: state(model.StatePending, "Pending", at(0))})
	return fx
}

func testRunFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	fx := newRunFixture(t, s)
	all := []string{"alpha-run", "beta-run", "gamma"}
	frs := []struct {
		name string
		q    model.RunQuery
		want []string
	}{
		{"none", model.RunQuery{}, all},
		{"id any", model.RunQuery{FlowRuns: &model.FlowRunFilter{ID: &model.IDFilter{Any: []model.ID{fx.r1.ID}}}}, []string{"alpha-run"}},
		{"id not_any", model.RunQuery{FlowRuns: &model.FlowRunFilter{ID: &model.IDFilter{NotAny: []model.ID{fx.r1.ID}}}}, []string{"beta-run", "gamma"}},
		{"name any", model.RunQuery{FlowRuns: &model.FlowRunFilter{Name: &model.NameFilter{Any: []string{"gamma"}}}}, []string{"gamma"}},
		{"name not_any", model.RunQuery{FlowRuns: &model.FlowRunFilter{Name: &model.NameFilter{NotAny: []string{"gamma"}}}}, []string{"alpha-run", "beta-run"}},
		{"name like", model.RunQuery{FlowRuns: &model.FlowRunFilter{Name: &model.NameFilter{Like: ptr("RUN")}}}, []string{"alpha-run", "beta-run"}},
		{"tags all", model.RunQuery{FlowRuns: &model.FlowRunFilter{Tags: &model.TagsFilter{All: []string{"a", "b"}}}}, []string{"alpha-run"}},
		{"tags any", model.RunQuery{FlowRuns: &model.FlowRunFilter{Tags: &model.TagsFilter{Any: []string{"b"}}}}, []string{"alpha-run", "beta-run"}},
		{"tags is_null", model.RunQuery{FlowRuns: &model.FlowRunFilter{Tags: &model.TagsFilter{IsNull: ptr(true)}}}, []string{"gamma"}},
		{"deployment any", model.RunQuery{FlowRuns: &model.FlowRunFilter{DeploymentID: &model.OptionalIDFilter{Any: []model.ID{fx.d1}}}}, []string{"alpha-run"}},
		{"deployment is_null", model.RunQuery{FlowRuns: &model.FlowRunFilter{DeploymentID: &model.OptionalIDFilter{IsNull: ptr(true)}}}, []string{"beta-run", "gamma"}},
		{"work queue any", model.RunQuery{FlowRuns: &model.FlowRunFilter{WorkQueueName: &model.StringsFilter{Any: []string{"q1"}}}}, []string{"alpha-run"}},
		{"work queue is_null", model.RunQuery{FlowRuns: &model.FlowRunFilter{WorkQueueName: &model.StringsFilter{IsNull: ptr(true)}}}, []string{"gamma"}},
		{"state type any", model.RunQuery{FlowRuns: &model.FlowRunFilter{State: &model.StateFilter{Type: &model.StateTypeFilter{Any: []model.StateType{model.StateRunning, model.StateCompleted}}}}}, []string{"alpha-run", "beta-run"}},
		{"state type not_any", model.RunQuery{FlowRuns: &model.FlowRunFilter{State: &model.StateFilter{Type: &model.StateTypeFilter{NotAny: []model.StateType{model.StateScheduled}}}}}, []string{"alpha-run", "beta-run"}},
		{"state name", model.RunQuery{FlowRuns: &model.FlowRunFilter{State: &model.StateFilter{Name: &model.StringsFilter{Any: []string{"Late"}}}}}, []string{"gamma"}},
		{"state or_", model.RunQuery{FlowRuns: &model.FlowRunFilter{State: &model.StateFilter{Operator: "or_", Type: &model.StateTypeFilter{Any: []model.StateType{model.StateRunning}}, Name: &model.StringsFilter{Any: []string{"Late"}}}}}, []string{"alpha-run", "gamma"}},
		{"flow version any", model.RunQuery{FlowRuns: &model.FlowRunFilter{FlowVersion: &model.StringsFilter{Any: []string{"v1"}}}}, []string{"alpha-run"}},
		{"flow version not_any", model.RunQuery{FlowRuns: &model.FlowRunFilter{FlowVersion: &model.StringsFilter{NotAny: []string{"v1"}}}}, []string{"beta-run"}},
		{"start after", model.RunQuery{FlowRuns: &model.FlowRunFilter{StartTime: &model.TimeFilter{After: atp(90 * time.Minute)}}}, []string{"beta-run"}},
		{"start before", model.RunQuery{FlowRuns: &model.FlowRunFilter{StartTime: &model.TimeFilter{Before: atp(90 * time.Minute)}}}, []string{"alpha-run"}},
		{"start is_null", model.RunQuery{FlowRuns: &model.FlowRunFilter{StartTime: &model.TimeFilter{IsNull: ptr(true)}}}, []string{"gamma"}},
		{"end not null", model.RunQuery{FlowRuns: &model.FlowRunFilter{EndTime: &model.TimeFilter{IsNull: ptr(false)}}}, []string{"beta-run"}},
		{"expected before", model.RunQuery{FlowRuns: &model.FlowRunFilter{ExpectedStartTime: &model.TimeFilter{Before: atp(30 * time.Minute)}}}, []string{"alpha-run"}},
		{"expected after", model.RunQuery{FlowRuns: &model.FlowRunFilter{ExpectedStartTime: &model.TimeFilter{After: atp(30 * time.Minute)}}}, []string{"beta-run", "gamma"}},
		{"next scheduled before", model.RunQuery{FlowRuns: &model.FlowRunFilter{NextScheduledStartTime: &model.TimeFilter{Before: atp(3 * time.Hour)}}}, []string{"alpha-run", "gamma"}},
		{"next scheduled is_null", model.RunQuery{FlowRuns: &model.FlowRunFilter{NextScheduledStartTime: &model.TimeFilter{IsNull: ptr(true)}}}, []string{"beta-run"}},
		{"parent task any", model.RunQuery{FlowRuns: &model.FlowRunFilter{ParentTaskRunID: &model.OptionalIDFilter{Any: []model.ID{fx.t1.ID}}}}, []string{"beta-run"}},
		{"parent task not null", model.RunQuery{FlowRuns: &model.FlowRunFilter{ParentTaskRunID: &model.OptionalIDFilter{IsNull: ptr(false)}}}, []string{"beta-run"}},
		{"parent flow run any", model.RunQuery{FlowRuns: &model.FlowRunFilter{ParentFlowRunID: &model.OptionalIDFilter{Any: []model.ID{fx.r1.ID}}}}, []string{"beta-run"}},
		{"idempotency key", model.RunQuery{FlowRuns: &model.FlowRunFilter{IdempotencyKey: &model.StringsFilter{Any: []string{"k1"}}}}, []string{"alpha-run"}},
		{"or_", model.RunQuery{FlowRuns: &model.FlowRunFilter{Operator: "or_", Name: &model.NameFilter{Any: []string{"gamma"}}, WorkQueueName: &model.StringsFilter{Any: []string{"q1"}}}}, []string{"alpha-run", "gamma"}},
		{"and", model.RunQuery{FlowRuns: &model.FlowRunFilter{Name: &model.NameFilter{Any: []string{"gamma"}}, WorkQueueName: &model.StringsFilter{Any: []string{"q1"}}}}, nil},
		{"by flow", model.RunQuery{Flows: &model.FlowFilter{Name: &model.NameFilter{Any: []string{"f1"}}}}, []string{"alpha-run", "gamma"}},
		{"by flow tags", model.RunQuery{Flows: &model.FlowFilter{Tags: &model.TagsFilter{All: []string{"fx"}}}}, []string{"alpha-run", "gamma"}},
		{"by task run", model.RunQuery{TaskRuns: &model.TaskRunFilter{Name: &model.NameFilter{Any: []string{"t3"}}}}, []string{"beta-run"}},
		{"by flow and task run", model.RunQuery{Flows: &model.FlowFilter{Name: &model.NameFilter{Any: []string{"f1"}}}, TaskRuns: &model.TaskRunFilter{Name: &model.NameFilter{Any: []string{"t3"}}}}, nil},
	}
	for _, tc := range frs {
		rs, err := s.FlowRunList(ctx, ws, tc.q)
		must(t, err)
		sameSet(t, "flow runs "+tc.name, runNames(rs), tc.want)
		n, err := s.FlowRunCount(ctx, ws, tc.q)
		must(t, err)
		if n != len(tc.want) {
			t.Errorf("FlowRunCount %s = %d, want %d", tc.name, n, len(tc.want))
		}
	}

	idDesc := []model.FlowRun{fx.r1, fx.r2, fx.r3}
	sort.Slice(idDesc, func(i, j int) bool { return string(idDesc[i].ID[:]) > string(idDesc[j].ID[:]) })
	sorts := map[string][]string{
		"":                              runNames(idDesc),
		"ID_DESC":                       runNames(idDesc),
		"NAME_ASC":                      {"alpha-run", "beta-run", "gamma"},
		"NAME_DESC":                     {"gamma", "beta-run", "alpha-run"},
		"EXPECTED_START_TIME_ASC":       {"alpha-run", "beta-run", "gamma"},
		"EXPECTED_START_TIME_DESC":      {"gamma", "beta-run", "alpha-run"},
		"NEXT_SCHEDULED_START_TIME_ASC": {"alpha-run", "gamma", "beta-run"},
		"END_TIME_DESC":                 {"beta-run"},
		"START_TIME_ASC":                {"alpha-run"},
	}
	for key, want := range sorts {
		rs, err := s.FlowRunList(ctx, ws, model.RunQuery{Sort: key})
		must(t, err)
		got := runNames(rs)
		if len(want) < len(got) {
			got = got[:len(want)]
		}
		if !slices.Equal(got, want) {
			t.Errorf("flow run sort %q = %v, want %v", key, got, want)
		}
	}
	rs, err := s.FlowRunList(ctx, ws, model.RunQuery{Sort: "NAME_ASC", Offset: 1, Limit: 1})
	must(t, err)
	if got := runNames(rs); !slices.Equal(got, []string{"beta-run"}) {
		t.Errorf("flow run page = %v", got)
	}
	rs, err = s.FlowRunList(ctx, ws, model.RunQuery{Sort: "NAME_ASC", Offset: 3})
	must(t, err)
	if len(rs) != 0 {
		t.Errorf("page past the end = %v", runNames(rs))
	}

	allTasks := []string{"t1-task", "t2-task", "t3", "free"}
	trs := []struct {
		name string
		q    model.RunQuery
		want []string
	}{
		{"none", model.RunQuery{}, allTasks},
		{"id any", model.RunQuery{TaskRuns: &model.TaskRunFilter{ID: &model.IDFilter{Any: []model.ID{fx.t1.ID}}}}, []string{"t1-task"}},
		{"id not_any", model.RunQuery{TaskRuns: &model.TaskRunFilter{ID: &model.IDFilter{NotAny: []model.ID{fx.t1.ID}}}}, []string{"t2-task", "t3", "free"}},
		{"name like", model.RunQuery{TaskRuns: &model.TaskRunFilter{Name: &model.NameFilter{Like: ptr("TASK")}}}, []string{"t1-task", "t2-task"}},
		{"tags any", model.RunQuery{TaskRuns: &model.TaskRunFilter{Tags: &model.TagsFilter{Any: []string{"x"}}}}, []string{"t1-task"}},
		{"tags is_null", model.RunQuery{TaskRuns: &model.TaskRunFilter{Tags: &model.TagsFilter{IsNull: ptr(true)}}}, []string{"t2-task", "t3", "free"}},
		{"state type", model.RunQuery{TaskRuns: &model.TaskRunFilter{State: &model.StateFilter{Type: &model.StateTypeFilter{Any: []model.StateType{model.StateCompleted}}}}}, []string{"t1-task"}},
		{"state name", model.RunQuery{TaskRuns: &model.TaskRunFilter{State: &model.StateFilter{Name: &model.StringsFilter{Any: []string{"Running"}}}}}, []string{"t2-task"}},
		{"start is_null", model.RunQuery{TaskRuns: &model.TaskRunFilter{StartTime: &model.TimeFilter{IsNull: ptr(true)}}}, []string{"t3", "free"}},
		{"start after", model.RunQuery{TaskRuns: &model.TaskRunFilter{StartTime: &model.TimeFilter{After: atp(time.Minute)}}}, []string{"t2-task"}},
		{"end not null", model.RunQuery{TaskRuns: &model.TaskRunFilter{EndTime: &model.TimeFilter{IsNull: ptr(false)}}}, []string{"t1-task"}},
		{"expected before", model.RunQuery{TaskRuns: &model.TaskRunFilter{ExpectedStartTime: &model.TimeFilter{Before: atp(time.Minute)}}}, []string{"t1-task"}},
		{"subflow exists", model.RunQuery{TaskRuns: &model.TaskRunFilter{SubflowRuns: &model.SubflowRunsFilter{Exists: ptr(true)}}}, []string{"t1-task"}},
		{"subflow not exists", model.RunQuery{TaskRuns: &model.TaskRunFilter{SubflowRuns: &model.SubflowRunsFilter{Exists: ptr(false)}}}, []string{"t2-task", "t3", "free"}},
		{"flow run any", model.RunQuery{TaskRuns: &model.TaskRunFilter{FlowRunID: &model.OptionalIDFilter{Any: []model.ID{fx.r1.ID}}}}, []string{"t1-task", "t2-task"}},
		{"flow run is_null", model.RunQuery{TaskRuns: &model.TaskRunFilter{FlowRunID: &model.OptionalIDFilter{IsNull: ptr(true)}}}, []string{"free"}},
		{"or_", model.RunQuery{TaskRuns: &model.TaskRunFilter{Operator: "or_", Name: &model.NameFilter{Any: []string{"t3"}}, Tags: &model.TagsFilter{Any: []string{"x"}}}}, []string{"t1-task", "t3"}},
		{"by flow run", model.RunQuery{FlowRuns: &model.FlowRunFilter{Name: &model.NameFilter{Any: []string{"beta-run"}}}}, []string{"t3"}},
		{"by flow", model.RunQuery{Flows: &model.FlowFilter{Name: &model.NameFilter{Any: []string{"f1"}}}}, []string{"t1-task", "t2-task"}},
	}
	for _, tc := range trs {
		rs, err := s.TaskRunList(ctx, ws, tc.q)
		must(t, err)
		sameSet(t, "task runs "+tc.name, taskNames(rs), tc.want)
		n, err := s.TaskRunCount(ctx, ws, tc.q)
		must(t, err)
		if n != len(tc.want) {
			t.Errorf("TaskRunCount %s = %d, want %d", tc.name, n, len(tc.want))
		}
	}
	tl, err := s.TaskRunList(ctx, ws, model.RunQuery{Sort: "NAME_DESC", Limit: 2})
	must(t, err)
	if got := taskNames(tl); !slices.Equal(got, []string{"t3", "t2-task"}) {
		t.Errorf("task run sort+limit = %v", got)
	}
	tl, err = s.TaskRunList(ctx, ws, model.RunQuery{Sort: "EXPECTED_START_TIME_DESC", Limit: 1})
	must(t, err)
	if got := taskNames(tl); !slices.Equal(got, []string{"t2-task"}) {
		t.Errorf("task run EXPECTED_START_TIME_DESC = %v", got)
	}

	fls := []struct {
		name string
		q    model.RunQuery
		want []string
	}{
		{"flows by run state", model.RunQuery{FlowRuns: &model.FlowRunFilter{State: &model.StateFilter{Type: &model.StateTypeFilter{Any: []model.StateType{model.StateCompleted}}}}}, []string{"f2"}},
		{"flows by task run", model.RunQuery{TaskRuns: &model.TaskRunFilter{Name: &model.NameFilter{Any: []string{"t1-task"}}}}, []string{"f1"}},
		{"flows by run and task run", model.RunQuery{FlowRuns: &model.FlowRunFilter{Name: &model.NameFilter{Any: []string{"gamma"}}}, TaskRuns: &model.TaskRunFilter{Name: &model.NameFilter{Any: []string{"t1-task"}}}}, nil},
	}
	for _, tc := range fls {
		fs, err := s.FlowList(ctx, ws, tc.q)
		must(t, err)
		sameSet(t, tc.name, flowNames(fs), tc.want)
	}
}

func testTaskRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := flow(t, s, ws, "f")
	r, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "r"}})
	must(t, err)
	pending := state(model.StatePending, "Pending", at(0))
	tr, created, err := s.TaskRunCreate(ctx, ws, model.TaskRun{FlowRunID: &r.ID, Name: "t", TaskKey: "k", DynamicKey: "1", State: pending})
	must(t, err)
	if !created || tr.ID.IsNil() || tr.StateID == nil || *tr.StateID != pending.ID {
		t.Fatalf("created = %+v", tr)
	}
	dup, created, err := s.TaskRunCreate(ctx, ws, model.TaskRun{FlowRunID: &r.ID, Name: "t-dup", TaskKey: "k", DynamicKey: "1"})
	must(t, err)
	if created || dup.ID != tr.ID || dup.Name != "t" {
		t.Fatalf("natural-key duplicate = %+v created=%v", dup, created)
	}
	other, created, err := s.TaskRunCreate(ctx, ws, model.TaskRun{FlowRunID: &r.ID, Name: "t2", TaskKey: "k", DynamicKey: "2"})
	must(t, err)
	if !created || other.ID == tr.ID {
		t.Fatal("another dynamic key must create a task run")
	}
	got, err := s.TaskRunGet(ctx, ws, tr.ID)
	must(t, err)
	if got.Name != "t" || got.State == nil || !got.Created.Equal(tr.Created.Time) {
		t.Fatalf("TaskRunGet = %+v", got)
	}
	_, err = s.TaskRunGet(ctx, ws, model.NewID())
	wantErr(t, err, store.ErrNotFound)

	up, err := s.TaskRunUpdate(ctx, ws, tr.ID, func(x *model.TaskRun) error { x.Name = "renamed"; return nil })
	must(t, err)
	if up.Name != "renamed" {
		t.Fatalf("update = %+v", up)
	}
	_, err = s.TaskRunUpdate(ctx, ws, model.NewID(), func(*model.TaskRun) error { return nil })
	wantErr(t, err, store.ErrNotFound)

	running := state(model.StateRunning, "Running", at(time.Second))
	ev := model.Event{ID: model.NewID(), Occurred: running.Timestamp, Event: "prefect.task-run.Running",
		Resource: map[string]string{"prefect.resource.id": "prefect.task-run." + tr.ID.String()}}
	ch, err := s.TaskRunSetState(ctx, ws, tr.ID, func(cur model.TaskRun, parent *model.FlowRun) (store.TaskRunChange, error) {
		if cur.Name != "renamed" {
			return store.TaskRunChange{}, fmt.Errorf("decider saw %+v", cur)
		}
		if parent == nil || parent.ID != r.ID {
			return store.TaskRunChange{}, fmt.Errorf("decider saw parent %+v, want flow run %s", parent, r.ID)
		}
		cur.State = running
		cur.StateID, cur.StateType, cur.StateName = &running.ID, &running.Type, &running.Name
		return store.TaskRunChange{Run: &cur, State: running, Events: []model.Event{ev}}, nil
	})
	must(t, err)
	if ch.State.ID != running.ID {
		t.Fatalf("change = %+v", ch)
	}
	got, _ = s.TaskRunGet(ctx, ws, tr.ID)
	if *got.StateType != model.StateRunning {
		t.Fatalf("after set state: %+v", got)
	}
	sts, err := s.TaskRunStates(ctx, ws, tr.ID)
	must(t, err)
	if len(sts) != 2 || sts[0].ID != pending.ID || sts[1].ID != running.ID {
		t.Fatalf("task history = %+v", sts)
	}
	page, err := s.EventList(ctx, ws, model.EventFilter{}, 10, 0)
	must(t, err)
	if page.Total != 1 || page.Events[0].ID != ev.ID {
		t.Fatalf("task run outbox events = %+v", page)
	}
	_, err = s.TaskRunSetState(ctx, ws, model.NewID(), func(model.TaskRun, *model.FlowRun) (store.TaskRunChange, error) { return store.TaskRunChange{}, nil })
	wantErr(t, err, store.ErrNotFound)
	// A task run without a flow run gets no parent.
	lone, _, err := s.TaskRunCreate(ctx, ws, model.TaskRun{Name: "lone", TaskKey: "lone", DynamicKey: "0"})
	must(t, err)
	_, err = s.TaskRunSetState(ctx, ws, lone.ID, func(_ model.TaskRun, parent *model.FlowRun) (store.TaskRunChange, error) {
		if parent != nil {
			return store.TaskRunChange{}, fmt.Errorf("parent of a task run without flow run = %+v", parent)
		}
		return store.TaskRunChange{}, nil
	})
	must(t, err)

	must(t, s.TaskRunDelete(ctx, ws, tr.ID))
	_, err = s.TaskRunGet(ctx, ws, tr.ID)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.TaskRunDelete(ctx, ws, tr.ID), store.ErrNotFound)
	sts, err = s.TaskRunStates(ctx, ws, tr.ID)
	must(t, err)
	if len(sts) != 0 {
		t.Fatalf("history after delete = %v", sts)
	}
}

func testTaskRunRecord(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := flow(t, s, ws, "f")
	r, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "r"}})
	must(t, err)
	rec := func(id model.ID, typ model.StateType, name string, ts time.Duration, taskName string) store.TaskRunRecord {
		st := state(typ, name, at(ts))
		return store.TaskRunRecord{Run: model.TaskRun{ID: id, FlowRunID: &r.ID, Name: taskName, TaskKey: "k-" + id.String(), DynamicKey: "0"}, State: *st}
	}
	// Every delivery order of the same three events converges.
	orders := [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}, {2, 0, 1}}
	for i, order := range orders {
		id := model.NewID()
		recs := []store.TaskRunRecord{
			rec(id, model.StatePending, "Pending", 0, "p"),
			rec(id, model.StateRunning, "Running", time.Second, "r"),
			rec(id, model.StateCompleted, "Completed", 2*time.Second, "c"),
		}
		for _, j := range order {
			must(t, s.TaskRunRecord(ctx, ws, []store.TaskRunRecord{recs[j]}))
			// Duplicate delivery changes nothing.
			must(t, s.TaskRunRecord(ctx, ws, []store.TaskRunRecord{recs[j]}))
		}
		got, err := s.TaskRunGet(ctx, ws, id)
		must(t, err)
		if got.StateType == nil || *got.StateType != model.StateCompleted || got.Name != "c" || *got.StateID != recs[2].State.ID {
			t.Errorf("order %d: converged to %+v", i, got)
		}
		sts, err := s.TaskRunStates(ctx, ws, id)
		must(t, err)
		if len(sts) != 3 || sts[0].Type != model.StatePending || sts[2].Type != model.StateCompleted {
			t.Errorf("order %d: history = %+v", i, sts)
		}
	}
	// A batch with several runs and out-of-order states.
	a, b := model.NewID(), model.NewID()
	batch := []store.TaskRunRecord{
		rec(a, model.StateRunning, "Running", time.Second, "a2"),
		rec(b, model.StatePending, "Pending", 0, "b1"),
		rec(a, model.StatePending, "Pending", 0, "a1"),
		rec(b, model.StateFailed, "Failed", 3*time.Second, "b3"),
	}
	must(t, s.TaskRunRecord(ctx, ws, batch))
	ga, _ := s.TaskRunGet(ctx, ws, a)
	gb, _ := s.TaskRunGet(ctx, ws, b)
	if ga.Name != "a2" || gb.Name != "b3" {
		t.Fatalf("batch converged to %q and %q", ga.Name, gb.Name)
	}
	first := ga.Created
	must(t, s.TaskRunRecord(ctx, ws, []store.TaskRunRecord{rec(a, model.StateCompleted, "Completed", 5*time.Second, "a3")}))
	ga, _ = s.TaskRunGet(ctx, ws, a)
	if ga.Name != "a3" || !ga.Created.Equal(first.Time) {
		t.Fatalf("later record: %+v (created %v, first %v)", ga, ga.Created, first)
	}
	// The usual event changes only the state (SQLite's narrow upsert); one
	// that also changes the tags or the expected start (its fallback) must
	// reach the tag filter and the columns too.
	c := model.NewID()
	tagged := func(typ model.StateType, name string, ts time.Duration, tags []string, expected time.Duration) store.TaskRunRecord {
		r := rec(c, typ, name, ts, "c")
		r.Run.Tags, r.Run.ExpectedStartTime = tags, atp(expected)
		return r
	}
	must(t, s.TaskRunRecord(ctx, ws, []store.TaskRunRecord{tagged(model.StatePending, "Pending", 0, []string{"one"}, 0)}))
	must(t, s.TaskRunRecord(ctx, ws, []store.TaskRunRecord{tagged(model.StateRunning, "Running", time.Second, []string{"one"}, 0)}))
	must(t, s.TaskRunRecord(ctx, ws, []store.TaskRunRecord{tagged(model.StateCompleted, "Completed", 2*time.Second, []string{"two"}, time.Minute)}))
	gc, err := s.TaskRunGet(ctx, ws, c)
	must(t, err)
	if *gc.StateType != model.StateCompleted || len(gc.Tags) != 1 || gc.Tags[0] != "two" || gc.ExpectedStartTime == nil || !gc.ExpectedStartTime.Equal(at(time.Minute).Time) {
		t.Fatalf("tag/expected change: %+v", gc)
	}
	for tag, want := range map[string]int{"one": 0, "two": 1} {
		n, err := s.TaskRunCount(ctx, ws, model.RunQuery{TaskRuns: &model.TaskRunFilter{Tags: &model.TagsFilter{All: []string{tag}}}})
		must(t, err)
		if n != want {
			t.Errorf("task runs tagged %s = %d, want %d", tag, n, want)
		}
	}
	n, err := s.TaskRunCount(ctx, ws, model.RunQuery{TaskRuns: &model.TaskRunFilter{FlowRunID: &model.OptionalIDFilter{Any: []model.ID{r.ID}}}})
	must(t, err)
	if n != len(orders)+3 {
		t.Fatalf("task runs = %d, want %d", n, len(orders)+3)
	}
	must(t, s.TaskRunRecord(ctx, ws, nil))
}

func testLogs(t *testing.T, s store.Store) {
	ctx := context.Background()
	fr, tr := model.NewID(), model.NewID()
	logs := []model.Log{
		{Name: "prefect.flow_runs", Level: 20, Message: "Hello World", Timestamp: at(0), FlowRunID: &fr},
		{Name: "prefect.task_runs", Level: 40, Message: "boom 100%", Timestamp: at(time.Second), FlowRunID: &fr, TaskRunID: &tr},
		{Name: "other", Level: 10, Message: "debug", Timestamp: at(2 * time.Second)},
	}
	must(t, s.LogCreate(ctx, ws, logs))
	must(t, s.LogCreate(ctx, ws, nil))
	msgs := func(ls []model.Log) []string {
		out := []string{}
		for _, l := range ls {
			out = append(out, l.Message)
		}
		return out
	}
	cases := []struct {
		name string
		q    model.LogQuery
		want []string // in order
	}{
		{"all ascending by default", model.LogQuery{}, []string{"Hello World", "boom 100%", "debug"}},
		{"descending", model.LogQuery{Sort: "TIMESTAMP_DESC"}, []string{"debug", "boom 100%", "Hello World"}},
		{"page", model.LogQuery{Offset: 1, Limit: 1}, []string{"boom 100%"}},
		{"level ge", model.LogQuery{Logs: &model.LogFilter{Level: &model.LevelFilter{GE: ptr(20)}}}, []string{"Hello World", "boom 100%"}},
		{"level le", model.LogQuery{Logs: &model.LogFilter{Level: &model.LevelFilter{LE: ptr(20)}}}, []string{"Hello World", "debug"}},
		{"timestamp after", model.LogQuery{Logs: &model.LogFilter{Timestamp: &model.TimeFilter{After: atp(time.Second)}}}, []string{"boom 100%", "debug"}},
		{"timestamp before", model.LogQuery{Logs: &model.LogFilter{Timestamp: &model.TimeFilter{Before: atp(0)}}}, []string{"Hello World"}},
		{"flow run", model.LogQuery{Logs: &model.LogFilter{FlowRunID: &model.OptionalIDFilter{Any: []model.ID{fr}}}}, []string{"Hello World", "boom 100%"}},
		{"flow run is_null", model.LogQuery{Logs: &model.LogFilter{FlowRunID: &model.OptionalIDFilter{IsNull: ptr(true)}}}, []string{"debug"}},
		{"task run", model.LogQuery{Logs: &model.LogFilter{TaskRunID: &model.OptionalIDFilter{Any: []model.ID{tr}}}}, []string{"boom 100%"}},
		{"text", model.LogQuery{Logs: &model.LogFilter{Text: &model.TextFilter{Query: "WORLD"}}}, []string{"Hello World"}},
		{"text literal percent", model.LogQuery{Logs: &model.LogFilter{Text: &model.TextFilter{Query: "0%"}}}, []string{"boom 100%"}},
		{"or_", model.LogQuery{Logs: &model.LogFilter{Operator: "or_", Level: &model.LevelFilter{GE: ptr(40)}, Text: &model.TextFilter{Query: "debug"}}}, []string{"boom 100%", "debug"}},
	}
	for _, tc := range cases {
		ls, err := s.LogList(ctx, ws, tc.q)
		must(t, err)
		if got := msgs(ls); !slices.Equal(got, tc.want) {
			t.Errorf("logs %s = %v, want %v", tc.name, got, tc.want)
		}
	}
	ls, err := s.LogList(ctx, ws, model.LogQuery{Logs: &model.LogFilter{TaskRunID: &model.OptionalIDFilter{Any: []model.ID{tr}}}})
	must(t, err)
	if l := ls[0]; l.ID.IsNil() || l.Name != "prefect.task_runs" || l.Level != 40 || *l.FlowRunID != fr || !l.Timestamp.Equal(at(time.Second).Time) || l.Created.IsZero() {
		t.Errorf("stored log = %+v", l)
	}
}

func testEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	res := func(id string, labels ...string) map[string]string {
		m := map[string]string{"prefect.resource.id": id}
		for i := 0; i+1 < len(labels); i += 2 {
			m[labels[i]] = labels[i+1]
		}
		return m
	}
	e1 := model.Event{ID: model.NewID(), Occurred: at(0), Event: "prefect.flow-run.Running",
		Resource: res("prefect.flow-run.A", "prefect.resource.name", "run-a"),
		Related:  []map[string]string{res("prefect.flow.F", "prefect.resource.role", "flow"), res("prefect.tag.x", "prefect.resource.role", "tag")}}
	e2 := model.Event{ID: model.NewID(), Occurred: at(time.Hour), Event: "prefect.flow-run.Completed",
		Resource: res("prefect.flow-run.A", "prefect.resource.name", "run-a"),
		Related:  []map[string]string{res("prefect.flow.F", "prefect.resource.role", "flow")}, Payload: []byte(`{"note":"a Needle here"}`)}
	e3 := model.Event{ID: model.NewID(), Occurred: at(25 * time.Hour), Event: "prefect.task-run.Running",
		Resource: res("prefect.task-run.B", "prefect.resource.name", "task-b"),
		Related:  []map[string]string{res("prefect.flow-run.A", "prefect.resource.role", "flow-run")}}
	fresh, err := s.EventInsert(ctx, ws, []model.Event{e1, e2})
	must(t, err)
	if len(fresh) != 2 {
		t.Fatalf("fresh = %d", len(fresh))
	}
	fresh, err = s.EventInsert(ctx, ws, []model.Event{e2, e3, e3})
	must(t, err)
	if len(fresh) != 1 || fresh[0].ID != e3.ID {
		t.Fatalf("dedupe: fresh = %+v", fresh)
	}
	names := map[model.ID]string{e1.ID: "e1", e2.ID: "e2", e3.ID: "e3"}
	type f = model.EventFilter
	occ := func(since, until *model.Time) *struct {
		Since *model.Time `json:"since"`
		Until *model.Time `json:"until"`
	} {
		return &struct {
			Since *model.Time `json:"since"`
			Until *model.Time `json:"until"`
		}{since, until}
	}
	type evf = struct {
		Prefix        []string `json:"prefix"`
		ExcludePrefix []string `json:"exclude_prefix"`
		Name          []string `json:"name"`
		ExcludeName   []string `json:"exclude_name"`
	}
	cases := []struct {
		name string
		f    model.EventFilter
		want []string // ascending
	}{
		{"all", f{}, []string{"e1", "e2", "e3"}},
		{"since", f{Occurred: occ(atp(30*time.Minute), nil)}, []string{"e2", "e3"}},
		{"until", f{Occurred: occ(nil, atp(30*time.Minute))}, []string{"e1"}},
		{"prefix", f{Event: &evf{Prefix: []string{"prefect.flow-run."}}}, []string{"e1", "e2"}},
		// Prefect tests event filter lists for truth: an empty list is no filter.
		{"empty prefix list", f{Event: &evf{Prefix: []string{}}}, []string{"e1", "e2", "e3"}},
		{"empty name list", f{Event: &evf{Name: []string{}}}, []string{"e1", "e2", "e3"}},
		{"empty resource id list", f{Resource: &model.ResourceFilter{ID: []string{}, IDPrefix: []string{}}}, []string{"e1", "e2", "e3"}},
		{"exclude prefix", f{Event: &evf{ExcludePrefix: []string{"prefect.flow-run."}}}, []string{"e3"}},
		{"name", f{Event: &evf{Name: []string{"prefect.task-run.Running"}}}, []string{"e3"}},
		{"exclude name", f{Event: &evf{ExcludeName: []string{"prefect.task-run.Running"}}}, []string{"e1", "e2"}},
		{"resource id", f{Resource: &model.ResourceFilter{ID: []string{"prefect.flow-run.A"}}}, []string{"e1", "e2"}},
		{"resource id prefix", f{Resource: &model.ResourceFilter{IDPrefix: []string{"prefect.task-run."}}}, []string{"e3"}},
		{"resource label", f{Resource: &model.ResourceFilter{Labels: map[string][]string{"prefect.resource.name": {"run-a"}}}}, []string{"e1", "e2"}},
		{"resource label wildcard", f{Resource: &model.ResourceFilter{Labels: map[string][]string{"prefect.resource.name": {"task-*"}}}}, []string{"e3"}},
		{"resource label negated", f{Resource: &model.ResourceFilter{Labels: map[string][]string{"prefect.resource.name": {"!run-a"}}}}, []string{"e3"}},
		{"related id", f{Related: model.ResourceFilters{{ID: []string{"prefect.flow.F"}}}}, []string{"e1", "e2"}},
		{"related role", f{Related: model.ResourceFilters{{Role: []string{"tag"}}}}, []string{"e1"}},
		{"related in roles", f{Related: model.ResourceFilters{{ResourcesInRoles: [][]string{{"prefect.flow-run.A", "flow-run"}}}}}, []string{"e3"}},
		{"related label", f{Related: model.ResourceFilters{{Labels: map[string][]string{"prefect.resource.role": {"tag"}}}}}, []string{"e1"}},
		{"related list all must match", f{Related: model.ResourceFilters{{ID: []string{"prefect.flow.F"}}, {Role: []string{"tag"}}}}, []string{"e1"}},
		{"related excludes primary", f{Related: model.ResourceFilters{{ID: []string{"prefect.task-run.B"}}}}, nil},
		{"any resource", f{AnyResource: model.ResourceFilters{{ID: []string{"prefect.flow-run.A"}}}}, []string{"e1", "e2", "e3"}},
		{"any resource prefix", f{AnyResource: model.ResourceFilters{{IDPrefix: []string{"prefect.tag."}}}}, []string{"e1"}},
		{"id", f{ID: &struct {
			ID []model.ID `json:"id"`
		}{ID: []model.ID{e2.ID}}}, []string{"e2"}},
		{"text", f{Text: &model.TextFilter{Query: "needle"}}, []string{"e2"}},
	}
	for _, tc := range cases {
		page, err := s.EventList(ctx, ws, tc.f, 50, 0)
		must(t, err)
		got := []string{}
		for _, e := range page.Events {
			got = append(got, names[e.ID])
		}
		if !slices.Equal(got, append([]string{}, tc.want...)) || page.Total != len(tc.want) {
			t.Errorf("events %s = %v (total %d), want %v", tc.name, got, page.Total, tc.want)
		}
	}
	page, err := s.EventList(ctx, ws, f{Order: "DESC"}, 1, 1)
	must(t, err)
	if page.Total != 3 || len(page.Events) != 1 || page.Events[0].ID != e2.ID {
		t.Fatalf("DESC page = %+v", page)
	}
	got := page.Events[0]
	if got.Event != e2.Event || got.Resource["prefect.resource.name"] != "run-a" || got.Received.IsZero() || !got.Occurred.Equal(e2.Occurred.Time) {
		t.Fatalf("stored event = %+v", got)
	}
	page, _ = s.EventList(ctx, ws, f{Order: "DESC"}, 10, 0)
	if len(page.Events) != 3 || page.Events[0].ID != e3.ID {
		t.Fatalf("DESC order = %+v", page.Events)
	}

	byEvent, err := s.EventCountBy(ctx, ws, f{}, "event", 0)
	must(t, err)
	if len(byEvent) != 3 {
		t.Fatalf("count by event = %+v", byEvent)
	}
	for _, c := range byEvent {
		if c.Count != 1 || c.Label != c.Value {
			t.Errorf("count by event bucket %+v", c)
		}
	}
	byRes, err := s.EventCountBy(ctx, ws, f{}, "resource", 0)
	must(t, err)
	if len(byRes) != 2 || byRes[0].Value != "prefect.flow-run.A" || byRes[0].Count != 2 || byRes[0].Label != "run-a" || byRes[1].Count != 1 {
		t.Fatalf("count by resource = %+v", byRes)
	}
	byDay, err := s.EventCountBy(ctx, ws, f{Occurred: occ(atp(0), atp(47*time.Hour))}, "day", 0)
	must(t, err)
	if len(byDay) != 2 || byDay[0].Count != 2 || byDay[1].Count != 1 || !byDay[1].StartTime.Equal(at(24*time.Hour).Time) {
		t.Fatalf("count by day = %+v", byDay)
	}
	byHour, err := s.EventCountBy(ctx, ws, f{Occurred: occ(atp(0), atp(25*time.Hour+30*time.Minute))}, "time", time.Hour)
	must(t, err)
	if len(byHour) != 26 {
		t.Fatalf("count by hour: %d buckets", len(byHour))
	}
	for i, c := range byHour {
		want := 0
		if i == 0 || i == 1 || i == 25 {
			want = 1
		}
		if c.Count != want || !c.StartTime.Equal(at(time.Duration(i)*time.Hour).Time) {
			t.Errorf("hour bucket %d = %+v, want count %d", i, c, want)
		}
	}
}

func testConcurrency(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, err := s.ConcurrencyLimitCreate(ctx, ws, model.ConcurrencyLimitCreate{Name: "a", Limit: 2})
	must(t, err)
	if !a.Active || a.Limit != 2 || a.ID.IsNil() {
		t.Fatalf("created limit = %+v", a)
	}
	_, err = s.ConcurrencyLimitCreate(ctx, ws, model.ConcurrencyLimitCreate{Name: "a", Limit: 5})
	wantErr(t, err, store.ErrConflict)
	b, err := s.ConcurrencyLimitCreate(ctx, ws, model.ConcurrencyLimitCreate{Name: "b", Limit: 1})
	must(t, err)
	_, err = s.ConcurrencyLimitCreate(ctx, ws, model.ConcurrencyLimitCreate{Name: "off", Limit: 0, Active: ptr(false)})
	must(t, err)

	byName, err := s.ConcurrencyLimitGet(ctx, ws, "a")
	must(t, err)
	byID, err := s.ConcurrencyLimitGet(ctx, ws, a.ID.String())
	must(t, err)
	if byName.ID != a.ID || byID.Name != "a" {
		t.Fatalf("get by name/id = %+v / %+v", byName, byID)
	}
	_, err = s.ConcurrencyLimitGet(ctx, ws, "nope")
	wantErr(t, err, store.ErrNotFound)
	list, err := s.ConcurrencyLimitList(ctx, ws, 0, 0)
	must(t, err)
	if len(list) != 3 || list[0].Name != "a" {
		t.Fatalf("list = %+v", list)
	}
	list, err = s.ConcurrencyLimitList(ctx, ws, 1, 1)
	must(t, err)
	if len(list) != 1 || list[0].Name != "b" {
		t.Fatalf("list page = %+v", list)
	}

	// No limit among the names: nothing to hold, no lease.
	lease, lims, err := s.ConcurrencyAcquire(ctx, ws, []string{"unknown", "off"}, 1, time.Minute, nil)
	must(t, err)
	if lease != nil || len(lims) != 0 {
		t.Fatalf("acquire without limits = %+v %+v", lease, lims)
	}
	holder := &model.LeaseHolder{Type: "task_run", ID: model.NewID()}
	l1, lims, err := s.ConcurrencyAcquire(ctx, ws, []string{"a", "b", "unknown", "off"}, 1, time.Minute, holder)
	must(t, err)
	if l1 == nil || len(lims) != 2 || len(l1.ResourceIDs) != 2 || l1.Slots != 1 || l1.Holder == nil || l1.Holder.ID != holder.ID {
		t.Fatalf("acquire = %+v %+v", l1, lims)
	}
	// b is full: all or nothing, so a keeps one slot and b records a denial.
	_, _, err = s.ConcurrencyAcquire(ctx, ws, []string{"a", "b"}, 1, time.Minute, nil)
	wantErr(t, err, store.ErrSlotsBusy)
	ga, _ := s.ConcurrencyLimitGet(ctx, ws, "a")
	gb, _ := s.ConcurrencyLimitGet(ctx, ws, "b")
	if ga.ActiveSlots != 1 || gb.ActiveSlots != 1 || gb.DeniedSlots != 1 {
		t.Fatalf("after denial a=%+v b=%+v", ga, gb)
	}
	l2, _, err := s.ConcurrencyAcquire(ctx, ws, []string{"a"}, 1, time.Minute, nil)
	must(t, err)
	_, _, err = s.ConcurrencyAcquire(ctx, ws, []string{"a"}, 1, time.Minute, nil)
	wantErr(t, err, store.ErrSlotsBusy)

	must(t, s.ConcurrencyRelease(ctx, ws, l1.ID))
	must(t, s.ConcurrencyRelease(ctx, ws, l1.ID)) // idempotent
	must(t, s.ConcurrencyRelease(ctx, ws, model.NewID()))
	ga, _ = s.ConcurrencyLimitGet(ctx, ws, "a")
	gb, _ = s.ConcurrencyLimitGet(ctx, ws, "b")
	if ga.ActiveSlots != 1 || gb.ActiveSlots != 0 {
		t.Fatalf("after release a=%d b=%d", ga.ActiveSlots, gb.ActiveSlots)
	}

	must(t, s.ConcurrencyRenew(ctx, ws, l2.ID, time.Hour))
	wantErr(t, s.ConcurrencyRenew(ctx, ws, l1.ID, time.Hour), store.ErrNotFound)
	l3, _, err := s.ConcurrencyAcquire(ctx, ws, []string{"b"}, 1, time.Minute, nil)
	must(t, err)
	// Only l3 has expired 10 minutes from now; l2 was renewed for an hour.
	n, err := s.ConcurrencyExpire(ctx, time.Now().Add(10*time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("expired %d leases, want 1", n)
	}
	wantErr(t, s.ConcurrencyRenew(ctx, ws, l3.ID, time.Hour), store.ErrNotFound)
	gb, _ = s.ConcurrencyLimitGet(ctx, ws, "b")
	if gb.ActiveSlots != 0 {
		t.Fatalf("expired lease kept slots: %+v", gb)
	}
	n, err = s.ConcurrencyExpire(ctx, time.Now().Add(2*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("second expire = %d", n)
	}

	// Update and delete by name or id.
	must(t, s.ConcurrencyLimitUpdate(ctx, ws, "a", model.ConcurrencyLimitUpdate{Limit: ptr(7), Active: ptr(false)}))
	ga, _ = s.ConcurrencyLimitGet(ctx, ws, a.ID.String())
	if ga.Limit != 7 || ga.Active || ga.Name != "a" {
		t.Fatalf("updated = %+v", ga)
	}
	wantErr(t, s.ConcurrencyLimitUpdate(ctx, ws, "a", model.ConcurrencyLimitUpdate{Name: ptr("b")}), store.ErrConflict)
	wantErr(t, s.ConcurrencyLimitUpdate(ctx, ws, "zzz", model.ConcurrencyLimitUpdate{}), store.ErrNotFound)
	must(t, s.ConcurrencyLimitDelete(ctx, ws, b.ID.String()))
	_, err = s.ConcurrencyLimitGet(ctx, ws, "b")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.ConcurrencyLimitDelete(ctx, ws, "b"), store.ErrNotFound)
}

func testIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	wb := otherWorkspace(t, s, "other").ID
	got, err := s.WorkspaceGet(ctx, store.DefaultAccountID, wb)
	must(t, err)
	if got.Name != "other" {
		t.Fatalf("second workspace = %+v", got)
	}

	fx := newRunFixture(t, s)
	// The same names are free in the other workspace.
	fb, created, err := s.FlowUpsert(ctx, wb, model.FlowCreate{Name: "f1"})
	must(t, err)
	if !created || fb.ID == fx.f1.ID {
		t.Fatal("flow name shared across workspaces")
	}
	_, err = s.FlowGet(ctx, wb, fx.f1.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.FlowRunGet(ctx, wb, fx.r1.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.TaskRunGet(ctx, wb, fx.t1.ID)
	wantErr(t, err, store.ErrNotFound)
	_, _, err = s.FlowRunCreate(ctx, wb, store.NewFlowRun{Run: model.FlowRun{FlowID: fx.f1.ID, Name: "x"}})
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.FlowUpdate(ctx, wb, fx.f1.ID, model.FlowUpdate{}), store.ErrNotFound)
	wantErr(t, s.FlowDelete(ctx, wb, fx.f1.ID), store.ErrNotFound)
	wantErr(t, s.FlowRunDelete(ctx, wb, fx.r1.ID), store.ErrNotFound)
	wantErr(t, s.TaskRunDelete(ctx, wb, fx.t1.ID), store.ErrNotFound)
	_, err = s.FlowRunUpdate(ctx, wb, fx.r1.ID, func(*model.FlowRun) error { return nil })
	wantErr(t, err, store.ErrNotFound)
	_, err = s.FlowRunSetState(ctx, wb, fx.r1.ID, func(model.FlowRun) (store.FlowRunChange, error) { return store.FlowRunChange{}, nil })
	wantErr(t, err, store.ErrNotFound)
	_, err = s.TaskRunSetState(ctx, wb, fx.t1.ID, func(model.TaskRun, *model.FlowRun) (store.TaskRunChange, error) { return store.TaskRunChange{}, nil })
	wantErr(t, err, store.ErrNotFound)

	fs, _ := s.FlowList(ctx, wb, model.RunQuery{})
	if len(fs) != 1 {
		t.Errorf("flows seen from B: %v", flowNames(fs))
	}
	for _, q := range []model.RunQuery{{}, {Flows: &model.FlowFilter{Name: &model.NameFilter{Any: []string{"f1"}}}}} {
		rs, _ := s.FlowRunList(ctx, wb, q)
		n, _ := s.FlowRunCount(ctx, wb, q)
		ts, _ := s.TaskRunList(ctx, wb, q)
		tn, _ := s.TaskRunCount(ctx, wb, q)
		if len(rs) != 0 || n != 0 || len(ts) != 0 || tn != 0 {
			t.Errorf("runs seen from B: %v %d %v %d", runNames(rs), n, taskNames(ts), tn)
		}
	}
	sts, _ := s.FlowRunStates(ctx, wb, fx.r1.ID)
	tsts, _ := s.TaskRunStates(ctx, wb, fx.t1.ID)
	if len(sts) != 0 || len(tsts) != 0 {
		t.Error("state history visible from B")
	}

	// A task-run record naming A's task run from B must not touch it.
	st := state(model.StateCrashed, "Crashed", at(100*time.Hour))
	must(t, s.TaskRunRecord(ctx, wb, []store.TaskRunRecord{{Run: model.TaskRun{ID: fx.t1.ID, Name: "hijack", TaskKey: "k", DynamicKey: "0"}, State: *st}}))
	t1, _ := s.TaskRunGet(ctx, ws, fx.t1.ID)
	if t1.Name != "t1-task" || *t1.StateType != model.StateCompleted {
		t.Errorf("record from B changed A's task run: %+v", t1)
	}
	hist, _ := s.TaskRunStates(ctx, ws, fx.t1.ID)
	if len(hist) != 1 {
		t.Errorf("record from B appended to A's history: %d states", len(hist))
	}

	must(t, s.LogCreate(ctx, ws, []model.Log{{Name: "n", Level: 20, Message: "a-only", Timestamp: at(0)}}))
	ls, _ := s.LogList(ctx, wb, model.LogQuery{})
	if len(ls) != 0 {
		t.Errorf("logs seen from B: %d", len(ls))
	}

	ev := model.Event{ID: model.NewID(), Occurred: at(0), Event: "x", Resource: map[string]string{"prefect.resource.id": "r"}}
	fresh, err := s.EventInsert(ctx, ws, []model.Event{ev})
	must(t, err)
	if len(fresh) != 1 {
		t.Fatal("event not fresh in A")
	}
	page, _ := s.EventList(ctx, wb, model.EventFilter{}, 10, 0)
	if page.Total != 0 {
		t.Errorf("events seen from B: %d", page.Total)
	}
	fresh, err = s.EventInsert(ctx, wb, []model.Event{ev})
	must(t, err)
	if len(fresh) != 1 {
		t.Error("the same event id is fresh in another workspace")
	}
	counts, _ := s.EventCountBy(ctx, wb, model.EventFilter{}, "event", 0)
	if len(counts) != 1 || counts[0].Count != 1 {
		t.Errorf("count-by from B = %+v", counts)
	}

	lim, err := s.ConcurrencyLimitCreate(ctx, ws, model.ConcurrencyLimitCreate{Name: "shared-name", Limit: 1})
	must(t, err)
	_, err = s.ConcurrencyLimitGet(ctx, wb, "shared-name")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.ConcurrencyLimitGet(ctx, wb, lim.ID.String())
	wantErr(t, err, store.ErrNotFound)
	_, err = s.ConcurrencyLimitCreate(ctx, wb, model.ConcurrencyLimitCreate{Name: "shared-name", Limit: 1})
	must(t, err)
	la, _, err := s.ConcurrencyAcquire(ctx, ws, []string{"shared-name"}, 1, time.Minute, nil)
	must(t, err)
	lb, _, err := s.ConcurrencyAcquire(ctx, wb, []string{"shared-name"}, 1, time.Minute, nil)
	must(t, err)
	if la == nil || lb == nil {
		t.Fatal("each workspace's limit must grant its own slot")
	}
	must(t, s.ConcurrencyRelease(ctx, wb, la.ID)) // wrong workspace: no effect
	ga, _ := s.ConcurrencyLimitGet(ctx, ws, "shared-name")
	if ga.ActiveSlots != 1 {
		t.Errorf("release from B freed A's slot")
	}
	wantErr(t, s.ConcurrencyRenew(ctx, wb, la.ID, time.Hour), store.ErrNotFound)
	wantErr(t, s.ConcurrencyLimitDelete(ctx, wb, lim.ID.String()), store.ErrNotFound)
	n, err := s.ConcurrencyExpire(ctx, time.Now().Add(time.Hour))
	must(t, err)
	if n != 2 {
		t.Errorf("expire across workspaces released %d, want 2", n)
	}
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := flow(t, s, ws, "f")
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				st := state(model.StatePending, "Pending", at(0))
				r, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: fmt.Sprintf("w%d-%d", w, i), State: st}})
				if err != nil {
					errs <- err
					return
				}
				for k, typ := range []model.StateType{model.StateRunning, model.StateCompleted} {
					next := state(typ, typ.DefaultName(), at(time.Duration(k+1)*time.Second))
					_, err := s.FlowRunSetState(ctx, ws, r.ID, func(cur model.FlowRun) (store.FlowRunChange, error) {
						cur.State = next
						cur.StateID, cur.StateType, cur.StateName = &next.ID, &next.Type, &next.Name
						return store.FlowRunChange{Run: &cur, State: next}, nil
					})
					if err != nil {
						errs <- err
						return
					}
				}
				// A failing operation in the same groups must not disturb the others.
				if _, err := s.FlowRunSetState(ctx, ws, model.NewID(), func(model.FlowRun) (store.FlowRunChange, error) {
					return store.FlowRunChange{}, nil
				}); !errors.Is(err, store.ErrNotFound) {
					errs <- fmt.Errorf("missing run: %v", err)
					return
				}
				if err := s.TaskRunRecord(ctx, ws, []store.TaskRunRecord{{
					Run:   model.TaskRun{ID: model.NewID(), FlowRunID: &r.ID, Name: "t", TaskKey: "t", DynamicKey: "0"},
					State: *state(model.StateCompleted, "Completed", at(time.Second)),
				}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	done := model.RunQuery{FlowRuns: &model.FlowRunFilter{State: &model.StateFilter{Type: &model.StateTypeFilter{Any: []model.StateType{model.StateCompleted}}}}}
	n, err := s.FlowRunCount(ctx, ws, done)
	must(t, err)
	if n != workers*perWorker {
		t.Fatalf("completed runs = %d, want %d", n, workers*perWorker)
	}
	tn, err := s.TaskRunCount(ctx, ws, model.RunQuery{FlowRuns: done.FlowRuns})
	must(t, err)
	if tn != workers*perWorker {
		t.Fatalf("task runs = %d, want %d", tn, workers*perWorker)
	}
	rs, err := s.FlowRunList(ctx, ws, model.RunQuery{Limit: 3})
	must(t, err)
	for _, r := range rs {
		sts, err := s.FlowRunStates(ctx, ws, r.ID)
		must(t, err)
		if len(sts) != 3 {
			t.Fatalf("run %s has %d states", r.Name, len(sts))
		}
	}
}

// testEngineStats: an engine that reports EngineStats (optional) counts the
// commits it made and reports a non-empty database.
func testEngineStats(t *testing.T, s store.Store) {
	sr, ok := s.(store.StatsReporter)
	if !ok {
		t.Skip("this engine reports no EngineStats")
	}
	before := sr.Stats()
	if _, _, err := s.FlowUpsert(context.Background(), ws, model.FlowCreate{Name: "stats"}); err != nil {
		t.Fatal(err)
	}
	after := sr.Stats()
	if after.Commits <= before.Commits || after.CommittedOps <= before.CommittedOps || after.DatabaseBytes <= 0 || after.QueueDepth < 0 {
		t.Fatalf("stats before %+v, after a write %+v", before, after)
	}
}

// testGauges: the operator gauges count runs by state, late runs and slots
// against leases over the rows the store holds.
func testGauges(t *testing.T, s store.Store) {
	gr, ok := s.(store.GaugeReporter)
	if !ok {
		t.Skip("this engine reports no Gauges")
	}
	ctx := context.Background()
	newRunFixture(t, s)
	_, err := s.ConcurrencyLimitCreate(ctx, ws, model.ConcurrencyLimitCreate{Name: "db", Limit: 4})
	must(t, err)
	_, err = s.ConcurrencyLimitCreate(ctx, ws, model.ConcurrencyLimitCreate{Name: "tag:x", Limit: 2})
	must(t, err)
	_, _, err = s.ConcurrencyAcquire(ctx, ws, []string{"db", "tag:x"}, 1, time.Hour, nil)
	must(t, err)
	_, _, err = s.ConcurrencyAcquire(ctx, ws, []string{"db"}, 2, time.Millisecond, nil)
	must(t, err)
	time.Sleep(5 * time.Millisecond)
	now := time.Now()
	// r3 is SCHEDULED for base+2h: late as of base+3h, not as of base+1h.
	g, err := gr.OperatorGauges(ctx, now, base.Add(3*time.Hour))
	must(t, err)
	fr, tr := g.FlowRunsByState, g.TaskRunsByState
	if fr[model.StateRunning] != 1 || fr[model.StateCompleted] != 1 || fr[model.StateScheduled] != 1 || fr[model.StateFailed] != 0 {
		t.Fatalf("flow runs by state: %v", fr)
	}
	if tr[model.StateCompleted] != 1 || tr[model.StateRunning] != 1 || tr[model.StateFailed] != 1 || tr[model.StatePending] != 1 {
		t.Fatalf("task runs by state: %v", tr)
	}
	if g.LateRuns != 1 || !g.OldestDue.Equal(base.Add(2*time.Hour)) {
		t.Fatalf("late: %d oldest %v", g.LateRuns, g.OldestDue)
	}
	if glob, tag := g.Slots["global"], g.Slots["tag"]; glob != (store.SlotGauge{Limits: 1, Slots: 4, Active: 3}) || tag != (store.SlotGauge{Limits: 1, Slots: 2, Active: 1}) {
		t.Fatalf("slots: %+v", g.Slots)
	}
	if g.Leases != 2 || g.LeaseSlots != 3 || g.LeasesExpired != 1 {
		t.Fatalf("leases %d slots %d expired %d", g.Leases, g.LeaseSlots, g.LeasesExpired)
	}
	g, err = gr.OperatorGauges(ctx, now, base.Add(time.Hour))
	must(t, err)
	if g.LateRuns != 0 || !g.OldestDue.IsZero() {
		t.Fatalf("nothing late before base+2h: %d %v", g.LateRuns, g.OldestDue)
	}
}
