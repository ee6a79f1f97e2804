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

// MarkLateRuns does one round and returns how many runs it marked.
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
	cancelNew := newCancelNewCheck(deps)
	for _, sr := range runs {
		// EnforceDeploymentConcurrencyOnLate: a run of a CANCEL_NEW
		// deployment that is at its limit is cancelled, not marked late.
		full, err := cancelNew.atLimit(ctx, sr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if full {
			msg := "Deployment concurrency limit reached."
			if _, err := transition(ctx, deps, sr, true, now, model.StateCreate{Type: model.StateCancelled, Message: &msg}); err != nil {
				errs = append(errs, err)
			}
			continue
		}
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

// cancelNewCheck answers, per sweep, whether a run's deployment uses the
// CANCEL_NEW collision strategy and has no free concurrency slot.
type cancelNewCheck struct {
	deps  RunDeps
	cache map[model.ID]*model.Deployment
}

func newCancelNewCheck(deps RunDeps) *cancelNewCheck {
	return &cancelNewCheck{deps: deps, cache: map[model.ID]*model.Deployment{}}
}

func (c *cancelNewCheck) atLimit(ctx context.Context, sr store.SweptRun) (bool, error) {
	if sr.Run.DeploymentID == nil {
		return false, nil
	}
	id := *sr.Run.DeploymentID
	d, seen := c.cache[id]
	if !seen {
		got, err := c.deps.Store.DeploymentGet(ctx, sr.Workspace, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return false, fmt.Errorf("late runs: deployment %s: %w", id, err)
		default:
			d = &got
		}
		c.cache[id] = d
	}
	if d == nil || d.ConcurrencyLimit == nil || d.ConcurrencyOptions == nil || d.ConcurrencyOptions.CollisionStrategy != "CANCEL_NEW" {
		return false, nil
	}
	n, err := c.deps.Store.FlowRunCount(ctx, sr.Workspace, model.RunQuery{FlowRuns: &model.FlowRunFilter{
		DeploymentID: &model.OptionalIDFilter{Any: []model.ID{id}},
		State:        &model.StateFilter{Type: &model.StateTypeFilter{Any: []model.StateType{model.StatePending, model.StateRunning, model.StateCancelling}}},
	}})
	if err != nil {
		return false, fmt.Errorf("late runs: deployment %s: %w", id, err)
	}
	return n >= *d.ConcurrencyLimit, nil
}
