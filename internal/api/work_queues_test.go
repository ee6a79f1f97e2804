package api

import (
	"testing"
)

func TestWorkQueuesByID(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	// Without a pool, a queue lands in default-agent-pool (created on use).
	q := s.must("POST", "/api/work_queues/", map[string]any{"name": "solo", "concurrency_limit": 2, "priority": 3}, 201)
	if q["work_pool_name"] != "default-agent-pool" {
		t.Fatalf("pool-less queue: %v", q)
	}
	s.must("POST", "/api/work_queues/", map[string]any{"name": "solo"}, 409)
	s.must("POST", "/api/work_queues/", map[string]any{"name": "solo", "priority": 0}, 422)
	id := q["id"].(string)
	byName := s.must("GET", "/api/work_queues/name/solo", nil, 200)
	if byName["id"] != id {
		t.Fatalf("by name: %v", byName)
	}
	s.must("GET", "/api/work_queues/name/nope", nil, 404)
	// The name route and the status route share a mux pattern; each still answers.
	st := s.must("GET", "/api/work_queues/"+id+"/status", nil, 200)
	if st["healthy"] != false || st["late_runs_count"].(float64) != 0 || st["health_check_policy"].(map[string]any)["maximum_seconds_since_last_polled"].(float64) != 60 {
		t.Fatalf("status: %v", st)
	}
	s.must("GET", "/api/work_queues/"+newUUID()+"/status", nil, 404)

	// An explicit null clears the limit; an absent key keeps it.
	s.must("PATCH", "/api/work_queues/"+id, map[string]any{"is_paused": true}, 204)
	got := s.must("GET", "/api/work_queues/"+id, nil, 200)
	if got["is_paused"] != true || got["concurrency_limit"].(float64) != 2 {
		t.Fatalf("patch kept the limit? %v", got)
	}
	s.must("PATCH", "/api/work_queues/"+id, map[string]any{"concurrency_limit": nil}, 204)
	got = s.must("GET", "/api/work_queues/"+id, nil, 200)
	if got["concurrency_limit"] != nil {
		t.Fatalf("null must clear the limit: %v", got)
	}
	s.must("PATCH", "/api/work_queues/"+newUUID(), map[string]any{"is_paused": true}, 404)

	s.must("POST", "/api/work_pools/", map[string]any{"name": "p2", "type": "process"}, 201)
	s.must("POST", "/api/work_pools/p2/queues", map[string]any{"name": "other"}, 201)
	_, list := s.do("POST", "/api/work_queues/filter", map[string]any{"work_queues": map[string]any{"name": map[string]any{"any_": []string{"solo", "other"}}}})
	if len(list.([]any)) != 2 {
		t.Fatalf("filter across pools: %v", list)
	}
	s.must("POST", "/api/work_queues/filter", map[string]any{"work_queues": map[string]any{"nam": map[string]any{}}}, 422)

	// A run in the queue shows up in get_runs and, once PENDING, in concurrency_status.
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "wq"}, 201)
	dep := s.must("POST", "/api/deployments/", map[string]any{"name": "d", "flow_id": flow["id"], "work_pool_name": "default-agent-pool", "work_queue_name": "solo"}, 201)
	run := s.must("POST", "/api/deployments/"+dep["id"].(string)+"/create_flow_run", map[string]any{}, 201)
	s.must("PATCH", "/api/work_queues/"+id, map[string]any{"is_paused": false}, 204)
	_, runs := s.do("POST", "/api/work_queues/"+id+"/get_runs", map[string]any{})
	if r := runs.([]any); len(r) != 1 || r[0].(map[string]any)["id"] != run["id"] {
		t.Fatalf("get_runs: %v", runs)
	}
	s.must("POST", "/api/flow_runs/"+run["id"].(string)+"/set_state", map[string]any{"state": map[string]any{"type": "PENDING"}}, 201)
	cs := s.must("POST", "/api/work_queues/"+id+"/concurrency_status", map[string]any{}, 200)
	if cs["active_slots"].(float64) != 1 || len(cs["flow_runs"].([]any)) != 1 || cs["pages"].(float64) != 1 {
		t.Fatalf("queue concurrency status: %v", cs)
	}
	ps := s.must("POST", "/api/work_pools/default-agent-pool/concurrency_status", map[string]any{}, 200)
	if ps["active_slots"].(float64) != 1 || ps["count"].(float64) != 2 {
		t.Fatalf("pool concurrency status: %v", ps)
	}
	s.must("POST", "/api/work_pools/nope/concurrency_status", map[string]any{}, 404)

	// Runs are filtered by the pool and queue they wait in.
	for body, want := range map[string]float64{
		`{"work_pools":{"name":{"any_":["default-agent-pool"]}}}`: 1,
		`{"work_pools":{"name":{"any_":["p2"]}}}`:                 0,
		`{"work_pool_queues":{"name":{"any_":["solo"]}}}`:         1,
		`{"work_pool_queues":{"name":{"any_":["other"]}}}`:        0,
	} {
		_, n := s.do("POST", "/api/flow_runs/count", body)
		if n.(float64) != want {
			t.Errorf("flow_runs/count %s = %v, want %v", body, n, want)
		}
	}

	s.must("DELETE", "/api/work_queues/"+id, nil, 204)
	s.must("GET", "/api/work_queues/"+id, nil, 404)
}

