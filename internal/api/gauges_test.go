package api

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/services"
	"github.com/batonhq/baton/internal/store"
)

// scrape reads /metrics and parses the Prometheus text format into
// series → value, checking every sample line parses and every series has a
// TYPE line.
func scrape(t *testing.T, s *testServer) map[string]float64 {
	t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("content type %q", ct)
	}
	out := map[string]float64{}
	typed := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			typed[strings.Fields(rest)[0]] = true
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("bad sample line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad value in %q: %v", line, err)
		}
		series := line[:i]
		name, _, _ := strings.Cut(series, "{")
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		if !typed[name] && !typed[base] {
			t.Fatalf("series %q has no TYPE line", series)
		}
		if _, dup := out[series]; dup {
			t.Fatalf("series %q twice", series)
		}
		out[series] = v
	}
	return out
}

// TestOperatorGaugesOnMetrics: runs by state, late runs, scheduler lag,
// work-queue depth and concurrency slots against leases are on /metrics
// with the values the database holds.
func TestOperatorGaugesOnMetrics(t *testing.T) {
	t.Parallel()
	rounds := &services.SchedulerRounds{}
	var gauges *services.Gauges
	srv := newTestAPI(t, func(c *Config) {
		gauges = services.NewGauges(c.Store.(store.GaugeReporter), rounds, nil)
		c.Metrics = append(c.Metrics, gauges)
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	s := &testServer{Server: hs, t: t}
	ctx := context.Background()

	s.must("POST", "/api/work_pools/", map[string]any{"name": "pool", "type": "process"}, 201)
	flow := s.must("POST", "/api/flows/", map[string]any{"name": "f"}, 201)
	dep := s.must("POST", "/api/deployments/", map[string]any{"name": "d", "flow_id": flow["id"], "work_pool_name": "pool"}, 201)
	past := time.Now().Add(-2 * time.Minute).UTC().Format(time.RFC3339Nano)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
	for _, at := range []string{past, past, future} {
		s.must("POST", "/api/deployments/"+dep["id"].(string)+"/create_flow_run", map[string]any{
			"state": map[string]any{"type": "SCHEDULED", "state_details": map[string]any{"scheduled_time": at}}}, 201)
	}
	s.must("POST", "/api/flow_runs/", map[string]any{"flow_id": flow["id"], "state": map[string]any{"type": "RUNNING"}}, 201)
	s.must("POST", "/api/v2/concurrency_limits/", map[string]any{"name": "db", "limit": 3}, 201)
	s.must("POST", "/api/v2/concurrency_limits/", map[string]any{"name": "tag:etl", "limit": 5}, 201)
	s.must("POST", "/api/v2/concurrency_limits/increment-with-lease", map[string]any{"names": []string{"db"}, "slots": 2, "lease_duration": 60}, 200)
	s.must("POST", "/api/v2/concurrency_limits/increment", map[string]any{"names": []string{"db"}, "slots": 1, "mode": "concurrency"}, 200)

	// Before the first reading, only the scheduler's figures could show.
	if m := scrape(t, s); m[`baton_flow_runs{state_type="RUNNING"}`] != 0 {
		t.Fatalf("gauges before a reading: %v", m[`baton_flow_runs{state_type="RUNNING"}`])
	}
	if _, err := services.NewScheduler(services.RunDeps{Store: srv.cfg.Store, Runs: srv.cfg.Runs, Rounds: rounds}, services.DefaultSchedulerPolicy).Run(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := gauges.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	m := scrape(t, s)
	for series, want := range map[string]float64{
		`baton_flow_runs{state_type="SCHEDULED"}`:                            3,
		`baton_flow_runs{state_type="RUNNING"}`:                              1,
		`baton_flow_runs{state_type="COMPLETED"}`:                            0,
		`baton_task_runs{state_type="RUNNING"}`:                              0,
		`baton_flow_runs_late`:                                               2,
		`baton_work_queue_ready_runs_total`:                                  2,
		`baton_work_queue_ready_runs{work_pool="pool",work_queue="default"}`: 2,
		`baton_concurrency_limits{kind="global"}`:                            1,
		`baton_concurrency_limits{kind="tag"}`:                               1,
		`baton_concurrency_slots{kind="global"}`:                             3,
		`baton_concurrency_slots{kind="tag"}`:                                5,
		`baton_concurrency_slots_active{kind="global"}`:                      3,
		`baton_concurrency_slots_active{kind="tag"}`:                         0,
		`baton_concurrency_leases`:                                           1,
		`baton_concurrency_lease_slots`:                                      2,
		`baton_concurrency_leases_expired`:                                   0,
	} {
		got, ok := m[series]
		if !ok {
			t.Errorf("%s missing from /metrics", series)
		} else if got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if late := m["baton_flow_runs_late_max_seconds"]; late < 110 || late > 600 {
		t.Errorf("baton_flow_runs_late_max_seconds = %v, want about 120", late)
	}
	if lag, ok := m["baton_scheduler_lag_seconds"]; !ok || lag < 0 || lag > 300 {
		t.Errorf("baton_scheduler_lag_seconds = %v (present %v)", lag, ok)
	}
	if _, ok := m["baton_scheduler_round_duration_seconds"]; !ok {
		t.Errorf("baton_scheduler_round_duration_seconds missing")
	}
}
