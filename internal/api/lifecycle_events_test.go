package api

import (
	"testing"
)

// TestServerEmitsLifecycleEvents checks the events Prefect's server emits
// for flows, deployments, work pools and work queues, with its resources.
func TestServerEmitsLifecycleEvents(t *testing.T) {
	s := newTestServer(t)
	flow := s.must("POST", "/api/flows", map[string]any{"name": "etl"}, 201)
	pool := s.must("POST", "/api/work_pools", map[string]any{"name": "pool-a", "type": "process"}, 201)
	dep := s.must("POST", "/api/deployments", map[string]any{"name": "nightly", "flow_id": flow["id"], "work_pool_name": "pool-a"}, 201)
	s.must("PATCH", "/api/deployments/"+dep["id"].(string), map[string]any{"description": "new"}, 204)
	s.must("POST", "/api/deployments/"+dep["id"].(string)+"/pause_deployment", nil, 204)
	s.must("PATCH", "/api/work_pools/pool-a", map[string]any{"is_paused": true}, 204)
	s.must("POST", "/api/work_pools/pool-a/queues", map[string]any{"name": "q2"}, 201)
	s.must("PATCH", "/api/work_pools/pool-a/queues/q2", map[string]any{"is_paused": true}, 204)
	s.must("DELETE", "/api/work_pools/pool-a/queues/q2", nil, 204)
	s.must("DELETE", "/api/deployments/"+dep["id"].(string), nil, 204)

	page := s.must("POST", "/api/events/filter", map[string]any{"filter": map[string]any{"order": "ASC", "event": map[string]any{"prefix": []string{"prefect.flow.", "prefect.deployment.", "prefect.work-pool.", "prefect.work-queue."}}}}, 200)
	evs := page["events"].([]any)
	got := map[string]map[string]any{}
	var order []string
	for _, e := range evs {
		m := e.(map[string]any)
		name := m["event"].(string)
		order = append(order, name)
		got[name] = m
	}
	for _, want := range []string{"prefect.flow.created", "prefect.work-pool.created", "prefect.deployment.created", "prefect.deployment.updated",
		"prefect.work-pool.paused", "prefect.work-queue.created", "prefect.work-queue.paused", "prefect.work-queue.deleted", "prefect.deployment.deleted"} {
		if got[want] == nil {
			t.Fatalf("no %s event; got %v", want, order)
		}
	}
	created := got["prefect.deployment.created"]
	res := created["resource"].(map[string]any)
	if res["prefect.resource.id"] != "prefect.deployment."+dep["id"].(string) || res["prefect.resource.name"] != "nightly" {
		t.Fatalf("deployment resource %v", res)
	}
	roles := map[string]string{}
	for _, r := range created["related"].([]any) {
		rm := r.(map[string]any)
		roles[rm["prefect.resource.role"].(string)] = rm["prefect.resource.id"].(string)
	}
	if roles["flow"] != "prefect.flow."+flow["id"].(string) || roles["work-pool"] != "prefect.work-pool."+pool["id"].(string) || roles["work-queue"] == "" {
		t.Fatalf("deployment related %v", roles)
	}
	upd := got["prefect.deployment.updated"]["payload"].(map[string]any)
	if fields := upd["updated_fields"].([]any); len(fields) == 0 {
		t.Fatalf("updated event payload %v", upd)
	}
	paused := got["prefect.work-pool.paused"]["resource"].(map[string]any)
	if paused["prefect.work-pool.type"] != "process" || paused["prefect.resource.name"] != "pool-a" {
		t.Fatalf("paused pool resource %v", paused)
	}
}

// TestPollsAndHeartbeatsEmitReadyEvents checks Prefect's ready events: a
// worker's heartbeat makes a NOT_READY pool READY, and a poll makes the
// polled queues and their deployments READY, each once per transition.
func TestPollsAndHeartbeatsEmitReadyEvents(t *testing.T) {
	s := newTestServer(t)
	flow := s.must("POST", "/api/flows", map[string]any{"name": "etl"}, 201)
	pool := s.must("POST", "/api/work_pools", map[string]any{"name": "pool-r", "type": "process"}, 201)
	dep := s.must("POST", "/api/deployments", map[string]any{"name": "nightly", "flow_id": flow["id"], "work_pool_name": "pool-r"}, 201)
	for i := 0; i < 2; i++ {
		s.must("POST", "/api/work_pools/pool-r/workers/heartbeat", map[string]any{"name": "w1"}, 204)
		s.must("POST", "/api/work_pools/pool-r/get_scheduled_flow_runs", map[string]any{}, 200)
	}
	page := s.must("POST", "/api/events/filter", map[string]any{"filter": map[string]any{"order": "ASC",
		"event": map[string]any{"name": []string{"prefect.work-pool.ready", "prefect.work-queue.ready", "prefect.deployment.ready"}}}}, 200)
	got := map[string][]map[string]any{}
	for _, e := range page["events"].([]any) {
		m := e.(map[string]any)
		got[m["event"].(string)] = append(got[m["event"].(string)], m)
	}
	for _, name := range []string{"prefect.work-pool.ready", "prefect.work-queue.ready", "prefect.deployment.ready"} {
		if len(got[name]) != 1 {
			t.Fatalf("%d %s events, want 1 (got %v)", len(got[name]), name, got)
		}
	}
	res := got["prefect.work-pool.ready"][0]["resource"].(map[string]any)
	if res["prefect.resource.id"] != "prefect.work-pool."+pool["id"].(string) || res["prefect.work-pool.type"] != "process" {
		t.Fatalf("pool ready resource %v", res)
	}
	res = got["prefect.deployment.ready"][0]["resource"].(map[string]any)
	if res["prefect.resource.id"] != "prefect.deployment."+dep["id"].(string) || res["prefect.resource.name"] != "nightly" {
		t.Fatalf("deployment ready resource %v", res)
	}
	q := got["prefect.work-queue.ready"][0]
	if q["resource"].(map[string]any)["prefect.resource.role"] != "work-queue" || len(q["related"].([]any)) != 1 {
		t.Fatalf("queue ready event %v", q)
	}
}