func TestTagConcurrencyLimits(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	l := s.must("POST", "/api/concurrency_limits/", map[string]any{"tag": "db", "concurrency_limit": 1}, 201)
	again := s.must("POST", "/api/concurrency_limits/", map[string]any{"tag": "db", "concurrency_limit": 2}, 200)
	if again["id"] != l["id"] || again["concurrency_limit"].(float64) != 2 {
		t.Fatalf("create is an upsert on the tag: %v", again)
	}
	s.must("POST", "/api/concurrency_limits/", map[string]any{"tag": "db", "concurrency_limit": -1}, 422)
	s.must("POST", "/api/concurrency_limits/", map[string]any{"tag": "db", "concurrency_limit": 1}, 200)
	// The v2 limit behind it is named tag:db.
	v2 := s.must("GET", "/api/v2/concurrency_limits/tag:db", nil, 200)
	if v2["id"] != l["id"] {
		t.Fatalf("v2 view: %v", v2)
	}
	// A global limit that is not a tag's is invisible to the v1 API.
	g := s.must("POST", "/api/v2/concurrency_limits/", map[string]any{"name": "global", "limit": 1}, 201)
	s.must("GET", "/api/concurrency_limits/"+g["id"].(string), nil, 404)

	tr1, tr2 := newUUID(), newUUID()
	code, _ := s.do("POST", "/api/concurrency_limits/increment", map[string]any{"names": []string{"db", "untracked"}, "task_run_id": tr1})
	if code != 200 {
		t.Fatalf("increment: %d", code)
	}
	code, body := s.do("POST", "/api/concurrency_limits/increment", map[string]any{"names": []string{"db"}, "task_run_id": tr2})
	if code != 423 {
		t.Fatalf("second holder of a limit of 1 must get 423, got %d %v", code, body)
	}
	got := s.must("GET", "/api/concurrency_limits/tag/db", nil, 200)
	if slots := got["active_slots"].([]any); len(slots) != 1 || slots[0] != tr1 {
		t.Fatalf("active_slots: %v", got)
	}
	_, list := s.do("POST", "/api/concurrency_limits/filter", map[string]any{})
	if len(list.([]any)) != 1 {
		t.Fatalf("filter lists only tag limits: %v", list)
	}
	s.must("POST", "/api/concurrency_limits/decrement", map[string]any{"names": []string{"db"}, "task_run_id": tr1}, 200)
	got = s.must("GET", "/api/concurrency_limits/tag/db", nil, 200)
	if len(got["active_slots"].([]any)) != 0 {
		t.Fatalf("decrement released nothing: %v", got)
	}
	// Reset frees every slot but the overrides.
	s.must("POST", "/api/concurrency_limits/increment", map[string]any{"names": []string{"db"}, "task_run_id": tr1}, 200)
	s.must("POST", "/api/concurrency_limits/tag/db/reset", map[string]any{"slot_override": []string{tr2}}, 200)
	got = s.must("GET", "/api/concurrency_limits/tag/db", nil, 200)
	if slots := got["active_slots"].([]any); len(slots) != 1 || slots[0] != tr2 {
		t.Fatalf("after reset with override: %v", got)
	}
	// A limit of 0 would deadlock: Prefect answers 423 with that reason.
	s.must("POST", "/api/concurrency_limits/", map[string]any{"tag": "zero", "concurrency_limit": 0}, 201)
	s.must("POST", "/api/concurrency_limits/increment", map[string]any{"names": []string{"zero"}, "task_run_id": tr1}, 423)

	// Lease-less v2 increment/decrement.
	s.must("POST", "/api/v2/concurrency_limits/increment", map[string]any{"names": []string{"global"}, "slots": 1}, 200)
	s.must("POST", "/api/v2/concurrency_limits/increment", map[string]any{"names": []string{"global"}, "slots": 1}, 423)
	s.must("POST", "/api/v2/concurrency_limits/decrement", map[string]any{"names": []string{"global"}, "slots": 1}, 200)
	s.must("POST", "/api/v2/concurrency_limits/increment", map[string]any{"names": []string{"global"}, "slots": 0}, 422)

	s.must("DELETE", "/api/concurrency_limits/tag/db", nil, 200)
	s.must("GET", "/api/concurrency_limits/tag/db", nil, 404)
	s.must("DELETE", "/api/concurrency_limits/"+newUUID(), nil, 404)
}
