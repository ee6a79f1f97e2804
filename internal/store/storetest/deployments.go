package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// testDeploymentsAndPools checks deployments, the scheduler's bookkeeping,
// work pools, queues, workers and the dispatch query.
func testDeploymentsAndPools(t *testing.T, s store.Store) {
	t.Run("Deployments", func(t *testing.T) { testDeployments(t, s) })
	t.Run("Dispatch", func(t *testing.T) { testDispatch(t, s) })
	t.Run("Workers", func(t *testing.T) { testWorkers(t, s) })
}

func testDeployments(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := flow(t, s, ws, "dep-flow")
	sched := model.DeploymentSchedule{ID: model.NewID(), Active: true, Schedule: model.Schedule{Cron: ptr("* * * * *")}}
	d, created, err := s.DeploymentUpsert(ctx, ws, model.Deployment{Name: "nightly", FlowID: f.ID, Tags: []string{"a"},
		Schedules: []model.DeploymentSchedule{sched}})
	must(t, err)
	if !created || d.FlowName != "dep-flow" || d.Status != model.DeploymentNotReady || string(d.Parameters) != "{}" {
		t.Fatalf("created=%v %+v", created, d)
	}
	again, created, err := s.DeploymentUpsert(ctx, ws, model.Deployment{Name: "nightly", FlowID: f.ID, Paused: true})
	must(t, err)
	if created || again.ID != d.ID || !again.Paused {
		t.Fatalf("upsert: created=%v %+v", created, again)
	}
	byName, err := s.DeploymentGetByName(ctx, ws, "dep-flow", "nightly")
	must(t, err)
	if byName.ID != d.ID {
		t.Fatal("by name returned another deployment")
	}
	_, err = s.DeploymentGetByName(ctx, ws, "dep-flow", "nope")
	wantErr(t, err, store.ErrNotFound)
	_, _, err = s.DeploymentUpsert(ctx, ws, model.Deployment{Name: "x", FlowID: model.NewID()})
	wantErr(t, err, store.ErrNotFound)
	_, _, err = s.DeploymentUpsert(ctx, ws, model.Deployment{Name: "other", FlowID: f.ID})
	must(t, err)
	list, err := s.DeploymentList(ctx, ws, model.DeploymentQuery{Deployments: &model.DeploymentFilter{Paused: &model.BoolFilter{Eq: ptr(true)}}})
	must(t, err)
	if len(list) != 1 || list[0].Name != "nightly" {
		t.Fatalf("paused filter: %v", list)
	}
	n, err := s.DeploymentCount(ctx, ws, model.DeploymentQuery{Deployments: &model.DeploymentFilter{FlowOrDeploymentName: &model.LikeFilter{Like: ptr("DEP-FL")}}})
	must(t, err)
	if n != 2 {
		t.Fatalf("flow-name like matched %d", n)
	}

	// Scheduling: due deployments, idempotent inserts, stale generations.
	_, err = s.DeploymentUpdate(ctx, ws, d.ID, func(dd *model.Deployment) error {
		dd.Paused = false
		dd.Schedules = []model.DeploymentSchedule{sched}
		return nil
	})
	must(t, err)
	now := time.Now().Add(time.Hour)
	due, err := s.DeploymentsDue(ctx, now, 100)
	must(t, err)
	var target *store.ScheduleTarget
	for i := range due {
		if due[i].Deployment.ID == d.ID {
			target = &due[i]
		}
		if due[i].Deployment.Name == "other" {
			t.Fatal("a deployment without schedules is due")
		}
	}
	if target == nil {
		t.Fatal("scheduled deployment not due")
	}
	runs := func(n int) []store.NewFlowRun {
		var out []store.NewFlowRun
		for i := range n {
			at := now.Add(time.Duration(i+1) * time.Minute)
			key := fmt.Sprintf("scheduled %s %s %d", d.ID, sched.ID, i)
			st := &model.State{ID: model.NewID(), Type: model.StateScheduled, Name: "Scheduled", Timestamp: model.NewTime(now),
				StateDetails: model.StateDetails{ScheduledTime: model.TimePtr(at)}}
			id := model.NewID()
			ev := model.Event{ID: st.ID, Occurred: st.Timestamp, Event: "prefect.flow-run.Scheduled",
				Resource: map[string]string{"prefect.resource.id": "prefect.flow-run." + id.String()}}
			out = append(out, store.NewFlowRun{Run: model.FlowRun{ID: id, FlowID: f.ID, Name: "auto", DeploymentID: &d.ID, IdempotencyKey: &key,
				State: st, NextScheduledStartTime: model.TimePtr(at), AutoScheduled: true, Parameters: json.RawMessage("{}")},
				Events: []model.Event{ev}})
		}
		return out
	}
	scheduledEvents := func() int {
		page, err := s.EventList(ctx, ws, model.EventFilter{}, 100, 0)
		must(t, err)
		n := 0
		for _, e := range page.Events {
			if e.Event == "prefect.flow-run.Scheduled" {
				n++
			}
		}
		return n
	}
	k, err := s.DeploymentScheduleRuns(ctx, *target, runs(3), now.Add(time.Hour))
	must(t, err)
	if k.Created != 3 || len(k.Events) != 3 || scheduledEvents() != 3 {
		t.Fatalf("inserted %d runs, returned %d events, stored %d events; want 3 each", k.Created, len(k.Events), scheduledEvents())
	}
	k, err = s.DeploymentScheduleRuns(ctx, *target, runs(5), now.Add(time.Hour))
	must(t, err)
	if k.Created != 2 || len(k.Events) != 2 || scheduledEvents() != 5 {
		t.Fatalf("second insert added %d runs and %d events (%d stored), want 2 and 2 (keys dedupe; 5 stored)", k.Created, len(k.Events), scheduledEvents())
	}
	due, err = s.DeploymentsDue(ctx, now, 100)
	must(t, err)
	for _, x := range due {
		if x.Deployment.ID == d.ID {
			t.Fatal("deployment due again before its next check")
		}
	}
	// A change of schedule drops the future runs and invalidates the target.
	_, err = s.DeploymentUpdate(ctx, ws, d.ID, func(dd *model.Deployment) error {
		dd.Schedules[0].Schedule = model.Schedule{Cron: ptr("0 * * * *")}
		return nil
	})
	must(t, err)
	left, err := s.FlowRunCount(ctx, ws, model.RunQuery{FlowRuns: &model.FlowRunFilter{DeploymentID: &model.OptionalIDFilter{Any: []model.ID{d.ID}}}})
	must(t, err)
	if left != 0 {
		t.Fatalf("%d stale runs kept", left)
	}
	k, err = s.DeploymentScheduleRuns(ctx, *target, runs(3), now.Add(time.Hour))
	must(t, err)
	if k.Created != 0 || len(k.Events) != 0 {
		t.Fatalf("stale generation inserted %d runs, %d events", k.Created, len(k.Events))
	}
	must(t, s.DeploymentDelete(ctx, ws, d.ID))
	wantErr(t, s.DeploymentDelete(ctx, ws, d.ID), store.ErrNotFound)
}

