package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/api/eventsocket"
	"github.com/batonhq/baton/internal/automations"
	"github.com/batonhq/baton/internal/blocks"
	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/store/sqlite"
	"github.com/batonhq/baton/internal/tenancy"
)

// testServer is a real API over a real SQLite file.
type testServer struct {
	*httptest.Server
	t *testing.T
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	hs := httptest.NewServer(newTestAPI(t, nil))
	t.Cleanup(hs.Close)
	return &testServer{Server: hs, t: t}
}

// newTestAPI builds the server-mode API over a fresh SQLite file with
// testConfig; mod may adjust the configuration first.
func newTestAPI(t testing.TB, mod func(*Config)) *Server {
	t.Helper()
	cfg := testConfig(t, filepath.Join(t.TempDir(), "baton.db"), tenancy.ModeServer, slog.New(slog.DiscardHandler))
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// testConfig wires a Config as the server command does (SQLite store, bus,
// runs layer, event ingest, sockets, and the tenancy service in the given
// mode, which is the one authorizer) over a database at dbPath. Everything
// it starts is stopped when the test ends.
func testConfig(t testing.TB, dbPath string, mode tenancy.Mode, log *slog.Logger, opts ...func(*tenancy.Config)) Config {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	bus := events.NewBus()
	rs, err := runs.New(runs.Config{Store: st, Publisher: bus, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ing := events.NewIngest(events.IngestConfig{Store: st, Recorder: rs, Bus: bus, Logger: log})
	if err := ing.Start(ctx); err != nil {
		t.Fatal(err)
	}
	keys := testKeys(t)
	tcfg := tenancy.Config{Store: st, Mode: mode, Logger: log, Sealer: keys, PublicURL: "http://baton.test"}
	for _, o := range opts {
		o(&tcfg)
	}
	ten, err := tenancy.New(tcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = ing.Stop(sctx)
		_ = st.Close()
	})
	sockets := eventsocket.NewSockets(eventsocket.SocketsConfig{Ingest: ing, Bus: bus, Store: st, Logger: log})
	auto, err := automations.New(automations.Config{Store: st, Runs: rs, Publisher: bus, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return Config{Store: st, Runs: rs, Automations: auto, Ingest: ing, Bus: bus, Sockets: sockets, Logger: log, Version: "test", Tenancy: ten, Keys: keys}
}

// TestServerNeedsAnAuthorizer: a server cannot be built without its tenancy
// service (open access is ModeServer, an explicit authorizer), so a wiring
// mistake cannot ship a server that lets everything through.
func TestServerNeedsAnAuthorizer(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, filepath.Join(t.TempDir(), "baton.db"), tenancy.ModeServer, slog.New(slog.DiscardHandler))
	cfg.Tenancy = nil
	if _, err := New(context.Background(), cfg); err == nil {
		t.Fatal("New built a server without a tenancy service")
	}
}

// do sends a request and returns the status and decoded JSON body.
func (s *testServer) do(method, path string, body any) (int, any) {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			s.t.Fatalf("%s %s: non-JSON response %q", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

func (s *testServer) must(method, path string, body any, want int) map[string]any {
	s.t.Helper()
	code, out := s.do(method, path, body)
	if code != want {
		s.t.Fatalf("%s %s: status %d, want %d; body %v", method, path, code, want, out)
	}
	m, _ := out.(map[string]any)
	return m
}

func TestFlowRunLifecycle(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "etl", "tags": []string{}}, 201)
	again := s.must("POST", "/api/flows", map[string]any{"name": "etl"}, 200)
	if flow["id"] != again["id"] {
		t.Fatalf("upsert by name returned a new flow")
	}
	run := s.must("POST", "/api/flow_runs/", map[string]any{"flow_id": flow["id"], "name": nil,
		"state": map[string]any{"type": "PENDING", "name": "Pending"}}, 201)
	if run["name"] == "" || run["state"].(map[string]any)["type"] != "PENDING" {
		t.Fatalf("bad run: %v", run)
	}
	if _, ok := run["work_pool_id"]; !ok {
		t.Fatalf("work_pool_id key must be present")
	}
	id := run["id"].(string)
	tid := "6b1b5d8e-5e0c-4c3a-9d6e-0b3f1f0c2a11"
	res := s.must("POST", "/api/flow_runs/"+id+"/set_state", map[string]any{"state": map[string]any{"type": "RUNNING", "state_details": map[string]any{"transition_id": tid}}}, 201)
	if res["status"] != "ACCEPT" {
		t.Fatalf("running: %v", res)
	}
	dup := s.must("POST", "/api/flow_runs/"+id+"/set_state", map[string]any{"state": map[string]any{"type": "RUNNING", "state_details": map[string]any{"transition_id": tid}}}, 200)
	if dup["status"] != "REJECT" {
		t.Fatalf("duplicate transition must be rejected: %v", dup)
	}
	res = s.must("POST", "/api/flow_runs/"+id+"/set_state", map[string]any{"state": map[string]any{"type": "COMPLETED"}}, 201)
	if res["status"] != "ACCEPT" {
		t.Fatalf("completed: %v", res)
	}
	got := s.must("GET", "/api/flow_runs/"+id, nil, 200)
	if got["state_type"] != "COMPLETED" || got["run_count"].(float64) != 1 || got["start_time"] == nil || got["end_time"] == nil {
		t.Fatalf("bookkeeping: %v", got)
	}
	_, states := s.do("GET", "/api/flow_run_states/?flow_run_id="+id, nil)
	if n := len(states.([]any)); n != 3 {
		t.Fatalf("want 3 states in history, got %d", n)
	}
	_, list := s.do("POST", "/api/flow_runs/filter", map[string]any{"flow_runs": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"COMPLETED"}}}}})
	if len(list.([]any)) != 1 {
		t.Fatalf("filter by state: %v", list)
	}
	_, count := s.do("POST", "/api/flow_runs/count", nil)
	if count.(float64) != 1 {
		t.Fatalf("count: %v", count)
	}
	page := s.must("POST", "/api/flow_runs/paginate", map[string]any{"page": 1, "limit": 10}, 200)
	if page["count"].(float64) != 1 || page["pages"].(float64) != 1 {
		t.Fatalf("paginate: %v", page)
	}
	s.must("PATCH", "/api/flow_runs/"+id, map[string]any{"name": "renamed"}, 204)
	s.must("PATCH", "/api/flow_runs/"+id+"/labels", map[string]any{"team": "data"}, 204)
	got = s.must("GET", "/api/flow_runs/"+id, nil, 200)
	if got["name"] != "renamed" || got["labels"].(map[string]any)["team"] != "data" {
		t.Fatalf("patch: %v", got)
	}
	s.must("POST", "/api/logs/", []map[string]any{{"name": "prefect.flow_runs", "level": 30, "message": "The fun is about to begin", "timestamp": "2026-11-23T10:00:00.000000+00:00", "flow_run_id": id}}, 201)
	_, logs := s.do("POST", "/api/logs/filter", map[string]any{"logs": map[string]any{"flow_run_id": map[string]any{"any_": []string{id}}}})
	if l := logs.([]any); len(l) != 1 || l[0].(map[string]any)["level"].(float64) != 30 {
		t.Fatalf("logs: %v", logs)
	}
	s.must("DELETE", "/api/flow_runs/"+id, nil, 204)
	s.must("GET", "/api/flow_runs/"+id, nil, 404)
}

