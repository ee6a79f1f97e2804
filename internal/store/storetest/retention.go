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

// testRetention covers the retention seam: which rows of each resource are
// old enough to go (terminal runs by the time they entered their state,
// logs by timestamp, events by occurrence, artifacts by creation), what
// goes with them, the batch limit and More, workspaces kept apart, the
// automations engine's unread events kept, and reclamation.
func testRetention(t *testing.T, s store.Store) {
	ctx := context.Background()
	cutoff := base.Add(24 * time.Hour)
	other := otherWorkspace(t, s, "retention")

	wss, err := s.RetentionWorkspaces(ctx)
	must(t, err)
	if !slices.Contains(wss, ws) || !slices.Contains(wss, other.ID) {
		t.Fatalf("RetentionWorkspaces = %v, want both %v and %v", wss, ws, other.ID)
	}

	f := flow(t, s, ws, "retained")
	fo := flow(t, s, other.ID, "retained")
	mkRun := func(w, flowID model.ID, typ model.StateType, ts time.Duration) model.FlowRun {
		t.Helper()
		r, _, err := s.FlowRunCreate(ctx, w, store.NewFlowRun{Run: model.FlowRun{FlowID: flowID, Name: "r", Parameters: json.RawMessage("{}"),
			State: state(typ, typ.DefaultName(), at(ts))}})
		must(t, err)
		return r
	}
	mkTask := func(w model.ID, run *model.ID, key string, typ model.StateType, ts time.Duration) model.TaskRun {
		t.Helper()
		tr, _, err := s.TaskRunCreate(ctx, w, model.TaskRun{FlowRunID: run, Name: key, TaskKey: key, DynamicKey: "0", State: state(typ, typ.DefaultName(), at(ts))})
		must(t, err)
		return tr
	}
	old := mkRun(ws, f.ID, model.StateCompleted, time.Hour)
	oldTask := mkTask(ws, &old.ID, "old-task", model.StateCompleted, time.Hour)
	_, err = s.FlowRunInputCreate(ctx, ws, model.FlowRunInput{FlowRunID: old.ID, Key: "k", Value: "{}"})
	must(t, err)
	stillRunning := mkRun(ws, f.ID, model.StateRunning, time.Hour) // old, but not finished
	recent := mkRun(ws, f.ID, model.StateFailed, 25*time.Hour)
	foreign := mkRun(other.ID, fo.ID, model.StateCompleted, time.Hour)
	// Task runs: an old finished one under a run that is kept, a running
	// one, and a background task (no flow run).
	keptRunOldTask := mkTask(ws, &recent.ID, "kept-run-old-task", model.StateCompleted, time.Hour)
	runningTask := mkTask(ws, &recent.ID, "running-task", model.StateRunning, time.Hour)
	background := mkTask(ws, nil, "background", model.StateFailed, 2*time.Hour)

	log := func(w model.ID, msg string, ts time.Duration, fr, tr *model.ID) {
		must(t, s.LogCreate(ctx, w, []model.Log{{Name: "n", Level: 20, Message: msg, Timestamp: at(ts), FlowRunID: fr, TaskRunID: tr}}))
	}
	// The old run's logs are recent by their own timestamps: they go with
	// the run, not by the logs' retention.
	for i := range 7 {
		log(ws, "old-run", 30*time.Hour+time.Duration(i)*time.Second, &old.ID, nil)
	}
	log(ws, "old-task", 30*time.Hour, nil, &oldTask.ID)
	log(ws, "kept-run-old-task", 30*time.Hour, &recent.ID, &keptRunOldTask.ID)
	log(ws, "background", 30*time.Hour, nil, &background.ID)
	log(ws, "stale", time.Hour, nil, nil)
	log(ws, "fresh", 30*time.Hour, nil, nil)
	log(other.ID, "foreign-stale", time.Hour, nil, nil)

	art := func(key string, fr, tr *model.ID) model.Artifact {
		in := model.ArtifactCreate{Type: ptr("markdown"), Data: json.RawMessage(`"x"`), FlowRunID: fr, TaskRunID: tr}
		if key != "" {
			in.Key = ptr(key)
		}
		a, err := s.ArtifactCreate(ctx, ws, in)
		must(t, err)
		time.Sleep(2 * time.Millisecond) // distinct creation times
		return a
	}
	keptReport := art("report", &recent.ID, nil)
	oldRunReport := art("report", &old.ID, nil) // the key's latest, going with its run
	art("", nil, &oldTask.ID)
	onlyKey := art("only", &old.ID, nil)

	purgeAll := func(w model.ID, res store.RetentionResource, before time.Time) store.Purged {
		t.Helper()
		var total store.Purged
		for range 100 {
			p, err := s.RetentionPurge(ctx, w, res, before, 3)
			must(t, err)
			if p.Rows > 3 || p.Dependants > 3 {
				t.Fatalf("purge of %s with limit 3 deleted %+v", res, p)
			}
			total.Rows += p.Rows
			total.Dependants += p.Dependants
			if !p.More {
				return total
			}
		}
		t.Fatalf("purge of %s never finished", res)
		return total
	}

	// Flow runs: the old finished run goes with its task run, inputs,
	// states, logs (7 of its own + its task's 1) and artifacts (3).
	got := purgeAll(ws, store.RetainFlowRuns, cutoff)
	if got.Rows != 1 || got.Dependants != 12 {
		t.Fatalf("flow-run purge = %+v, want 1 run and 12 dependants (8 logs, 3 artifacts, 1 task run)", got)
	}
	_, err = s.FlowRunGet(ctx, ws, old.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.TaskRunGet(ctx, ws, oldTask.ID)
	wantErr(t, err, store.ErrNotFound)
	if sts, err := s.FlowRunStates(ctx, ws, old.ID); err == nil && len(sts) > 0 {
		t.Fatalf("the deleted run's states are left: %d", len(sts))
	}
	_, err = s.FlowRunInputGet(ctx, ws, old.ID, "k")
	wantErr(t, err, store.ErrNotFound)
	for _, id := range []model.ID{stillRunning.ID, recent.ID} {
		_, err := s.FlowRunGet(ctx, ws, id)
		must(t, err)
	}
	if _, err := s.FlowRunGet(ctx, other.ID, foreign.ID); err != nil {
		t.Fatalf("another workspace's run was purged: %v", err)
	}
	latest, err := s.ArtifactLatest(ctx, ws, "report")
	must(t, err)
	if latest.LatestID != keptReport.ID {
		t.Fatalf("report's latest = %v, want the older one left (%v); deleted %v", latest.LatestID, keptReport.ID, oldRunReport.ID)
	}
	_, err = s.ArtifactLatest(ctx, ws, "only")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.ArtifactGet(ctx, ws, onlyKey.ID)
	wantErr(t, err, store.ErrNotFound)

	// Task runs: the old finished ones go (under a kept run too, and in
	// the background), with their logs; the running one stays.
	got = purgeAll(ws, store.RetainTaskRuns, cutoff)
	if got.Rows != 2 || got.Dependants != 2 {
		t.Fatalf("task-run purge = %+v, want 2 task runs and their 2 logs", got)
	}
	for _, id := range []model.ID{keptRunOldTask.ID, background.ID} {
		_, err := s.TaskRunGet(ctx, ws, id)
		wantErr(t, err, store.ErrNotFound)
	}
	_, err = s.TaskRunGet(ctx, ws, runningTask.ID)
	must(t, err)

	// Logs by their timestamp.
	got = purgeAll(ws, store.RetainLogs, cutoff)
	if got.Rows != 1 {
		t.Fatalf("log purge = %+v, want the 1 stale line", got)
	}
	logs, err := s.LogList(ctx, ws, model.LogQuery{Limit: 100})
	must(t, err)
	if len(logs) != 1 || logs[0].Message != "fresh" {
		t.Fatalf("logs left = %+v, want only the fresh line", logs)
	}
	if ol, _ := s.LogList(ctx, other.ID, model.LogQuery{Limit: 10}); len(ol) != 1 {
		t.Fatalf("another workspace's logs: %d, want 1", len(ol))
	}

	// Artifacts by creation: the cutoff between two creations.
	a1 := art("dated", nil, nil)
	time.Sleep(5 * time.Millisecond)
	mid := time.Now()
	time.Sleep(5 * time.Millisecond)
	a2 := art("dated", nil, nil)
	got = purgeAll(ws, store.RetainArtifacts, mid)
	if got.Rows != 2 { // keptReport and a1
		t.Fatalf("artifact purge = %+v, want 2", got)
	}
	_, err = s.ArtifactGet(ctx, ws, a1.ID)
	wantErr(t, err, store.ErrNotFound)
	if l, err := s.ArtifactLatest(ctx, ws, "dated"); err != nil || l.LatestID != a2.ID {
		t.Fatalf("dated's latest = %+v %v", l, err)
	}

	// Events by occurrence, with their resource rows, and never one the
	// automations engine has not read.
	ev := func(occ time.Duration) model.Event {
		return model.Event{ID: model.NewID(), Occurred: at(occ), Event: "retention.test",
			Resource: map[string]string{"prefect.resource.id": "retention.res"},
			Related:  []map[string]string{{"prefect.resource.id": "retention.rel", "prefect.resource.role": "r"}}}
	}
	var olds []model.Event
	for i := range 6 {
		olds = append(olds, ev(time.Duration(i)*time.Minute))
	}
	// readAll moves the engine's position past the first n test events,
	// once the stream offers them (an engine may hold back positions of
	// transactions still running elsewhere).
	readAll := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			evs, err := s.EventsAfter(ctx, 0, 10000)
			must(t, err)
			var seen []int64
			for _, e := range evs {
				if e.Name == "retention.test" {
					seen = append(seen, e.Seq)
				}
			}
			if len(seen) >= n {
				pos := seen[n-1]
				must(t, s.AutomationStateCommit(ctx, store.AutomationCommit{Position: &pos}))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the event stream offers %d of the %d events", len(seen), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	_, err = s.EventInsert(ctx, ws, olds[:4])
	must(t, err)
	readAll(4)
	_, err = s.EventInsert(ctx, ws, append(olds[4:], ev(30*time.Hour)))
	must(t, err)
	got = purgeAll(ws, store.RetainEvents, cutoff)
	if got.Rows != 4 || got.Dependants != 8 {
		t.Fatalf("event purge = %+v, want the 4 old events the engine read, with 8 resource rows", got)
	}
	byRes := func(id string) int {
		f := model.EventFilter{AnyResource: model.ResourceFilters{{ID: []string{id}}}}
		page, err := s.EventList(ctx, ws, f, 100, 0)
		must(t, err)
		return len(page.Events)
	}
	if n := byRes("retention.rel"); n != 3 {
		t.Fatalf("events found by a related resource after the purge: %d, want 3 (2 unread, 1 fresh)", n)
	}
	readAll(3) // the 2 unread old ones and the fresh one are left
	if got = purgeAll(ws, store.RetainEvents, cutoff); got.Rows != 2 {
		t.Fatalf("once read, the 2 old events go: %+v", got)
	}

	// Nothing old is left: every resource reports nothing to do.
	for _, res := range store.RetentionResources {
		p, err := s.RetentionPurge(ctx, ws, res, cutoff, 10)
		must(t, err)
		if p.Rows != 0 || p.More {
			t.Fatalf("second purge of %s = %+v", res, p)
		}
	}
	_, err = s.RetentionPurge(ctx, ws, "nonsense", cutoff, 10)
	if err == nil {
		t.Fatal("an unknown resource was accepted")
	}
	if _, err := s.RetentionReclaim(ctx, 1<<20); err != nil {
		t.Fatal(err)
	}
}
