package services

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/orchestration"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/store/sqlite"
)

func openStore(t *testing.T) (*sqlite.Store, model.ID) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "baton.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ws, err := st.WorkspaceDefault(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st, ws.ID
}

func ptr[T any](v T) *T { return &v }

// depsOf wires the services to st through a real runs layer publishing on
// the returned bus.
func depsOf(t testing.TB, st store.Store) RunDeps {
	d, _ := depsAndBus(t, st)
	return d
}

func depsAndBus(t testing.TB, st store.Store) (RunDeps, *events.Bus) {
	t.Helper()
	bus := events.NewBus()
	r, err := runs.New(runs.Config{Store: st, Publisher: bus})
	if err != nil {
		t.Fatal(err)
	}
	return RunDeps{Store: st, Runs: r}, bus
}

// deployment creates a flow and a deployment with the given schedules.
func deployment(t *testing.T, st store.Store, ws model.ID, name string, scheds ...model.Schedule) model.Deployment {
	t.Helper()
	ctx := context.Background()
	f, _, err := st.FlowUpsert(ctx, ws, model.FlowCreate{Name: "flow-" + name})
	if err != nil {
		t.Fatal(err)
	}
	d := model.Deployment{Name: name, FlowID: f.ID, Parameters: json.RawMessage(`{"a":1}`)}
	for _, s := range scheds {
		d.Schedules = append(d.Schedules, model.DeploymentSchedule{ID: model.NewID(), Schedule: s, Active: true, Parameters: json.RawMessage(`{"b":2}`)})
	}
	d, _, err = st.DeploymentUpsert(ctx, ws, d)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func runsOf(t *testing.T, st store.Store, ws, dep model.ID) []model.FlowRun {
	t.Helper()
	runs, err := st.FlowRunList(context.Background(), ws, model.RunQuery{FlowRuns: &model.FlowRunFilter{
		DeploymentID: &model.OptionalIDFilter{Any: []model.ID{dep}}}, Sort: "NEXT_SCHEDULED_START_TIME_ASC", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestSchedulerRunsCarryTheirEvents: every run the scheduler creates has
// its prefect.flow-run.Scheduled event, stored with the run and published
// on the bus, exactly as a run created through the API (scheduler-created
// runs used to have none).
func TestSchedulerRunsCarryTheirEvents(t *testing.T) {
	t.Parallel()
	st, ws := openStore(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Hour).Add(time.Hour + 30*time.Second)
	d := deployment(t, st, ws, "hourly", model.Schedule{Interval: ptr(3600.0), AnchorDate: model.TimePtr(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))})
	deps, bus := depsAndBus(t, st)
	sub := bus.Subscribe(ws, model.EventFilter{})
	defer sub.Close()
	n, err := NewScheduler(deps, DefaultSchedulerPolicy).Run(ctx, now)
	if err != nil || n == 0 {
		t.Fatalf("scheduler created %d runs (err %v)", n, err)
	}
	runs := runsOf(t, st, ws, d.ID)
	page, err := st.EventList(ctx, ws, model.EventFilter{}, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]model.Event{}
	for _, e := range page.Events {
		stored[e.ResourceID()] = e
	}
	for _, r := range runs {
		e, ok := stored["prefect.flow-run."+r.ID.String()]
		if !ok {
			t.Fatalf("run %s has no stored event (%d events for %d runs)", r.Name, len(page.Events), len(runs))
		}
		if e.Event != "prefect.flow-run.Scheduled" || e.ID != *r.StateID || e.Resource["prefect.resource.name"] != r.Name {
			t.Fatalf("run %s: event %s id %s resource %v", r.Name, e.Event, e.ID, e.Resource)
		}
		if rel, _ := e.RelatedOfRole("deployment"); rel != "prefect.deployment."+d.ID.String() {
			t.Fatalf("event of %s not related to its deployment: %v", r.Name, e.Related)
		}
	}
	for range runs {
		select {
		case e := <-sub.C():
			if e.Event != "prefect.flow-run.Scheduled" {
				t.Fatalf("published %s", e.Event)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("fewer events published than the %d runs created", len(runs))
		}
	}
}

func TestSchedulerCreatesRunsAheadIdempotently(t *testing.T) {
	t.Parallel()
	st, ws := openStore(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Hour).Add(time.Hour + 30*time.Second)
	hourly := model.Schedule{Interval: ptr(3600.0), AnchorDate: model.TimePtr(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))}
	minutely := model.Schedule{Cron: ptr("* * * * *")}
	d1 := deployment(t, st, ws, "hourly", hourly)
	d2 := deployment(t, st, ws, "minutely", minutely)

	// Two scheduler loops race over the same deployments.
	var wg sync.WaitGroup
	for range 2 {
		s := NewScheduler(depsOf(t, st), DefaultSchedulerPolicy)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if err := s.Tick(ctx, now); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()

	h := runsOf(t, st, ws, d1.ID)
	if len(h) != 3 { // at least 3 runs, 1 hour is already covered by them
		t.Fatalf("hourly: %d runs, want 3", len(h))
	}
	if got := h[0].NextScheduledStartTime.Time; !got.Equal(now.Truncate(time.Hour).Add(time.Hour)) {
		t.Fatalf("first hourly run at %v", got)
	}
	var params map[string]any
	_ = json.Unmarshal(h[0].Parameters, &params)
	if params["a"] != float64(1) || params["b"] != float64(2) || !h[0].AutoScheduled || h[0].Tags[0] != "auto-scheduled" {
		t.Fatalf("run fields: %+v params %v", h[0], params)
	}
	if h[0].State == nil || h[0].State.Type != model.StateScheduled || h[0].State.Name != "Scheduled" {
		t.Fatalf("state: %+v", h[0].State)
	}
	m := runsOf(t, st, ws, d2.ID)
	if len(m) != 100 { // two hours ahead, capped at 100 runs
		t.Fatalf("minutely: %d runs, want 100", len(m))
	}
	seen := map[string]bool{}
	for _, r := range m {
		if seen[*r.IdempotencyKey] {
			t.Fatalf("duplicate run %s", *r.IdempotencyKey)
		}
		seen[*r.IdempotencyKey] = true
	}

	// Nothing is due while more than an hour of runs is left; then only
	// the missing runs are added.
	s := NewScheduler(depsOf(t, st), DefaultSchedulerPolicy)
	if n, err := s.Run(ctx, now.Add(30*time.Minute)); err != nil || n != 0 {
		t.Fatalf("round at +30m created %d runs (err %v), want 0", n, err)
	}
	n, err := s.Run(ctx, now.Add(45*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n != 45 {
		t.Fatalf("round at +45m created %d runs, want 45", n)
	}

	// Replacing the deployment drops its future auto-scheduled runs.
	d2.Schedules = []model.DeploymentSchedule{{ID: model.NewID(), Schedule: model.Schedule{Cron: ptr("0 0 * * *")}, Active: true}}
	if _, _, err := st.DeploymentUpsert(ctx, ws, d2); err != nil {
		t.Fatal(err)
	}
	if got := runsOf(t, st, ws, d2.ID); len(got) != 0 {
		t.Fatalf("%d stale runs survived the upsert", len(got))
	}
	// A paused deployment gets nothing.
	if _, err := st.DeploymentUpdate(ctx, ws, d2.ID, func(d *model.Deployment) error { d.Paused = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Run(ctx, time.Now()); n != 0 {
		t.Fatalf("paused deployment scheduled %d runs", n)
	}
}

func TestMarkLateRuns(t *testing.T) {
	t.Parallel()
	st, ws := openStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	d := deployment(t, st, ws, "late", model.Schedule{Interval: ptr(60.0), AnchorDate: model.TimePtr(now.Add(-time.Hour))})
	if _, err := NewScheduler(depsOf(t, st), DefaultSchedulerPolicy).Run(ctx, now); err != nil {
		t.Fatal(err)
	}
	first := runsOf(t, st, ws, d.ID)[0]
	due := first.NextScheduledStartTime.Time
	if n, err := MarkLateRuns(ctx, depsOf(t, st), due.Add(10*time.Second)); err != nil || n != 0 {
		t.Fatalf("marked %d runs 10s after their time (err %v)", n, err)
	}
	n, err := MarkLateRuns(ctx, depsOf(t, st), due.Add(16*time.Second))
	if err != nil || n != 1 {
		t.Fatalf("marked %d runs, want 1 (err %v)", n, err)
	}
	got, _ := st.FlowRunGet(ctx, ws, first.ID)
	if got.State.Type != model.StateScheduled || got.State.Name != "Late" {
		t.Fatalf("state %s/%s", got.State.Type, got.State.Name)
	}
	if n, _ := MarkLateRuns(ctx, depsOf(t, st), due.Add(30*time.Second)); n != 0 {
		t.Fatalf("marked a Late run again")
	}

	// A CANCEL_NEW deployment at its limit cancels its late runs instead.
	if _, err := st.DeploymentUpdate(ctx, ws, d.ID, func(dd *model.Deployment) error {
		dd.ConcurrencyLimit = ptr(1)
		dd.ConcurrencyOptions = &model.ConcurrencyOptions{CollisionStrategy: "CANCEL_NEW"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The first run takes the deployment's one slot (orchestration does, at
	// PENDING).
	deps := depsOf(t, st)
	if tr, err := deps.Runs.SetFlowRunState(ctx, ws, first.ID, runs.Proposal{State: model.StateCreate{Type: model.StatePending}, Now: now}); err != nil ||
		tr.Result.Status != model.StatusAccept {
		t.Fatalf("first run to PENDING: %+v %v", tr.Result, err)
	}
	second := runsOf(t, st, ws, d.ID)[1]
	if second.ID == first.ID || second.State.Name != "Scheduled" {
		t.Fatalf("second run: %s %s", second.Name, second.State.Name)
	}
	if _, err := MarkLateRuns(ctx, depsOf(t, st), second.NextScheduledStartTime.Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.FlowRunGet(ctx, ws, second.ID); got.State.Type != model.StateCancelled {
		t.Fatalf("CANCEL_NEW run at the limit is %s/%s", got.State.Type, got.State.Name)
	}
}

// setState forces a state on a run.
func setState(t *testing.T, st store.Store, ws, id model.ID, typ model.StateType, at time.Time) {
	t.Helper()
	_, err := st.FlowRunSetState(context.Background(), ws, id, func(run model.FlowRun) (store.FlowRunChange, error) {
		out := orchestration.ProposeFlowRunState(orchestration.FlowRunInput{Run: run, Proposed: model.StateCreate{Type: typ}, Force: true, Now: at})
		return store.FlowRunChange{Run: out.Run, State: out.State}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCrashDetection(t *testing.T) {
	t.Parallel()
	st, ws := openStore(t)
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Second)
	pool, err := st.WorkPoolCreate(ctx, ws, model.WorkPool{Name: "P", Type: "process"})
	if err != nil {
		t.Fatal(err)
	}
	f, _, _ := st.FlowUpsert(ctx, ws, model.FlowCreate{Name: "f"})
	mk := func(labels model.Labels) model.ID {
		r, _, err := st.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "r", Labels: labels, Parameters: json.RawMessage("{}")}})
		if err != nil {
			t.Fatal(err)
		}
		setState(t, st, ws, r.ID, model.StatePending, t0)
		setState(t, st, ws, r.ID, model.StateRunning, t0)
		return r.ID
	}
	workerLabels := model.Labels{"prefect.worker.name": "w1", "prefect.work-pool.id": pool.ID.String()}
	byWorker := mk(workerLabels)
	byHeartbeat := mk(nil)
	unwatched := mk(nil)
	goneWorker := mk(model.Labels{"prefect.worker.name": "ghost", "prefect.work-pool.id": pool.ID.String()})
	if _, err := st.WorkerHeartbeat(ctx, ws, "P", "w1", ptr(30), t0.Add(60*time.Second)); err != nil {
		t.Fatal(err)
	}
	// Two heartbeats 10 s apart: the run's cadence is known to be 10 s.
	for _, sec := range []time.Duration{60, 70} {
		hb := model.Event{ID: model.NewID(), Occurred: model.NewTime(t0.Add(sec * time.Second)), Event: "prefect.flow-run.heartbeat",
			Resource: map[string]string{"prefect.resource.id": "prefect.flow-run." + byHeartbeat.String()}}
		if _, err := st.EventInsert(ctx, ws, []model.Event{hb}); err != nil {
			t.Fatal(err)
		}
	}
	det := NewCrashDetector(depsOf(t, st), 90*time.Second)
	state := func(id model.ID) model.StateType {
		r, _ := st.FlowRunGet(ctx, ws, id)
		return r.State.Type
	}
	// 120 s in: the ghost-worker run is crashed; the worker (last seen at
	// 60 s) and the heartbeat (70 s) are still within the window.
	if n, err := det.Run(ctx, t0.Add(120*time.Second)); err != nil || n != 1 {
		t.Fatalf("round 1 ended %d runs (err %v)", n, err)
	}
	if state(goneWorker) != model.StateCrashed || state(byWorker) != model.StateRunning || state(byHeartbeat) != model.StateRunning {
		t.Fatalf("round 1: %s %s %s", state(goneWorker), state(byWorker), state(byHeartbeat))
	}
	if n, _ := det.Run(ctx, t0.Add(155*time.Second)); n != 1 || state(byWorker) != model.StateCrashed {
		t.Fatalf("round 2: worker run is %s", state(byWorker))
	}
	if n, _ := det.Run(ctx, t0.Add(165*time.Second)); n != 1 || state(byHeartbeat) != model.StateCrashed {
		t.Fatalf("round 3: heartbeat run is %s", state(byHeartbeat))
	}
	if n, _ := det.Run(ctx, t0.Add(time.Hour)); n != 0 || state(unwatched) != model.StateRunning {
		t.Fatalf("a run without any liveness source was touched: %s", state(unwatched))
	}
}

func TestJudgeRun(t *testing.T) {
	t.Parallel()
	now := time.Now()
	ago := func(d time.Duration) *time.Time { v := now.Add(-d); return &v }
	worker := func(last time.Duration, interval int) *model.Worker {
		return &model.Worker{Name: "w", LastHeartbeatTime: model.TimePtr(now.Add(-last)), HeartbeatIntervalSeconds: &interval}
	}
	tests := []struct {
		name  string
		sr    store.SweptRun
		crash bool
	}{
		{"no liveness source", store.SweptRun{}, false},
		{"one engine heartbeat, no worker: Prefect's default cadence is assumed", store.SweptRun{LastRunHeartbeat: ago(350 * time.Second)}, false},
		{"one engine heartbeat, no worker: two default cadences passed", store.SweptRun{LastRunHeartbeat: ago(361 * time.Second)}, true},
		{"measured 10 s cadence, silent past the silence", store.SweptRun{LastRunHeartbeat: ago(86 * time.Second), PrevRunHeartbeat: ago(96 * time.Second)}, true},
		{"measured 10 s cadence, within the silence", store.SweptRun{LastRunHeartbeat: ago(80 * time.Second), PrevRunHeartbeat: ago(90 * time.Second)}, false},
		{"measured 60 s cadence is given two intervals", store.SweptRun{LastRunHeartbeat: ago(110 * time.Second), PrevRunHeartbeat: ago(170 * time.Second)}, false},
		{"worker silent past the silence", store.SweptRun{Worker: worker(86*time.Second, 30)}, true},
		{"worker within the silence", store.SweptRun{Worker: worker(80*time.Second, 30)}, false},
		{"worker with a slow heartbeat is given two intervals", store.SweptRun{Worker: worker(110*time.Second, 60)}, false},
		{"worker with a slow heartbeat, silent past two intervals", store.SweptRun{Worker: worker(121*time.Second, 60)}, true},
		{"dead worker but the orphaned engine still beats", store.SweptRun{Worker: worker(time.Hour, 30), LastRunHeartbeat: ago(time.Minute)}, false},
		{"dead worker after one engine heartbeat: the worker decides", store.SweptRun{Worker: worker(86*time.Second, 10), LastRunHeartbeat: ago(87 * time.Second)}, true},
		{"live worker, engine heartbeats stopped", store.SweptRun{Worker: worker(time.Second, 30), LastRunHeartbeat: ago(time.Hour), PrevRunHeartbeat: ago(time.Hour + 30*time.Second)}, false},
		{"both stale", store.SweptRun{Worker: worker(time.Hour, 30), LastRunHeartbeat: ago(time.Hour), PrevRunHeartbeat: ago(time.Hour + 30*time.Second)}, true},
		{"worker gone", store.SweptRun{WorkerGone: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sr := tt.sr
			sr.Run.State = &model.State{Type: model.StateRunning, Timestamp: model.NewTime(now.Add(-2 * time.Hour))}
			if v := JudgeRun(sr, now, 85*time.Second); v.Crash != tt.crash {
				t.Fatalf("crash = %v (%s), want %v", v.Crash, v.Message, tt.crash)
			}
			sr.Run.State.Timestamp = model.NewTime(now.Add(-time.Minute))
			if v := JudgeRun(sr, now, 85*time.Second); v.Crash {
				t.Fatal("a run that changed state within the silence was judged dead")
			}
		})
	}
}

func TestCancellationBackstop(t *testing.T) {
	t.Parallel()
	st, ws := openStore(t)
	ctx := context.Background()
	t0 := time.Now().UTC()
	f, _, _ := st.FlowUpsert(ctx, ws, model.FlowCreate{Name: "c"})
	parent, _, _ := st.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "p", Parameters: json.RawMessage("{}")}})
	setState(t, st, ws, parent.ID, model.StatePending, t0)
	setState(t, st, ws, parent.ID, model.StateRunning, t0)
	task, _, err := st.TaskRunCreate(ctx, ws, model.TaskRun{FlowRunID: &parent.ID, TaskKey: "t", DynamicKey: "0", Name: "t",
		State: &model.State{ID: model.NewID(), Type: model.StateRunning, Name: "Running", Timestamp: model.NewTime(t0)}})
	if err != nil {
		t.Fatal(err)
	}
	setState(t, st, ws, parent.ID, model.StateCancelling, t0)
	c := NewCancellation(depsOf(t, st), 300*time.Second)
	if err := c.Tick(ctx, t0.Add(100*time.Second)); err != nil {
		t.Fatal(err)
	}
	if r, _ := st.FlowRunGet(ctx, ws, parent.ID); r.State.Type != model.StateCancelling {
		t.Fatalf("cancelled too early: %s", r.State.Type)
	}
	if err := c.Tick(ctx, t0.Add(301*time.Second)); err != nil {
		t.Fatal(err)
	}
	if r, _ := st.FlowRunGet(ctx, ws, parent.ID); r.State.Type != model.StateCancelled {
		t.Fatalf("backstop did not cancel: %s", r.State.Type)
	}
	if err := c.Tick(ctx, t0.Add(302*time.Second)); err != nil {
		t.Fatal(err)
	}
	if tr, _ := st.TaskRunGet(ctx, ws, task.ID); tr.State == nil || tr.State.Type != model.StateCancelled {
		t.Fatalf("child task run not cancelled: %+v", tr.State)
	}
}

func TestForeman(t *testing.T) {
	t.Parallel()
	st, ws := openStore(t)
	ctx := context.Background()
	t0 := time.Now().UTC()
	if _, err := st.WorkPoolCreate(ctx, ws, model.WorkPool{Name: "F", Type: "process"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.WorkerHeartbeat(ctx, ws, "F", "w", ptr(10), t0); err != nil {
		t.Fatal(err)
	}
	deps := depsOf(t, st)
	rec := &eventRecorder{}
	deps.Events = rec
	fm := NewForeman(deps, time.Second, time.Minute)
	if err := fm.Tick(ctx, t0.Add(25*time.Second)); err != nil {
		t.Fatal(err)
	}
	if p, _ := st.WorkPoolGet(ctx, ws, "F"); p.Status != model.PoolReady {
		t.Fatalf("pool %s before expiry", p.Status)
	}
	if err := fm.Tick(ctx, t0.Add(31*time.Second)); err != nil {
		t.Fatal(err)
	}
	ws2, _ := st.WorkerList(ctx, ws, "F", model.WorkerQuery{})
	p, _ := st.WorkPoolGet(ctx, ws, "F")
	if p.Status != model.PoolNotReady || ws2[0].Status != model.WorkerOffline {
		t.Fatalf("after expiry: pool %s worker %s", p.Status, ws2[0].Status)
	}
	// The change is an event automations can trigger on.
	var got *model.Event
	for i, e := range rec.evs {
		if e.Event == "prefect.work-pool.not-ready" {
			got = &rec.evs[i]
		}
	}
	if got == nil || got.Resource["prefect.resource.id"] != "prefect.work-pool."+p.ID.String() || got.Resource["prefect.work-pool.type"] != "process" {
		t.Fatalf("not-ready event %+v (all: %+v)", got, rec.evs)
	}
}

// eventRecorder keeps the events a service records.
type eventRecorder struct{ evs []model.Event }

func (r *eventRecorder) Accept(_ context.Context, _ model.ID, evs []model.Event) error {
	r.evs = append(r.evs, evs...)
	return nil
}