func TestRootEndpoints(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/api/health", 200}, {"/api/version", 200}, {"/api/hello", 200}, {"/api/ready", 200},
		{"/api/admin/version", 200}, {"/api/admin/storage", 200}, {"/api/admin/settings", 200},
		{"/api/csrf-token?client=abc", 422}, {"/api/openapi.json", 200}, {"/api/nope", 404},
	} {
		code, body := s.do("GET", tc.path, nil)
		if code != tc.want {
			t.Errorf("GET %s: %d, want %d (%v)", tc.path, code, tc.want, body)
		}
	}
	_, v := s.do("GET", "/api/admin/version", nil)
	if vs, ok := v.(string); !ok || !strings.HasPrefix(vs, "3.") {
		t.Fatalf("admin/version must be a JSON string with major 3, got %v", v)
	}
	_, csrf := s.do("GET", "/api/csrf-token?client=x", nil)
	if !strings.Contains(csrf.(map[string]any)["detail"].(string), "CSRF protection is disabled.") {
		t.Fatalf("csrf: %v", csrf)
	}
}

// TestBadInput checks that client mistakes get a 4xx whose detail names the
// problem, on every kind of endpoint.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "f"}, 201)
	run := s.must("POST", "/api/flow_runs/", map[string]any{"flow_id": flow["id"]}, 201)
	rid := run["id"].(string)
	unknown := "00000000-0000-4000-8000-000000000001"
	big := `{"name": "` + strings.Repeat("x", maxRouteBody+10) + `"}`
	cases := []struct {
		name, method, path string
		body               any
		want               int
		mention            string
	}{
		{"malformed json", "POST", "/api/flows/", `{"name": `, 422, "malformed JSON"},
		{"not json", "POST", "/api/flow_runs/filter", `hello`, 422, "malformed JSON"},
		{"wrong type", "POST", "/api/flows/", `{"name": 5}`, 422, `"name"`},
		{"missing required", "POST", "/api/flows/", `{}`, 422, `"name" is required`},
		{"empty body", "POST", "/api/flows/", ``, 422, "body is required"},
		{"bad uuid in body", "POST", "/api/flow_runs/", `{"flow_id": "nope"}`, 422, `"flow_id"`},
		{"unknown flow", "POST", "/api/flow_runs/", `{"flow_id": "` + unknown + `"}`, 404, "flow_id"},
		{"bad uuid in path", "GET", "/api/flow_runs/xyz", nil, 422, `"id"`},
		{"unknown run", "GET", "/api/flow_runs/" + unknown, nil, 404, "not found"},
		{"unknown task run", "GET", "/api/task_runs/" + unknown, nil, 404, "not found"},
		{"unknown flow by id", "GET", "/api/flows/" + unknown, nil, 404, "not found"},
		{"set_state unknown run", "POST", "/api/flow_runs/" + unknown + "/set_state", `{"state": {"type": "RUNNING"}}`, 404, "not found"},
		{"set_state bad type", "POST", "/api/flow_runs/" + rid + "/set_state", `{"state": {"type": "DANCING"}}`, 422, `"state.type"`},
		{"set_state missing type", "POST", "/api/flow_runs/" + rid + "/set_state", `{"state": {}}`, 422, `"state.type" is required`},
		{"nested bad time", "POST", "/api/flow_runs/" + rid + "/set_state", `{"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": "tomorrow"}}}`, 422, "scheduled_time"},
		{"bad sort", "POST", "/api/flow_runs/filter", `{"sort": "SIDEWAYS"}`, 422, `"sort"`},
		{"negative offset", "POST", "/api/flow_runs/filter", `{"offset": -1}`, 422, `"offset"`},
		{"huge limit", "POST", "/api/task_runs/filter", `{"limit": 100000}`, 422, `"limit"`},
		{"bad filter uuid", "POST", "/api/flow_runs/filter", `{"flow_runs": {"id": {"any_": ["zz"]}}}`, 422, "flow_runs.id.any_"},
		{"logs not array", "POST", "/api/logs/", `{"name": "x"}`, 422, "array"},
		{"log missing level", "POST", "/api/logs/", `[{"name": "x", "message": "m", "timestamp": "2026-01-01T00:00:00Z"}]`, 422, `"[0].level" is required`},
		{"states missing query", "GET", "/api/flow_run_states/", nil, 422, "flow_run_id"},
		{"states bad query", "GET", "/api/task_run_states/?task_run_id=1", nil, 422, "task_run_id"},
		{"oversize body", "POST", "/api/flows/", big, 413, "larger than"},
		{"wrong method", "DELETE", "/api/health", nil, 405, "not allowed"},
		{"bad api version", "GET", "/api/health", nil, 200, ""},
		{"unknown workspace", "GET", "/api/accounts/" + unknown + "/workspaces/" + unknown + "/health", nil, 404, "workspace"},
		{"lease bad duration", "POST", "/api/v2/concurrency_limits/increment-with-lease", `{"names": ["tag:a"], "slots": 1, "lease_duration": 5}`, 422, "lease_duration"},
		{"lease no names", "POST", "/api/v2/concurrency_limits/increment-with-lease", `{"names": [], "slots": 1}`, 422, `"names"`},
		{"limit unknown", "GET", "/api/v2/concurrency_limits/nope", nil, 404, "not found"},
		{"events bad limit", "POST", "/api/events/filter", `{"limit": 51}`, 422, `"limit"`},
		{"events bad token", "GET", "/api/events/filter/next?page-token=!!", nil, 422, "page-token"},
		{"count-by bad", "POST", "/api/events/count-by/colour", `{}`, 422, "countable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := s.do(tc.method, tc.path, tc.body)
			if code != tc.want {
				t.Fatalf("status %d, want %d; body %v", code, tc.want, body)
			}
			if tc.mention == "" {
				return
			}
			m, ok := body.(map[string]any)
			if !ok {
				t.Fatalf("want a JSON object with detail, got %v", body)
			}
			detail, _ := m["detail"].(string)
			if !strings.Contains(detail, tc.mention) {
				t.Fatalf("detail %q does not mention %q", detail, tc.mention)
			}
		})
	}
}

