package api

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// seedRun makes a flow with one completed run that has two task runs (b
// consumes a's result) and a log line; it returns the flow id, run id and
// the two task run ids.
func seedRun(t *testing.T, s *testServer) (flowID, runID, taskA, taskB string) {
	t.Helper()
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "graphs"}, 201)
	run := s.must("POST", "/api/flow_runs/", map[string]any{"flow_id": flow["id"], "state": map[string]any{"type": "PENDING"}}, 201)
	runID = run["id"].(string)
	s.must("POST", "/api/flow_runs/"+runID+"/set_state", map[string]any{"state": map[string]any{"type": "RUNNING"}}, 201)
	a := s.must("POST", "/api/task_runs/", map[string]any{"flow_run_id": runID, "task_key": "a", "dynamic_key": "0", "name": "a-0",
		"state": map[string]any{"type": "RUNNING"}}, 201)
	b := s.must("POST", "/api/task_runs/", map[string]any{"flow_run_id": runID, "task_key": "b", "dynamic_key": "0", "name": "b-0",
		"task_inputs": map[string]any{"y": []any{map[string]any{"input_type": "task_run", "id": a["id"]}}},
		"state":       map[string]any{"type": "RUNNING"}}, 201)
	s.must("POST", "/api/flow_runs/"+runID+"/set_state", map[string]any{"state": map[string]any{"type": "COMPLETED"}}, 201)
	s.must("POST", "/api/logs/", []map[string]any{{"name": "x", "level": 20, "message": "hello, \"csv\"", "timestamp": "2026-11-23T10:00:00.5+00:00", "flow_run_id": runID}}, 201)
	return flow["id"].(string), runID, a["id"].(string), b["id"].(string)
}

