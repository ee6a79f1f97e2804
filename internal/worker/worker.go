package worker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// Config configures a Worker.
type Config struct {
	// Client reaches the API (required).
	Client *Client
	// Pool is the work pool to serve (required); it is created as a
	// "process" pool when missing.
	Pool string
	// Queues restricts polling to these queues (empty: all of the pool's).
	Queues []string
	// Name identifies the worker in heartbeats and run labels.
	Name string
	// Limit is how many runs may execute at once (default 5).
	Limit int
	// Heartbeat is the interval of worker and run heartbeats (default 10 s).
	Heartbeat time.Duration
	// PollWait is how long one long poll may be held (default 10 s).
	PollWait time.Duration
	// KillGrace is the time between SIGTERM and SIGKILL on cancellation
	// (default 30 s).
	KillGrace time.Duration
	// Logger receives the worker's diagnostics and the runs' output.
	Logger *slog.Logger
}

// Worker polls a pool and runs its flow runs as subprocesses.
type Worker struct {
	cfg    Config
	c      *Client
	log    *slog.Logger
	poolID model.ID
	pool   model.WorkPool
	slots  chan struct{}
	mu     sync.Mutex
	active map[model.ID]*execution
	// submitting are the runs this worker is claiming or running (from
	// the poll that returned them until their execution ends), so a later
	// poll that returns one again does not start it twice (Prefect's
	// _submitting_flow_run_ids).
	submitting map[model.ID]bool
	wg         sync.WaitGroup
}

// New validates cfg and returns a worker.
func New(cfg Config) (*Worker, error) {
	if cfg.Client == nil || cfg.Pool == "" {
		return nil, errors.New("worker: Client and Pool are required")
	}
	if cfg.Name == "" {
		host, _ := os.Hostname()
		cfg.Name = fmt.Sprintf("BatonWorker %s-%d", host, os.Getpid())
	}
	if cfg.Limit <= 0 {
		cfg.Limit = 5
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 10 * time.Second
	}
	if cfg.PollWait <= 0 {
		cfg.PollWait = 10 * time.Second
	}
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Worker{cfg: cfg, c: cfg.Client, log: cfg.Logger, slots: make(chan struct{}, cfg.Limit), active: map[model.ID]*execution{},
		submitting: map[model.ID]bool{}}, nil
}

// Run serves the pool until ctx ends; then it stops polling, terminates
// running processes (their runs end CRASHED, as Prefect's worker does) and
// returns.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.ensurePool(ctx); err != nil {
		return err
	}
	if err := w.heartbeat(ctx); err != nil {
		return err
	}
	w.log.Info("worker started", "worker", w.cfg.Name, "pool", w.cfg.Pool, "limit", w.cfg.Limit)
	started := w.emit(ctx, "prefect.worker.started", w.related(nil, nil), nil)
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		t := time.NewTicker(w.cfg.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := w.heartbeat(ctx); err != nil && ctx.Err() == nil {
					w.log.Warn("worker heartbeat failed", "err", err)
				}
				w.runHeartbeats(ctx)
			}
		}
	}()
	cancelDone := make(chan struct{})
	go func() { defer close(cancelDone); w.watchCancellations(ctx) }()
	for ctx.Err() == nil {
		if err := w.pollOnce(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("poll failed", "err", err)
			sleep(ctx, 2*time.Second)
		}
	}
	w.mu.Lock()
	for _, ex := range w.active {
		ex.terminate(w.cfg.KillGrace)
	}
	w.mu.Unlock()
	w.wg.Wait()
	<-hbDone
	<-cancelDone
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	w.emit(sctx, "prefect.worker.stopped", w.related(nil, nil), &started)
	cancel()
	w.log.Info("worker stopped", "worker", w.cfg.Name)
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (w *Worker) ensurePool(ctx context.Context) error {
	err := w.c.Do(ctx, "GET", "/work_pools/"+w.cfg.Pool, nil, &w.pool)
	if IsStatus(err, 404) {
		err = w.c.Do(ctx, "POST", "/work_pools/", map[string]any{"name": w.cfg.Pool, "type": "process"}, &w.pool)
		if IsStatus(err, 409) {
			err = w.c.Do(ctx, "GET", "/work_pools/"+w.cfg.Pool, nil, &w.pool)
		}
	}
	if err != nil {
		return fmt.Errorf("worker: work pool %q: %w", w.cfg.Pool, err)
	}
	w.poolID = w.pool.ID
	return nil
}

