package services

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// maxQueueSeries bounds the per-queue series on /metrics: the deepest
// queues are listed, the rest only counted in the total.
const maxQueueSeries = 50

// Gauges is the background component behind the operator gauges on
// /metrics: runs by state, late runs, scheduler lag, work-queue depth and
// concurrency slots against leases. It reads them from the store every
// interval (aggregate queries a scrape must not pay for) and renders the
// last reading on every scrape.
type Gauges struct {
	st     store.GaugeReporter
	rounds *SchedulerRounds
	now    func() time.Time
	log    *slog.Logger

	mu    sync.Mutex
	g     store.Gauges
	taken time.Time
}

// NewGauges returns the gauges over st; rounds (may be nil) is the
// scheduler's record, as given in RunDeps.Rounds.
func NewGauges(st store.GaugeReporter, rounds *SchedulerRounds, logger *slog.Logger) *Gauges {
	if logger == nil {
		logger = slog.Default()
	}
	return &Gauges{st: st, rounds: rounds, now: time.Now, log: logger}
}

// Service refreshes the gauges every interval.
func (g *Gauges) Service(every time.Duration) *Periodic {
	return &Periodic{ServiceName: "gauges", Interval: every, Logger: g.log, Tick: func(ctx context.Context, _ time.Time) error {
		return g.Refresh(ctx)
	}}
}

// Refresh reads the store's gauges now.
func (g *Gauges) Refresh(ctx context.Context) error {
	now := g.now()
	got, err := g.st.OperatorGauges(ctx, now, now.Add(-LateAfter))
	if err != nil {
		return fmt.Errorf("gauges: %w", err)
	}
	g.mu.Lock()
	g.g, g.taken = got, now
	g.mu.Unlock()
	return nil
}

