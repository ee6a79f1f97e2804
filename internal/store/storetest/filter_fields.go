package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// testFilterFields holds every engine to the filter fields added for
// Prefect parity (issue 17): flow_runs.created_by, flows.deployment, work
// queue name startswith_, deployments narrowed by their runs, task runs and
// queue, the history's work_queues; and manual scheduling of a paused
// deployment (DeploymentScheduleTarget).
func testFilterFields(t *testing.T, s store.Store) {
	ctx := context.Background()
	fa := flow(t, s, ws, "fa")
	fb := flow(t, s, ws, "fb")
	flow(t, s, ws, "lonely")
	_, err := s.WorkPoolCreate(ctx, ws, model.WorkPool{Name: "P", Type: "process"})
	must(t, err)
	high, err := s.WorkQueueCreate(ctx, ws, "P", model.WorkQueue{Name: "High-prio"})
	must(t, err)
	_, err = s.WorkQueueCreate(ctx, ws, "P", model.WorkQueue{Name: "low"})
	must(t, err)
	hid, pname, qname := high.ID, "P", "High-prio"
	sched := model.DeploymentSchedule{ID: model.NewID(), Active: true, Schedule: model.Schedule{Cron: ptr("0 9 * * *")}, Slug: ptr("daily")}
	da, _, err := s.DeploymentUpsert(ctx, ws, model.Deployment{Name: "da", FlowID: fa.ID, Paused: true, WorkPoolName: &pname,
		WorkQueueName: &qname, WorkQueueID: &hid, Schedules: []model.DeploymentSchedule{sched}})
	must(t, err)
	db, _, err := s.DeploymentUpsert(ctx, ws, model.Deployment{Name: "db", FlowID: fb.ID})
	must(t, err)
	mk := func(r model.FlowRun) model.FlowRun {
		t.Helper()
		out, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: r})
		must(t, err)
		return out
	}
	r1 := mk(model.FlowRun{FlowID: fa.ID, Name: "r1", DeploymentID: &da.ID, WorkQueueID: &hid, WorkQueueName: &qname,
		State: state(model.StateRunning, "Running", at(0)), ExpectedStartTime: atp(0),
		CreatedBy: &model.CreatedBy{ID: &da.ID, Type: "DEPLOYMENT", DisplayValue: "da"}})
	mk(model.FlowRun{FlowID: fb.ID, Name: "r2", DeploymentID: &db.ID, State: state(model.StateCompleted, "Completed", at(0)), ExpectedStartTime: atp(0)})
	_, _, err = s.TaskRunCreate(ctx, ws, model.TaskRun{FlowRunID: &r1.ID, Name: "t", TaskKey: "k", DynamicKey: "0",
		State: state(model.StateFailed, "Failed", at(0))})
	must(t, err)

	runs := []struct {
		name string
		q    model.RunQuery
		want []string
	}{
		{"created_by type", model.RunQuery{FlowRuns: &model.FlowRunFilter{CreatedBy: &model.CreatedByFilter{Type: []string{"DEPLOYMENT"}}}}, []string{"r1"}},
		{"created_by id", model.RunQuery{FlowRuns: &model.FlowRunFilter{CreatedBy: &model.CreatedByFilter{ID: []model.ID{da.ID}}}}, []string{"r1"}},
		{"created_by id other", model.RunQuery{FlowRuns: &model.FlowRunFilter{CreatedBy: &model.CreatedByFilter{ID: []model.ID{db.ID}}}}, nil},
		{"created_by is_null", model.RunQuery{FlowRuns: &model.FlowRunFilter{CreatedBy: &model.CreatedByFilter{IsNull: ptr(true)}}}, []string{"r2"}},
		{"created_by or_", model.RunQuery{FlowRuns: &model.FlowRunFilter{CreatedBy: &model.CreatedByFilter{Operator: "or_", Type: []string{"DEPLOYMENT"}, IsNull: ptr(true)}}}, []string{"r1", "r2"}},
		{"queue startswith", model.RunQuery{WorkPoolQueues: &model.WorkQueueFilter{Name: &model.NameFilter{StartsWith: []string{"high"}}}}, []string{"r1"}},
		{"queue startswith empty", model.RunQuery{WorkPoolQueues: &model.WorkQueueFilter{Name: &model.NameFilter{StartsWith: []string{}}}}, []string{"r1"}},
		{"work_queues", model.RunQuery{WorkQueues: &model.WorkQueueFilter{Name: &model.NameFilter{Any: []string{"low"}}}}, nil},
		{"work_queues and pool queues", model.RunQuery{WorkQueues: &model.WorkQueueFilter{Name: &model.NameFilter{Any: []string{"High-prio"}}},
			WorkPoolQueues: &model.WorkQueueFilter{Name: &model.NameFilter{StartsWith: []string{"H"}}}}, []string{"r1"}},
	}
	for _, tc := range runs {
		rs, err := s.FlowRunList(ctx, ws, tc.q)
		must(t, err)
		sameSet(t, "flow runs "+tc.name, runNames(rs), tc.want)
	}
	hist, err := s.FlowRunHistory(ctx, ws, model.RunQuery{WorkQueues: &model.WorkQueueFilter{Name: &model.NameFilter{Any: []string{"low"}}}},
		base.Add(-time.Hour), base.Add(time.Hour), 2*time.Hour)
	must(t, err)
	for _, iv := range hist {
		if len(iv.States) != 0 {
			t.Errorf("history narrowed to queue low counted %v", iv.States)
		}
	}

	flows := []struct {
		name string
		q    model.RunQuery
		want []string
	}{
		{"deployment is_null", model.RunQuery{Flows: &model.FlowFilter{Deployment: &model.FlowDeploymentFilter{IsNull: ptr(true)}}}, []string{"lonely"}},
		{"deployment not null", model.RunQuery{Flows: &model.FlowFilter{Deployment: &model.FlowDeploymentFilter{IsNull: ptr(false)}}}, []string{"fa", "fb"}},
		{"deployment or_ name", model.RunQuery{Flows: &model.FlowFilter{Operator: "or_", Deployment: &model.FlowDeploymentFilter{IsNull: ptr(true)},
			Name: &model.NameFilter{Any: []string{"fa"}}}}, []string{"fa", "lonely"}},
	}
	for _, tc := range flows {
		fs, err := s.FlowList(ctx, ws, tc.q)
		must(t, err)
		sameSet(t, "flows "+tc.name, flowNames(fs), tc.want)
	}

	deps := []struct {
		name string
		q    model.DeploymentQuery
		want []string
	}{
		{"by flow runs", model.DeploymentQuery{FlowRuns: &model.FlowRunFilter{State: &model.StateFilter{Type: &model.StateTypeFilter{Any: []model.StateType{model.StateCompleted}}}}}, []string{"db"}},
		{"by task runs", model.DeploymentQuery{TaskRuns: &model.TaskRunFilter{State: &model.StateFilter{Type: &model.StateTypeFilter{Any: []model.StateType{model.StateFailed}}}}}, []string{"da"}},
		{"by flow runs and task runs", model.DeploymentQuery{FlowRuns: &model.FlowRunFilter{Name: &model.NameFilter{Any: []string{"r2"}}},
			TaskRuns: &model.TaskRunFilter{Name: &model.NameFilter{Any: []string{"t"}}}}, nil},
		{"by queue", model.DeploymentQuery{WorkPoolQueues: &model.WorkQueueFilter{Name: &model.NameFilter{StartsWith: []string{"HIGH"}}}}, []string{"da"}},
		{"by queue none", model.DeploymentQuery{WorkPoolQueues: &model.WorkQueueFilter{Name: &model.NameFilter{Any: []string{"low"}}}}, nil},
	}
	for _, tc := range deps {
		ds, err := s.DeploymentList(ctx, ws, tc.q)
		must(t, err)
		var got []string
		for _, d := range ds {
			got = append(got, d.Name)
		}
		sameSet(t, "deployments "+tc.name, got, tc.want)
		n, err := s.DeploymentCount(ctx, ws, tc.q)
		must(t, err)
		if n != len(tc.want) {
			t.Errorf("DeploymentCount %s = %d, want %d", tc.name, n, len(tc.want))
		}
	}

	// A manual target is read whatever the deployment's state; its runs
	// are inserted although the deployment is paused.
	target, err := s.DeploymentScheduleTarget(ctx, ws, da.ID)
	must(t, err)
	if !target.Manual || target.Deployment.ID != da.ID || len(target.Deployment.Schedules) != 1 {
		t.Fatalf("target: %+v", target)
	}
	key := "manual " + da.ID.String()
	run := model.FlowRun{ID: model.NewID(), FlowID: fa.ID, Name: "manual", DeploymentID: &da.ID, IdempotencyKey: &key,
		State: state(model.StateScheduled, "Scheduled", at(0)), ExpectedStartTime: atp(time.Hour), NextScheduledStartTime: atp(time.Hour)}
	res, err := s.DeploymentScheduleRuns(ctx, target, []store.NewFlowRun{{Run: run}}, time.Now())
	must(t, err)
	if res.Created != 1 {
		t.Fatalf("manual runs of a paused deployment: created %d, want 1", res.Created)
	}
	_, err = s.DeploymentScheduleTarget(ctx, ws, model.NewID())
	wantErr(t, err, store.ErrNotFound)
}
