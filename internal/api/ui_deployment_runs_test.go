package api

import (
	"fmt"
	"testing"
	"time"
)

// POST /ui/deployments/runs answers, in one call, what a deployments list
// row shows: the next scheduled run and the latest other runs, newest first,
// per deployment; a deployment without runs has null and []; bad input is a
// 422 naming the field.
func TestDeploymentRunSummaries(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "summaries"}, 201)
	busy := s.must("POST", "/api/deployments/", map[string]any{"flow_id": flow["id"], "name": "busy"}, 201)["id"].(string)
	idle := s.must("POST", "/api/deployments/", map[string]any{"flow_id": flow["id"], "name": "idle"}, 201)["id"].(string)
	base := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	run := func(name, typ string, at time.Time) string {
		state := map[string]any{"type": typ}
		if typ == "SCHEDULED" {
			state["state_details"] = map[string]any{"scheduled_time": at.Format(time.RFC3339)}
		}
		return s.must("POST", "/api/flow_runs/", map[string]any{"flow_id": flow["id"], "deployment_id": busy, "name": name,
			"expected_start_time": at.Format(time.RFC3339), "state": state}, 201)["id"].(string)
	}
	var finished []string
	for i := range 10 {
		typ := "COMPLETED"
		if i%3 == 0 {
			typ = "FAILED"
		}
		finished = append(finished, run(fmt.Sprintf("done-%d", i), typ, base.Add(time.Duration(i)*time.Hour)))
	}
	run("later", "SCHEDULED", base.Add(72*time.Hour))
	next := run("sooner", "SCHEDULED", base.Add(48*time.Hour))

	got := s.must("POST", "/api/ui/deployments/runs", map[string]any{"deployment_ids": []string{busy, idle}}, 200)
	b := got[busy].(map[string]any)
	if n, _ := b["next"].(map[string]any); n == nil || n["id"] != next || n["state_type"] != "SCHEDULED" || n["name"] != "sooner" {
		t.Errorf("next run of busy: %v", b["next"])
	}
	recent := b["recent"].([]any)
	if len(recent) != 8 {
		t.Fatalf("busy's recent runs: %d, want the default 8: %v", len(recent), recent)
	}
	for i, r := range recent {
		if want := finished[9-i]; r.(map[string]any)["id"] != want {
			t.Errorf("recent[%d] = %v, want %s (newest first)", i, r, want)
		}
	}
	if r0 := recent[0].(map[string]any); r0["state_type"] != "FAILED" || r0["state_name"] != "Failed" || r0["expected_start_time"] == nil {
		t.Errorf("recent[0] lacks what a row shows: %v", r0)
	}
	i := got[idle].(map[string]any)
	if i["next"] != nil || len(i["recent"].([]any)) != 0 {
		t.Errorf("idle deployment: %v", i)
	}
	few := s.must("POST", "/api/ui/deployments/runs", map[string]any{"deployment_ids": []string{busy}, "recent": 3}, 200)
	if n := len(few[busy].(map[string]any)["recent"].([]any)); n != 3 {
		t.Errorf("recent=3 gave %d runs", n)
	}

	for _, bad := range []map[string]any{
		{"deployment_ids": []string{busy}, "recent": 51},
		{"deployment_ids": []string{busy}, "recent": -1},
		{"deployment_ids": []string{"not-a-uuid"}},
		{},
	} {
		s.must("POST", "/api/ui/deployments/runs", bad, 422)
	}
	many := make([]string, 201)
	for i := range many {
		many[i] = newUUID()
	}
	s.must("POST", "/api/ui/deployments/runs", map[string]any{"deployment_ids": many}, 422)
}