func setRunState(t *testing.T, s store.Store, id model.ID, typ model.StateType) {
	t.Helper()
	_, err := s.FlowRunSetState(context.Background(), ws, id, func(run model.FlowRun) (store.FlowRunChange, error) {
		st := state(typ, typ.DefaultName(), model.NewTime(time.Now()))
		run.State = st
		run.StateID, run.StateType, run.StateName = &st.ID, &st.Type, &st.Name
		if typ != model.StateScheduled {
			run.NextScheduledStartTime = nil
		}
		return store.FlowRunChange{Run: &run, State: st}, nil
	})
	must(t, err)
}

func testDispatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	pool, err := s.WorkPoolCreate(ctx, ws, model.WorkPool{Name: "dispatch", Type: "process"})
	must(t, err)
	_, err = s.WorkPoolCreate(ctx, ws, model.WorkPool{Name: "dispatch", Type: "process"})
	wantErr(t, err, store.ErrConflict)
	def, err := s.WorkQueueEnsure(ctx, ws, "dispatch", "")
	must(t, err)
	if def.ID != pool.DefaultQueueID || def.Name != "default" || def.Priority != 1 {
		t.Fatalf("default queue: %+v", def)
	}
	wantErr(t, s.WorkQueueDelete(ctx, ws, "dispatch", "default"), store.ErrConflict)
	urgent, err := s.WorkQueueCreate(ctx, ws, "dispatch", model.WorkQueue{Name: "urgent"})
	must(t, err)
	if urgent.Priority != 2 {
		t.Fatalf("new queue priority %d", urgent.Priority)
	}
	// Make "urgent" the first queue.
	_, err = s.WorkQueueUpdate(ctx, ws, "dispatch", "default", func(q *model.WorkQueue) error { q.Priority = 5; return nil })
	must(t, err)
	f := flow(t, s, ws, "dispatch-flow")
	dep, _, err := s.DeploymentUpsert(ctx, ws, model.Deployment{Name: "limited", FlowID: f.ID, ConcurrencyLimit: ptr(1)})
	must(t, err)
	now := time.Now()
	mk := func(name string, q model.WorkQueue, at time.Duration, dep *model.ID, retry *string) model.ID {
		st := state(model.StateScheduled, "Scheduled", model.NewTime(now))
		st.StateDetails.ScheduledTime = model.TimePtr(now.Add(at))
		qid := q.ID
		r, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{ID: model.NewID(), FlowID: f.ID, Name: name, State: st, WorkQueueID: &qid,
			WorkQueueName: &q.Name, DeploymentID: dep, NextScheduledStartTime: model.TimePtr(now.Add(at)),
			EmpiricalPolicy: model.FlowRunPolicy{RetryType: retry}, Parameters: json.RawMessage("{}")}})
		must(t, err)
		return r.ID
	}
	a := mk("a-default", def, -time.Minute, nil, nil)
	b := mk("b-urgent", urgent, 0, nil, nil)
	mk("c-inprocess", urgent, -2*time.Minute, nil, ptr("in_process"))
	mk("d-future", urgent, time.Hour, nil, nil)
	l1 := mk("l1-limited", def, -3*time.Minute, &dep.ID, nil)
	mk("l2-limited", def, -2*time.Minute, &dep.ID, nil)
	before := now.Add(time.Second)
	names := func(q store.PoolRunsQuery) []string {
		t.Helper()
		q.Pool, q.Before, q.Now = "dispatch", &before, now
		got, err := s.WorkPoolScheduledRuns(ctx, ws, q)
		must(t, err)
		var out []string
		for _, r := range got {
			if r.WorkPoolID != pool.ID {
				t.Fatalf("pool id %s", r.WorkPoolID)
			}
			out = append(out, r.FlowRun.Name)
		}
		return out
	}
	eq := func(what string, got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
	// The first poll reports the queues it made READY (for their events);
	// the next one has nothing to report.
	became := &store.ReadyChanges{}
	names(store.PoolRunsQuery{BecameReady: became})
	if len(became.Queues) != 2 || len(became.Deployments) != 0 {
		t.Fatalf("first poll made ready: %+v", became)
	}
	names(store.PoolRunsQuery{BecameReady: became})
	if len(became.Queues) != 0 || len(became.Deployments) != 0 {
		t.Fatalf("second poll made ready: %+v", became)
	}
	// Priority first, then time; in-process retries and future runs are
	// skipped; the limited deployment gets one run.
	eq("all", names(store.PoolRunsQuery{}), "b-urgent", "l1-limited", "a-default")
	eq("named queue", names(store.PoolRunsQuery{QueueNames: []string{"default"}}), "l1-limited", "a-default")
	eq("limit", names(store.PoolRunsQuery{Limit: 1}), "b-urgent")
	_, err = s.WorkQueueUpdate(ctx, ws, "dispatch", "urgent", func(q *model.WorkQueue) error { q.IsPaused = true; return nil })
	must(t, err)
	eq("paused queue", names(store.PoolRunsQuery{}), "l1-limited", "a-default")

	// The deployment's slot is taken when l1 moves to PENDING (the grant
	// orchestration asks for) and comes back by every way out of the
	// active states (the releases orchestration asks for), and when l1 is
	// deleted while holding it.
	withSlots := func(id model.ID, typ model.StateType, c model.SlotChange) {
		t.Helper()
		_, err := s.FlowRunSetState(ctx, ws, id, func(run model.FlowRun) (store.FlowRunChange, error) {
			st := state(typ, typ.DefaultName(), model.NewTime(time.Now()))
			if c.Acquire != nil {
				st.StateDetails.DeploymentConcurrencyLeaseID = &c.Acquire.LeaseID
			}
			run.State = st
			run.StateID, run.StateType, run.StateName = &st.ID, &st.Type, &st.Name
			run.NextScheduledStartTime = nil
			return store.FlowRunChange{Run: &run, State: st, Slots: c}, nil
		})
		must(t, err)
	}
	take := func() model.ID {
		lease := model.NewID()
		withSlots(l1, model.StatePending, model.SlotChange{Acquire: &model.LeaseGrant{LeaseID: lease, LimitIDs: []model.ID{dep.ID}}})
		return lease
	}
	lease := take()
	eq("slot taken", names(store.PoolRunsQuery{}), "a-default")
	for _, end := range []model.StateType{model.StateRunning, model.StateCancelling} {
		setRunState(t, s, l1, end)
		eq("slot held in "+string(end), names(store.PoolRunsQuery{}), "a-default")
	}
	for _, end := range []model.StateType{model.StateCompleted, model.StateFailed, model.StateCrashed, model.StateCancelled} {
		withSlots(l1, end, model.SlotChange{Release: []model.LeaseRelease{{LeaseID: &lease, Fallback: []model.ID{dep.ID}}}})
		eq("released by "+string(end), names(store.PoolRunsQuery{}), "l2-limited", "a-default")
		lease = take()
		eq("held", names(store.PoolRunsQuery{}), "a-default")
	}
	setRunState(t, s, l1, model.StateRunning)
	must(t, s.FlowRunDelete(ctx, ws, l1))
	eq("released by delete", names(store.PoolRunsQuery{}), "l2-limited", "a-default")

	// Queue and pool limits count active runs.
	setRunState(t, s, a, model.StateRunning)
	_, err = s.WorkQueueUpdate(ctx, ws, "dispatch", "default", func(q *model.WorkQueue) error { q.ConcurrencyLimit = ptr(1); return nil })
	must(t, err)
	eq("queue full", names(store.PoolRunsQuery{}))
	_, err = s.WorkQueueUpdate(ctx, ws, "dispatch", "urgent", func(q *model.WorkQueue) error { q.IsPaused = false; return nil })
	must(t, err)
	eq("other queue", names(store.PoolRunsQuery{}), "b-urgent")
	_, err = s.WorkPoolUpdate(ctx, ws, "dispatch", func(p *model.WorkPool) error { p.ConcurrencyLimit = ptr(1); return nil })
	must(t, err)
	eq("pool full", names(store.PoolRunsQuery{}))
	_, err = s.WorkPoolUpdate(ctx, ws, "dispatch", func(p *model.WorkPool) error { p.ConcurrencyLimit = nil; p.IsPaused = true; return nil })
	must(t, err)
	eq("paused pool", names(store.PoolRunsQuery{}))
	if q, _ := s.WorkQueueGet(ctx, ws, "dispatch", "urgent"); q.Status != model.PoolReady || q.LastPolled == nil {
		t.Fatalf("polled queue: %+v", q)
	}
	_ = b

	// The sweep lists runs across workspaces with their liveness signals.
	swept, err := s.FlowRunSweep(ctx, store.RunSweepQuery{StateTypes: []model.StateType{model.StateRunning}})
	must(t, err)
	found := false
	for _, sr := range swept {
		found = found || sr.Run.ID == a
	}
	if !found {
		t.Fatal("running run not swept")
	}
}

