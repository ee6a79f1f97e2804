package runs

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

func (fx *fixture) limit(t *testing.T, name string) model.ConcurrencyLimit {
	t.Helper()
	l, err := fx.st.ConcurrencyLimitGet(context.Background(), fx.ws, name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (fx *fixture) flowRun(t *testing.T, dep *model.ID, st model.StateCreate) model.FlowRun {
	t.Helper()
	r, _, err := fx.svc.CreateFlowRun(context.Background(), fx.ws, NewFlowRun{Run: model.FlowRun{FlowID: fx.flow.ID, DeploymentID: dep}, State: st})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (fx *fixture) propose(t *testing.T, id model.ID, typ model.StateType, client string) model.OrchestrationResult {
	t.Helper()
	tr, err := fx.svc.SetFlowRunState(context.Background(), fx.ws, id, Proposal{State: model.StateCreate{Type: typ}, ClientVersion: client})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Result
}

// TestDeploymentConcurrencyThroughSetState is the example: three
// runs of a limit-2 deployment proposed PENDING through set_state; the
// third is rejected into AwaitingConcurrencySlot and the limit counts 2
// slots; a run that finishes gives its slot back and the waiting run gets
// it. An old client's lease is revoked at RUNNING and its slot given back
// at the end all the same; a 3.9.1 client's lease is renewed at RUNNING.
// With CANCEL_NEW the third run is cancelled.
func TestDeploymentConcurrencyThroughSetState(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ctx := context.Background()
	d, _, err := fx.st.DeploymentUpsert(ctx, fx.ws, model.Deployment{Name: "limited", FlowID: fx.flow.ID, ConcurrencyLimit: ptr(2)})
	if err != nil {
		t.Fatal(err)
	}
	name := model.DeploymentLimitName(d.ID)
	scheduled := model.StateCreate{Type: model.StateScheduled, StateDetails: model.StateDetails{ScheduledTime: model.TimePtr(fx.svc.now().Add(-1))}}
	a, b, c := fx.flowRun(t, &d.ID, scheduled), fx.flowRun(t, &d.ID, scheduled), fx.flowRun(t, &d.ID, scheduled)
	for _, r := range []model.FlowRun{a, b} {
		if res := fx.propose(t, r.ID, model.StatePending, "3.9.1"); res.Status != model.StatusAccept || res.State.StateDetails.DeploymentConcurrencyLeaseID == nil {
			t.Fatalf("run to PENDING: %+v", res)
		}
	}
	res := fx.propose(t, c.ID, model.StatePending, "3.9.1")
	if res.Status != model.StatusReject || res.State.Name != "AwaitingConcurrencySlot" || res.State.Type != model.StateScheduled {
		t.Fatalf("third run: %s %s/%s (%s)", res.Status, res.State.Type, res.State.Name, res.Details.Reason)
	}
	if l := fx.limit(t, name); l.ActiveSlots != 2 {
		t.Fatalf("active slots %d, want 2", l.ActiveSlots)
	}
	// a: a 3.9.1 client keeps its lease (renewed); b: an old client has it
	// revoked and holds the slot without one.
	fx.propose(t, a.ID, model.StateRunning, "3.9.1")
	fx.propose(t, b.ID, model.StateRunning, "3.1.15")
	leases, err := fx.st.ConcurrencyLeasesOf(ctx, fx.ws, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(leases) != 1 || fx.limit(t, name).ActiveSlots != 2 {
		t.Fatalf("after RUNNING: leases %v, active %d", leases, fx.limit(t, name).ActiveSlots)
	}
	fx.propose(t, b.ID, model.StateCompleted, "3.1.15")
	if l := fx.limit(t, name); l.ActiveSlots != 1 {
		t.Fatalf("b finished without a lease: active %d, want 1", l.ActiveSlots)
	}
	if res := fx.propose(t, c.ID, model.StatePending, "3.9.1"); res.Status != model.StatusAccept {
		t.Fatalf("c after b finished: %s (%s)", res.Status, res.Details.Reason)
	}
	fx.propose(t, a.ID, model.StateFailed, "3.9.1")
	fx.propose(t, c.ID, model.StateCrashed, "3.9.1")
	if l := fx.limit(t, name); l.ActiveSlots != 0 {
		t.Fatalf("all finished: active %d", l.ActiveSlots)
	}
	if leases, _ := fx.st.ConcurrencyLeasesOf(ctx, fx.ws, d.ID); len(leases) != 0 {
		t.Fatalf("leases left: %v", leases)
	}

	// CANCEL_NEW.
	if _, err := fx.st.DeploymentUpdate(ctx, fx.ws, d.ID, func(dd *model.Deployment) error {
		dd.ConcurrencyLimit = ptr(1)
		dd.ConcurrencyOptions = &model.ConcurrencyOptions{CollisionStrategy: "CANCEL_NEW"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	x, y := fx.flowRun(t, &d.ID, scheduled), fx.flowRun(t, &d.ID, scheduled)
	fx.propose(t, x.ID, model.StatePending, "")
	if res := fx.propose(t, y.ID, model.StatePending, ""); res.Status != model.StatusReject || res.State.Type != model.StateCancelled {
		t.Fatalf("CANCEL_NEW: %s %s", res.Status, res.State.Type)
	}
	// Deleting the run that holds the slot gives it back.
	if err := fx.svc.DeleteFlowRun(ctx, fx.ws, x.ID); err != nil {
		t.Fatal(err)
	}
	if l := fx.limit(t, name); l.ActiveSlots != 0 {
		t.Fatalf("after deleting the holder: active %d", l.ActiveSlots)
	}
}

// staleLimits is a store whose first read of a limit by name answers from
// a stale picture (one slot free where the database has none): the
// decision made from it asks for a slot the store refuses, and the runs
// layer must decide again from a fresh read.
type staleLimits struct {
	store.Store
	reads atomic.Int32
}

func (s *staleLimits) ConcurrencyLimitGet(ctx context.Context, ws model.ID, idOrName string) (model.ConcurrencyLimit, error) {
	l, err := s.Store.ConcurrencyLimitGet(ctx, ws, idOrName)
	if err == nil && s.reads.Add(1) == 1 {
		l.ActiveSlots = 0
	}
	return l, err
}

// TestTagConcurrencyThroughSetState: a task run with a limited tag takes a
// slot when it proposes RUNNING and holds it under a lease it owns; a
// second one WAITs while the limit is full; the first one's every way out
// of RUNNING gives the slot back. A decision made from a stale read of the
// limit is refused by the store and made again (WAIT), never over-granting.
func TestTagConcurrencyThroughSetState(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ctx := context.Background()
	if _, err := fx.st.ConcurrencyLimitCreate(ctx, fx.ws, model.ConcurrencyLimitCreate{Name: "tag:db", Limit: 1}); err != nil {
		t.Fatal(err)
	}
	parent := fx.flowRun(t, nil, model.StateCreate{Type: model.StateRunning})
	task := func(key string) model.TaskRun {
		tr, _, err := fx.svc.CreateTaskRun(ctx, fx.ws, NewTaskRun{Run: model.TaskRun{FlowRunID: &parent.ID, TaskKey: key, DynamicKey: "0", Tags: []string{"db", "other"}}})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	set := func(svc *Service, id model.ID, typ model.StateType) model.OrchestrationResult {
		t.Helper()
		tr, err := svc.SetTaskRunState(ctx, fx.ws, id, Proposal{State: model.StateCreate{Type: typ}})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Result
	}
	for _, end := range []model.StateType{model.StateCompleted, model.StateFailed, model.StateCrashed, model.StateCancelled, model.StatePending} {
		a, b := task("a-"+string(end)), task("b-"+string(end))
		if res := set(fx.svc, a.ID, model.StateRunning); res.Status != model.StatusAccept {
			t.Fatalf("a: %+v", res)
		}
		l := fx.limit(t, "tag:db")
		leases, _ := fx.st.ConcurrencyLeasesOf(ctx, fx.ws, l.ID)
		if l.ActiveSlots != 1 || len(leases) != 1 || leases[0].Holder == nil || leases[0].Holder.ID != a.ID || leases[0].Holder.Type != "task_run" {
			t.Fatalf("a's slot: active %d leases %+v", l.ActiveSlots, leases)
		}
		if res := set(fx.svc, b.ID, model.StateRunning); res.Status != model.StatusWait || res.Details.DelaySeconds == nil {
			t.Fatalf("b while a runs: %+v", res)
		}
		// A stale read of the limit: the store refuses the grant, the
		// decision is made again and b waits.
		stale, err := New(Config{Store: &staleLimits{Store: fx.st}, Publisher: fx.pub})
		if err != nil {
			t.Fatal(err)
		}
		if res := set(stale, b.ID, model.StateRunning); res.Status != model.StatusWait {
			t.Fatalf("b from a stale read: %+v", res)
		}
		if l := fx.limit(t, "tag:db"); l.ActiveSlots != 1 {
			t.Fatalf("over-granted: active %d", l.ActiveSlots)
		}
		set(fx.svc, a.ID, end)
		if l := fx.limit(t, "tag:db"); l.ActiveSlots != 0 {
			t.Fatalf("a left RUNNING for %s: active %d", end, l.ActiveSlots)
		}
		if res := set(fx.svc, b.ID, model.StateRunning); res.Status != model.StatusAccept {
			t.Fatalf("b after a: %+v", res)
		}
		set(fx.svc, b.ID, model.StateCompleted)
	}
}
