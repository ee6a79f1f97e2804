package api

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// filterCase is one filter body sent to one route and the names of the
// objects it must return (in any order).
type filterCase struct {
	name  string
	route string
	body  map[string]any
	want  []string
}

// names returns the "name" (or "key") of each object of a list answer.
func names(t *testing.T, out any) []string {
	t.Helper()
	list, ok := out.([]any)
	if !ok {
		t.Fatalf("not a list: %v", out)
	}
	var got []string
	for _, o := range list {
		m := o.(map[string]any)
		n, _ := m["name"].(string)
		if n == "" {
			n, _ = m["key"].(string)
		}
		got = append(got, n)
	}
	slices.Sort(got)
	return got
}

// TestFilterFieldsTable covers each filter field of the filterable routes
// with Prefect's semantics (issue 17): an empty any_ matches nothing, an
// empty not_any_/all_ constrains nothing, is_null_ both ways, and_/or_
// operators, filters on neighbouring objects; every filter body answers the
// same on /count. Fields that were ignored before (flows.deployment,
// flow_runs.created_by, work queue name startswith_, the flow_runs,
// task_runs and work_pool_queues objects of deployment queries, the
// work_queues object of the history body) are among them.
func TestFilterFieldsTable(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	fA := s.must("POST", "/api/flows/", map[string]any{"name": "fa", "tags": []string{"ft"}}, 201)
	fB := s.must("POST", "/api/flows/", map[string]any{"name": "fb"}, 201)
	s.must("POST", "/api/flows/", map[string]any{"name": "fc-lonely"}, 201)
	s.must("POST", "/api/work_pools/", map[string]any{"name": "P", "type": "process"}, 201)
	s.must("POST", "/api/work_pools/P/queues", map[string]any{"name": "high-prio", "priority": 1}, 201)
	s.must("POST", "/api/work_pools/P/queues", map[string]any{"name": "low", "priority": 5}, 201)
	dA := s.must("POST", "/api/deployments/", map[string]any{"name": "da", "flow_id": fA["id"], "work_pool_name": "P",
		"work_queue_name": "high-prio", "tags": []string{"dt"}, "paused": true,
		"schedules": []any{map[string]any{"schedule": map[string]any{"cron": "0 9 * * *"}, "slug": "daily"}}}, 201)
	dB := s.must("POST", "/api/deployments/", map[string]any{"name": "db", "flow_id": fB["id"]}, 201)

	run := func(name string, body map[string]any) map[string]any {
		body["name"] = name
		return s.must("POST", "/api/flow_runs/", body, 201)
	}
	r1 := run("r1", map[string]any{"flow_id": fA["id"], "tags": []string{"t1", "t2"}, "flow_version": "v1", "idempotency_key": "k1",
		"state": map[string]any{"type": "RUNNING", "name": "Running"}})
	s.must("POST", "/api/flow_runs/"+r1["id"].(string)+"/set_state", map[string]any{"state": map[string]any{"type": "COMPLETED"}}, 201)
	s.must("POST", "/api/deployments/"+dA["id"].(string)+"/create_flow_run", map[string]any{"name": "r2", "tags": []string{"t2"},
		"state": map[string]any{"type": "SCHEDULED", "name": "Scheduled"}}, 201)
	tr := s.must("POST", "/api/task_runs/", map[string]any{"name": "tr1", "flow_run_id": r1["id"], "task_key": "k", "dynamic_key": "0",
		"tags": []string{"tt"}, "state": map[string]any{"type": "FAILED", "name": "Failed"}}, 201)
	run("r3", map[string]any{"flow_id": fB["id"], "deployment_id": dB["id"], "parent_task_run_id": tr["id"],
		"state": map[string]any{"type": "RUNNING", "name": "Running"}})
	// A run made by the deployment's schedule (created_by SCHEDULE).
	s.must("POST", "/api/deployments/"+dA["id"].(string)+"/schedule", map[string]any{
		"start_time": "2030-01-01T00:00:00Z", "end_time": "2030-01-01T12:00:00Z", "min_runs": 1, "max_runs": 1}, 200)
	sched := s.mustAny("POST", "/api/flow_runs/filter", map[string]any{"flow_runs": map[string]any{"tags": map[string]any{"all_": []string{"auto-scheduled"}}}}, 200).([]any)
	if len(sched) != 1 {
		t.Fatalf("scheduled runs: %v", sched)
	}
	rs := sched[0].(map[string]any)["name"].(string)
	s.must("PATCH", "/api/flow_runs/"+sched[0].(map[string]any)["id"].(string), map[string]any{"name": "rs"}, 204)
	_ = rs
	r1id, dAid, dBid := r1["id"].(string), dA["id"].(string), dB["id"].(string)

	fr := func(f map[string]any) map[string]any { return map[string]any{"flow_runs": f} }
	cases := []filterCase{
		// flow_runs
		{"no filter", "/flow_runs", nil, []string{"r1", "r2", "r3", "rs"}},
		{"id any_", "/flow_runs", fr(map[string]any{"id": map[string]any{"any_": []string{r1id}}}), []string{"r1"}},
		{"id any_ empty matches nothing", "/flow_runs", fr(map[string]any{"id": map[string]any{"any_": []string{}}}), nil},
		{"id not_any_", "/flow_runs", fr(map[string]any{"id": map[string]any{"not_any_": []string{r1id}}}), []string{"r2", "r3", "rs"}},
		{"id not_any_ empty", "/flow_runs", fr(map[string]any{"id": map[string]any{"not_any_": []string{}}}), []string{"r1", "r2", "r3", "rs"}},
		{"name any_", "/flow_runs", fr(map[string]any{"name": map[string]any{"any_": []string{"r1", "r3"}}}), []string{"r1", "r3"}},
		{"name like_", "/flow_runs", fr(map[string]any{"name": map[string]any{"like_": "R"}}), []string{"r1", "r2", "r3", "rs"}},
		{"tags all_", "/flow_runs", fr(map[string]any{"tags": map[string]any{"all_": []string{"t1", "t2"}}}), []string{"r1"}},
		{"tags all_ empty", "/flow_runs", fr(map[string]any{"tags": map[string]any{"all_": []string{}}}), []string{"r1", "r2", "r3", "rs"}},
		{"tags any_", "/flow_runs", fr(map[string]any{"tags": map[string]any{"any_": []string{"t2"}}}), []string{"r1", "r2"}},
		{"tags any_ empty", "/flow_runs", fr(map[string]any{"tags": map[string]any{"any_": []string{}}}), nil},
		{"tags is_null_", "/flow_runs", fr(map[string]any{"tags": map[string]any{"is_null_": true}}), []string{"r3"}},
		{"tags is_null_ false", "/flow_runs", fr(map[string]any{"tags": map[string]any{"is_null_": false}}), []string{"r1", "r2", "rs"}},
		{"tags or_", "/flow_runs", fr(map[string]any{"tags": map[string]any{"operator": "or_", "all_": []string{"t1"}, "is_null_": true}}), []string{"r1", "r3"}},
		{"deployment_id any_", "/flow_runs", fr(map[string]any{"deployment_id": map[string]any{"any_": []string{dAid}}}), []string{"r2", "rs"}},
		{"deployment_id is_null_", "/flow_runs", fr(map[string]any{"deployment_id": map[string]any{"is_null_": true}}), []string{"r1"}},
		{"deployment_id or_", "/flow_runs", fr(map[string]any{"deployment_id": map[string]any{"operator": "or_", "any_": []string{dBid}, "is_null_": true}}), []string{"r1", "r3"}},
		{"work_queue_name any_", "/flow_runs", fr(map[string]any{"work_queue_name": map[string]any{"any_": []string{"high-prio"}}}), []string{"r2", "rs"}},
		{"work_queue_name is_null_", "/flow_runs", fr(map[string]any{"work_queue_name": map[string]any{"is_null_": true}}), []string{"r1", "r3"}},
		{"state type any_", "/flow_runs", fr(map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"COMPLETED", "RUNNING"}}}}), []string{"r1", "r3"}},
		{"state type not_any_", "/flow_runs", fr(map[string]any{"state": map[string]any{"type": map[string]any{"not_any_": []string{"SCHEDULED"}}}}), []string{"r1", "r3"}},
		{"state name any_", "/flow_runs", fr(map[string]any{"state": map[string]any{"name": map[string]any{"any_": []string{"Running"}}}}), []string{"r3"}},
		{"state or_", "/flow_runs", fr(map[string]any{"state": map[string]any{"operator": "or_", "type": map[string]any{"any_": []string{"COMPLETED"}},
			"name": map[string]any{"any_": []string{"Running"}}}}), []string{"r1", "r3"}},
		{"flow_version any_", "/flow_runs", fr(map[string]any{"flow_version": map[string]any{"any_": []string{"v1"}}}), []string{"r1"}},
		{"start_time is_null_", "/flow_runs", fr(map[string]any{"start_time": map[string]any{"is_null_": false}}), []string{"r1", "r3"}},
		{"start_time before_", "/flow_runs", fr(map[string]any{"start_time": map[string]any{"before_": "2000-01-01T00:00:00Z"}}), nil},
		{"start_time after_", "/flow_runs", fr(map[string]any{"start_time": map[string]any{"after_": "2000-01-01T00:00:00Z"}}), []string{"r1", "r3"}},
		{"end_time is_null_", "/flow_runs", fr(map[string]any{"end_time": map[string]any{"is_null_": false}}), []string{"r1"}},
		{"expected_start_time after_", "/flow_runs", fr(map[string]any{"expected_start_time": map[string]any{"after_": "2029-01-01T00:00:00Z"}}), []string{"rs"}},
		{"next_scheduled_start_time before_", "/flow_runs", fr(map[string]any{"next_scheduled_start_time": map[string]any{"before_": "2029-01-01T00:00:00Z"}}), []string{"r2"}},
		{"parent_task_run_id is_null_", "/flow_runs", fr(map[string]any{"parent_task_run_id": map[string]any{"is_null_": false}}), []string{"r3"}},
		{"parent_flow_run_id any_", "/flow_runs", fr(map[string]any{"parent_flow_run_id": map[string]any{"any_": []string{r1id}}}), []string{"r3"}},
		{"idempotency_key any_", "/flow_runs", fr(map[string]any{"idempotency_key": map[string]any{"any_": []string{"k1"}}}), []string{"r1"}},
		{"idempotency_key not_any_", "/flow_runs", fr(map[string]any{"idempotency_key": map[string]any{"not_any_": []string{"k1"}}}), []string{"rs"}},
		{"created_by type_", "/flow_runs", fr(map[string]any{"created_by": map[string]any{"type_": []string{"SCHEDULE"}}}), []string{"rs"}},
		{"created_by is_null_", "/flow_runs", fr(map[string]any{"created_by": map[string]any{"is_null_": false}}), []string{"r2", "rs"}},
		{"created_by is_null_ true", "/flow_runs", fr(map[string]any{"created_by": map[string]any{"is_null_": true}}), []string{"r1", "r3"}},
		{"created_by type_ or_", "/flow_runs", fr(map[string]any{"created_by": map[string]any{"operator": "or_", "type_": []string{"USER"}, "is_null_": true}}), []string{"r1", "r2", "r3"}},
		{"created_by type_ empty", "/flow_runs", fr(map[string]any{"created_by": map[string]any{"type_": []string{}}}), nil},
		{"operator or_ across fields", "/flow_runs", fr(map[string]any{"operator": "or_", "name": map[string]any{"any_": []string{"r1"}},
			"state": map[string]any{"type": map[string]any{"any_": []string{"RUNNING"}}}}), []string{"r1", "r3"}},
		{"flows object", "/flow_runs", map[string]any{"flows": map[string]any{"name": map[string]any{"any_": []string{"fb"}}}}, []string{"r3"}},
		{"flows tags", "/flow_runs", map[string]any{"flows": map[string]any{"tags": map[string]any{"all_": []string{"ft"}}}}, []string{"r1", "r2", "rs"}},
		{"task_runs object", "/flow_runs", map[string]any{"task_runs": map[string]any{"tags": map[string]any{"any_": []string{"tt"}}}}, []string{"r1"}},
		{"deployments object", "/flow_runs", map[string]any{"deployments": map[string]any{"id": map[string]any{"any_": []string{dBid}}}}, []string{"r3"}},
		{"deployments paused", "/flow_runs", map[string]any{"deployments": map[string]any{"paused": map[string]any{"eq_": true}}}, []string{"r2", "rs"}},
		{"work_pools object", "/flow_runs", map[string]any{"work_pools": map[string]any{"name": map[string]any{"any_": []string{"P"}}}}, []string{"r2", "rs"}},
		{"work_pool_queues startswith_", "/flow_runs", map[string]any{"work_pool_queues": map[string]any{"name": map[string]any{"startswith_": []string{"HIGH"}}}}, []string{"r2", "rs"}},
		{"work_pool_queues startswith_ other", "/flow_runs", map[string]any{"work_pool_queues": map[string]any{"name": map[string]any{"startswith_": []string{"lo"}}}}, nil},

		// flows
		{"flows: no filter", "/flows", nil, []string{"fa", "fb", "fc-lonely"}},
		{"flows: deployment is_null_", "/flows", map[string]any{"flows": map[string]any{"deployment": map[string]any{"is_null_": true}}}, []string{"fc-lonely"}},
		{"flows: deployment not null", "/flows", map[string]any{"flows": map[string]any{"deployment": map[string]any{"is_null_": false}}}, []string{"fa", "fb"}},
		{"flows: name like_", "/flows", map[string]any{"flows": map[string]any{"name": map[string]any{"like_": "LONE"}}}, []string{"fc-lonely"}},
		{"flows: tags is_null_", "/flows", map[string]any{"flows": map[string]any{"tags": map[string]any{"is_null_": true}}}, []string{"fb", "fc-lonely"}},
		{"flows: or_", "/flows", map[string]any{"flows": map[string]any{"operator": "or_", "tags": map[string]any{"all_": []string{"ft"}},
			"name": map[string]any{"any_": []string{"fb"}}}}, []string{"fa", "fb"}},
		{"flows: by flow_runs", "/flows", map[string]any{"flow_runs": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"RUNNING"}}}}}, []string{"fb"}},
		{"flows: by task_runs", "/flows", map[string]any{"task_runs": map[string]any{"name": map[string]any{"any_": []string{"tr1"}}}}, []string{"fa"}},
		{"flows: by deployments", "/flows", map[string]any{"deployments": map[string]any{"tags": map[string]any{"all_": []string{"dt"}}}}, []string{"fa"}},

		// deployments
		{"deployments: no filter", "/deployments", nil, []string{"da", "db"}},
		{"deployments: paused", "/deployments", map[string]any{"deployments": map[string]any{"paused": map[string]any{"eq_": false}}}, []string{"db"}},
		{"deployments: work_queue_name", "/deployments", map[string]any{"deployments": map[string]any{"work_queue_name": map[string]any{"any_": []string{"high-prio"}}}}, []string{"da"}},
		{"deployments: flow_or_deployment_name", "/deployments", map[string]any{"deployments": map[string]any{"flow_or_deployment_name": map[string]any{"like_": "FB"}}}, []string{"db"}},
		{"deployments: by flows", "/deployments", map[string]any{"flows": map[string]any{"name": map[string]any{"any_": []string{"fa"}}}}, []string{"da"}},
		{"deployments: by flow_runs", "/deployments", map[string]any{"flow_runs": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"RUNNING"}}}}}, []string{"db"}},
		{"deployments: by task_runs", "/deployments", map[string]any{"task_runs": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"FAILED"}}}}}, nil},
		{"deployments: by work_pools", "/deployments", map[string]any{"work_pools": map[string]any{"name": map[string]any{"any_": []string{"P"}}}}, []string{"da"}},
		{"deployments: by work_pool_queues", "/deployments", map[string]any{"work_pool_queues": map[string]any{"name": map[string]any{"any_": []string{"high-prio"}}}}, []string{"da"}},
		{"deployments: by work_pool_queues none", "/deployments", map[string]any{"work_pool_queues": map[string]any{"name": map[string]any{"any_": []string{"low"}}}}, nil},

		// task runs
		{"task_runs: flow_run_id", "/task_runs", map[string]any{"task_runs": map[string]any{"flow_run_id": map[string]any{"any_": []string{r1id}}}}, []string{"tr1"}},
		{"task_runs: subflow_runs exists_", "/task_runs", map[string]any{"task_runs": map[string]any{"subflow_runs": map[string]any{"exists_": true}}}, []string{"tr1"}},
		{"task_runs: by flow_runs", "/task_runs", map[string]any{"flow_runs": map[string]any{"name": map[string]any{"any_": []string{"r2"}}}}, nil},
		{"task_runs: by flows", "/task_runs", map[string]any{"flows": map[string]any{"name": map[string]any{"any_": []string{"fa"}}}}, []string{"tr1"}},

		// work queues
		{"queues: startswith_", "/work_pools/P/queues", map[string]any{"work_queues": map[string]any{"name": map[string]any{"startswith_": []string{"HI", "lo"}}}}, []string{"high-prio", "low"}},
		{"queues: startswith_ one", "/work_pools/P/queues", map[string]any{"work_queues": map[string]any{"name": map[string]any{"startswith_": []string{"def"}}}}, []string{"default"}},
		{"queues: any_ empty", "/work_pools/P/queues", map[string]any{"work_queues": map[string]any{"name": map[string]any{"any_": []string{}}}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := s.do("POST", "/api"+tc.route+"/filter", tc.body)
			if code != 200 {
				t.Fatalf("%s: %d %v", tc.route, code, out)
			}
			got := names(t, out)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("%s %v: got %v, want %v", tc.route, tc.body, got, want)
			}
			if tc.route == "/flow_runs" || tc.route == "/flows" || tc.route == "/deployments" || tc.route == "/task_runs" {
				if code, n := s.do("POST", "/api"+tc.route+"/count", tc.body); code != 200 || n != float64(len(want)) {
					t.Fatalf("%s/count: %d %v, want %d", tc.route, code, n, len(want))
				}
			}
		})
	}

	// The history body's work_queues object narrows the runs it counts.
	hist := func(extra map[string]any) float64 {
		body := map[string]any{"history_start": "2029-12-31T00:00:00Z", "history_end": "2030-01-02T00:00:00Z", "history_interval_seconds": 172800}
		for k, v := range extra {
			body[k] = v
		}
		out := s.mustAny("POST", "/api/flow_runs/history", body, 200).([]any)
		total := 0.0
		for _, iv := range out {
			for _, st := range iv.(map[string]any)["states"].([]any) {
				total += st.(map[string]any)["count_runs"].(float64)
			}
		}
		return total
	}
	if n := hist(nil); n != 1 {
		t.Fatalf("history: %v runs, want 1", n)
	}
	if n := hist(map[string]any{"work_queues": map[string]any{"name": map[string]any{"any_": []string{"low"}}}}); n != 0 {
		t.Fatalf("history with work_queues low: %v runs, want 0", n)
	}
}

