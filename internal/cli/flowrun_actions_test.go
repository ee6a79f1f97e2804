package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

func TestFlowRunRetryAndDelete(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "server")
	e := newTestEnv(t)
	e.vars["BATON_API_URL"] = srv.api
	c, err := (&app{env: Env{Getenv: e.getenv}}).client()
	if err != nil {
		t.Fatal(err)
	}
	e.mustRun("work-pool", "create", "retry-pool")
	e.mustRun("deployment", "create", "again", "--flow", "retry-flow", "--pool", "retry-pool", "--command", "echo ran")
	runID := func(out string) string {
		return strings.TrimSuffix(strings.SplitN(strings.SplitN(out, "(", 2)[1], ")", 2)[0], ")")
	}
	id := runID(e.mustRun("deployment", "run", "retry-flow/again"))
	type run struct {
		State struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"state"`
		RunCount int `json:"run_count"`
	}
	read := func(id string) run {
		var r run
		if err := c.Do(t.Context(), "GET", "/flow_runs/"+id, nil, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}

	// A run that has not ended cannot be retried.
	code, _, errs := e.run("", "flow-run", "retry", id)
	if code != 1 || !strings.Contains(errs, "is Scheduled; only a run that ended") {
		t.Errorf("retry of a scheduled run: %d %q", code, errs)
	}

	// A worker runs it; once it has ended, retry schedules it again and the
	// worker runs it a second time.
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	wout := &lockedBuffer{}
	go func() {
		done <- Run(ctx, e.env(strings.NewReader(""), wout, wout), []string{"worker", "start", "--pool", "retry-pool", "--heartbeat", "1s"})
	}()
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("worker did not stop")
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for read(id).State.Type != "COMPLETED" {
		if time.Now().After(deadline) {
			t.Fatalf("the first run did not complete: %+v\n%s", read(id), wout.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	out := e.mustRun("flow-run", "retry", id, "--watch", "--timeout", "60s")
	if !strings.Contains(out, "is scheduled again") || !strings.Contains(out, "/runs/flow-run/"+id) || !strings.Contains(out, "Completed") {
		t.Errorf("retry --watch:\n%s", out)
	}
	if r := read(id); r.State.Type != "COMPLETED" || r.RunCount != 2 {
		t.Errorf("after the retry: %+v (want Completed, run_count 2)", r)
	}
	var states []struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	if err := c.Do(t.Context(), "GET", "/flow_run_states/?flow_run_id="+id, nil, &states); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(states)
	if !strings.Contains(string(b), `"message":"Retried via CLI"`) {
		t.Errorf("no 'Retried via CLI' state in the history: %s", b)
	}

	// A run without a deployment has no worker to run it again.
	var loose struct {
		ID string `json:"id"`
	}
	var flow struct {
		ID string `json:"id"`
	}
	if err := c.Do(t.Context(), "POST", "/flows/", map[string]any{"name": "loose"}, &flow); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(t.Context(), "POST", "/flow_runs/", map[string]any{"flow_id": flow.ID, "state": map[string]any{"type": "FAILED"}}, &loose); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := e.run("", "flow-run", "retry", loose.ID); code != 1 || !strings.Contains(errs, "has no deployment") {
		t.Errorf("retry without a deployment: %d %q", code, errs)
	}

	// Delete asks for --yes off a terminal, then deletes.
	if code, _, errs := e.run("", "flow-run", "delete", loose.ID); code != 2 || !strings.Contains(errs, "pass --yes") {
		t.Errorf("delete without --yes: %d %q", code, errs)
	}
	if out := e.mustRun("flow-run", "delete", loose.ID, "--yes"); out != "Deleted flow run "+loose.ID+".\n" {
		t.Errorf("delete: %q", out)
	}
	if code, _, errs := e.run("", "flow-run", "delete", loose.ID, "-y"); code != 1 || !strings.Contains(errs, "no flow run has the id "+loose.ID) {
		t.Errorf("delete again: %d %q", code, errs)
	}
	if code, _, errs := e.run("", "flow-run", "retry", "nope"); code != 2 || !strings.Contains(errs, "is not a flow run id") {
		t.Errorf("retry of a bad id: %d %q", code, errs)
	}
}

// --watch prints every state the run enters, also those it passes through
// between two polls (a quick flow is Running for milliseconds): the README
// promises "each state".
func TestWatchPrintsEveryState(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "server")
	e := newTestEnv(t)
	e.vars["BATON_API_URL"] = srv.api
	e.mustRun("work-pool", "create", "watch-pool")
	e.mustRun("deployment", "create", "quick", "--flow", "watch-flow", "--pool", "watch-pool", "--command", "true")
	out := e.mustRun("deployment", "run", "watch-flow/quick")
	id, err := model.ParseID(strings.SplitN(strings.SplitN(out, "(", 2)[1], ")", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	wout := &lockedBuffer{}
	tick := make(chan time.Time)
	a := &app{env: e.env(strings.NewReader(""), wout, wout), watchTick: func() <-chan time.Time { return tick }}
	c, err := a.client()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.watchRun(t.Context(), c, id, time.Minute) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(wout.String(), "Scheduled") {
		if time.Now().After(deadline) {
			t.Fatalf("watch printed no Scheduled: %q", wout.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Between two polls, the run goes all the way to Completed.
	for _, typ := range []string{"PENDING", "RUNNING", "COMPLETED"} {
		var res model.OrchestrationResult
		if err := c.Do(t.Context(), "POST", "/flow_runs/"+id.String()+"/set_state", map[string]any{"state": map[string]any{"type": typ}, "force": true}, &res); err != nil {
			t.Fatal(err)
		}
		if res.Status != model.StatusAccept {
			t.Fatalf("%s: %+v", typ, res)
		}
	}
	var werr error
	select {
	case tick <- time.Now():
		select {
		case werr = <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("watch did not end: %q", wout.String())
		}
	case werr = <-done: // a watch that does not wait for its tick
	case <-time.After(30 * time.Second):
		t.Fatalf("watch did not poll again: %q", wout.String())
	}
	if werr != nil {
		t.Fatalf("watch: %v\n%s", werr, wout.String())
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(wout.String()), "\n") {
		f := strings.Fields(line)
		names = append(names, f[len(f)-1])
	}
	if strings.Join(names, " ") != "Scheduled Pending Running Completed" {
		t.Errorf("watch printed %q, want each state in order", wout.String())
	}
}
