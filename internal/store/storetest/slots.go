package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// testRunSlotChanges: the slot change a flow- or task-run state change
// carries is applied in the state's transaction: leases released (with the
// fallback decrement when the lease is gone), a holder's leases released,
// a lease revoked with its slot kept, a lease renewed, slots granted under
// a new lease; a grant that no longer fits (full or inactive limit) or a
// renewal of a lease that is gone is ErrSlotsBusy and nothing of the change
// is written. ConcurrencyExpire also frees leases of task runs whose flow
// run ended.
func testRunSlotChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	lim, err := s.ConcurrencyLimitCreate(ctx, ws, model.ConcurrencyLimitCreate{Name: "slots", Limit: 2})
	must(t, err)
	other, err := s.ConcurrencyLimitCreate(ctx, ws, model.ConcurrencyLimitCreate{Name: "other", Limit: 5})
	must(t, err)
	f := flow(t, s, ws, "slotted")
	r, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "r", State: state(model.StateScheduled, "Scheduled", at(0)),
		Parameters: json.RawMessage("{}")}})
	must(t, err)
	active := func(id model.ID) int {
		t.Helper()
		l, err := s.ConcurrencyLimitGet(ctx, ws, id.String())
		must(t, err)
		return l.ActiveSlots
	}
	leases := func(id model.ID) []model.ConcurrencyLease {
		t.Helper()
		ls, err := s.ConcurrencyLeasesOf(ctx, ws, id)
		must(t, err)
		return ls
	}
	step := time.Duration(0)
	set := func(typ model.StateType, c model.SlotChange) error {
		t.Helper()
		step += time.Minute
		_, err := s.FlowRunSetState(ctx, ws, r.ID, func(cur model.FlowRun) (store.FlowRunChange, error) {
			st := state(typ, typ.DefaultName(), at(step))
			cur.State = st
			cur.StateID, cur.StateType, cur.StateName = &st.ID, &st.Type, &st.Name
			return store.FlowRunChange{Run: &cur, State: st, Slots: c}, nil
		})
		return err
	}
	history := func() int {
		t.Helper()
		sts, err := s.FlowRunStates(ctx, ws, r.ID)
		must(t, err)
		return len(sts)
	}

	// Grant: one slot on each limit under a lease with the given id.
	leaseID := model.NewID()
	must(t, set(model.StatePending, model.SlotChange{Acquire: &model.LeaseGrant{LeaseID: leaseID, LimitIDs: []model.ID{lim.ID, other.ID}, TTL: time.Hour}}))
	if active(lim.ID) != 1 || active(other.ID) != 1 || len(leases(lim.ID)) != 1 || leases(lim.ID)[0].ID != leaseID {
		t.Fatalf("grant: active %d/%d leases %v", active(lim.ID), active(other.ID), leases(lim.ID))
	}
	// Renewal of a live lease.
	must(t, set(model.StateRunning, model.SlotChange{Renew: &model.LeaseRenewal{LeaseID: leaseID, TTL: 3 * time.Hour}}))
	if exp := leases(lim.ID)[0].Expiration; exp.Before(time.Now().Add(2 * time.Hour)) {
		t.Fatalf("renewed lease expires %v", exp)
	}
	// A grant that does not fit writes nothing, not even the state.
	_, err = s.ConcurrencyIncrement(ctx, ws, []string{"slots"}, 1) // the limit is now full (2/2)
	must(t, err)
	second := model.NewID()
	err = set(model.StateCompleted, model.SlotChange{Release: []model.LeaseRelease{{LeaseID: &leaseID}},
		Acquire: &model.LeaseGrant{LeaseID: second, LimitIDs: []model.ID{other.ID, lim.ID}}})
	// (the release comes first, so this grant fits again)
	must(t, err)
	if active(lim.ID) != 2 || active(other.ID) != 1 {
		t.Fatalf("release then grant: active %d/%d", active(lim.ID), active(other.ID))
	}
	n := history()
	err = set(model.StateRunning, model.SlotChange{Acquire: &model.LeaseGrant{LeaseID: model.NewID(), LimitIDs: []model.ID{other.ID, lim.ID}}})
	wantErr(t, err, store.ErrSlotsBusy)
	if history() != n || active(other.ID) != 1 || active(lim.ID) != 2 {
		t.Fatalf("a refused grant wrote something: history %d→%d, active %d/%d", n, history(), active(other.ID), active(lim.ID))
	}
	// Renewing a lease that is gone is refused the same way.
	gone := model.NewID()
	wantErr(t, set(model.StateRunning, model.SlotChange{Renew: &model.LeaseRenewal{LeaseID: gone, TTL: time.Hour}}), store.ErrSlotsBusy)
	if history() != n {
		t.Fatal("a refused renewal wrote the state")
	}
	// An inactive limit grants nothing.
	must(t, s.ConcurrencyLimitUpdate(ctx, ws, "other", model.ConcurrencyLimitUpdate{Active: ptr(false)}))
	wantErr(t, set(model.StateRunning, model.SlotChange{Acquire: &model.LeaseGrant{LeaseID: model.NewID(), LimitIDs: []model.ID{other.ID}}}), store.ErrSlotsBusy)
	must(t, s.ConcurrencyLimitUpdate(ctx, ws, "other", model.ConcurrencyLimitUpdate{Active: ptr(true)}))

	// A live lease is released without touching the fallback.
	must(t, set(model.StateCompleted, model.SlotChange{Release: []model.LeaseRelease{{LeaseID: &second, Fallback: []model.ID{other.ID}}}}))
	if active(lim.ID) != 1 || active(other.ID) != 0 {
		t.Fatalf("release: active %d/%d", active(lim.ID), active(other.ID))
	}
	// Release of a lease that is gone falls back to one slot of each
	// fallback limit; a release without a lease just decrements them.
	must(t, set(model.StateCompleted, model.SlotChange{Release: []model.LeaseRelease{{LeaseID: &gone, Fallback: []model.ID{lim.ID}}}}))
	if active(lim.ID) != 0 {
		t.Fatalf("fallback release: active %d, want 0", active(lim.ID))
	}
	_, err = s.ConcurrencyIncrement(ctx, ws, []string{"slots"}, 1)
	must(t, err)
	must(t, set(model.StateCompleted, model.SlotChange{Release: []model.LeaseRelease{{Fallback: []model.ID{lim.ID}}}}))
	if active(lim.ID) != 0 {
		t.Fatalf("lease-less release: active %d, want 0", active(lim.ID))
	}
	must(t, set(model.StateCompleted, model.SlotChange{Release: []model.LeaseRelease{{Fallback: []model.ID{lim.ID}}}}))
	if active(lim.ID) != 0 {
		t.Fatalf("a release below zero: active %d", active(lim.ID))
	}
	// Revoke: the lease is gone, its slot stays taken.
	kept := model.NewID()
	must(t, set(model.StatePending, model.SlotChange{Acquire: &model.LeaseGrant{LeaseID: kept, LimitIDs: []model.ID{lim.ID}}}))
	must(t, set(model.StateRunning, model.SlotChange{Revoke: &kept}))
	if active(lim.ID) != 1 || slices.ContainsFunc(leases(lim.ID), func(l model.ConcurrencyLease) bool { return l.ID == kept }) {
		t.Fatalf("revoke: active %d leases %v", active(lim.ID), leases(lim.ID))
	}
	// ...until the run gives it back through the fallback.
	must(t, set(model.StateCompleted, model.SlotChange{Release: []model.LeaseRelease{{LeaseID: &kept, Fallback: []model.ID{lim.ID}}}}))
	if active(lim.ID) != 0 {
		t.Fatalf("revoked slot not given back: active %d", active(lim.ID))
	}

	// Task runs: slots held by a task run, released by holder.
	fr, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "parent", State: state(model.StateRunning, "Running", at(0)),
		Parameters: json.RawMessage("{}")}})
	must(t, err)
	task := func(key string) model.TaskRun {
		tr, _, err := s.TaskRunCreate(ctx, ws, model.TaskRun{ID: model.NewID(), FlowRunID: &fr.ID, TaskKey: key, DynamicKey: "0", Name: key,
			Tags: []string{"db"}, State: state(model.StatePending, "Pending", at(0))})
		must(t, err)
		return tr
	}
	setTask := func(tr model.TaskRun, typ model.StateType, c model.SlotChange) error {
		step += time.Minute
		_, err := s.TaskRunSetState(ctx, ws, tr.ID, func(cur model.TaskRun, _ *model.FlowRun) (store.TaskRunChange, error) {
			st := state(typ, typ.DefaultName(), at(step))
			cur.State = st
			cur.StateID, cur.StateType, cur.StateName = &st.ID, &st.Type, &st.Name
			return store.TaskRunChange{Run: &cur, State: st, Slots: c}, nil
		})
		return err
	}
	a, b := task("a"), task("b")
	grant := func(tr model.TaskRun) model.SlotChange {
		return model.SlotChange{Acquire: &model.LeaseGrant{LeaseID: model.NewID(), LimitIDs: []model.ID{lim.ID}, TTL: 100 * 365 * 24 * time.Hour,
			Holder: &model.LeaseHolder{Type: "task_run", ID: tr.ID}}}
	}
	must(t, setTask(a, model.StateRunning, grant(a)))
	must(t, setTask(b, model.StateRunning, grant(b)))
	wantErr(t, setTask(task("c"), model.StateRunning, grant(b)), store.ErrSlotsBusy)
	if active(lim.ID) != 2 {
		t.Fatalf("task grants: active %d", active(lim.ID))
	}
	must(t, setTask(a, model.StateCompleted, model.SlotChange{ReleaseHeld: &model.HeldRelease{Holder: model.LeaseHolder{Type: "task_run", ID: a.ID},
		LimitIDs: []model.ID{lim.ID, other.ID}}}))
	ls := leases(lim.ID)
	if active(lim.ID) != 1 || len(ls) != 1 || ls[0].Holder == nil || ls[0].Holder.ID != b.ID {
		t.Fatalf("held release: active %d leases %+v", active(lim.ID), ls)
	}
	// The reaper leaves b's slot while its flow run runs, and frees it once
	// the flow run ended (crashed: b's process is gone).
	n2, err := s.ConcurrencyExpire(ctx, time.Now())
	must(t, err)
	if n2 != 0 || active(lim.ID) != 1 {
		t.Fatalf("expire while the flow runs: released %d, active %d", n2, active(lim.ID))
	}
	_, err = s.FlowRunSetState(ctx, ws, fr.ID, func(cur model.FlowRun) (store.FlowRunChange, error) {
		st := state(model.StateCrashed, "Crashed", at(time.Hour))
		cur.State = st
		cur.StateID, cur.StateType, cur.StateName = &st.ID, &st.Type, &st.Name
		return store.FlowRunChange{Run: &cur, State: st}, nil
	})
	must(t, err)
	n2, err = s.ConcurrencyExpire(ctx, time.Now())
	must(t, err)
	if n2 != 1 || active(lim.ID) != 0 || len(leases(lim.ID)) != 0 {
		t.Fatalf("expire after the crash: released %d, active %d", n2, active(lim.ID))
	}
}

