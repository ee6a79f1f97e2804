package api

import (
	"fmt"
	"testing"
)

// slugsOf maps a deployment's schedules by slug ("" for none).
func slugsOf(t *testing.T, d map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, raw := range d["schedules"].([]any) {
		s := raw.(map[string]any)
		slug, _ := s["slug"].(string)
		out[slug] = s
	}
	return out
}

func cronSched(slug, cron string) map[string]any {
	m := map[string]any{"schedule": map[string]any{"cron": cron}}
	if slug != "" {
		m["slug"] = slug
	}
	return m
}

// TestDeploymentSchedulesBySlug: PATCH /deployments/{id} matches the sent
// schedules to the existing ones by slug as Prefect 3 does (issue 17). Before
// the fix an empty list deleted named schedules and an unnamed schedule
// replaced them.
func TestDeploymentSchedulesBySlug(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "slugs"}, 201)
	dep := s.must("POST", "/api/deployments/", map[string]any{"name": "d", "flow_id": flow["id"],
		"schedules": []any{cronSched("daily", "0 9 * * *"), cronSched("hourly", "0 * * * *")}}, 201)
	id := dep["id"].(string)
	path := "/api/deployments/" + id
	before := slugsOf(t, dep)
	if len(before) != 2 {
		t.Fatalf("schedules: %v", dep["schedules"])
	}

	// An empty list keeps every named schedule (flow.serve(schedules=[]) re-runs).
	s.must("PATCH", path, map[string]any{"schedules": []any{}}, 204)
	if got := slugsOf(t, s.must("GET", path, nil, 200)); len(got) != 2 || got["daily"]["id"] != before["daily"]["id"] {
		t.Fatalf("empty list changed named schedules: %v", got)
	}
	// A schedule without a slug cannot replace named ones.
	if e := s.must("PATCH", path, map[string]any{"schedules": []any{cronSched("", "0 0 * * *")}}, 422); e["detail"] == nil {
		t.Fatal("no detail")
	}
	// A slug that matches updates in place (same id; parameters reset to {}
	// unless sent, as Prefect's update writes its default), an unknown one
	// is created, the others are kept.
	s.must("PATCH", path, map[string]any{"schedules": []any{
		map[string]any{"slug": "daily", "active": false},
		cronSched("weekly", "0 9 * * 1"),
	}}, 204)
	got := slugsOf(t, s.must("GET", path, nil, 200))
	if len(got) != 3 || got["daily"]["id"] != before["daily"]["id"] || got["daily"]["active"] != false ||
		got["daily"]["schedule"].(map[string]any)["cron"] != "0 9 * * *" || got["hourly"]["id"] != before["hourly"]["id"] {
		t.Fatalf("merge by slug: %v", got)
	}
	// A new slug needs a schedule.
	s.must("PATCH", path, map[string]any{"schedules": []any{map[string]any{"slug": "nope", "active": true}}}, 422)
	// Renaming with replaces keeps the id.
	s.must("PATCH", path, map[string]any{"schedules": []any{map[string]any{"slug": "every-hour", "replaces": "hourly"}}}, 204)
	got = slugsOf(t, s.must("GET", path, nil, 200))
	if got["every-hour"]["id"] != before["hourly"]["id"] || got["hourly"] != nil {
		t.Fatalf("rename: %v", got)
	}
	// Two renames of one slug, and a rename onto a taken slug, are refused.
	s.must("PATCH", path, map[string]any{"schedules": []any{
		map[string]any{"slug": "a", "replaces": "daily"}, map[string]any{"slug": "b", "replaces": "daily"}}}, 422)
	s.must("PATCH", path, map[string]any{"schedules": []any{map[string]any{"slug": "weekly", "replaces": "daily"}}}, 422)
	// Slugs are unique within a deployment.
	s.must("POST", path+"/schedules", []any{cronSched("weekly", "0 1 * * *")}, 409)
	s.must("POST", "/api/deployments/", map[string]any{"name": "dup", "flow_id": flow["id"],
		"schedules": []any{cronSched("x", "0 9 * * *"), cronSched("x", "0 1 * * *")}}, 409)
	wid := got["weekly"]["id"].(string)
	s.must("PATCH", path+"/schedules/"+wid, map[string]any{"slug": "daily"}, 409)

	// With an unnamed schedule present, the sent list replaces them all.
	s.must("POST", path+"/schedules", []any{cronSched("", "0 2 * * *")}, 201)
	s.must("PATCH", path, map[string]any{"schedules": []any{cronSched("only", "0 3 * * *")}}, 204)
	if got := slugsOf(t, s.must("GET", path, nil, 200)); len(got) != 1 || got["only"] == nil {
		t.Fatalf("replace: %v", got)
	}
	// Now every schedule has a slug again: matching by slug resumes.
	s.must("PATCH", path, map[string]any{"schedules": []any{map[string]any{"slug": "only", "active": false}}}, 204)
	if got := slugsOf(t, s.must("GET", path, nil, 200)); got["only"]["active"] != false {
		t.Fatalf("patch by slug: %v", got)
	}
}

// TestScheduleDeploymentRoute: POST /deployments/{id}/schedule creates the
// runs of the active schedules in a window, backfills past windows, never
// twice, and names the schedule in created_by.
func TestScheduleDeploymentRoute(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "bf"}, 201)
	dep := s.must("POST", "/api/deployments/", map[string]any{"name": "d", "flow_id": flow["id"], "paused": true,
		"schedules": []any{cronSched("daily", "0 9 * * *"), map[string]any{"schedule": map[string]any{"cron": "0 10 * * *"}, "active": false}}}, 201)
	id := dep["id"].(string)
	window := map[string]any{"start_time": "2024-01-01T00:00:00Z", "end_time": "2024-01-11T00:00:00Z", "min_runs": 100, "max_runs": 100}
	s.must("POST", "/api/deployments/"+id+"/schedule", window, 200)
	s.must("POST", "/api/deployments/"+id+"/schedule", window, 200) // idempotent
	count := func() float64 {
		n, _ := s.mustAny("POST", "/api/flow_runs/count", map[string]any{"deployments": map[string]any{"id": map[string]any{"any_": []string{id}}}}, 200).(float64)
		return n
	}
	if n := count(); n != 10 {
		t.Fatalf("backfill made %v runs, want 10 (one per day of the active schedule, paused or not)", n)
	}
	runs := s.mustAny("POST", "/api/flow_runs/filter", map[string]any{"sort": "EXPECTED_START_TIME_ASC", "limit": 1}, 200).([]any)
	first := runs[0].(map[string]any)
	if first["expected_start_time"] == nil || fmt.Sprint(first["created_by"].(map[string]any)["display_value"]) != "daily" ||
		first["state_type"] != "SCHEDULED" || !first["auto_scheduled"].(bool) {
		t.Fatalf("run: %v", first)
	}
	// min_runs and min_time stop early.
	s.must("POST", "/api/deployments/"+id+"/schedule", map[string]any{"start_time": "2025-01-01T00:00:00Z", "min_runs": 2, "min_time": 0}, 200)
	if n := count(); n != 12 {
		t.Fatalf("%v runs, want 12", n)
	}
	s.must("POST", "/api/deployments/"+id+"/schedule", map[string]any{"min_time": -1}, 422)
	s.must("POST", "/api/deployments/00000000-0000-4000-8000-000000000000/schedule", nil, 404)
}