func TestAPIVersionHeader(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	for _, tc := range []struct {
		v    string
		want int
	}{{"0.8.4", 200}, {"0.7.0", 400}, {"abc", 400}, {"1.0.0", 200}} {
		req, _ := http.NewRequest("GET", s.URL+"/api/health", nil)
		req.Header.Set("X-PREFECT-API-VERSION", tc.v)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("version %q: %d, want %d", tc.v, resp.StatusCode, tc.want)
		}
	}
}

func TestTaskRunsAndSubflowMirroring(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "parent"}, 201)
	parent := s.must("POST", "/api/flow_runs/", map[string]any{"flow_id": flow["id"]}, 201)
	pid := parent["id"].(string)
	task := s.must("POST", "/api/task_runs/", map[string]any{"flow_run_id": pid, "task_key": "child-abc", "dynamic_key": "0",
		"state": map[string]any{"type": "PENDING"}}, 201)
	again := s.must("POST", "/api/task_runs", map[string]any{"flow_run_id": pid, "task_key": "child-abc", "dynamic_key": "0"}, 200)
	if task["id"] != again["id"] {
		t.Fatalf("task run upsert on natural key returned a new row")
	}
	tid := task["id"].(string)
	child := s.must("POST", "/api/flow_runs/", map[string]any{"flow_id": flow["id"], "parent_task_run_id": tid}, 201)
	cid := child["id"].(string)
	s.must("POST", "/api/flow_runs/"+cid+"/set_state", map[string]any{"state": map[string]any{"type": "RUNNING"}}, 201)
	s.must("POST", "/api/flow_runs/"+cid+"/set_state", map[string]any{"state": map[string]any{"type": "COMPLETED"}}, 201)
	got := s.must("GET", "/api/task_runs/"+tid, nil, 200)
	if got["state_type"] != "COMPLETED" {
		t.Fatalf("parent task must mirror the subflow's state, got %v", got["state_type"])
	}
	_, sub := s.do("POST", "/api/flow_runs/filter", map[string]any{"flow_runs": map[string]any{"parent_task_run_id": map[string]any{"any_": []string{tid}}}})
	if len(sub.([]any)) != 1 {
		t.Fatalf("filter by parent task: %v", sub)
	}
	res := s.must("POST", "/api/task_runs/"+tid+"/set_state", map[string]any{"state": map[string]any{"type": "RUNNING"}, "force": true}, 201)
	if res["status"] != "ACCEPT" {
		t.Fatalf("forced task state: %v", res)
	}
	_, states := s.do("GET", "/api/task_run_states/?task_run_id="+tid, nil)
	if len(states.([]any)) < 3 {
		t.Fatalf("task history: %v", states)
	}
}