func (w *Worker) heartbeat(ctx context.Context) error {
	secs := int(w.cfg.Heartbeat.Round(time.Second) / time.Second)
	return w.c.Do(ctx, "POST", "/work_pools/"+w.cfg.Pool+"/workers/heartbeat",
		map[string]any{"name": w.cfg.Name, "heartbeat_interval_seconds": max(secs, 1)}, nil)
}

// pollOnce long-polls for due runs while a slot is free and starts them.
func (w *Worker) pollOnce(ctx context.Context) error {
	// Wait for a free slot before asking for work.
	select {
	case w.slots <- struct{}{}:
		<-w.slots
	case <-ctx.Done():
		return nil
	}
	free := cap(w.slots) - len(w.slots)
	body := map[string]any{
		"scheduled_before": time.Now().UTC().Add(500 * time.Millisecond).Format(time.RFC3339Nano),
		"wait_seconds":     w.cfg.PollWait.Seconds(),
		"limit":            free,
	}
	if len(w.cfg.Queues) > 0 {
		body["work_queue_names"] = w.cfg.Queues
	}
	var due []model.WorkerFlowRun
	if err := w.c.Do(ctx, "POST", "/work_pools/"+w.cfg.Pool+"/get_scheduled_flow_runs", body, &due); err != nil {
		return err
	}
	for _, wr := range due {
		w.mu.Lock()
		busy := w.submitting[wr.FlowRun.ID]
		w.mu.Unlock()
		if busy {
			continue
		}
		select {
		case w.slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		w.mu.Lock()
		w.submitting[wr.FlowRun.ID] = true
		w.mu.Unlock()
		w.wg.Add(1)
		go func(r model.FlowRun) {
			defer w.wg.Done()
			defer func() { <-w.slots }()
			defer func() {
				w.mu.Lock()
				delete(w.submitting, r.ID)
				w.mu.Unlock()
			}()
			if err := w.execute(ctx, r); err != nil {
				w.log.Warn("flow run failed to execute", "flow_run", r.ID, "err", err)
			}
		}(wr.FlowRun)
	}
	if len(due) == 0 {
		// An empty answer came back before the wait ended only if the
		// server does not long-poll; do not spin.
		sleep(ctx, 200*time.Millisecond)
	}
	return nil
}

// setState proposes a state and returns the verdict.
func (w *Worker) setState(ctx context.Context, id model.ID, st model.StateCreate, force bool) (model.OrchestrationResult, error) {
	return w.propose(ctx, id, model.SetStateRequest{State: st, Force: force})
}

func (w *Worker) propose(ctx context.Context, id model.ID, req model.SetStateRequest) (model.OrchestrationResult, error) {
	var res model.OrchestrationResult
	err := w.c.Do(ctx, "POST", "/flow_runs/"+id.String()+"/set_state", req, &res)
	return res, err
}

func strp(s string) *string { return &s }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// jobConfig is what a process job needs.
type jobConfig struct {
	Command    string
	Env        map[string]string
	WorkingDir string
	// Shell runs Command with sh -c and has the worker report the run's
	// states; otherwise the command is Prefect's engine, which reports
	// them itself.
	Shell bool
	// Argv, when set, is executed instead of Command (the engine command
	// that runs a deployment's flow script as its run).
	Argv []string
	// Entrypoint ("script.py:function") is handed to that engine in
	// PREFECT__FLOW_ENTRYPOINT.
	Entrypoint string
}

// environ is the process environment of the job before the run's own
// variables: the worker's, overlaid with the job's env.
func (j jobConfig) environ() []string {
	env := os.Environ()
	for k, v := range j.Env {
		env = append(env, k+"="+v)
	}
	return env
}

// buildJob merges the pool's job defaults, the deployment's and the run's
// job variables.
func (w *Worker) buildJob(dep *model.Deployment, run model.FlowRun) jobConfig {
	vars := map[string]any{}
	var tmpl struct {
		JobConfiguration map[string]any `json:"job_configuration"`
		Variables        struct {
			Properties map[string]struct {
				Default any `json:"default"`
			} `json:"properties"`
		} `json:"variables"`
	}
	_ = json.Unmarshal(w.pool.BaseJobTemplate, &tmpl)
	for k, p := range tmpl.Variables.Properties {
		if p.Default != nil {
			vars[k] = p.Default
		}
	}
	if dep != nil {
		var dv map[string]any
		if json.Unmarshal(dep.JobVariables, &dv) == nil {
			maps.Copy(vars, dv)
		}
	}
	var rv map[string]any
	if json.Unmarshal(run.JobVariables, &rv) == nil {
		maps.Copy(vars, rv)
	}
	job := jobConfig{Env: map[string]string{}}
	if s, ok := vars["command"].(string); ok {
		job.Command = strings.TrimSpace(s)
	}
	if s, ok := vars["working_dir"].(string); ok {
		job.WorkingDir = s
	}
	if env, ok := vars["env"].(map[string]any); ok {
		for k, v := range env {
			if v != nil {
				job.Env[k] = fmt.Sprint(v)
			}
		}
	}
	if job.WorkingDir == "" && dep != nil && dep.Path != nil {
		job.WorkingDir = *dep.Path
	}
	if job.Command == "" {
		job.Command = "python -m prefect.engine"
	}
	job.Shell = !strings.Contains(job.Command, "prefect.engine")
	return job
}

// execution is one running flow-run process.
type execution struct {
	runID     model.ID
	cmd       *exec.Cmd
	mu        sync.Mutex
	cancelled bool
	done      chan struct{}
}

// terminate sends SIGTERM to the process group, then SIGKILL after grace.
func (ex *execution) terminate(grace time.Duration) {
	if ex.cmd.Process == nil {
		return
	}
	pgid := ex.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	go func() {
		select {
		case <-ex.done:
		case <-time.After(grace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
	}()
}

// execute claims and runs one flow run.
func (w *Worker) execute(ctx context.Context, run model.FlowRun) error {
	var dep *model.Deployment
	if run.DeploymentID != nil {
		var d model.Deployment
		err := w.c.Do(ctx, "GET", "/deployments/"+run.DeploymentID.String(), nil, &d)
		if IsStatus(err, 404) {
			_, err = w.setState(ctx, run.ID, model.StateCreate{Type: model.StateCancelled, Message: strp("The deployment of this run no longer exists.")}, true)
			return err
		}
		if err != nil {
			return err
		}
		dep = &d
	}
	// Claim the run only in the state the poll saw it in: a poll's answer
	// can be stale (another worker, or this one's earlier poll, may have
	// claimed and even finished the run since), and Prefect's policy would
	// move a finished run without a persisted result back to PENDING.
	res, err := w.propose(ctx, run.ID, model.SetStateRequest{State: model.StateCreate{Type: model.StatePending}, IfStateID: run.StateID})
	if err != nil {
		return err
	}
	if res.Status != model.StatusAccept || res.State == nil || res.State.Type != model.StatePending {
		return nil // another worker claimed it, or it moved on
	}
	labels := map[string]any{"prefect.worker.name": w.cfg.Name, "prefect.worker.type": "process",
		"prefect.work-pool.name": w.cfg.Pool, "prefect.work-pool.id": w.poolID.String()}
	if err := w.c.Do(ctx, "PATCH", "/flow_runs/"+run.ID.String()+"/labels", labels, nil); err != nil {
		return err
	}
	job := w.buildJob(dep, run)
	log := w.log.With("flow_run", run.ID, "run_name", run.Name)
	if job.Shell && dep != nil {
		if argv, entry := flowScriptCommand(ctx, job, dep.FlowName, deref(dep.Entrypoint)); argv != nil {
			job.Shell, job.Argv, job.Entrypoint = false, argv, entry
			log.Info("the command runs a Prefect flow script: running its flow as this run", "command", strings.Join(argv, " "), "entrypoint", entry)
		}
	}
	if job.Shell {
		if err := w.startRunning(ctx, run.ID); err != nil {
			return err
		}
	}
	cmd := w.command(ctx, job, run)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		msg := fmt.Sprintf("Flow run could not start: %v", err)
		_, serr := w.setState(ctx, run.ID, model.StateCreate{Type: model.StateCrashed, Message: &msg}, false)
		return errors.Join(err, serr)
	}
	submitted := w.emit(ctx, "prefect.worker.submitted-flow-run", w.related(&run, nil), nil)
	ex := &execution{runID: run.ID, cmd: cmd, done: make(chan struct{})}
	w.mu.Lock()
	w.active[run.ID] = ex
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.active, run.ID)
		w.mu.Unlock()
	}()
	pid := fmt.Sprintf("%s:%d", hostname(), cmd.Process.Pid)
	if err := w.c.Do(ctx, "PATCH", "/flow_runs/"+run.ID.String(), map[string]any{"infrastructure_pid": pid}, nil); err != nil {
		log.Warn("could not record the process id", "err", err)
	}
	log.Info("flow run started", "pid", cmd.Process.Pid, "command", job.Command, "dir", job.WorkingDir)
	logs := newLogShipper(w.c, run.ID, w.log, job.Shell)
	var pipes sync.WaitGroup
	for _, p := range []struct {
		r     io.Reader
		level int
	}{{stdout, 20}, {stderr, 40}} {
		pipes.Add(1)
		go func() { defer pipes.Done(); logs.pump(p.r, p.level) }()
	}
	pipes.Wait()
	waitErr := cmd.Wait()
	close(ex.done)
	logs.close(context.WithoutCancel(ctx))
	code := 0
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		code = ee.ExitCode()
	}
	w.emit(context.WithoutCancel(ctx), "prefect.worker.executed-flow-run", w.related(&run, map[string]string{
		"prefect.infrastructure.identifier": pid, "prefect.infrastructure.status-code": fmt.Sprint(code)}), &submitted)
	return w.finish(context.WithoutCancel(ctx), ex, job, waitErr)
}

