package api

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// TestRunGraphAtTheNodeLimit: the run page draws its graph from GET
// /flow_runs/{id}/graph-v2 alone, so a run of exactly maxGraphNodes task
// runs must answer whole (every node, every edge), and one more task run
// must answer Prefect's 400 naming the limit (the page then says the graph
// is too large and lists the task runs instead).
//
// It writes 10,001 task runs, which takes minutes under the race detector,
// so it runs in make test-go's second, race-free pass.
func TestRunGraphAtTheNodeLimit(t *testing.T) {
	if raceDetector {
		t.Skip("10,001 task runs: run without -race (make test-go does)")
	}
	t.Parallel()
	srv := newTestAPI(t, nil)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	s := &testServer{Server: hs, t: t}
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "wide"}, 201)
	run := s.must("POST", "/api/flow_runs/", map[string]any{"flow_id": flow["id"], "state": map[string]any{"type": "RUNNING"}}, 201)
	runID, err := model.ParseID(run["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ws := srv.defWS.ID
	// 50 chains: each task run consumes the one 50 before it.
	const chains = 50
	base := time.Now().Add(-time.Hour)
	var prev [chains]model.ID
	// Written in one batch of client-event records (10,000 single creates
	// take over a minute under the race detector).
	taskRun := func(n int) store.TaskRunRecord {
		start := model.NewTime(base.Add(time.Duration(n) * 100 * time.Millisecond))
		end := model.NewTime(start.Add(50 * time.Millisecond))
		st := model.State{ID: model.NewID(), Type: model.StateCompleted, Name: "Completed", Timestamp: end}
		tr := model.TaskRun{ID: model.NewID(), FlowRunID: &runID, TaskKey: fmt.Sprintf("step-%d", n%chains), DynamicKey: fmt.Sprint(n),
			Name: fmt.Sprintf("step-%d", n), TaskInputs: map[string][]model.TaskRunInput{}, StartTime: &start, EndTime: &end, ExpectedStartTime: &start,
			State: &st, StateID: &st.ID, StateType: &st.Type, StateName: &st.Name, Created: start, Updated: end}
		if !prev[n%chains].IsNil() {
			id := prev[n%chains]
			tr.TaskInputs["x"] = []model.TaskRunInput{{InputType: "task_run", ID: &id}}
		}
		prev[n%chains] = tr.ID
		return store.TaskRunRecord{Run: tr, State: st}
	}
	recs := make([]store.TaskRunRecord, 0, maxGraphNodes)
	for n := range maxGraphNodes {
		recs = append(recs, taskRun(n))
	}
	if err := srv.cfg.Store.TaskRunRecord(ctx, ws, recs); err != nil {
		t.Fatal(err)
	}

	path := "/api/flow_runs/" + runID.String() + "/graph-v2"
	t0 := time.Now()
	g := s.must("GET", path, nil, 200)
	t.Logf("graph-v2 of %d task runs answered in %s", maxGraphNodes, time.Since(t0))
	nodes := g["nodes"].([]any)
	if len(nodes) != maxGraphNodes {
		t.Fatalf("%d nodes, want %d", len(nodes), maxGraphNodes)
	}
	if roots := g["root_node_ids"].([]any); len(roots) != chains {
		t.Fatalf("%d roots, want %d", len(roots), chains)
	}
	edges := 0
	for _, pair := range nodes {
		n := pair.([]any)[1].(map[string]any)
		edges += len(n["parents"].([]any))
		if n["state_type"] != "COMPLETED" || n["end_time"] == nil || n["label"] == "" {
			t.Fatalf("node %v", n)
		}
	}
	if edges != maxGraphNodes-chains {
		t.Fatalf("%d parent edges, want %d", edges, maxGraphNodes-chains)
	}

	if err := srv.cfg.Store.TaskRunRecord(ctx, ws, []store.TaskRunRecord{taskRun(maxGraphNodes)}); err != nil {
		t.Fatal(err)
	}
	code, body := s.do("GET", path, nil)
	if code != 400 || !strings.Contains(fmt.Sprint(body), fmt.Sprint(maxGraphNodes)) {
		t.Fatalf("graph of %d nodes: %d %v, want 400 naming the limit", maxGraphNodes+1, code, body)
	}
}
