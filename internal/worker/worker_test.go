package worker

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/api"
	"github.com/batonhq/baton/internal/api/eventsocket"
	"github.com/batonhq/baton/internal/automations"
	"github.com/batonhq/baton/internal/blocks"
	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/store/sqlite"
	"github.com/batonhq/baton/internal/tenancy"
)

// newAPI starts a real Baton API over a real SQLite file.
func newAPI(t *testing.T) *Client {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "baton.db")})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	bus := events.NewBus()
	rs, err := runs.New(runs.Config{Store: st, Publisher: bus, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ing := events.NewIngest(events.IngestConfig{Store: st, Recorder: rs, Bus: bus, Logger: log})
	if err := ing.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ten, err := tenancy.New(tenancy.Config{Store: st, Logger: log}) // server mode, as production's default
	if err != nil {
		t.Fatal(err)
	}
	sockets := eventsocket.NewSockets(eventsocket.SocketsConfig{Ingest: ing, Bus: bus, Store: st, Logger: log})
	raw := make([]byte, 32)
	keys, err := blocks.NewKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	auto, err := automations.New(automations.Config{Store: st, Runs: rs, Publisher: bus, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(ctx, api.Config{Store: st, Runs: rs, Automations: auto, Ingest: ing, Bus: bus, Sockets: sockets, Logger: log, Version: "test", Keys: keys, Tenancy: ten})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = ing.Stop(sctx)
		_ = st.Close()
	})
	return &Client{BaseURL: hs.URL + "/api"}
}

// shellDeployment creates a pool and a deployment running command.
func shellDeployment(t *testing.T, c *Client, pool, command string) model.Deployment {
	t.Helper()
	ctx := context.Background()
	var f model.Flow
	if err := c.Do(ctx, "POST", "/flows/", map[string]any{"name": "sh-" + pool}, &f); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "POST", "/work_pools/", map[string]any{"name": pool, "type": "process"}, nil); err != nil {
		t.Fatal(err)
	}
	var d model.Deployment
	err := c.Do(ctx, "POST", "/deployments/", map[string]any{"name": "d", "flow_id": f.ID, "work_pool_name": pool,
		"job_variables": map[string]any{"command": command, "env": map[string]any{"GREETING": "hello"}}, "parameters": map[string]any{"who": "world"}}, &d)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func startWorker(t *testing.T, c *Client, pool string) {
	t.Helper()
	w, err := New(Config{Client: c, Pool: pool, Heartbeat: 200 * time.Millisecond, PollWait: time.Second, KillGrace: 2 * time.Second,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("worker did not stop")
		}
	})
}

