package api

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDeploymentsAndPools(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "etl"}, 201)

	// A pool gets a default queue whose id is never null.
	s.must("GET", "/api/work_pools/P", nil, 404)
	pool := s.must("POST", "/api/work_pools/", map[string]any{"name": "P", "type": "process", "base_job_template": map[string]any{}}, 201)
	if pool["default_queue_id"] == nil || pool["status"] != "NOT_READY" {
		t.Fatalf("pool: %v", pool)
	}
	// A taken name says so without the store's internals (engine, operation).
	if dup := s.must("POST", "/api/work_pools/", map[string]any{"name": "P"}, 409); dup["detail"] != `work pool "P" already exists` {
		t.Fatalf("duplicate pool: %v", dup)
	}
	code, queues := s.do("POST", "/api/work_pools/P/queues/filter", nil)
	if code != 200 || len(queues.([]any)) != 1 || queues.([]any)[0].(map[string]any)["name"] != "default" {
		t.Fatalf("queues: %d %v", code, queues)
	}
	if q := s.must("GET", "/api/work_queues/"+pool["default_queue_id"].(string), nil, 200); q["name"] != "default" || q["work_pool_name"] != "P" {
		t.Fatalf("queue by id: %v", q)
	}
	if code, _ := s.do("GET", "/api/work_pools/P/workers/connect", nil); code != 404 {
		t.Fatalf("worker channel: %d, want 404", code)
	}

	schema := map[string]any{"title": "Parameters", "type": "object", "required": []string{"n"},
		"properties": map[string]any{"n": map[string]any{"type": "integer"}, "who": map[string]any{"type": "string"}}}
	body := map[string]any{"name": "nightly", "flow_id": flow["id"], "work_pool_name": "P", "parameters": map[string]any{"who": "world"},
		"parameter_openapi_schema": schema, "enforce_parameter_schema": true,
		"schedules": []any{map[string]any{"schedule": map[string]any{"interval": 3600, "anchor_date": "2024-01-01 00:00:00+00:00"}, "active": true}}}
	dep := s.must("POST", "/api/deployments/", body, 201)
	if dep["work_queue_name"] != "default" || dep["work_queue_id"] != pool["default_queue_id"] {
		t.Fatalf("deployment queue: %v", dep)
	}
	again := s.must("POST", "/api/deployments", body, 200)
	if again["id"] != dep["id"] {
		t.Fatal("upsert created a second deployment")
	}
	byName := s.must("GET", "/api/deployments/name/etl/nightly", nil, 200)
	if byName["id"] != dep["id"] || len(byName["schedules"].([]any)) != 1 {
		t.Fatalf("by name: %v", byName)
	}
	s.must("POST", "/api/deployments/", map[string]any{"name": "x", "flow_id": flow["id"], "work_pool_name": "nope"}, 404)
	s.must("POST", "/api/deployments/", map[string]any{"name": "x", "flow_id": flow["id"],
		"schedules": []any{map[string]any{"schedule": map[string]any{"cron": "61 * * * *"}}}}, 422)

	id := dep["id"].(string)
	// Parameter schema enforcement names the bad parameter.
	code, out := s.do("POST", "/api/deployments/"+id+"/create_flow_run", map[string]any{"parameters": map[string]any{"n": "three"}})
	if code != 409 || !strings.Contains(fmt.Sprint(out), `"n"`) {
		t.Fatalf("bad parameter: %d %v", code, out)
	}
	code, out = s.do("POST", "/api/deployments/"+id+"/create_flow_run", map[string]any{})
	if code != 409 || !strings.Contains(fmt.Sprint(out), "required") {
		t.Fatalf("missing parameter: %d %v", code, out)
	}
	run := s.must("POST", "/api/deployments/"+id+"/create_flow_run", map[string]any{"parameters": map[string]any{"n": 3}, "idempotency_key": "k1"}, 201)
	params := run["parameters"].(map[string]any)
	if params["n"] != float64(3) || params["who"] != "world" || run["deployment_id"] != id || run["work_queue_id"] != pool["default_queue_id"] {
		t.Fatalf("run: %v", run)
	}
	if st := run["state"].(map[string]any); st["type"] != "SCHEDULED" {
		t.Fatalf("state: %v", st)
	}
	dup := s.must("POST", "/api/deployments/"+id+"/create_flow_run", map[string]any{"parameters": map[string]any{"n": 3}, "idempotency_key": "k1"}, 200)
	if dup["id"] != run["id"] {
		t.Fatal("idempotency key ignored")
	}

	// Deployment polling accepts Python's space-separated datetimes.
	before := time.Now().UTC().Add(10 * time.Second).Format("2006-01-02 15:04:05.000000+00:00")
	code, list := s.do("POST", "/api/deployments/get_scheduled_flow_runs", map[string]any{"deployment_ids": []string{id}, "scheduled_before": before})
	if code != 200 || len(list.([]any)) != 1 {
		t.Fatalf("deployment poll: %d %v", code, list)
	}
	if _, ok := list.([]any)[0].(map[string]any)["work_pool_id"]; !ok {
		t.Fatal("work_pool_id key missing")
	}

	// Pool polling, pause and heartbeat.
	s.must("POST", "/api/work_pools/P/workers/heartbeat", map[string]any{"name": "w1", "heartbeat_interval_seconds": 30}, 204)
	if p := s.must("GET", "/api/work_pools/P", nil, 200); p["status"] != "READY" {
		t.Fatalf("pool after heartbeat: %v", p)
	}
	code, workers := s.do("POST", "/api/work_pools/P/workers/filter", map[string]any{"workers": map[string]any{"status": map[string]any{"any_": []string{"ONLINE"}}}})
	if code != 200 || len(workers.([]any)) != 1 {
		t.Fatalf("workers: %d %v", code, workers)
	}
	code, got := s.do("POST", "/api/work_pools/P/get_scheduled_flow_runs", map[string]any{"scheduled_before": before})
	if code != 200 || len(got.([]any)) != 1 || got.([]any)[0].(map[string]any)["flow_run"].(map[string]any)["id"] != run["id"] {
		t.Fatalf("pool poll: %d %v", code, got)
	}
	s.must("PATCH", "/api/work_pools/P", map[string]any{"is_paused": true}, 204)
	if _, got := s.do("POST", "/api/work_pools/P/get_scheduled_flow_runs", map[string]any{"scheduled_before": before}); len(got.([]any)) != 0 {
		t.Fatalf("paused pool dispatched %v", got)
	}
	s.must("PATCH", "/api/work_pools/P", map[string]any{"is_paused": false}, 204)
	s.must("PATCH", "/api/work_pools/P/queues/default", map[string]any{"concurrency_limit": 0}, 204)
	if _, got := s.do("POST", "/api/work_pools/P/get_scheduled_flow_runs", nil); len(got.([]any)) != 0 {
		t.Fatalf("full queue dispatched %v", got)
	}
	s.must("PATCH", "/api/work_pools/P/queues/default", map[string]any{"concurrency_limit": 5}, 204)

	// Claiming is a set_state PENDING; only one claimant wins.
	rid := run["id"].(string)
	var wg sync.WaitGroup
	wins := make(chan string, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, res := s.do("POST", "/api/flow_runs/"+rid+"/set_state", map[string]any{"state": map[string]any{"type": "PENDING"}})
			wins <- fmt.Sprint(res.(map[string]any)["status"])
		}()
	}
	wg.Wait()
	close(wins)
	accepted := 0
	for w := range wins {
		if w == "ACCEPT" {
			accepted++
		}
	}
	if accepted != 1 {
		t.Fatalf("%d claimants won", accepted)
	}

	// Pausing and schedules CRUD.
	s.must("POST", "/api/deployments/"+id+"/pause_deployment", nil, 204)
	if d := s.must("GET", "/api/deployments/"+id, nil, 200); d["paused"] != true {
		t.Fatalf("not paused: %v", d)
	}
	s.must("POST", "/api/deployments/"+id+"/resume_deployment", nil, 204)
	code, added := s.do("POST", "/api/deployments/"+id+"/schedules", []any{map[string]any{"schedule": map[string]any{"cron": "0 9 * * *", "timezone": "Europe/Paris"}}})
	if code != 201 {
		t.Fatalf("add schedule: %d %v", code, added)
	}
	sid := added.([]any)[0].(map[string]any)["id"].(string)
	s.must("PATCH", "/api/deployments/"+id+"/schedules/"+sid, map[string]any{"active": false}, 204)
	code, scheds := s.do("GET", "/api/deployments/"+id+"/schedules", nil)
	if code != 200 || len(scheds.([]any)) != 2 || scheds.([]any)[1].(map[string]any)["active"] != false {
		t.Fatalf("schedules: %v", scheds)
	}
	s.must("DELETE", "/api/deployments/"+id+"/schedules/"+sid, nil, 204)
	s.must("DELETE", "/api/deployments/"+id+"/schedules/"+sid, nil, 404)
	if n := s.must("POST", "/api/deployments/filter", map[string]any{"deployments": map[string]any{"flow_or_deployment_name": map[string]any{"like_": "ET"}}}, 200); n != nil {
		t.Fatalf("filter returned an object: %v", n)
	}
	s.must("DELETE", "/api/deployments/"+id, nil, 204)
	s.must("GET", "/api/deployments/"+id, nil, 404)
}

