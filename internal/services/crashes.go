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

// Crash detection is built in (Prefect's open-source server leaves such runs
// Running forever). A PENDING, RUNNING or CANCELLING run is looked after by
// something that shows signs of life:
//
//   - the run itself, when its engine sends prefect.flow-run.heartbeat
//     events (Prefect's PREFECT_RUNNER_HEARTBEAT_FREQUENCY, Baton's worker);
//   - the worker that claimed it (the prefect.worker.name label the worker
//     puts on the run), through the worker's pool heartbeats.
//
// When the freshest of those signals (and the run's own last state change)
// is older than the window, nothing is looking after the run any more: it
// becomes CRASHED (a CANCELLING one becomes CANCELLED, which is what its
// canceller wanted). Runs with no liveness source at all (a plain
// `python flow.py` without heartbeats) are left alone: their silence means
// nothing.

// CrashVerdict is the crash detector's decision about one run.
type CrashVerdict struct {
	// Crash is true when the run must be ended.
	Crash bool
	// Message explains why, for the state written.
	Message string
}

// JudgeRun decides whether a swept run has lost every sign of life.
func JudgeRun(sr store.SweptRun, now time.Time, window time.Duration) CrashVerdict {
	if sr.Run.State == nil {
		return CrashVerdict{}
	}
	cutoff := now.Add(-window)
	if sr.Run.State.Timestamp.After(cutoff) {
		return CrashVerdict{} // it changed state recently
	}
	var lastSign time.Time
	var source string
	if sr.LastRunHeartbeat != nil {
		lastSign, source = *sr.LastRunHeartbeat, "the flow run's heartbeats"
	}
	switch {
	case sr.Worker != nil && sr.Worker.LastHeartbeatTime != nil:
		if hb := sr.Worker.LastHeartbeatTime.Time; hb.After(lastSign) {
			lastSign, source = hb, fmt.Sprintf("worker %q's heartbeats", sr.Worker.Name)
		}
	case sr.WorkerGone && source == "":
		return CrashVerdict{Crash: true, Message: "The worker that was running this flow run no longer exists."}
	}
	if source == "" || lastSign.After(cutoff) {
		return CrashVerdict{}
	}
	return CrashVerdict{Crash: true, Message: fmt.Sprintf("No sign of life for %s: %s stopped at %s.",
		now.Sub(lastSign).Round(time.Second), source, lastSign.UTC().Format(time.RFC3339))}
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
