package services

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/store"
)

// LateAfter is how long past its scheduled time a run waits before it is
// marked Late (Prefect's default).
const LateAfter = 15 * time.Second

// NewLateRuns returns the service that renames SCHEDULED runs still named
// "Scheduled" LateAfter past their start time to "Late" (through the core
// policy, which refuses runs that moved on meanwhile).
func NewLateRuns(deps RunDeps, every time.Duration) *Periodic {
	return &Periodic{ServiceName: "late-runs", Interval: every, Now: deps.Now, Logger: deps.logger(),
		Tick: func(ctx context.Context, now time.Time) error {
			_, err := MarkLateRuns(ctx, deps, now)
			return err
		}}
}

// MarkLateRuns does one round and returns how many runs it marked. A run
// of a CANCEL_NEW deployment that is at its concurrency limit is cancelled
// instead (the core policy's EnforceDeploymentConcurrencyOnLate).
func MarkLateRuns(ctx context.Context, deps RunDeps, now time.Time) (int, error) {
	cutoff := now.Add(-LateAfter)
	runs, err := deps.Store.FlowRunSweep(ctx, store.RunSweepQuery{
		StateTypes: []model.StateType{model.StateScheduled}, StateNames: []string{"Scheduled"}, NextScheduledBefore: &cutoff, Limit: 500,
	})
	if err != nil {
		return 0, fmt.Errorf("late runs: %w", err)
	}
	marked := 0
	var errs []error
	for _, sr := range runs {
		name := "Late"
		var sched *model.Time
		if sr.Run.State != nil {
			sched = sr.Run.State.StateDetails.ScheduledTime
		}
		ok, err := transition(ctx, deps, sr, false, now, model.StateCreate{Type: model.StateScheduled, Name: &name,
			StateDetails: model.StateDetails{ScheduledTime: sched}})
		if err != nil {
			errs = append(errs, err)
		} else if ok {
			marked++
		}
	}
	return marked, errors.Join(errs...)
}

// transition proposes a state for a swept run, provided it is still in the
// state the sweep saw; it reports whether a state was written. The runs
// layer writes the events and releases a deployment concurrency lease the
// run leaves behind in the same transaction, then publishes.
func transition(ctx context.Context, deps RunDeps, sr store.SweptRun, force bool, now time.Time, proposed model.StateCreate) (bool, error) {
	if sr.Run.StateID == nil {
		return false, nil
	}
	t, err := deps.Runs.SetFlowRunState(ctx, sr.Workspace, sr.Run.ID, runs.Proposal{State: proposed, Force: force, Now: now, IfStateID: sr.Run.StateID})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("flow run %s: %w", sr.Run.ID, err)
	}
	return t.Written, nil
}
