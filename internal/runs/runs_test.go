package runs

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/store/sqlite"
)

// recorder is a Publisher that keeps what it was given.
type recorder struct {
	mu  sync.Mutex
	evs []model.Event
}

func (r *recorder) Publish(_ model.ID, evs []model.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, evs...)
}

func (r *recorder) take() []model.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.evs
	r.evs = nil
	return out
}

type fixture struct {
	st   *sqlite.Store
	ws   model.ID
	svc  *Service
	pub  *recorder
	flow model.Flow
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "baton.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	pub := &recorder{}
	svc, err := New(Config{Store: st, Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := st.FlowUpsert(ctx, store.DefaultWorkspaceID, model.FlowCreate{Name: "etl"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, ws: store.DefaultWorkspaceID, svc: svc, pub: pub, flow: f}
}

// storedEvents returns the stored events about resource id.
func (fx *fixture) storedEvents(t *testing.T, resourceID string) []model.Event {
	t.Helper()
	page, err := fx.st.EventList(context.Background(), fx.ws, model.EventFilter{}, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []model.Event
	for _, e := range page.Events {
		if e.ResourceID() == resourceID {
			out = append(out, e)
		}
	}
	return out
}

func TestCreateFlowRunWritesAndPublishesItsEvent(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ctx := context.Background()
	key := "once"
	run, created, err := fx.svc.CreateFlowRun(ctx, fx.ws, NewFlowRun{Run: model.FlowRun{FlowID: fx.flow.ID, IdempotencyKey: &key}})
	if err != nil || !created {
		t.Fatalf("create: created=%v err=%v", created, err)
	}
	if run.Name == "" || run.State == nil || run.State.Type != model.StatePending || string(run.Parameters) != "{}" || run.Tags == nil {
		t.Fatalf("run = %+v", run)
	}
	stored := fx.storedEvents(t, "prefect.flow-run."+run.ID.String())
	published := fx.pub.take()
	if len(stored) != 1 || len(published) != 1 || stored[0].ID != *run.StateID || published[0].ID != stored[0].ID {
		t.Fatalf("stored %v, published %v", stored, published)
	}
	if rel, _ := stored[0].RelatedOfRole("flow"); rel != "prefect.flow."+fx.flow.ID.String() {
		t.Fatalf("event not related to its flow: %v", stored[0].Related)
	}
	// The same idempotency key: the existing run, and no second event.
	again, created, err := fx.svc.CreateFlowRun(ctx, fx.ws, NewFlowRun{Run: model.FlowRun{FlowID: fx.flow.ID, IdempotencyKey: &key}})
	if err != nil || created || again.ID != run.ID {
		t.Fatalf("again: %v created=%v err=%v", again.ID, created, err)
	}
	if n := len(fx.storedEvents(t, "prefect.flow-run."+run.ID.String())); n != 1 || len(fx.pub.take()) != 0 {
		t.Fatalf("a repeated create wrote or published events (%d stored)", n)
	}
	// A missing flow names the field.
	missing := model.NewID()
	_, _, err = fx.svc.CreateFlowRun(ctx, fx.ws, NewFlowRun{Run: model.FlowRun{FlowID: missing}})
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Field != "flow_id" || nf.ID != missing || !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing flow: %v", err)
	}
}

func TestSetFlowRunStateLabelsEventsAndHonoursIfStateID(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ctx := context.Background()
	run, _, err := fx.svc.CreateFlowRun(ctx, fx.ws, NewFlowRun{Run: model.FlowRun{FlowID: fx.flow.ID}})
	if err != nil {
		t.Fatal(err)
	}
	fx.pub.take()
	// A fresh Service knows nothing about the run: it gathers the names
	// before the write.
	cold, err := New(Config{Store: fx.st, Publisher: fx.pub})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cold.SetFlowRunState(ctx, fx.ws, run.ID, Proposal{State: model.StateCreate{Type: model.StateRunning}})
	if err != nil || !tr.Written || tr.Result.Status != model.StatusAccept {
		t.Fatalf("running: %+v %v", tr, err)
	}
	evs := fx.pub.take()
	if len(evs) != 1 || evs[0].Event != "prefect.flow-run.Running" {
		t.Fatalf("published %v", evs)
	}
	if flow := evs[0].Related[0]; flow["prefect.resource.name"] != "etl" {
		t.Fatalf("event's flow is not named: %v", flow)
	}
	// A sweep that saw the old state leaves the run alone.
	stale := *run.StateID
	tr, err = fx.svc.SetFlowRunState(ctx, fx.ws, run.ID, Proposal{State: model.StateCreate{Type: model.StateCrashed}, Force: true, IfStateID: &stale})
	if err != nil || tr.Written {
		t.Fatalf("stale sweep wrote: %+v %v", tr, err)
	}
	// It is told so: ABORT, with the state the run is in now.
	if tr.Result.Status != model.StatusAbort || tr.Result.State == nil || tr.Result.State.Type != model.StateRunning ||
		!strings.Contains(tr.Result.Details.Reason, "if_state_id") {
		t.Fatalf("stale proposal's answer: %+v", tr.Result)
	}
	got, _ := fx.st.FlowRunGet(ctx, fx.ws, run.ID)
	if *got.StateType != model.StateRunning || len(fx.pub.take()) != 0 {
		t.Fatalf("state after a stale sweep: %v", *got.StateType)
	}
	// A missing run is a NotFoundError.
	_, err = fx.svc.SetFlowRunState(ctx, fx.ws, model.NewID(), Proposal{State: model.StateCreate{Type: model.StateRunning}})
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.What != "flow run" {
		t.Fatalf("missing run: %v", err)
	}
}

// TestSetTaskRunStateSeesItsFlowRun: the task policy decides with the flow
// run the store read in the same transaction.
func TestSetTaskRunStateSeesItsFlowRun(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ctx := context.Background()
	run, _, err := fx.svc.CreateFlowRun(ctx, fx.ws, NewFlowRun{Run: model.FlowRun{FlowID: fx.flow.ID}})
	if err != nil {
		t.Fatal(err)
	}
	task, created, err := fx.svc.CreateTaskRun(ctx, fx.ws, NewTaskRun{Run: model.TaskRun{FlowRunID: &run.ID, TaskKey: "say", DynamicKey: "0"}})
	if err != nil || !created || task.Name != "say-0" {
		t.Fatalf("task: %+v %v", task, err)
	}
	// The flow run is PENDING: a task may not start.
	tr, err := fx.svc.SetTaskRunState(ctx, fx.ws, task.ID, Proposal{State: model.StateCreate{Type: model.StateRunning}})
	if err != nil || tr.Written || tr.Result.Status != model.StatusAbort {
		t.Fatalf("task of a pending flow run: %+v %v", tr, err)
	}
	if _, err := fx.svc.SetFlowRunState(ctx, fx.ws, run.ID, Proposal{State: model.StateCreate{Type: model.StateRunning}}); err != nil {
		t.Fatal(err)
	}
	tr, err = fx.svc.SetTaskRunState(ctx, fx.ws, task.ID, Proposal{State: model.StateCreate{Type: model.StateRunning}})
	if err != nil || !tr.Written || tr.Result.Status != model.StatusAccept {
		t.Fatalf("task of a running flow run: %+v %v", tr, err)
	}
	_, _, err = fx.svc.CreateTaskRun(ctx, fx.ws, NewTaskRun{Run: model.TaskRun{FlowRunID: ptr(model.NewID()), TaskKey: "x", DynamicKey: "0"}})
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Field != "flow_run_id" {
		t.Fatalf("task of a missing flow run: %v", err)
	}
}

func TestScheduleDeploymentRunsNamesAndPublishes(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ctx := context.Background()
	d, _, err := fx.st.DeploymentUpsert(ctx, fx.ws, model.Deployment{Name: "nightly", FlowID: fx.flow.ID,
		Schedules: []model.DeploymentSchedule{{ID: model.NewID(), Active: true, Schedule: model.Schedule{Cron: ptr("0 0 * * *")}}}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	due, err := fx.st.DeploymentsDue(ctx, now, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due: %v %v", due, err)
	}
	key := "k1"
	n, err := fx.svc.ScheduleDeploymentRuns(ctx, due[0], []PlannedRun{{Run: model.FlowRun{FlowID: fx.flow.ID, DeploymentID: &d.ID, IdempotencyKey: &key},
		At: now.Add(time.Hour)}}, now.Add(time.Hour), now)
	if err != nil || n != 1 {
		t.Fatalf("scheduled %d (%v)", n, err)
	}
	evs := fx.pub.take()
	if len(evs) != 1 || evs[0].Event != "prefect.flow-run.Scheduled" {
		t.Fatalf("published %v", evs)
	}
	if dep := evs[0].Related[1]; dep["prefect.resource.name"] != "nightly" || dep["prefect.resource.role"] != "deployment" {
		t.Fatalf("deployment not named: %v", evs[0].Related)
	}
	if evs[0].Resource["prefect.resource.name"] == "" {
		t.Fatalf("scheduled run has no name: %v", evs[0].Resource)
	}
}

func ptr[T any](v T) *T { return &v }