// startRunning moves a shell run to RUNNING, waiting when told to.
func (w *Worker) startRunning(ctx context.Context, id model.ID) error {
	for {
		res, err := w.setState(ctx, id, model.StateCreate{Type: model.StateRunning}, false)
		if err != nil {
			return err
		}
		switch res.Status {
		case model.StatusAccept:
			return nil
		case model.StatusWait:
			d := 1
			if res.Details.DelaySeconds != nil {
				d = max(*res.Details.DelaySeconds, 1)
			}
			sleep(ctx, time.Duration(d)*time.Second)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		default:
			return fmt.Errorf("server refused RUNNING: %s %s", res.Status, res.Details.Reason)
		}
	}
}

// finish reports the outcome of a process.
func (w *Worker) finish(ctx context.Context, ex *execution, job jobConfig, waitErr error) error {
	code := 0
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		code = ee.ExitCode()
	} else if waitErr != nil {
		code = -1
	}
	ex.mu.Lock()
	cancelled := ex.cancelled
	ex.mu.Unlock()
	if cancelled {
		_, err := w.setState(ctx, ex.runID, model.StateCreate{Type: model.StateCancelled, Message: strp("Flow run was cancelled; its process was terminated.")}, true)
		w.log.Info("flow run cancelled", "flow_run", ex.runID)
		return err
	}
	var run model.FlowRun
	if err := w.c.Do(ctx, "GET", "/flow_runs/"+ex.runID.String(), nil, &run); err != nil {
		return err
	}
	if run.StateType != nil && run.StateType.Terminal() {
		w.log.Info("flow run finished", "flow_run", ex.runID, "state", *run.StateType, "exit_code", code)
		return nil
	}
	var st model.StateCreate
	switch {
	case job.Shell && code == 0:
		st = model.StateCreate{Type: model.StateCompleted}
	case job.Shell:
		st = model.StateCreate{Type: model.StateFailed, Message: strp(fmt.Sprintf("Command exited with status code %d.", code))}
	default:
		st = model.StateCreate{Type: model.StateCrashed, Message: strp(fmt.Sprintf("Flow run infrastructure exited with non-zero status code %d.", code))}
	}
	if run.StateType != nil && *run.StateType == model.StateCancelling {
		st = model.StateCreate{Type: model.StateCancelled, Message: strp("Flow run was cancelled.")}
	}
	_, err := w.setState(ctx, ex.runID, st, false)
	w.log.Info("flow run finished", "flow_run", ex.runID, "state", st.Type, "exit_code", code)
	return err
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}