func TestTenancyRouting(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	// The default workspace is reachable under its account/workspace prefix
	// and serves the same data as /api.
	srv := s.Config.Handler.(*Server)
	ws := srv.defWS
	prefix := "/api/accounts/" + ws.AccountID.String() + "/workspaces/" + ws.ID.String()
	flow := s.must("POST", prefix+"/flows/", map[string]any{"name": "scoped"}, 201)
	got := s.must("GET", "/api/flows/"+flow["id"].(string), nil, 200)
	if got["name"] != "scoped" {
		t.Fatalf("prefix routing: %v", got)
	}
}

func TestConcurrencyLeases(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	none := s.must("POST", "/api/v2/concurrency_limits/increment-with-lease", map[string]any{"names": []string{"tag:x"}, "slots": 1, "lease_duration": 60}, 200)
	if len(none["limits"].([]any)) != 0 {
		t.Fatalf("no limits expected: %v", none)
	}
	s.must("POST", "/api/v2/concurrency_limits/", map[string]any{"name": "tag:db", "limit": 1}, 201)
	s.must("POST", "/api/v2/concurrency_limits/", map[string]any{"name": "tag:db", "limit": 1}, 409)
	first := s.must("POST", "/api/v2/concurrency_limits/increment-with-lease", map[string]any{"names": []string{"tag:db"}, "slots": 1, "lease_duration": 60}, 200)
	if len(first["limits"].([]any)) != 1 {
		t.Fatalf("limit expected: %v", first)
	}
	code, _ := s.do("POST", "/api/v2/concurrency_limits/increment-with-lease", map[string]any{"names": []string{"tag:db"}, "slots": 1, "lease_duration": 60})
	if code != http.StatusLocked {
		t.Fatalf("second acquisition: %d, want 423", code)
	}
	s.must("POST", "/api/v2/concurrency_limits/leases/"+first["lease_id"].(string)+"/renew", map[string]any{"lease_duration": 120}, 204)
	s.must("POST", "/api/v2/concurrency_limits/decrement-with-lease", map[string]any{"lease_id": first["lease_id"]}, 204)
	s.must("POST", "/api/v2/concurrency_limits/increment-with-lease", map[string]any{"names": []string{"tag:db"}, "slots": 1, "lease_duration": 60}, 200)
	lim := s.must("GET", "/api/v2/concurrency_limits/tag:db", nil, 200)
	if lim["active_slots"].(float64) != 1 {
		t.Fatalf("active slots: %v", lim)
	}
	s.must("PATCH", "/api/v2/concurrency_limits/tag:db", map[string]any{"limit": 2}, 204)
	_, all := s.do("POST", "/api/v2/concurrency_limits/filter", nil)
	if len(all.([]any)) != 1 {
		t.Fatalf("filter limits: %v", all)
	}
	s.must("DELETE", "/api/v2/concurrency_limits/tag:db", nil, 204)
}