// TestFilterUnknownKeys: a key a filter object does not have answers 422
// naming it on every filterable route, never a filter that silently
// matches everything.
func TestFilterUnknownKeys(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.must("POST", "/api/work_pools/", map[string]any{"name": "P", "type": "process"}, 201)
	routes := map[string]string{
		"/flow_runs/filter": "flow_runs", "/flow_runs/count": "flow_runs", "/flow_runs/paginate": "flow_runs",
		"/task_runs/filter": "task_runs", "/task_runs/count": "task_runs", "/flows/filter": "flows", "/flows/count": "flows",
		"/deployments/filter": "deployments", "/deployments/count": "deployments", "/deployments/paginate": "deployments",
		"/work_pools/filter": "work_pools", "/work_pools/P/queues/filter": "work_queues", "/work_queues/filter": "work_queues",
		"/work_pools/P/workers/filter": "workers", "/logs/filter": "logs", "/artifacts/filter": "artifacts", "/artifacts/count": "artifacts",
		"/artifacts/latest/filter": "artifacts", "/variables/filter": "variables", "/variables/count": "variables",
		"/block_documents/filter": "block_documents", "/block_types/filter": "block_types", "/block_schemas/filter": "block_schemas",
		"/concurrency_limits/filter": "", "/automations/filter": "automations",
	}
	for route, obj := range routes {
		if obj == "" {
			continue
		}
		code, out := s.do("POST", "/api"+route, map[string]any{obj: map[string]any{"no_such_field": map[string]any{"any_": []string{"x"}}}})
		if code != 422 || !strings.Contains(fmt.Sprint(out), "no_such_field") {
			t.Errorf("%s with an unknown %s key: %d %v, want 422 naming it", route, obj, code, out)
		}
	}
	// Unknown keys one level down too.
	code, out := s.do("POST", "/api/flow_runs/filter", map[string]any{"flow_runs": map[string]any{"name": map[string]any{"start_with": "x"}}})
	if code != 422 || !strings.Contains(fmt.Sprint(out), "start_with") {
		t.Fatalf("nested unknown key: %d %v", code, out)
	}
}

