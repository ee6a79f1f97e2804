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
//   - the worker that claimed it (the prefect.worker.name label the worker
//     puts on the run), through the worker's pool heartbeats — every 10 s for
//     Baton's worker, 30 s for Prefect's;
//   - the run itself, when its engine sends prefect.flow-run.heartbeat
//     events (Prefect's engine does, every PREFECT_FLOWS_HEARTBEAT_FREQUENCY
//     seconds, 180 by default; Baton's worker also sends them for the runs it
//     executes).
//
// The promise is that a run whose every source fell silent is CRASHED within
// the window of its last sign of life, sweep included: the detector sweeps
// every Every() and treats a source as dead once it has been silent for
// Silence() = window - Every(), so the sweep's own delay cannot push the
// verdict past the window. A run's last state change counts as a sign of
// life too.
//
// The worker is consulted first, because it is the run's supervisor: it
// reports the exit of the run's process itself, so while it beats the run is
// looked after, and once it is silent (or deregistered) the run is dead
// unless the run itself beat within the silence. One run heartbeat says
// nothing about the engine's cadence, so it is never taken as a licence to
// wait three default cadences when a worker's verdict is at hand.
//
// A run that no worker claimed has only its own heartbeats: their cadence is
// measured from the last two (Prefect's 180 s default until two arrived),
// and the run is dead once silent for max(Silence, 2 × cadence). The window
// promise therefore holds for such runs when their engine beats at least
// every Silence/2 (PREFECT_FLOWS_HEARTBEAT_FREQUENCY=30 for the default
// window). Runs with no source at all are left alone: their silence means
// nothing. A CANCELLING run found dead becomes CANCELLED, which is what its
// canceller wanted.

// CrashVerdict is the crash detector's decision about one run.
type CrashVerdict struct {
	// Crash is true when the run must be ended.
	Crash bool
	// Message explains why, for the state written.
	Message string
}

// defaultWorkerHeartbeat is assumed for a worker that never said how often
// it beats (Prefect's PREFECT_WORKER_HEARTBEAT_SECONDS default).
const defaultWorkerHeartbeat = 30 * time.Second

// JudgeRun decides whether a swept run has lost every sign of life, treating
// a source as dead once it has been silent for longer than silence (see the
// crash-detection notes above).
func JudgeRun(sr store.SweptRun, now time.Time, silence time.Duration) CrashVerdict {
	if sr.Run.State == nil || now.Sub(sr.Run.State.Timestamp.Time) <= silence {
		return CrashVerdict{} // no state yet, or it changed state recently
	}
	runHB := sr.LastRunHeartbeat
	if runHB != nil && now.Sub(*runHB) <= silence {
		return CrashVerdict{} // the run itself beat recently
	}
	dead := func(what string, last time.Time) CrashVerdict {
		return CrashVerdict{Crash: true, Message: fmt.Sprintf("No sign of life for %s: %s stopped at %s.",
			now.Sub(last).Round(time.Second), what, last.UTC().Format(time.RFC3339))}
	}
	switch {
	case sr.Worker != nil && sr.Worker.LastHeartbeatTime != nil:
		interval := defaultWorkerHeartbeat
		if sr.Worker.HeartbeatIntervalSeconds != nil && *sr.Worker.HeartbeatIntervalSeconds > 0 {
			interval = time.Duration(*sr.Worker.HeartbeatIntervalSeconds) * time.Second
		}
		hb := sr.Worker.LastHeartbeatTime.Time
		if now.Sub(hb) <= max(silence, 2*interval) {
			return CrashVerdict{}
		}
		last, what := hb, fmt.Sprintf("worker %q's heartbeats", sr.Worker.Name)
		if runHB != nil && runHB.After(last) {
			last, what = *runHB, "the flow run's heartbeats"
		}
		return dead(what, last)
	case sr.WorkerGone:
		return CrashVerdict{Crash: true, Message: "The worker that was running this flow run no longer exists."}
	case sr.Worker != nil:
		// A worker that never beat cannot vouch for the run; fall through
		// to the run's own heartbeats.
	}
	if runHB == nil {
		return CrashVerdict{}
	}
	cadence := DefaultEngineHeartbeat
	if prev := sr.PrevRunHeartbeat; prev != nil && runHB.After(*prev) {
		cadence = runHB.Sub(*prev)
	}
	if now.Sub(*runHB) <= max(silence, 2*cadence) {
		return CrashVerdict{}
	}
	return dead("the flow run's heartbeats", *runHB)
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

// Every is the sweep cadence: a twentieth of the window, between 1 and 5 s
// (4.5 s for the default 90 s window), so sweeping costs little and the
// silence a source is allowed stays close to the window.
func (d *CrashDetector) Every() time.Duration {
	return min(max(d.window/20, time.Second), 5*time.Second)
}

// Silence is how long a source may be silent before it counts as dead: the
// window less one sweep, so that a death is seen within the window even when
// it happens just after a sweep.
func (d *CrashDetector) Silence() time.Duration { return d.window - d.Every() }

// Judge applies JudgeRun with this detector's silence.
func (d *CrashDetector) Judge(sr store.SweptRun, now time.Time) CrashVerdict {
	return JudgeRun(sr, now, d.Silence())
}

// Service wraps the detector in the periodic loop, at its own cadence.
func (d *CrashDetector) Service() *Periodic {
	return &Periodic{ServiceName: "crash-detector", Interval: d.Every(), Now: d.deps.Now, Logger: d.deps.logger(), Tick: d.Tick}
}

// Tick does one round.
func (d *CrashDetector) Tick(ctx context.Context, now time.Time) error {
	_, err := d.Run(ctx, now)
	return err
}

// Run does one round and returns how many runs it ended.
func (d *CrashDetector) Run(ctx context.Context, now time.Time) (int, error) {
	runs, err := d.candidates(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("crash detector: %w", err)
	}
	ended := 0
	var errs []error
	for _, sr := range runs {
		v := d.Judge(sr, now)
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

// sweepPage is how many runs one sweep query returns.
const sweepPage = 500

// candidates returns every unfinished run whose state is older than the
// silence, paging through them oldest first: a fixed first page would let
// five hundred healthy long-running runs hide every newer dead one.
func (d *CrashDetector) candidates(ctx context.Context, now time.Time) ([]store.SweptRun, error) {
	cutoff := now.Add(-d.Silence())
	var out []store.SweptRun
	seen := map[model.ID]bool{}
	var after *time.Time
	for {
		page, err := d.deps.Store.FlowRunSweep(ctx, store.RunSweepQuery{
			StateTypes:  []model.StateType{model.StatePending, model.StateRunning, model.StateCancelling},
			StateBefore: &cutoff, StateAfter: after, Limit: sweepPage,
		})
		if err != nil {
			return nil, err
		}
		fresh := 0
		for _, sr := range page {
			if !seen[sr.Run.ID] {
				seen[sr.Run.ID] = true
				out = append(out, sr)
				fresh++
			}
		}
		if len(page) < sweepPage || fresh == 0 {
			return out, nil
		}
		last := page[len(page)-1].Run.State
		if last == nil {
			return out, nil
		}
		t := last.Timestamp.Time
		after = &t
	}
}