func TestEventsREST(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var evs []map[string]any
	for i := 0; i < 60; i++ {
		evs = append(evs, map[string]any{"id": newUUID(), "occurred": now, "event": "test.thing.happened",
			"resource": map[string]string{"prefect.resource.id": "test.thing"}, "payload": map[string]any{}})
	}
	s.must("POST", "/api/events", evs, 204)
	page := s.must("POST", "/api/events/filter", map[string]any{"limit": 50}, 200)
	if len(page["events"].([]any)) != 50 || page["total"].(float64) != 60 || page["next_page"] == nil {
		t.Fatalf("page 1: total %v next %v", page["total"], page["next_page"])
	}
	u := page["next_page"].(string)
	next := s.must("GET", u[strings.Index(u, "/api/"):], nil, 200)
	if len(next["events"].([]any)) != 10 || next["next_page"] != nil {
		t.Fatalf("page 2: %v events", len(next["events"].([]any)))
	}
	_, counts := s.do("POST", "/api/events/count-by/event", map[string]any{})
	if c := counts.([]any); len(c) != 1 || c[0].(map[string]any)["count"].(float64) != 60 {
		t.Fatalf("count-by: %v", counts)
	}
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	_, doc := s.do("GET", "/api/openapi.json", nil)
	paths := doc.(map[string]any)["paths"].(map[string]any)
	srv := s.Config.Handler.(*Server)
	for _, rt := range srv.routes {
		ops, ok := paths[rt.path].(map[string]any)
		if !ok || ops[strings.ToLower(rt.method)] == nil {
			t.Errorf("route %s %s is missing from the OpenAPI document", rt.method, rt.path)
			continue
		}
		if rt.body != nil {
			o := ops[strings.ToLower(rt.method)].(map[string]any)
			if o["requestBody"] == nil {
				t.Errorf("route %s %s has a body but no requestBody schema", rt.method, rt.path)
			}
		}
	}
	schemas := doc.(map[string]any)["components"].(map[string]any)["schemas"].(map[string]any)
	fr := schemas["FlowRunCreate"].(map[string]any)
	if req := fr["required"].([]any); len(req) != 1 || req[0] != "flow_id" {
		t.Fatalf("FlowRunCreate.required = %v; the validator and the spec disagree", req)
	}
}