// labelOf returns what identifies one object of a list answer in
// TestFilterFieldsTableOthers: a log's message, an artifact's key, an
// event's name, else the name.
func labelOf(m map[string]any) string {
	for _, k := range []string{"message", "key", "event", "name"} {
		if v, ok := m[k].(string); ok && v != "" {
			return v
		}
	}
	return ""
}

// TestFilterFieldsTableOthers is TestFilterFieldsTable for logs, artifacts,
// variables, work pools and events.
func TestFilterFieldsTableOthers(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	f := s.must("POST", "/api/flows/", map[string]any{"name": "f"}, 201)
	r1 := s.must("POST", "/api/flow_runs/", map[string]any{"flow_id": f["id"], "name": "r1"}, 201)
	r2 := s.must("POST", "/api/flow_runs/", map[string]any{"flow_id": f["id"], "name": "r2"}, 201)
	tr := s.must("POST", "/api/task_runs/", map[string]any{"name": "t", "flow_run_id": r1["id"], "task_key": "k", "dynamic_key": "0"}, 201)
	r1id, r2id, trid := r1["id"].(string), r2["id"].(string), tr["id"].(string)
	s.mustAny("POST", "/api/logs/", []any{
		map[string]any{"name": "l", "level": 20, "message": "info-r1", "timestamp": "2026-01-01T00:00:00Z", "flow_run_id": r1id},
		map[string]any{"name": "l", "level": 40, "message": "error-task", "timestamp": "2026-01-01T01:00:00Z", "flow_run_id": r1id, "task_run_id": trid},
		map[string]any{"name": "l", "level": 10, "message": "debug-free", "timestamp": "2026-01-01T02:00:00Z"},
	}, 201)
	s.must("POST", "/api/artifacts/", map[string]any{"key": "report", "type": "markdown", "data": "x", "flow_run_id": r1id}, 201)
	s.must("POST", "/api/artifacts/", map[string]any{"key": "table-a", "type": "table", "data": []any{}, "flow_run_id": r2id, "task_run_id": trid}, 201)
	s.must("POST", "/api/artifacts/", map[string]any{"type": "result", "data": "1", "flow_run_id": r2id}, 201)
	s.must("POST", "/api/variables/", map[string]any{"name": "v_one", "value": 1, "tags": []string{"a", "b"}}, 201)
	s.must("POST", "/api/variables/", map[string]any{"name": "v_two", "value": 2}, 201)
	s.must("POST", "/api/work_pools/", map[string]any{"name": "proc", "type": "process"}, 201)
	s.must("POST", "/api/work_pools/", map[string]any{"name": "dock", "type": "docker"}, 201)
	s.mustAny("POST", "/api/events", []any{
		map[string]any{"id": "11111111-1111-4111-8111-111111111111", "occurred": "2026-01-01T00:00:00Z", "event": "app.order.created",
			"resource": map[string]any{"prefect.resource.id": "order.1", "kind": "order"},
			"related":  []any{map[string]any{"prefect.resource.id": "customer.7", "prefect.resource.role": "customer"}}},
		map[string]any{"id": "22222222-2222-4222-8222-222222222222", "occurred": "2026-01-02T00:00:00Z", "event": "app.order.shipped",
			"resource": map[string]any{"prefect.resource.id": "order.2", "kind": "order"}},
		map[string]any{"id": "33333333-3333-4333-8333-333333333333", "occurred": "2026-01-03T00:00:00Z", "event": "other.thing",
			"resource": map[string]any{"prefect.resource.id": "thing.1"}},
	}, 204)

	logs := func(f map[string]any) map[string]any { return map[string]any{"logs": f} }
	arts := func(f map[string]any) map[string]any { return map[string]any{"artifacts": f} }
	vars := func(f map[string]any) map[string]any { return map[string]any{"variables": f} }
	evs := func(f map[string]any) map[string]any {
		f["occurred"] = map[string]any{"since": "2025-12-31T00:00:00Z", "until": "2026-01-04T00:00:00Z"}
		return map[string]any{"filter": f}
	}
	cases := []filterCase{
		{"logs: level ge_", "/logs", logs(map[string]any{"level": map[string]any{"ge_": 20}}), []string{"info-r1", "error-task"}},
		{"logs: level le_", "/logs", logs(map[string]any{"level": map[string]any{"le_": 20}}), []string{"info-r1", "debug-free"}},
		{"logs: timestamp after_", "/logs", logs(map[string]any{"timestamp": map[string]any{"after_": "2026-01-01T01:00:00Z"}}), []string{"error-task", "debug-free"}},
		{"logs: timestamp before_", "/logs", logs(map[string]any{"timestamp": map[string]any{"before_": "2026-01-01T00:30:00Z"}}), []string{"info-r1"}},
		{"logs: flow_run_id any_", "/logs", logs(map[string]any{"flow_run_id": map[string]any{"any_": []string{r1id}}}), []string{"info-r1", "error-task"}},
		{"logs: flow_run_id is_null_", "/logs", logs(map[string]any{"flow_run_id": map[string]any{"is_null_": true}}), []string{"debug-free"}},
		{"logs: task_run_id any_ empty", "/logs", logs(map[string]any{"task_run_id": map[string]any{"any_": []string{}}}), nil},
		{"logs: task_run_id is_null_", "/logs", logs(map[string]any{"task_run_id": map[string]any{"is_null_": false}}), []string{"error-task"}},
		{"logs: text", "/logs", logs(map[string]any{"text": map[string]any{"query": "ERROR"}}), []string{"error-task"}},
		{"logs: or_", "/logs", logs(map[string]any{"operator": "or_", "level": map[string]any{"ge_": 40}, "flow_run_id": map[string]any{"is_null_": true}}), []string{"error-task", "debug-free"}},

		{"artifacts: key any_", "/artifacts", arts(map[string]any{"key": map[string]any{"any_": []string{"report"}}}), []string{"report"}},
		{"artifacts: key like_", "/artifacts", arts(map[string]any{"key": map[string]any{"like_": "TABLE"}}), []string{"table-a"}},
		{"artifacts: key exists_", "/artifacts", arts(map[string]any{"key": map[string]any{"exists_": false}}), []string{""}},
		{"artifacts: flow_run_id", "/artifacts", arts(map[string]any{"flow_run_id": map[string]any{"any_": []string{r2id}}}), []string{"table-a", ""}},
		{"artifacts: task_run_id", "/artifacts", arts(map[string]any{"task_run_id": map[string]any{"any_": []string{trid}}}), []string{"table-a"}},
		{"artifacts: type not_any_", "/artifacts", arts(map[string]any{"type": map[string]any{"not_any_": []string{"result"}}}), []string{"report", "table-a"}},
		{"artifacts: type any_ empty", "/artifacts", arts(map[string]any{"type": map[string]any{"any_": []string{}}}), nil},
		{"artifacts: or_", "/artifacts", arts(map[string]any{"operator": "or_", "type": map[string]any{"any_": []string{"markdown"}},
			"task_run_id": map[string]any{"any_": []string{trid}}}), []string{"report", "table-a"}},
		{"artifacts: by flow_runs", "/artifacts", map[string]any{"flow_runs": map[string]any{"name": map[string]any{"any_": []string{"r1"}}}}, []string{"report"}},

		{"variables: name any_", "/variables", vars(map[string]any{"name": map[string]any{"any_": []string{"v_two"}}}), []string{"v_two"}},
		{"variables: name like_", "/variables", vars(map[string]any{"name": map[string]any{"like_": "ONE"}}), []string{"v_one"}},
		{"variables: tags all_", "/variables", vars(map[string]any{"tags": map[string]any{"all_": []string{"a", "b"}}}), []string{"v_one"}},
		{"variables: tags is_null_", "/variables", vars(map[string]any{"tags": map[string]any{"is_null_": true}}), []string{"v_two"}},
		{"variables: id any_ empty", "/variables", vars(map[string]any{"id": map[string]any{"any_": []string{}}}), nil},

		{"work pools: type any_", "/work_pools", map[string]any{"work_pools": map[string]any{"type": map[string]any{"any_": []string{"docker"}}}}, []string{"dock"}},
		{"work pools: name any_", "/work_pools", map[string]any{"work_pools": map[string]any{"name": map[string]any{"any_": []string{"proc", "dock"}}}}, []string{"proc", "dock"}},

		{"events: prefix", "/events", evs(map[string]any{"event": map[string]any{"prefix": []string{"app.order."}}}), []string{"app.order.created", "app.order.shipped"}},
		{"events: prefix empty is no filter", "/events", evs(map[string]any{"event": map[string]any{"prefix": []string{}}}),
			[]string{"app.order.created", "app.order.shipped", "other.thing"}},
		{"events: exclude_prefix", "/events", evs(map[string]any{"event": map[string]any{"exclude_prefix": []string{"app."}}}), []string{"other.thing"}},
		{"events: name", "/events", evs(map[string]any{"event": map[string]any{"name": []string{"other.thing"}}}), []string{"other.thing"}},
		{"events: exclude_name", "/events", evs(map[string]any{"event": map[string]any{"exclude_name": []string{"other.thing"}}}), []string{"app.order.created", "app.order.shipped"}},
		{"events: resource id", "/events", evs(map[string]any{"resource": map[string]any{"id": []string{"order.2"}}}), []string{"app.order.shipped"}},
		{"events: resource id_prefix", "/events", evs(map[string]any{"resource": map[string]any{"id_prefix": []string{"order."}}}), []string{"app.order.created", "app.order.shipped"}},
		{"events: resource labels", "/events", evs(map[string]any{"resource": map[string]any{"labels": map[string]any{"kind": []string{"order"}}}}), []string{"app.order.created", "app.order.shipped"}},
		{"events: related role", "/events", evs(map[string]any{"related": map[string]any{"role": []string{"customer"}}}), []string{"app.order.created"}},
		{"events: any_resource", "/events", evs(map[string]any{"any_resource": map[string]any{"id": []string{"customer.7"}}}), []string{"app.order.created"}},
		{"events: id", "/events", evs(map[string]any{"id": map[string]any{"id": []string{"33333333-3333-4333-8333-333333333333"}}}), []string{"other.thing"}},
		{"events: occurred", "/events", map[string]any{"filter": map[string]any{"occurred": map[string]any{"since": "2026-01-02T00:00:00Z", "until": "2026-01-02T12:00:00Z"}}}, []string{"app.order.shipped"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := s.do("POST", "/api"+tc.route+"/filter", tc.body)
			if code != 200 {
				t.Fatalf("%s: %d %v", tc.route, code, out)
			}
			list, ok := out.([]any)
			if m, isPage := out.(map[string]any); isPage {
				list, ok = m["events"].([]any)
			}
			if !ok {
				t.Fatalf("%s: not a list: %v", tc.route, out)
			}
			var got []string
			for _, o := range list {
				got = append(got, labelOf(o.(map[string]any)))
			}
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("%s %v: got %q, want %q", tc.route, tc.body, got, want)
			}
		})
	}
}