func waitRun(t *testing.T, c *Client, id model.ID, cond func(model.FlowRun) bool, what string) model.FlowRun {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var r model.FlowRun
		if err := c.Do(context.Background(), "GET", "/flow_runs/"+id.String(), nil, &r); err != nil {
			t.Fatal(err)
		}
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("flow run never %s; state %+v", what, r.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func stateIs(types ...model.StateType) func(model.FlowRun) bool {
	return func(r model.FlowRun) bool {
		for _, ty := range types {
			if r.StateType != nil && *r.StateType == ty {
				return true
			}
		}
		return false
	}
}

func TestWorkerRunsShellDeployment(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	ctx := context.Background()
	dir := t.TempDir()
	d := shellDeployment(t, c, "sh", "true")
	if err := c.Do(ctx, "PATCH", "/deployments/"+d.ID.String(), map[string]any{"job_variables": map[string]any{
		"command": "cd " + dir + " && " + `echo "$GREETING $BATON_PARAM_WHO n=$BATON_PARAM_N"; pwd; echo oops >&2; exit ${BATON_PARAM_CODE:-0}`,
		"env":     map[string]any{"GREETING": "hello"}}}, nil); err != nil {
		t.Fatal(err)
	}
	startWorker(t, c, "sh")

	var run model.FlowRun
	start := time.Now()
	if err := c.Do(ctx, "POST", "/deployments/"+d.ID.String()+"/create_flow_run", map[string]any{"parameters": map[string]any{"n": 3}}, &run); err != nil {
		t.Fatal(err)
	}
	done := waitRun(t, c, run.ID, stateIs(model.StateCompleted, model.StateFailed, model.StateCrashed), "finished")
	if *done.StateType != model.StateCompleted {
		t.Fatalf("run ended %s: %v", *done.StateType, done.State.Message)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("run took %v", took)
	}
	if done.Labels["prefect.worker.type"] != "process" || done.Labels["prefect.work-pool.name"] != "sh" || done.InfrastructurePID == nil {
		t.Fatalf("claim bookkeeping missing: labels %v pid %v", done.Labels, done.InfrastructurePID)
	}
	var logs []model.Log
	deadline := time.Now().Add(5 * time.Second)
	for len(logs) < 3 && time.Now().Before(deadline) {
		_ = c.Do(ctx, "POST", "/logs/filter", map[string]any{"logs": map[string]any{"flow_run_id": map[string]any{"any_": []model.ID{run.ID}}}, "sort": "TIMESTAMP_ASC"}, &logs)
		time.Sleep(50 * time.Millisecond)
	}
	var lines []string
	for _, l := range logs {
		lines = append(lines, strconv.Itoa(l.Level)+" "+l.Message)
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{"20 hello world n=3", "20 " + dir, "40 oops"} {
		if !strings.Contains(got, want) {
			t.Fatalf("logs %q lack %q", got, want)
		}
	}

	// A non-zero exit fails the run.
	if err := c.Do(ctx, "POST", "/deployments/"+d.ID.String()+"/create_flow_run", map[string]any{"parameters": map[string]any{"code": 3}}, &run); err != nil {
		t.Fatal(err)
	}
	failed := waitRun(t, c, run.ID, stateIs(model.StateCompleted, model.StateFailed, model.StateCrashed), "finished")
	if *failed.StateType != model.StateFailed || !strings.Contains(*failed.State.Message, "status code 3") {
		t.Fatalf("exit 3: %s %v", *failed.StateType, failed.State.Message)
	}

	// The worker reports itself as Prefect's workers do.
	var page struct {
		Events []model.Event `json:"events"`
	}
	if err := c.Do(ctx, "POST", "/events/filter", map[string]any{"filter": map[string]any{"event": map[string]any{"prefix": []string{"prefect.worker."}}, "order": "ASC"}}, &page); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	var executed *model.Event
	for i, e := range page.Events {
		counts[e.Event]++
		if e.Event == "prefect.worker.executed-flow-run" {
			executed = &page.Events[i]
		}
		if !strings.HasPrefix(e.ResourceID(), "prefect.worker.process.") {
			t.Fatalf("worker event resource %v", e.Resource)
		}
	}
	// Each run submitted is reported executed (at least the two runs above).
	if counts["prefect.worker.started"] != 1 || counts["prefect.worker.submitted-flow-run"] < 2 || counts["prefect.worker.executed-flow-run"] != counts["prefect.worker.submitted-flow-run"] {
		var runs []model.FlowRun
		_ = c.Do(ctx, "POST", "/flow_runs/filter", map[string]any{}, &runs)
		for _, e := range page.Events {
			t.Logf("%s %v", e.Event, e.Related)
		}
		t.Fatalf("worker events %v (%d runs)", counts, len(runs))
	}
	if executed == nil || executed.Follows == nil || executed.Related[0]["prefect.infrastructure.status-code"] == "" {
		t.Fatalf("executed-flow-run event %+v", executed)
	}
}

func TestWorkerCancellation(t *testing.T) {
	t.Parallel()
	c := newAPI(t)
	ctx := context.Background()
	// The shell ignores SIGTERM, so only the SIGKILL after the grace ends it.
	d := shellDeployment(t, c, "cx", `trap "" TERM; echo started; sleep 60`)
	startWorker(t, c, "cx")
	var run model.FlowRun
	if err := c.Do(ctx, "POST", "/deployments/"+d.ID.String()+"/create_flow_run", map[string]any{}, &run); err != nil {
		t.Fatal(err)
	}
	running := waitRun(t, c, run.ID, func(r model.FlowRun) bool { return stateIs(model.StateRunning)(r) && r.InfrastructurePID != nil }, "running")
	pid, _ := strconv.Atoi((*running.InfrastructurePID)[strings.LastIndex(*running.InfrastructurePID, ":")+1:])
	var res model.OrchestrationResult
	if err := c.Do(ctx, "POST", "/flow_runs/"+run.ID.String()+"/set_state", map[string]any{"state": map[string]any{"type": "CANCELLING"}}, &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != model.StatusAccept {
		t.Fatalf("cancelling: %+v", res)
	}
	waitRun(t, c, run.ID, stateIs(model.StateCancelled), "cancelled")
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("process %d still alive after cancellation", pid)
	}
}

func TestBuildJob(t *testing.T) {
	t.Parallel()
	w := &Worker{pool: model.WorkPool{BaseJobTemplate: json.RawMessage(`{"job_configuration":{},"variables":{"properties":{
		"command":{"default":"python -m prefect.engine"},"env":{"default":{"A":"pool","B":"pool"}},"working_dir":{"default":"/tmp"}}}}`)}}
	path := "/srv/app"
	dep := &model.Deployment{Path: &path, JobVariables: json.RawMessage(`{"env":{"B":"dep"}}`)}
	job := w.buildJob(dep, model.FlowRun{JobVariables: json.RawMessage(`{"working_dir":"/run"}`)})
	if job.Shell || job.Command != "python -m prefect.engine" || job.WorkingDir != "/run" || job.Env["B"] != "dep" || job.Env["A"] != "" {
		t.Fatalf("job %+v", job)
	}
	job = w.buildJob(&model.Deployment{JobVariables: json.RawMessage(`{"command":"make all","working_dir":null}`), Path: &path}, model.FlowRun{})
	if !job.Shell || job.Command != "make all" {
		t.Fatalf("shell job %+v", job)
	}
	if got := envName("my-param.x"); got != "MY_PARAM_X" {
		t.Fatalf("envName = %q", got)
	}
}