func TestPoolLongPoll(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "lp"}, 201)
	s.must("POST", "/api/work_pools/", map[string]any{"name": "LP", "type": "process"}, 201)
	dep := s.must("POST", "/api/deployments/", map[string]any{"name": "d", "flow_id": flow["id"], "work_pool_name": "LP"}, 201)
	done := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		_, got := s.do("POST", "/api/work_pools/LP/get_scheduled_flow_runs", map[string]any{"wait_seconds": 10,
			"scheduled_before": time.Now().UTC().Add(time.Second).Format(time.RFC3339Nano)})
		if len(got.([]any)) != 1 {
			t.Errorf("long poll returned %v", got)
		}
		done <- time.Since(start)
	}()
	time.Sleep(300 * time.Millisecond)
	s.must("POST", "/api/deployments/"+dep["id"].(string)+"/create_flow_run", map[string]any{}, 201)
	select {
	case d := <-done:
		if d > 2*time.Second {
			t.Fatalf("long poll answered after %v", d)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("long poll did not answer")
	}
}

// TestDeploymentConcurrencyLimit: a deployment's concurrency_limit is the
// global concurrency limit deployment:<id>, listed with the other global
// limits and read back as global_concurrency_limit (concurrency_limit reads
// null, as in Prefect), with its collision strategy in
// concurrency_options. Orchestration enforces it: of three runs moved to
// PENDING through set_state the third is rejected into
// AwaitingConcurrencySlot (all three were accepted before), a finished run
// gives its slot back, CANCEL_NEW cancels; PATCH with null removes the
// limit, and a grace period out of Prefect's range is a 422.
func TestDeploymentConcurrencyLimit(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "limited-flow"}, 201)
	dep := s.must("POST", "/api/deployments/", map[string]any{"name": "limited", "flow_id": flow["id"], "concurrency_limit": 2,
		"concurrency_options": map[string]any{"collision_strategy": "ENQUEUE", "grace_period_seconds": 120}}, 201)
	id := dep["id"].(string)
	name := "deployment:" + id
	gcl, _ := dep["global_concurrency_limit"].(map[string]any)
	if dep["concurrency_limit"] != nil || gcl == nil || gcl["name"] != name || gcl["limit"].(float64) != 2 || gcl["active"] != true || gcl["id"] != id {
		t.Fatalf("created: concurrency_limit %v global %v", dep["concurrency_limit"], gcl)
	}
	if opts := dep["concurrency_options"].(map[string]any); opts["collision_strategy"] != "ENQUEUE" || opts["grace_period_seconds"].(float64) != 120 {
		t.Fatalf("options: %v", opts)
	}
	_, listed := s.do("POST", "/api/v2/concurrency_limits/filter", nil)
	found := false
	for _, l := range listed.([]any) {
		found = found || l.(map[string]any)["name"] == name
	}
	if !found {
		t.Fatalf("%s not in /v2/concurrency_limits/filter: %v", name, listed)
	}
	active := func() float64 {
		return s.must("GET", "/api/v2/concurrency_limits/"+name, nil, 200)["active_slots"].(float64)
	}
	propose := func(run map[string]any, typ string) map[string]any {
		_, res := s.do("POST", "/api/flow_runs/"+run["id"].(string)+"/set_state", map[string]any{"state": map[string]any{"type": typ}})
		return res.(map[string]any)
	}
	var runs []map[string]any
	for range 3 {
		runs = append(runs, s.must("POST", "/api/deployments/"+id+"/create_flow_run", map[string]any{}, 201))
	}
	for _, r := range runs[:2] {
		if res := propose(r, "PENDING"); res["status"] != "ACCEPT" {
			t.Fatalf("pending: %v", res)
		}
	}
	res := propose(runs[2], "PENDING")
	st := res["state"].(map[string]any)
	if res["status"] != "REJECT" || st["type"] != "SCHEDULED" || st["name"] != "AwaitingConcurrencySlot" {
		t.Fatalf("third run: %v", res)
	}
	if n := active(); n != 2 {
		t.Fatalf("active slots %v, want 2", n)
	}
	propose(runs[0], "RUNNING")
	propose(runs[0], "COMPLETED")
	if n := active(); n != 1 {
		t.Fatalf("after a run completed: active %v, want 1", n)
	}
	if res := propose(runs[2], "PENDING"); res["status"] != "ACCEPT" {
		t.Fatalf("third run after a slot freed: %v", res)
	}
	// CANCEL_NEW.
	s.must("PATCH", "/api/deployments/"+id, map[string]any{"concurrency_options": map[string]any{"collision_strategy": "CANCEL_NEW"}}, 204)
	extra := s.must("POST", "/api/deployments/"+id+"/create_flow_run", map[string]any{}, 201)
	if res := propose(extra, "PENDING"); res["status"] != "REJECT" || res["state"].(map[string]any)["type"] != "CANCELLED" {
		t.Fatalf("CANCEL_NEW: %v", res)
	}
	// Resized, then removed with an explicit null; an absent key keeps it.
	s.must("PATCH", "/api/deployments/"+id, map[string]any{"concurrency_limit": 5}, 204)
	if g := s.must("GET", "/api/deployments/"+id, nil, 200)["global_concurrency_limit"].(map[string]any); g["limit"].(float64) != 5 || g["active_slots"].(float64) != 2 {
		t.Fatalf("resized: %v", g)
	}
	s.must("PATCH", "/api/deployments/"+id, map[string]any{"description": "kept"}, 204)
	if g := s.must("GET", "/api/deployments/"+id, nil, 200)["global_concurrency_limit"]; g == nil {
		t.Fatal("a PATCH without concurrency_limit removed the limit")
	}
	s.must("PATCH", "/api/deployments/"+id, map[string]any{"concurrency_limit": nil}, 204)
	if g := s.must("GET", "/api/deployments/"+id, nil, 200)["global_concurrency_limit"]; g != nil {
		t.Fatalf("after null: %v", g)
	}
	s.must("GET", "/api/v2/concurrency_limits/"+name, nil, 404)
	for _, g := range []int{59, 86401} {
		s.must("PATCH", "/api/deployments/"+id, map[string]any{"concurrency_options": map[string]any{"collision_strategy": "ENQUEUE", "grace_period_seconds": g}}, 422)
	}
}