func TestRunViews(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	flowID, runID, taskA, taskB := seedRun(t, s)

	// The graph: b's parent is a, a's child is b, a is the only root.
	g := s.must("GET", "/api/flow_runs/"+runID+"/graph-v2", nil, 200)
	roots := g["root_node_ids"].([]any)
	if len(roots) != 1 || roots[0] != taskA {
		t.Fatalf("roots = %v, want [%s]", roots, taskA)
	}
	nodes := g["nodes"].([]any)
	if len(nodes) != 2 {
		t.Fatalf("nodes = %v", nodes)
	}
	for _, pair := range nodes {
		p := pair.([]any)
		n := p[1].(map[string]any)
		if p[0] != n["id"] || n["kind"] != "task-run" {
			t.Fatalf("node pair %v", p)
		}
		if n["id"] == taskB && (len(n["parents"].([]any)) != 1 || n["parents"].([]any)[0].(map[string]any)["id"] != taskA) {
			t.Fatalf("b's parents: %v", n["parents"])
		}
		if n["id"] == taskA && (len(n["children"].([]any)) != 1 || n["children"].([]any)[0].(map[string]any)["id"] != taskB) {
			t.Fatalf("a's children: %v", n["children"])
		}
	}
	if len(g["states"].([]any)) != 3 {
		t.Fatalf("graph states: %v", g["states"])
	}
	s.must("GET", "/api/flow_runs/"+runID+"/graph-v2?since=yesterday", nil, 422)
	s.must("GET", "/api/flow_runs/"+newUUID()+"/graph-v2", nil, 404)

	_, v1 := s.do("GET", "/api/flow_runs/"+runID+"/graph", nil)
	if deps := v1.([]any); len(deps) != 2 {
		t.Fatalf("graph v1: %v", v1)
	}

	// Single states by id.
	run := s.must("GET", "/api/flow_runs/"+runID, nil, 200)
	st := s.must("GET", "/api/flow_run_states/"+run["state_id"].(string), nil, 200)
	if st["type"] != "COMPLETED" {
		t.Fatalf("flow run state: %v", st)
	}
	s.must("GET", "/api/flow_run_states/"+newUUID(), nil, 404)
	tr := s.must("GET", "/api/task_runs/"+taskA, nil, 200)
	s.must("GET", "/api/task_run_states/"+tr["state_id"].(string), nil, 200)
	s.must("GET", "/api/task_run_states/"+newUUID(), nil, 404)

	// Task-run history and lateness answer (these were 405: GET /task_runs/{id} caught them).
	_, hist := s.do("POST", "/api/task_runs/history", map[string]any{"history_start": "2020-01-01T00:00:00Z", "history_end": "2040-01-01T00:00:00Z", "history_interval_seconds": 86400 * 365})
	total := 0
	for _, b := range hist.([]any) {
		for _, st := range b.(map[string]any)["states"].([]any) {
			total += int(st.(map[string]any)["count_runs"].(float64))
		}
	}
	if total != 2 {
		t.Fatalf("task run history counts %d runs, want 2: %v", total, hist)
	}
	s.must("POST", "/api/task_runs/history", map[string]any{"history_start": "2020-01-01T00:00:00Z", "history_end": "2040-01-01T00:00:00Z", "history_interval_seconds": 0.5}, 422)
	code, late := s.do("POST", "/api/flow_runs/lateness", map[string]any{"flows": map[string]any{"id": map[string]any{"any_": []string{flowID}}}})
	if code != 200 {
		t.Fatalf("lateness: %d %v", code, late)
	}
	code, late = s.do("POST", "/api/flow_runs/lateness", map[string]any{"flow_runs": map[string]any{"id": map[string]any{"any_": []string{newUUID()}}}})
	if code != 200 || late != nil {
		t.Fatalf("lateness of no runs must be null: %d %v", code, late)
	}

	// Logs as CSV.
	resp, err := http.Get(s.URL + "/api/flow_runs/" + runID + "/logs/download")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(string(body), "timestamp,level,flow_run_id,task_run_id,message\n2026-11-23 10:00:00.500000+00:00,20,"+runID+",,\"hello, \"\"csv\"\"\"\n") {
		t.Fatalf("logs download: %d %q", resp.StatusCode, body)
	}
	s.must("GET", "/api/flow_runs/"+newUUID()+"/logs/download", nil, 404)

	// UI aggregates.
	_, counts := s.do("POST", "/api/ui/flow_runs/count-task-runs", map[string]any{"flow_run_ids": []string{runID, newUUID()}})
	if counts.(map[string]any)[runID].(float64) != 2 {
		t.Fatalf("count-task-runs: %v", counts)
	}
	byState := s.must("POST", "/api/ui/task_runs/count", map[string]any{}, 200)
	if byState["RUNNING"].(float64) != 2 || byState["COMPLETED"].(float64) != 0 {
		t.Fatalf("ui task run counts: %v", byState)
	}
	ui := s.must("GET", "/api/ui/task_runs/"+taskA, nil, 200)
	if ui["flow_run_name"] != run["name"] || ui["id"] != taskA {
		t.Fatalf("ui task run: %v", ui)
	}
	s.must("POST", "/api/ui/task_runs/dashboard/counts", map[string]any{"task_runs": map[string]any{}}, 422)
	s.must("POST", "/api/ui/flows/count-deployments", map[string]any{"flow_ids": []string{flowID}}, 200)
	s.must("POST", "/api/ui/flows/next-runs", map[string]any{"flow_ids": []string{flowID}}, 200)
	v := s.must("POST", "/api/ui/schemas/validate", map[string]any{"schema": map[string]any{"type": "object", "properties": map[string]any{"x": map[string]any{"type": "integer"}}}, "values": map[string]any{"x": "no"}}, 200)
	if v["valid"] != false || len(v["errors"].([]any)) != 1 {
		t.Fatalf("schema validation: %v", v)
	}
	_, uh := s.do("POST", "/api/ui/flow_runs/history", map[string]any{})
	if rows := uh.([]any); len(rows) != 1 || rows[0].(map[string]any)["state_type"] != "COMPLETED" {
		t.Fatalf("ui flow run history: %v", uh)
	}

	// Bulk deletes answer the deleted ids; limit is 1..50.
	s.must("POST", "/api/flow_runs/bulk_delete", map[string]any{"limit": 0}, 422)
	del := s.must("POST", "/api/flow_runs/bulk_delete", map[string]any{"flow_runs": map[string]any{"id": map[string]any{"any_": []string{runID}}}}, 200)
	if d := del["deleted"].([]any); len(d) != 1 || d[0] != runID {
		t.Fatalf("bulk delete: %v", del)
	}
	s.must("GET", "/api/flow_runs/"+runID, nil, 404)
	del = s.must("POST", "/api/flows/bulk_delete", map[string]any{"flows": map[string]any{"name": map[string]any{"any_": []string{"graphs"}}}}, 200)
	if d := del["deleted"].([]any); len(d) != 1 || d[0] != flowID {
		t.Fatalf("flows bulk delete: %v", del)
	}
}
