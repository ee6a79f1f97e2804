package services

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// DefaultCrashWindow is how long a run may go without any sign of life
// before it is declared CRASHED.
const DefaultCrashWindow = 90 * time.Second

// DefaultEngineHeartbeat is Prefect's flows.heartbeat_frequency default:
// the cadence assumed for a run's own heartbeats until two of them show the
// real one.
const DefaultEngineHeartbeat = 180 * time.Second

// Crash detection is built in (Prefect's open-source server leaves such runs
// Running forever). A PENDING, RUNNING or CANCELLING run may be looked after
// by two kinds of source:
//
//   - the run itself, when its engine sends prefect.flow-run.heartbeat
//     events (Prefect's engine does, every PREFECT_FLOWS_HEARTBEAT_FREQUENCY
//     seconds, 180 by default; Baton's worker does for the runs it executes);
//   - the worker that claimed it (the prefect.worker.name label the worker
//     puts on the run), through the worker's pool heartbeats.
//
// A source is stale when it has been silent for longer than the window and
// than three of its heartbeat intervals (so a slow cadence is never mistaken
// for death). When every source the run has is stale (or its worker no
// longer exists), nothing looks after the run any more: it becomes CRASHED
// (a CANCELLING one becomes CANCELLED, which is what its canceller wanted).
// Runs with no source at all are left alone: their silence means nothing.

// CrashVerdict is the crash detector's decision about one run.
type CrashVerdict struct {
	// Crash is true when the run must be ended.
	Crash bool
	// Message explains why, for the state written.
	Message string
}

// JudgeRun decides whether a swept run has lost every sign of life.
func JudgeRun(sr store.SweptRun, now time.Time, window time.Duration) CrashVerdict {
	if sr.Run.State == nil || sr.Run.State.Timestamp.After(now.Add(-window)) {
		return CrashVerdict{} // no state yet, or it changed state recently
	}
	sources := 0
	var freshest time.Time
	var what string
	stale := func(last time.Time, cadence time.Duration) bool {
		return now.Sub(last) > max(window, 3*cadence)
	}
	if hb := sr.LastRunHeartbeat; hb != nil {
		sources++
		cadence := DefaultEngineHeartbeat
		if prev := sr.PrevRunHeartbeat; prev != nil && hb.After(*prev) {
			cadence = hb.Sub(*prev)
		}
		if !stale(*hb, cadence) {
			return CrashVerdict{}
		}
		freshest, what = *hb, "the flow run's heartbeats"
	}
	switch {
	case sr.Worker != nil && sr.Worker.LastHeartbeatTime != nil:
		sources++
		interval := 30 * time.Second
		if sr.Worker.HeartbeatIntervalSeconds != nil {
			interval = time.Duration(*sr.Worker.HeartbeatIntervalSeconds) * time.Second
		}
		hb := sr.Worker.LastHeartbeatTime.Time
		if !stale(hb, interval) {
			return CrashVerdict{}
		}
		if hb.After(freshest) {
			freshest, what = hb, fmt.Sprintf("worker %q's heartbeats", sr.Worker.Name)
		}
	case sr.WorkerGone:
		sources++
		if what == "" {
			return CrashVerdict{Crash: true, Message: "The worker that was running this flow run no longer exists."}
		}
	}
	if sources == 0 {
		return CrashVerdict{}
	}
	return CrashVerdict{Crash: true, Message: fmt.Sprintf("No sign of life for %s: %s stopped at %s.",
		now.Sub(freshest).Round(time.Second), what, freshest.UTC().Format(time.RFC3339))}
}

// CrashDetector ends runs whose heartbeats stopped.
type CrashDetector struct {
	deps   RunDeps
	window time.Duration
}

// NewCrashDetector returns the detector; window <= 0 means
// DefaultCrashWindow.
func NewCrashDetector(deps RunDeps, window time.Duration) *CrashDetector {
	if window <= 0 {
		window = DefaultCrashWindow
	}
	return &CrashDetector{deps: deps, window: window}
}

// Service wraps the detector in the periodic loop.
func (d *CrashDetector) Service(every time.Duration) *Periodic {
	return &Periodic{ServiceName: "crash-detector", Interval: every, Now: d.deps.Now, Logger: d.deps.logger(), Tick: d.Tick}
}

// Tick does one round.
func (d *CrashDetector) Tick(ctx context.Context, now time.Time) error {
	_, err := d.Run(ctx, now)
	return err
}

// Run does one round and returns how many runs it ended.
func (d *CrashDetector) Run(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.Add(-d.window)
	runs, err := d.deps.Store.FlowRunSweep(ctx, store.RunSweepQuery{
		StateTypes: []model.StateType{model.StatePending, model.StateRunning, model.StateCancelling}, StateBefore: &cutoff, Limit: 500,
	})
	if err != nil {
		return 0, fmt.Errorf("crash detector: %w", err)
	}
	ended := 0
	var errs []error
	for _, sr := range runs {
		v := JudgeRun(sr, now, d.window)
		if !v.Crash {
			continue
		}
		msg := v.Message
		proposed := model.StateCreate{Type: model.StateCrashed, Message: &msg}
		if sr.Run.StateType != nil && *sr.Run.StateType == model.StateCancelling {
			proposed.Type = model.StateCancelled
		}
		ok, err := transition(ctx, d.deps, sr, true, now, proposed)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			ended++
			d.deps.logger().Warn("flow run lost its heartbeat", "flow_run", sr.Run.ID, "state", proposed.Type, "reason", msg)
		}
	}
	return ended, errors.Join(errs...)
}