func newUUID() string { return model.NewID().String() }

func TestFlowRunHistory(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "h"}, 201)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, st := range []string{"COMPLETED", "COMPLETED", "FAILED"} {
		s.must("POST", "/api/flow_runs/", map[string]any{"flow_id": flow["id"], "state": map[string]any{"type": "SCHEDULED",
			"state_details": map[string]any{"scheduled_time": base.Add(time.Duration(i) * 90 * time.Minute).Format(time.RFC3339)}}}, 201)
		_ = st
	}
	_, out := s.do("POST", "/api/flow_runs/history", map[string]any{"history_start": base.Format(time.RFC3339),
		"history_end": base.Add(4 * time.Hour).Format(time.RFC3339), "history_interval_seconds": 3600})
	iv, ok := out.([]any)
	if !ok || len(iv) != 4 {
		t.Fatalf("want 4 intervals, got %v", out)
	}
	counts := []int{}
	for _, x := range iv {
		n := 0
		for _, st := range x.(map[string]any)["states"].([]any) {
			n += int(st.(map[string]any)["count_runs"].(float64))
		}
		counts = append(counts, n)
	}
	if counts[0] != 1 || counts[1] != 1 || counts[2] != 0 || counts[3] != 1 {
		t.Fatalf("bucket counts %v, want [1 1 0 1]", counts)
	}
	// As in Prefect, a range of more than 500 intervals is cut to 500.
	code, out := s.do("POST", "/api/flow_runs/history", map[string]any{"history_start": base.Format(time.RFC3339),
		"history_end": base.Add(1000 * time.Hour).Format(time.RFC3339), "history_interval_seconds": 60})
	if iv, _ := out.([]any); code != 200 || len(iv) != 500 {
		t.Fatalf("1000 h in 60 s intervals: %d, %d intervals, want 200 and 500", code, len(iv))
	}
}