// command builds the process of a run.
func (w *Worker) command(ctx context.Context, job jobConfig, run model.FlowRun) *exec.Cmd {
	var cmd *exec.Cmd
	switch {
	case job.Argv != nil:
		cmd = exec.Command(job.Argv[0], job.Argv[1:]...)
	case job.Shell:
		cmd = exec.Command("/bin/sh", "-c", job.Command)
	default:
		parts := strings.Fields(job.Command)
		cmd = exec.Command(parts[0], parts[1:]...)
	}
	cmd.Dir = job.WorkingDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	env := os.Environ()
	env = append(env, "PREFECT_API_URL="+w.c.BaseURL, "PREFECT__FLOW_RUN_ID="+run.ID.String(), "BATON_FLOW_RUN_ID="+run.ID.String(),
		"BATON_API_URL="+w.c.BaseURL)
	if w.c.APIKey != "" {
		env = append(env, "PREFECT_API_KEY="+w.c.APIKey, "BATON_API_KEY="+w.c.APIKey)
	}
	if job.Entrypoint != "" {
		env = append(env, "PREFECT__FLOW_ENTRYPOINT="+job.Entrypoint)
	}
	if len(run.Parameters) > 0 {
		env = append(env, "BATON_PARAMETERS="+string(run.Parameters))
		var params map[string]any
		if json.Unmarshal(run.Parameters, &params) == nil {
			keys := make([]string, 0, len(params))
			for k := range params {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v := params[k]
				s, ok := v.(string)
				if !ok {
					b, _ := json.Marshal(v)
					s = string(b)
				}
				env = append(env, "BATON_PARAM_"+envName(k)+"="+s)
			}
		}
	}
	for k, v := range job.Env {
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	_ = ctx // the process outlives ctx on purpose: Run terminates it explicitly
	return cmd
}

// envName upper-cases a parameter name and replaces what an environment
// variable name cannot hold.
func envName(k string) string {
	b := []byte(strings.ToUpper(k))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// runHeartbeats sends a prefect.flow-run.heartbeat event for every run
// this worker is executing, so the server's crash detector can tell a
// live run from one whose machine died.
func (w *Worker) runHeartbeats(ctx context.Context) {
	w.mu.Lock()
	ids := make([]model.ID, 0, len(w.active))
	for id := range w.active {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	now := model.NewTime(time.Now())
	evs := make([]model.Event, 0, len(ids))
	for _, id := range ids {
		evs = append(evs, model.Event{ID: model.NewID(), Occurred: now, Event: "prefect.flow-run.heartbeat",
			Resource: map[string]string{"prefect.resource.id": "prefect.flow-run." + id.String()},
			Related: []map[string]string{{"prefect.resource.id": "prefect.work-pool." + w.poolID.String(), "prefect.resource.role": "work-pool",
				"prefect.resource.name": w.cfg.Pool}},
			Payload: json.RawMessage("{}")})
	}
	if err := w.c.Do(ctx, "POST", "/events", evs, nil); err != nil && ctx.Err() == nil {
		w.log.Warn("run heartbeat failed", "err", err)
	}
}

// watchCancellations checks every second whether a run this worker
// executes was asked to cancel, and terminates its process if so.
func (w *Worker) watchCancellations(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		ids := make([]model.ID, 0, len(w.active))
		for id := range w.active {
			ids = append(ids, id)
		}
		w.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		var runs []model.FlowRun
		err := w.c.Do(ctx, "POST", "/flow_runs/filter", map[string]any{"flow_runs": map[string]any{
			"id": map[string]any{"any_": ids}, "state": map[string]any{"type": map[string]any{"any_": []string{"CANCELLING", "CANCELLED"}}}}}, &runs)
		if err != nil {
			continue
		}
		for _, r := range runs {
			w.mu.Lock()
			ex := w.active[r.ID]
			w.mu.Unlock()
			if ex == nil {
				continue
			}
			ex.mu.Lock()
			already := ex.cancelled
			ex.cancelled = true
			ex.mu.Unlock()
			if !already {
				w.log.Info("cancelling flow run: terminating its process", "flow_run", r.ID, "pid", ex.cmd.Process.Pid)
				ex.terminate(w.cfg.KillGrace)
			}
		}
	}
}

// logShipper forwards a run's output lines: to the API as the run's logs
// (shell commands, whose output is the run's only record) and always to the
// worker's own log.
type logShipper struct {
	c     *Client
	runID model.ID
	log   *slog.Logger
	ship  bool
	mu    sync.Mutex
	buf   []model.LogCreate
	stop  chan struct{}
	done  chan struct{}
}

func newLogShipper(c *Client, runID model.ID, log *slog.Logger, ship bool) *logShipper {
	l := &logShipper{c: c, runID: runID, log: log, ship: ship, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(300 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.flush(context.Background())
			}
		}
	}()
	return l
}

// prefectLine matches Prefect's console log format,
// "12:34:56.789 | INFO    | Flow run 'name' - message".
var prefectLine = regexp.MustCompile(`^\d{2}:\d{2}:\d{2}\.\d{3} \| (DEBUG|INFO|WARNING|ERROR|CRITICAL)\s*\| (.*)$`)

// ansiCode matches terminal colour sequences (FORCE_COLOR output).
var ansiCode = regexp.MustCompile(`\x1b\[[0-9;]*m`)

var levelNumbers = map[string]int{"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}

// prefectLevel parses a line in Prefect's log format: its level and the
// message after the level column.
func prefectLevel(line string) (int, string, bool) {
	m := prefectLine.FindStringSubmatch(ansiCode.ReplaceAllString(line, ""))
	if m == nil {
		return 0, "", false
	}
	return levelNumbers[m[1]], m[2], true
}

// maxLine bounds one output line; the rest of a longer line is dropped.
const maxLine = 1 << 20

// readLine reads one line (without its end of line), at most maxLine
// bytes of it.
func readLine(br *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf) < maxLine {
			buf = append(buf, chunk[:min(len(chunk), maxLine-len(buf))]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return strings.TrimRight(string(buf), "\r\n"), err
	}
}

// pump reads a stream of the run's process line by line. A line in
// Prefect's log format keeps the level it names; the lines that continue
// such a record (a traceback, a multi-line message: written together, so
// already buffered when the record's first line is read) keep its level
// too; any other line gets the stream's level (INFO for stdout, ERROR for
// stderr).
func (l *logShipper) pump(r io.Reader, streamLevel int) {
	br := bufio.NewReaderSize(r, 64<<10)
	inRecord, recordLevel, buffered := false, 0, false
	for {
		line, err := readLine(br)
		if line == "" && err != nil {
			return
		}
		level, msg, ok := prefectLevel(line)
		switch {
		case ok:
			inRecord, recordLevel = true, level
		case inRecord && buffered:
			level, msg = recordLevel, line
		default:
			inRecord, level, msg = false, streamLevel, line
		}
		buffered = br.Buffered() > 0
		l.log.Log(context.Background(), slogLevel(level), "flow run output", "flow_run", l.runID, "line", line)
		if l.ship {
			id := l.runID
			l.mu.Lock()
			l.buf = append(l.buf, model.LogCreate{Name: "baton.worker.process", Level: level, Message: msg, Timestamp: model.NewTime(time.Now()), FlowRunID: &id})
			l.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// slogLevel maps a Python log level to the worker's own log.
func slogLevel(level int) slog.Level {
	switch {
	case level >= 40:
		return slog.LevelError
	case level >= 30:
		return slog.LevelWarn
	case level >= 20:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

func (l *logShipper) flush(ctx context.Context) {
	l.mu.Lock()
	batch := l.buf
	l.buf = nil
	l.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := l.c.Do(ctx, "POST", "/logs/", batch, nil); err != nil {
		l.log.Warn("could not send run logs", "flow_run", l.runID, "lines", len(batch), "err", err)
	}
}

func (l *logShipper) close(ctx context.Context) {
	close(l.stop)
	<-l.done
	l.flush(ctx)
}