// testDeploymentConcurrencyLimit: a deployment's concurrency limit is the
// global limit deployment:<id> (whose id is the deployment's), written with
// the deployment: created with the first size, resized, left alone by
// writes that keep its size (its slots too), deleted with a nil size and
// with the deployment; reads carry it as GlobalConcurrencyLimit.
func testDeploymentConcurrencyLimit(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := flow(t, s, ws, "gcl")
	d, _, err := s.DeploymentUpsert(ctx, ws, model.Deployment{Name: "limited", FlowID: f.ID, ConcurrencyLimit: ptr(2)})
	must(t, err)
	name := model.DeploymentLimitName(d.ID)
	g := d.GlobalConcurrencyLimit
	if g == nil || g.ID != d.ID || g.Name != name || g.Limit != 2 || !g.Active || g.ActiveSlots != 0 || d.ConcurrencyLimit == nil || *d.ConcurrencyLimit != 2 {
		t.Fatalf("created: %+v %v", g, d.ConcurrencyLimit)
	}
	l, err := s.ConcurrencyLimitGet(ctx, ws, name)
	must(t, err)
	if l.ID != d.ID || l.Limit != 2 {
		t.Fatalf("the limit as a global limit: %+v", l)
	}
	_, err = s.ConcurrencyIncrement(ctx, ws, []string{name}, 1)
	must(t, err)
	got, err := s.DeploymentGet(ctx, ws, d.ID)
	must(t, err)
	if got.GlobalConcurrencyLimit == nil || got.GlobalConcurrencyLimit.ActiveSlots != 1 {
		t.Fatalf("read: %+v", got.GlobalConcurrencyLimit)
	}
	// A write that keeps the size leaves the limit (and its slots) alone.
	_, err = s.DeploymentUpdate(ctx, ws, d.ID, func(dd *model.Deployment) error { dd.Description = ptr("same limit"); return nil })
	must(t, err)
	if l, _ := s.ConcurrencyLimitGet(ctx, ws, name); l.ActiveSlots != 1 || l.Limit != 2 {
		t.Fatalf("after an unrelated update: %+v", l)
	}
	// Resized.
	up, err := s.DeploymentUpdate(ctx, ws, d.ID, func(dd *model.Deployment) error { dd.ConcurrencyLimit = ptr(5); return nil })
	must(t, err)
	if l, _ := s.ConcurrencyLimitGet(ctx, ws, name); l.Limit != 5 || l.ActiveSlots != 1 || up.GlobalConcurrencyLimit == nil || up.GlobalConcurrencyLimit.Limit != 5 {
		t.Fatalf("resized: %+v / %+v", l, up.GlobalConcurrencyLimit)
	}
	// The list and by-name reads carry it too.
	list, err := s.DeploymentList(ctx, ws, model.DeploymentQuery{})
	must(t, err)
	if len(list) != 1 || list[0].GlobalConcurrencyLimit == nil || list[0].GlobalConcurrencyLimit.Limit != 5 {
		t.Fatalf("list: %+v", list)
	}
	byName, err := s.DeploymentGetByName(ctx, ws, "gcl", "limited")
	must(t, err)
	if byName.GlobalConcurrencyLimit == nil {
		t.Fatal("by name: no limit")
	}
	// An upsert without a size removes it (the client sends null).
	again, _, err := s.DeploymentUpsert(ctx, ws, model.Deployment{Name: "limited", FlowID: f.ID})
	must(t, err)
	if again.GlobalConcurrencyLimit != nil || again.ConcurrencyLimit != nil {
		t.Fatalf("upsert without a limit: %+v", again.GlobalConcurrencyLimit)
	}
	_, err = s.ConcurrencyLimitGet(ctx, ws, name)
	wantErr(t, err, store.ErrNotFound)
	// Back, then deleted with the deployment.
	_, err = s.DeploymentUpdate(ctx, ws, d.ID, func(dd *model.Deployment) error { dd.ConcurrencyLimit = ptr(1); return nil })
	must(t, err)
	if _, err := s.ConcurrencyLimitGet(ctx, ws, name); err != nil {
		t.Fatalf("re-created: %v", err)
	}
	must(t, s.DeploymentDelete(ctx, ws, d.ID))
	_, err = s.ConcurrencyLimitGet(ctx, ws, name)
	wantErr(t, err, store.ErrNotFound)
	// Deleting the limit itself leaves the deployment without one.
	d2, _, err := s.DeploymentUpsert(ctx, ws, model.Deployment{Name: "second", FlowID: f.ID, ConcurrencyLimit: ptr(3)})
	must(t, err)
	must(t, s.ConcurrencyLimitDelete(ctx, ws, model.DeploymentLimitName(d2.ID)))
	got, err = s.DeploymentGet(ctx, ws, d2.ID)
	must(t, err)
	if got.GlobalConcurrencyLimit != nil || got.ConcurrencyLimit != nil {
		t.Fatalf("after deleting the limit: %+v", got.GlobalConcurrencyLimit)
	}
}