// TestFlowRunHistoryRejectsBadIntervals: intervals that panicked (integer
// divide by zero at 1e-10) or overflowed (2.5e16) are clear 422s, as are
// the negative and sub-second ones Prefect refuses.
func TestFlowRunHistoryRejectsBadIntervals(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, path := range []string{"/api/flow_runs/history", "/api/task_runs/history"} {
		for _, secs := range []float64{1e-10, 0.5, 0, -3, 2.5e16, 1e300} {
			code, out := s.do("POST", path, map[string]any{"history_start": base.Format(time.RFC3339),
				"history_end": base.Add(time.Hour).Format(time.RFC3339), "history_interval_seconds": secs})
			detail, _ := out.(map[string]any)["detail"].(string)
			if code != 422 || !strings.Contains(detail, "history_interval_seconds") {
				t.Errorf("%s interval %g: %d %v, want 422 naming history_interval_seconds", path, secs, code, out)
			}
		}
	}
	// A huge but representable interval is one bucket; an empty range none.
	for _, tc := range []struct {
		secs float64
		end  time.Time
		n    int
	}{{1e9, base.Add(time.Hour), 1}, {60, base, 0}, {60, base.Add(-time.Hour), 0}} {
		code, out := s.do("POST", "/api/flow_runs/history", map[string]any{"history_start": base.Format(time.RFC3339),
			"history_end": tc.end.Format(time.RFC3339), "history_interval_seconds": tc.secs})
		if iv, _ := out.([]any); code != 200 || len(iv) != tc.n {
			t.Errorf("interval %g to %v: %d %v, want 200 with %d intervals", tc.secs, tc.end, code, out, tc.n)
		}
	}
}

func TestMetricsAndRequestID(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.must("GET", "/api/health", nil, 200)
	s.do("GET", "/api/flow_runs/"+newUUID(), nil)
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("X-Request-Id") == "" {
		t.Fatal("responses carry a request id")
	}
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`baton_http_request_duration_seconds_count{route="GET /health",status="200"} 1`,
		`baton_http_request_duration_seconds_count{route="GET /flow_runs/{id}",status="404"} 1`,
		"baton_events_received_total",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// nested returns a JSON value nested depth levels deep.
func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth-1) + "[]" + strings.Repeat("}", depth-1)
}

// TestDeeplyNestedJSON: parameters nested past SQLite's JSON depth limit
// (1000) passed the decoder and failed in the store with a 500; they are
// refused with a 422, and a document nested within the limit round-trips.
func TestDeeplyNestedJSON(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "deep"}, 201)
	for _, depth := range []int{999, 1001, 5000} {
		body := `{"flow_id":"` + flow["id"].(string) + `","parameters":` + nested(depth) + `}`
		code, out := s.do("POST", "/api/flow_runs/", body)
		if msg := fmt.Sprint(out); code != 422 || !strings.Contains(msg, "nested") {
			t.Errorf("parameters nested %d deep: %d %.200s, want 422 about nesting", depth, code, msg)
		}
	}
	body := `{"flow_id":"` + flow["id"].(string) + `","parameters":` + nested(400) + `}`
	run := s.must("POST", "/api/flow_runs/", body, 201)
	s.must("GET", "/api/flow_runs/"+run["id"].(string), nil, 200)
	s.must("POST", "/api/flow_runs/filter", map[string]any{}, 200)
}

// testKeys is a keyring with a fresh random key, as a server's first start
// would create.
func testKeys(t testing.TB) *blocks.Keyring {
	t.Helper()
	text, err := blocks.NewKeyText()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := blocks.DecodeKey(text)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := blocks.NewKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// mustAny is must for a response that is not an object (a list, a number).
func (s *testServer) mustAny(method, path string, body any, want int) any {
	s.t.Helper()
	code, out := s.do(method, path, body)
	if code != want {
		s.t.Fatalf("%s %s: status %d, want %d; body %v", method, path, code, want, out)
	}
	return out
}
