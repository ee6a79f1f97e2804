package api

import "testing"

func TestCollectionsTemplatesObservedStates(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	v := s.must("GET", "/api/collections/views/aggregate-worker-metadata", nil, 200)
	proc := v["prefect"].(map[string]any)["process"].(map[string]any)
	if proc["type"] != "process" || proc["default_base_job_configuration"].(map[string]any)["variables"] == nil {
		t.Fatalf("worker metadata: %v", v)
	}
	s.must("GET", "/api/collections/views/demo-flows", nil, 200)
	s.must("GET", "/api/collections/views/nope", nil, 404)

	_, runID, _, _ := seedRun(t, s)
	_, obs := s.do("GET", "/api/observed-states?query=comp", nil)
	if o := obs.([]any); len(o) != 1 || o[0].(map[string]any)["state_name"] != "Completed" {
		t.Fatalf("observed states: %v", obs)
	}
	_, all := s.do("GET", "/api/observed-states?order_by=NAME_ASC", nil)
	if len(all.([]any)) != 3 { // Pending, Running, Completed
		t.Fatalf("all observed states: %v", all)
	}
	s.must("GET", "/api/observed-states?limit=0", nil, 422)
	s.must("GET", "/api/observed-states?order_by=SIDEWAYS", nil, 422)
	_ = runID

	_, tw := s.do("POST", "/api/task_workers/filter", nil)
	if len(tw.([]any)) != 0 {
		t.Fatalf("no task workers are connected: %v", tw)
	}
}