func testWorkers(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.WorkPoolCreate(ctx, ws, model.WorkPool{Name: "hb", Type: "process"})
	must(t, err)
	_, err = s.WorkerHeartbeat(ctx, ws, "nope", "w", nil, time.Now())
	wantErr(t, err, store.ErrNotFound)
	t0 := time.Now()
	w, err := s.WorkerHeartbeat(ctx, ws, "hb", "w1", ptr(10), t0)
	must(t, err)
	if w.Status != model.WorkerOnline || *w.HeartbeatIntervalSeconds != 10 {
		t.Fatalf("worker %+v", w)
	}
	_, err = s.WorkerHeartbeat(ctx, ws, "hb", "w1", nil, t0.Add(5*time.Second))
	must(t, err)
	list, err := s.WorkerList(ctx, ws, "hb", model.WorkerQuery{})
	must(t, err)
	if len(list) != 1 || *list[0].HeartbeatIntervalSeconds != 10 || !list[0].LastHeartbeatTime.Equal(model.NewTime(t0.Add(5*time.Second)).Time) {
		t.Fatalf("workers %+v", list)
	}
	if p, _ := s.WorkPoolGet(ctx, ws, "hb"); p.Status != model.PoolReady {
		t.Fatalf("pool %s", p.Status)
	}
	res, err := s.WorkPoolsSweep(ctx, t0.Add(34*time.Second), time.Minute)
	must(t, err)
	if res.WorkersOffline != 0 {
		t.Fatal("worker expired early")
	}
	res, err = s.WorkPoolsSweep(ctx, t0.Add(36*time.Second), time.Minute)
	must(t, err)
	if res.WorkersOffline < 1 || res.PoolsNotReady < 1 {
		t.Fatalf("sweep %+v", res)
	}
	var poolChange *store.StatusChange
	for i, c := range res.Changed {
		if c.Kind == "work-pool" && c.Name == "hb" {
			poolChange = &res.Changed[i]
		}
	}
	if poolChange == nil || poolChange.Status != "NOT_READY" || poolChange.Workspace != ws || poolChange.PoolType == "" {
		t.Fatalf("sweep changes %+v", res.Changed)
	}
	if p, _ := s.WorkPoolGet(ctx, ws, "hb"); p.Status != model.PoolNotReady {
		t.Fatalf("pool %s after its worker went offline", p.Status)
	}
	must(t, s.WorkerDelete(ctx, ws, "hb", "w1"))
	wantErr(t, s.WorkerDelete(ctx, ws, "hb", "w1"), store.ErrNotFound)
	must(t, s.WorkPoolDelete(ctx, ws, "hb"))
	_, err = s.WorkPoolGet(ctx, ws, "hb")
	wantErr(t, err, store.ErrNotFound)
}
