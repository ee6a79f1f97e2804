package api

import (
	"io"
	"net/http"
	"testing"
)

func TestPauseResumeWithInput(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "pausing"}, 201)
	run := s.must("POST", "/api/flow_runs/", map[string]any{"flow_id": flow["id"], "state": map[string]any{"type": "PENDING"}}, 201)
	rid := run["id"].(string)
	s.must("POST", "/api/flow_runs/"+rid+"/set_state", map[string]any{"state": map[string]any{"type": "RUNNING"}}, 201)
	// Resuming a run that is not paused aborts.
	res := s.must("POST", "/api/flow_runs/"+rid+"/resume", nil, 200)
	if res["status"] != "ABORT" {
		t.Fatalf("resume of a running run: %v", res)
	}
	schema := `{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}`
	s.must("POST", "/api/flow_runs/"+rid+"/input", map[string]any{"key": "paused-k-schema", "value": schema}, 201)
	s.must("POST", "/api/flow_runs/"+rid+"/input", map[string]any{"key": "paused-k-schema", "value": "{}"}, 409)
	s.must("POST", "/api/flow_runs/"+rid+"/input", map[string]any{"key": "Bad Key", "value": "{}"}, 422)
	s.must("POST", "/api/flow_runs/"+newUUID()+"/input", map[string]any{"key": "x", "value": "{}"}, 404)
	s.must("POST", "/api/flow_runs/"+rid+"/set_state", map[string]any{"state": map[string]any{"type": "PAUSED", "state_details": map[string]any{
		"pause_key": "k", "run_input_keyset": map[string]string{"schema": "paused-k-schema", "response": "paused-k-response", "description": "paused-k-description"}}}}, 201)

	res = s.must("POST", "/api/flow_runs/"+rid+"/resume", map[string]any{"run_input": map[string]any{"n": "three"}}, 200)
	if res["status"] != "REJECT" {
		t.Fatalf("input that breaks the schema must be rejected: %v", res)
	}
	res = s.must("POST", "/api/flow_runs/"+rid+"/resume", map[string]any{"run_input": map[string]any{"n": 3}}, 201)
	if res["status"] != "ACCEPT" || res["state"].(map[string]any)["type"] != "RUNNING" {
		t.Fatalf("resume: %v", res)
	}
	resp, err := http.Get(s.URL + "/api/flow_runs/" + rid + "/input/paused-k-response")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"n":3}` {
		t.Fatalf("stored input: %d %q", resp.StatusCode, body)
	}
	_, list := s.do("POST", "/api/flow_runs/"+rid+"/input/filter", map[string]any{"prefix": "paused-k", "limit": 10})
	if len(list.([]any)) != 2 {
		t.Fatalf("input filter: %v", list)
	}
	s.must("DELETE", "/api/flow_runs/"+rid+"/input/paused-k-response", nil, 204)
	s.must("DELETE", "/api/flow_runs/"+rid+"/input/paused-k-response", nil, 404)

	// Bulk set-state goes through orchestration for each matching run.
	out := s.must("POST", "/api/flow_runs/bulk_set_state", map[string]any{"flow_runs": map[string]any{"id": map[string]any{"any_": []string{rid}}},
		"state": map[string]any{"type": "CANCELLED"}}, 200)
	r := out["results"].([]any)
	if len(r) != 1 || r[0].(map[string]any)["status"] != "ACCEPT" || r[0].(map[string]any)["flow_run_id"] != rid {
		t.Fatalf("bulk set state: %v", out)
	}
	s.must("POST", "/api/flow_runs/bulk_set_state", map[string]any{"state": map[string]any{"type": "NOPE"}}, 422)
	s.must("POST", "/api/flow_runs/bulk_set_state", map[string]any{"state": map[string]any{"type": "CANCELLED"}, "limit": 51}, 422)
}

func TestSavedSearches(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	f := []map[string]any{{"object": "flow_run", "property": "state", "type": "state", "operation": "any", "value": []string{"Late"}}}
	a := s.must("PUT", "/api/saved_searches/", map[string]any{"name": "late", "filters": f}, 201)
	b := s.must("PUT", "/api/saved_searches/", map[string]any{"name": "late"}, 200)
	// The replace's 200 is in the document (schemathesis found it undeclared).
	_, doc := s.do("GET", "/api/openapi.json", nil)
	put := doc.(map[string]any)["paths"].(map[string]any)["/saved_searches"].(map[string]any)["put"].(map[string]any)
	if _, ok := put["responses"].(map[string]any)["200"]; !ok {
		t.Fatalf("PUT /saved_searches declares %v, not the replace's 200", put["responses"])
	}
	if a["id"] != b["id"] || len(b["filters"].([]any)) != 0 {
		t.Fatalf("upsert by name: %v %v", a, b)
	}
	s.must("PUT", "/api/saved_searches/", map[string]any{"name": " "}, 422)
	s.must("GET", "/api/saved_searches/"+a["id"].(string), nil, 200)
	_, list := s.do("POST", "/api/saved_searches/filter", nil)
	if len(list.([]any)) != 1 {
		t.Fatalf("list: %v", list)
	}
	s.must("DELETE", "/api/saved_searches/"+a["id"].(string), nil, 204)
	s.must("GET", "/api/saved_searches/"+a["id"].(string), nil, 404)
}
