package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// claimHook is an HTTP transport for the worker's client that runs a hook
// before the worker's first PENDING proposal reaches the (real) server and
// records the server's answer to it.
type claimHook struct {
	next   http.RoundTripper
	before func()
	once   sync.Once
	mu     sync.Mutex
	answer *model.OrchestrationResult
	done   chan struct{}
}

func (h *claimHook) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/set_state") || req.Body == nil {
		return h.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	var sr model.SetStateRequest
	first := false
	if json.Unmarshal(body, &sr) == nil && sr.State.Type == model.StatePending {
		h.once.Do(func() { first = true; h.before() })
	}
	resp, err := h.next.RoundTrip(req)
	if !first || err != nil {
		return resp, err
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	var res model.OrchestrationResult
	_ = json.Unmarshal(raw, &res)
	h.mu.Lock()
	h.answer = &res
	h.mu.Unlock()
	close(h.done)
	return resp, nil
}

// A poll's answer can be stale: the run it returned may have been claimed
// and finished by someone else before this worker proposes PENDING.
// Prefect's policy lets a COMPLETED run without a persisted result go back
// to PENDING, so a worker claiming blindly would run it a second time (seen
// once as three submitted-flow-run events for two runs). The worker claims
// only in the state its poll saw.
func TestWorkerDoesNotClaimARunThatMovedOnAfterItsPoll(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	ctx := context.Background()
	d := shellDeployment(t, c, "stale", "true")
	var run model.FlowRun
	if err := c.Do(ctx, "POST", "/deployments/"+d.ID.String()+"/create_flow_run", map[string]any{}, &run); err != nil {
		t.Fatal(err)
	}
	var finished model.State
	hook := &claimHook{next: http.DefaultTransport, done: make(chan struct{}), before: func() {
		// Another worker claims, runs and finishes the run first.
		for _, st := range []model.StateType{model.StatePending, model.StateRunning, model.StateCompleted} {
			var res model.OrchestrationResult
			if err := c.Do(ctx, "POST", "/flow_runs/"+run.ID.String()+"/set_state", map[string]any{"state": map[string]any{"type": st}}, &res); err != nil || res.Status != model.StatusAccept {
				t.Errorf("other worker's %s: %+v %v", st, res, err)
				return
			}
			finished = *res.State
		}
	}}
	wc := &Client{BaseURL: c.BaseURL, HTTP: &http.Client{Transport: hook, Timeout: 30 * time.Second}}
	w, err := New(Config{Client: wc, Pool: "stale", Heartbeat: time.Second, PollWait: time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { defer close(stopped); _ = w.Run(wctx) }()
	defer func() { cancel(); <-stopped }()
	select {
	case <-hook.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the worker never claimed the run")
	}
	hook.mu.Lock()
	answer := *hook.answer
	hook.mu.Unlock()
	if answer.Status != model.StatusAbort {
		t.Fatalf("the stale claim was answered %+v; the finished run would run again", answer)
	}
	var got model.FlowRun
	if err := c.Do(ctx, "GET", "/flow_runs/"+run.ID.String(), nil, &got); err != nil {
		t.Fatal(err)
	}
	if got.StateID == nil || *got.StateID != finished.ID {
		t.Fatalf("the finished run moved on to %v", got.State)
	}
}

// Many workers long-polling one pool: every run is claimed (and its
// process started) exactly once.
func TestConcurrentWorkersClaimEachRunOnce(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	ctx := context.Background()
	d := shellDeployment(t, c, "many", "true")
	const workers, runs = 4, 24
	for i := range workers {
		w, err := New(Config{Client: c, Pool: "many", Name: fmt.Sprintf("w%d", i), Limit: 3, Heartbeat: time.Second, PollWait: time.Second,
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() { defer close(stopped); _ = w.Run(wctx) }()
		defer func() { cancel(); <-stopped }()
	}
	ids := make([]model.ID, runs)
	for i := range ids {
		var r model.FlowRun
		if err := c.Do(ctx, "POST", "/deployments/"+d.ID.String()+"/create_flow_run", map[string]any{}, &r); err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
	}
	for _, id := range ids {
		waitRun(t, c, id, stateIs(model.StateCompleted, model.StateFailed, model.StateCrashed), "finished")
	}
	for _, id := range ids {
		var states []model.State
		if err := c.Do(ctx, "GET", "/flow_run_states/?flow_run_id="+id.String(), nil, &states); err != nil {
			t.Fatal(err)
		}
		var types []string
		pending := 0
		for _, s := range states {
			types = append(types, string(s.Type))
			if s.Type == model.StatePending {
				pending++
			}
		}
		if pending != 1 {
			t.Errorf("run %s claimed %d times: %v", id, pending, types)
		}
	}
	// Each process start is reported once (the events are sent before the
	// run finishes, recorded asynchronously).
	var counts []struct {
		Count int `json:"count"`
	}
	var n int
	for deadline := time.Now().Add(5 * time.Second); ; {
		if err := c.Do(ctx, "POST", "/events/count-by/event", map[string]any{"filter": map[string]any{"event": map[string]any{"name": []string{"prefect.worker.submitted-flow-run"}}}}, &counts); err != nil {
			t.Fatal(err)
		}
		n = 0
		for _, c := range counts {
			n += c.Count
		}
		if n >= runs || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n != runs {
		t.Fatalf("%d submitted-flow-run events for %d runs", n, runs)
	}
}
