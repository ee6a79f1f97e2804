// Command load is the benchmark harness's load generator: it drives the
// Prefect 3 REST API of any server (Baton or the Prefect server) with a fixed
// number of concurrent workers and prints one JSON object of measurements on
// stdout. bench/run.py calls it once per measurement with identical arguments
// for both servers, so the two are driven by the same client.
//
// Modes (the first argument):
//
//	lifecycle  create a flow run (PENDING), set it RUNNING, set it COMPLETED; -n runs
//	seed       create -n flow runs directly in a spread of final states and tags
//	filter     -n POST /flow_runs/filter queries, rotating over UI-like bodies
//	events     -n task-run events over /api/events/in websockets, then wait until
//	           every task run is recorded as COMPLETED (counted with /task_runs/count)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: load lifecycle|seed|filter|events -url http://host:port/api [-c N] [-n N]")
		os.Exit(2)
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	apiURL := fs.String("url", "", "API base URL, e.g. http://127.0.0.1:4200/api")
	conc := fs.Int("c", 16, "concurrent workers (websocket connections for events)")
	n := fs.Int("n", 1000, "operations: lifecycles, runs to seed, queries, or events")
	dur := fs.Duration("d", 0, "lifecycle and filter: run this long instead of -n operations; events: stop after this long")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	tag := fs.String("tag", "team-7", "filter: the tag of the tag query (team-7 is one of seed's; baton dev seed's are e.g. priority)")
	_ = fs.Parse(os.Args[2:])
	if *apiURL == "" || *conc < 1 || *n < 1 {
		fs.Usage()
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	c := newClient(strings.TrimRight(*apiURL, "/"), *conc)
	if *dur > 0 && (mode == "lifecycle" || mode == "filter") {
		deadline = time.Now().Add(*dur)
		*n = math.MaxInt32
	}
	if *dur > 0 && mode == "events" {
		// -n events, but stop sending and waiting after -d: the rate is then
		// that of the task runs recorded by then.
		deadline = time.Now().Add(*dur)
	}
	var (
		out any
		err error
	)
	switch mode {
	case "lifecycle":
		out, err = runLifecycle(ctx, c, *conc, *n)
	case "seed":
		out, err = runSeed(ctx, c, *conc, *n)
	case "filter":
		filterBodies[2]["flow_runs"] = map[string]any{"tags": map[string]any{"all_": []string{*tag}}}
		out, err = runFilter(ctx, c, *conc, *n)
	case "events":
		out, err = runEvents(ctx, c, *conc, *n)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	if m, ok := out.(map[string]any); ok {
		m["retries"] = c.retries.Load()
		m["failed"] = failed.Load()
		if f, ok := lastFailure.Load().(string); ok {
			m["last_failure"] = f
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// client is a keep-alive HTTP client for one API base URL.
type client struct {
	base    string
	http    *http.Client
	retries atomic.Int64 // requests repeated after a transient error (429/502/503, dropped connection)
}

func newClient(base string, conc int) *client {
	tr := &http.Transport{MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, IdleConnTimeout: time.Minute}
	return &client{base: base, http: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

// post sends body as JSON and decodes a 2xx answer into out (when non-nil).
func (c *client) post(ctx context.Context, path string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	var data []byte
	for attempt := 1; ; attempt++ {
		status, b, err := c.once(ctx, path, raw)
		if err != nil && (ctx.Err() != nil || attempt >= maxAttempts) {
			return err
		}
		data = b
		if err == nil && status/100 == 2 {
			break
		}
		// Like the Prefect client, retry what is transient: 429/502/503 (the
		// Prefect server answers 503 when SQLite is busy) and dropped
		// connections, with a growing pause.
		if err != nil || (status == http.StatusTooManyRequests || status == http.StatusBadGateway || status == http.StatusServiceUnavailable) && attempt < maxAttempts {
			c.retries.Add(1)
			select {
			case <-ctx.Done():
				return fmt.Errorf("POST %s: %w", path, ctx.Err())
			case <-time.After(min(100*time.Millisecond<<(attempt-1), 5*time.Second)):
			}
			continue
		}
		return fmt.Errorf("POST %s: %d %.300s", path, status, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// maxAttempts bounds the tries of one request that keeps getting a transient
// error; with the doubling pause from 100 ms (capped at 5 s) a request gives
// up after about 20 s.
const maxAttempts = 8

// once sends one POST and returns the status and body.
func (c *client) once(ctx context.Context, path string, raw []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(raw))
	if err != nil {
		return 0, nil, fmt.Errorf("request %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return resp.StatusCode, data, nil
}

// createFlow creates (or finds, both servers upsert by name) a flow.
func (c *client) createFlow(ctx context.Context, name string) (string, error) {
	var f struct {
		ID string `json:"id"`
	}
	if err := c.post(ctx, "/flows/", map[string]any{"name": name}, &f); err != nil {
		return "", err
	}
	return f.ID, nil
}

// createRun creates a flow run of flowID in the given state.
func (c *client) createRun(ctx context.Context, flowID, name, stateType string, tags []string) (string, error) {
	var fr struct {
		ID string `json:"id"`
	}
	body := map[string]any{
		"flow_id": flowID, "name": name, "parameters": map[string]any{}, "tags": tags,
		"state": map[string]any{"type": stateType, "name": stateName(stateType)},
	}
	if err := c.post(ctx, "/flow_runs/", body, &fr); err != nil {
		return "", err
	}
	return fr.ID, nil
}

// setState proposes a state and fails unless the server accepts it.
func (c *client) setState(ctx context.Context, runID, stateType string) error {
	var res struct {
		Status string `json:"status"`
	}
	body := map[string]any{"state": map[string]any{"type": stateType, "name": stateName(stateType)}, "force": false}
	if err := c.post(ctx, "/flow_runs/"+runID+"/set_state", body, &res); err != nil {
		return err
	}
	if res.Status != "ACCEPT" {
		return fmt.Errorf("set_state %s on %s: status %s", stateType, runID, res.Status)
	}
	return nil
}

func stateName(stateType string) string {
	return strings.ToUpper(stateType[:1]) + strings.ToLower(stateType[1:])
}

// failed counts operations that failed for good; lastFailure holds the last
// such error. Both end up in the JSON output.
var (
	failed      atomic.Int64
	lastFailure atomic.Value
	done        atomic.Int64 // operations finished, failed or not
	deadline    time.Time    // with -d: no operation starts after it
)

// workers runs fn(i) for i in [0, n) on conc goroutines and returns the
// elapsed time, or an error once more than 5% of the operations (and more
// than 10) failed.
func workers(ctx context.Context, conc, n int, fn func(ctx context.Context, i int) error) (time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil || (!deadline.IsZero() && time.Now().After(deadline)) {
					return
				}
				if err := fn(ctx, i); err != nil {
					// A request the server still refused after the retries is
					// counted and reported, not fatal: the run measures the
					// server as it is. Too many of them end the run.
					if f := failed.Add(1); f > max(done.Load()/20, 10) || ctx.Err() != nil {
						errOnce.Do(func() { firstErr = fmt.Errorf("too many failed operations, last: %w", err); cancel() })
						return
					}
					lastFailure.Store(err.Error())
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}

// latencies collects durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// pct returns the p-th percentile (nearest rank) in milliseconds.
func (l *latencies) pct(p float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	i := int(p/100*float64(len(s)) + 0.5)
	i = min(max(i-1, 0), len(s)-1)
	return float64(s[i].Microseconds()) / 1000
}

func runLifecycle(ctx context.Context, c *client, conc, n int) (any, error) {
	flowID, err := c.createFlow(ctx, "bench-load-lifecycle")
	if err != nil {
		return nil, err
	}
	var create, setState latencies
	elapsed, err := workers(ctx, conc, n, func(ctx context.Context, i int) error {
		t := time.Now()
		id, err := c.createRun(ctx, flowID, fmt.Sprintf("lc-%d-%d", time.Now().UnixNano(), i), "PENDING", []string{})
		if err != nil {
			return err
		}
		create.add(time.Since(t))
		for _, st := range []string{"RUNNING", "COMPLETED"} {
			t = time.Now()
			if err := c.setState(ctx, id, st); err != nil {
				return err
			}
			setState.add(time.Since(t))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	n = int(done.Load())
	return map[string]any{
		"mode": "lifecycle", "concurrency": conc, "lifecycles": n, "seconds": elapsed.Seconds(),
		"per_s":         float64(n-int(failed.Load())) / elapsed.Seconds(),
		"create_p50_ms": create.pct(50), "create_p99_ms": create.pct(99),
		"set_state_p50_ms": setState.pct(50), "set_state_p99_ms": setState.pct(99),
	}, nil
}

// seedStates spreads seeded runs over terminal and running states, so the
// filter queries select realistic fractions of the table. No SCHEDULED runs:
// they would set off each server's late-runs service during the measurements.
var seedStates = []string{"COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "FAILED", "FAILED", "CANCELLED", "RUNNING"}

func runSeed(ctx context.Context, c *client, conc, n int) (any, error) {
	flows := make([]string, 5)
	for i := range flows {
		id, err := c.createFlow(ctx, fmt.Sprintf("bench-seed-%d", i))
		if err != nil {
			return nil, err
		}
		flows[i] = id
	}
	prefix := time.Now().UnixNano()
	elapsed, err := workers(ctx, conc, n, func(ctx context.Context, i int) error {
		tags := []string{fmt.Sprintf("team-%d", i%20)}
		_, err := c.createRun(ctx, flows[i%len(flows)], fmt.Sprintf("seed-%d-%d", prefix, i), seedStates[i%len(seedStates)], tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"mode": "seed", "concurrency": conc, "runs": n, "seconds": elapsed.Seconds(), "per_s": float64(n-int(failed.Load())) / elapsed.Seconds()}, nil
}

// filterBodies are the /flow_runs/filter queries the filter mode rotates
// over: the UI's newest-runs page, failed runs by expected start, and one tag.
var filterBodies = []map[string]any{
	{"sort": "START_TIME_DESC", "limit": 50, "offset": 0},
	{"flow_runs": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"FAILED"}}}}, "sort": "EXPECTED_START_TIME_DESC", "limit": 50, "offset": 0},
	{"flow_runs": map[string]any{"tags": map[string]any{"all_": []string{"team-7"}}}, "sort": "ID_DESC", "limit": 50, "offset": 0},
}

func runFilter(ctx context.Context, c *client, conc, n int) (any, error) {
	var all latencies
	per := make([]latencies, len(filterBodies))
	elapsed, err := workers(ctx, conc, n, func(ctx context.Context, i int) error {
		q := i % len(filterBodies)
		var runs []json.RawMessage
		t := time.Now()
		if err := c.post(ctx, "/flow_runs/filter", filterBodies[q], &runs); err != nil {
			return err
		}
		d := time.Since(t)
		if len(runs) == 0 {
			return fmt.Errorf("filter query %d returned no runs; was the database seeded?", q)
		}
		all.add(d)
		per[q].add(d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	n = int(done.Load())
	perQuery := make([]map[string]float64, len(per))
	for i := range per {
		perQuery[i] = map[string]float64{"p50_ms": per[i].pct(50), "p99_ms": per[i].pct(99)}
	}
	return map[string]any{
		"mode": "filter", "concurrency": conc, "queries": n, "seconds": elapsed.Seconds(), "per_s": float64(n-int(failed.Load())) / elapsed.Seconds(),
		"p50_ms": all.pct(50), "p99_ms": all.pct(99), "per_query": perQuery,
	}, nil
}

// eventStates is the life of every task run the events mode reports.
var eventStates = []string{"PENDING", "RUNNING", "COMPLETED"}

// taskRunEvent builds one prefect.task-run.<State> event as the Prefect
// client emits it (the fields its task-run recorder reads).
func taskRunEvent(taskRunID, flowRunID, flowID, stateType string, occurred time.Time, seq int) map[string]any {
	name := stateName(stateType)
	var start any
	if stateType != "PENDING" {
		start = occurred.Add(-time.Millisecond).Format(time.RFC3339Nano)
	}
	return map[string]any{
		"id":       uuid.NewString(),
		"occurred": occurred.Format(time.RFC3339Nano),
		"event":    "prefect.task-run." + name,
		"resource": map[string]string{
			"prefect.resource.id": "prefect.task-run." + taskRunID, "prefect.resource.name": fmt.Sprintf("work-%d", seq),
			"prefect.run-count": "1", "prefect.state-name": name, "prefect.state-type": stateType,
			"prefect.orchestration": "client",
		},
		"related": []map[string]string{
			{"prefect.resource.id": "prefect.flow-run." + flowRunID, "prefect.resource.role": "flow-run", "prefect.resource.name": "bench-events"},
			{"prefect.resource.id": "prefect.flow." + flowID, "prefect.resource.role": "flow", "prefect.resource.name": "bench-events"},
		},
		"payload": map[string]any{
			"intended":      map[string]any{"from": nil, "to": stateType},
			"initial_state": nil,
			"validated_state": map[string]any{
				"type": stateType, "name": name, "message": "", "data": nil,
				"state_details": map[string]any{"flow_run_id": flowRunID, "task_run_id": taskRunID},
			},
			"task_run": map[string]any{
				"name": fmt.Sprintf("work-%d", seq), "task_key": "bench-work", "dynamic_key": fmt.Sprint(seq),
				"flow_run_id": flowRunID, "task_version": nil, "tags": []string{}, "labels": map[string]any{},
				"empirical_policy": map[string]any{"max_retries": 0, "retry_delay_seconds": 0.0, "retries": 0, "retry_delay": 0, "retry_jitter_factor": nil},
				"task_inputs":      map[string]any{}, "run_count": 1, "flow_run_run_count": 1,
				"expected_start_time": occurred.Format(time.RFC3339Nano), "start_time": start, "end_time": nil,
				"total_run_time": 0.0, "cache_key": nil, "cache_expiration": nil,
			},
		},
	}
}

// dialEvents opens /events/in with the prefect subprotocol and completes the
// auth handshake.
func dialEvents(ctx context.Context, base string) (*websocket.Conn, chan struct{}, error) {
	u := "ws" + strings.TrimPrefix(base, "http") + "/events/in"
	d := websocket.Dialer{Subprotocols: []string{"prefect"}, HandshakeTimeout: 10 * time.Second}
	conn, _, err := d.DialContext(ctx, u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("dial %s: %w", u, err)
	}
	if err := conn.WriteJSON(map[string]any{"type": "auth", "token": nil}); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("auth frame: %w", err)
	}
	var ack struct {
		Type string `json:"type"`
	}
	if err := conn.ReadJSON(&ack); err != nil || ack.Type != "auth_success" {
		conn.Close()
		return nil, nil, fmt.Errorf("auth: answer %q, error %v", ack.Type, err)
	}
	pongs := make(chan struct{}, 1)
	conn.SetPongHandler(func(string) error {
		select {
		case pongs <- struct{}{}:
		default:
		}
		return nil
	})
	go func() { // the reader runs the pong handler; /events/in sends nothing else
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	return conn, pongs, nil
}

func runEvents(ctx context.Context, c *client, conc, n int) (any, error) {
	taskRuns := n / len(eventStates)
	if taskRuns < conc {
		return nil, fmt.Errorf("-n %d events is fewer than 3 per connection", n)
	}
	n = taskRuns * len(eventStates)
	flowID, err := c.createFlow(ctx, "bench-events")
	if err != nil {
		return nil, err
	}
	flowRunID, err := c.createRun(ctx, flowID, fmt.Sprintf("ev-%d", time.Now().UnixNano()), "RUNNING", []string{})
	if err != nil {
		return nil, err
	}
	type sock struct {
		conn  *websocket.Conn
		pongs chan struct{}
	}
	socks := make([]sock, conc)
	for i := range socks {
		conn, pongs, err := dialEvents(ctx, c.base)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		socks[i] = sock{conn, pongs}
	}
	// Frames are built before the clock starts: the measurement is the
	// server's ingest, not this generator's JSON encoding.
	frames := make([][][]byte, conc)
	base := time.Now().UTC()
	for tr := range taskRuns {
		id := uuid.NewString()
		for k, st := range eventStates {
			raw, err := json.Marshal(taskRunEvent(id, flowRunID, flowID, st, base.Add(time.Duration(tr*3+k)*time.Microsecond), tr))
			if err != nil {
				return nil, fmt.Errorf("encode event: %w", err)
			}
			frames[tr%conc] = append(frames[tr%conc], raw)
		}
	}
	checkpoint := func(s sock) error {
		if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(30*time.Second)); err != nil {
			return fmt.Errorf("ping: %w", err)
		}
		select {
		case <-s.pongs:
			return nil
		case <-time.After(60 * time.Second):
			return errors.New("no pong within 60s")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, conc)
	for i, s := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j, f := range frames[i] {
				if !deadline.IsZero() && j%(3*30) == 0 && time.Now().After(deadline) {
					break
				}
				if err := s.conn.WriteMessage(websocket.TextMessage, f); err != nil {
					errs[i] = fmt.Errorf("send: %w", err)
					return
				}
				if j%700 == 699 {
					if err := checkpoint(s); err != nil {
						errs[i] = err
						return
					}
				}
			}
			errs[i] = checkpoint(s)
		}()
	}
	wg.Wait()
	sent := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	count := map[string]any{
		"flow_runs": map[string]any{"id": map[string]any{"any_": []string{flowRunID}}},
		"task_runs": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"COMPLETED"}}}},
	}
	got := 0
	partial := false
	for {
		if err := c.post(ctx, "/task_runs/count", count, &got); err != nil {
			return nil, err
		}
		if got >= taskRuns {
			break
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			partial = true
			n = got * len(eventStates)
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%d of %d task runs recorded: %w", got, taskRuns, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	recorded := time.Since(start)
	return map[string]any{
		"mode": "events", "connections": conc, "events": n, "task_runs": taskRuns, "stopped_at_deadline": partial,
		"send_seconds": sent.Seconds(), "seconds": recorded.Seconds(),
		"per_s": float64(n) / recorded.Seconds(), "send_per_s": float64(n) / sent.Seconds(),
	}, nil
}