// WriteMetrics implements api.MetricsSource.
func (g *Gauges) WriteMetrics(w io.Writer) {
	now := g.now()
	if g.rounds != nil {
		if last, took := g.rounds.Last(); !last.IsZero() {
			fmt.Fprintf(w, "# HELP baton_scheduler_lag_seconds Time since the start of the scheduler's last completed round: the runs it planned are as of then (it runs every 5 s).\n# TYPE baton_scheduler_lag_seconds gauge\nbaton_scheduler_lag_seconds %g\n", now.Sub(last).Seconds())
			fmt.Fprintf(w, "# HELP baton_scheduler_round_duration_seconds How long the scheduler's last completed round took.\n# TYPE baton_scheduler_round_duration_seconds gauge\nbaton_scheduler_round_duration_seconds %g\n", took.Seconds())
		}
	}
	g.mu.Lock()
	cur, taken := g.g, g.taken
	g.mu.Unlock()
	if taken.IsZero() {
		return
	}
	fmt.Fprintf(w, "# HELP baton_gauges_timestamp_seconds When the run, queue and slot gauges were read from the database (Unix time).\n# TYPE baton_gauges_timestamp_seconds gauge\nbaton_gauges_timestamp_seconds %d\n", taken.Unix())
	for _, kind := range []struct {
		name, help string
		by         map[model.StateType]int64
	}{{"baton_flow_runs", "Flow runs by state type, every workspace.", cur.FlowRunsByState},
		{"baton_task_runs", "Task runs by state type, every workspace.", cur.TaskRunsByState}} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n", kind.name, kind.help, kind.name)
		for _, st := range model.StateTypes {
			fmt.Fprintf(w, "%s{state_type=%q} %d\n", kind.name, st, kind.by[st])
		}
	}
	fmt.Fprintf(w, "# HELP baton_flow_runs_late SCHEDULED flow runs more than %g s past their start time (Prefect's Late).\n# TYPE baton_flow_runs_late gauge\nbaton_flow_runs_late %d\n", LateAfter.Seconds(), cur.LateRuns)
	late := 0.0
	if !cur.OldestDue.IsZero() {
		late = taken.Sub(cur.OldestDue).Seconds()
	}
	fmt.Fprintf(w, "# HELP baton_flow_runs_late_max_seconds How far past its start time the latest SCHEDULED flow run is (0 without late runs).\n# TYPE baton_flow_runs_late_max_seconds gauge\nbaton_flow_runs_late_max_seconds %g\n", late)
	qs := append([]store.QueueDepth(nil), cur.Queues...)
	sort.Slice(qs, func(i, j int) bool {
		if qs[i].Ready != qs[j].Ready {
			return qs[i].Ready > qs[j].Ready
		}
		return qs[i].Pool+"\x00"+qs[i].Queue < qs[j].Pool+"\x00"+qs[j].Queue
	})
	var total int64
	for _, q := range qs {
		total += q.Ready
	}
	fmt.Fprintf(w, "# HELP baton_work_queue_ready_runs_total Due SCHEDULED flow runs waiting in work queues, all queues.\n# TYPE baton_work_queue_ready_runs_total gauge\nbaton_work_queue_ready_runs_total %d\n", total)
	fmt.Fprintf(w, "# HELP baton_work_queue_ready_runs Due SCHEDULED flow runs waiting in a work queue (the %d deepest; queues of the same names in several workspaces add up).\n# TYPE baton_work_queue_ready_runs gauge\n", maxQueueSeries)
	merged := map[[2]string]int64{}
	var order [][2]string
	for _, q := range qs {
		k := [2]string{q.Pool, q.Queue}
		if _, ok := merged[k]; !ok {
			order = append(order, k)
		}
		merged[k] += q.Ready
	}
	for i, k := range order {
		if i == maxQueueSeries {
			break
		}
		fmt.Fprintf(w, "baton_work_queue_ready_runs{work_pool=%q,work_queue=%q} %d\n", k[0], k[1], merged[k])
	}
	fmt.Fprintln(w, "# HELP baton_concurrency_limits Active concurrency limits, by kind (tag:, deployment: or global).")
	fmt.Fprintln(w, "# TYPE baton_concurrency_limits gauge")
	kinds := []string{"deployment", "global", "tag"}
	for _, k := range kinds {
		fmt.Fprintf(w, "baton_concurrency_limits{kind=%q} %d\n", k, cur.Slots[k].Limits)
	}
	fmt.Fprintln(w, "# HELP baton_concurrency_slots Slots of the active concurrency limits, by kind.")
	fmt.Fprintln(w, "# TYPE baton_concurrency_slots gauge")
	for _, k := range kinds {
		fmt.Fprintf(w, "baton_concurrency_slots{kind=%q} %d\n", k, cur.Slots[k].Slots)
	}
	fmt.Fprintln(w, "# HELP baton_concurrency_slots_active Slots taken, by kind (held under leases or by lease-less increments).")
	fmt.Fprintln(w, "# TYPE baton_concurrency_slots_active gauge")
	for _, k := range kinds {
		fmt.Fprintf(w, "baton_concurrency_slots_active{kind=%q} %d\n", k, cur.Slots[k].Active)
	}
	fmt.Fprintf(w, "# HELP baton_concurrency_leases Concurrency leases.\n# TYPE baton_concurrency_leases gauge\nbaton_concurrency_leases %d\n", cur.Leases)
	fmt.Fprintf(w, "# HELP baton_concurrency_lease_slots Slots held under leases (baton_concurrency_slots_active less these: slots taken without a lease).\n# TYPE baton_concurrency_lease_slots gauge\nbaton_concurrency_lease_slots %d\n", cur.LeaseSlots)
	fmt.Fprintf(w, "# HELP baton_concurrency_leases_expired Leases past their expiration not yet released (the reaper runs every second).\n# TYPE baton_concurrency_leases_expired gauge\nbaton_concurrency_leases_expired %d\n", cur.LeasesExpired)
}
