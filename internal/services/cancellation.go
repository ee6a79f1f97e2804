package services

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/store"
)

// DefaultCancellingTimeout is how long a run may stay CANCELLING before the
// server gives up on its infrastructure and forces it CANCELLED.
const DefaultCancellingTimeout = 300 * time.Second

// Cancellation is the cancellation backstop: CANCELLING runs that nobody
// finished cancelling within the timeout are forced CANCELLED, and the
// non-terminal task runs and subflow runs of cancelled flow runs are
// cancelled too.
type Cancellation struct {
	deps    RunDeps
	timeout time.Duration
	// since is where the next look for newly cancelled runs starts.
	since time.Time
}

// NewCancellation returns the backstop; timeout <= 0 means
// DefaultCancellingTimeout.
func NewCancellation(deps RunDeps, timeout time.Duration) *Cancellation {
	if timeout <= 0 {
		timeout = DefaultCancellingTimeout
	}
	return &Cancellation{deps: deps, timeout: timeout}
}

// Service wraps the backstop in the periodic loop.
func (c *Cancellation) Service(every time.Duration) *Periodic {
	return &Periodic{ServiceName: "cancellation-cleanup", Interval: every, Now: c.deps.Now, Logger: c.deps.logger(), Tick: c.Tick}
}

// Tick does one round. Ticks must not run concurrently.
func (c *Cancellation) Tick(ctx context.Context, now time.Time) error {
	var errs []error
	cutoff := now.Add(-c.timeout)
	stuck, err := c.deps.Store.FlowRunSweep(ctx, store.RunSweepQuery{StateTypes: []model.StateType{model.StateCancelling}, StateBefore: &cutoff, Limit: 500})
	if err != nil {
		return fmt.Errorf("cancellation: %w", err)
	}
	for _, sr := range stuck {
		msg := "Flow run cancellation timed out."
		if _, err := transition(ctx, c.deps, sr, true, now, model.StateCreate{Type: model.StateCancelled, Message: &msg}); err != nil {
			errs = append(errs, err)
		}
	}
	since := c.since
	if since.IsZero() {
		since = now.Add(-10 * time.Minute)
	}
	// Overlap a little with the previous round: a run cancelled while the
	// last sweep read is picked up now (cancelling children is idempotent).
	after := since.Add(-time.Minute)
	cancelled, err := c.deps.Store.FlowRunSweep(ctx, store.RunSweepQuery{StateTypes: []model.StateType{model.StateCancelled}, StateAfter: &after, Limit: 1000})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("cancellation: %w", err))...)
	}
	for _, sr := range cancelled {
		if err := c.cancelChildren(ctx, sr.Workspace, sr.Run.ID, now); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		c.since = now
	}
	return errors.Join(errs...)
}

var notTerminal = &model.StateTypeFilter{NotAny: []model.StateType{model.StateCompleted, model.StateFailed, model.StateCancelled, model.StateCrashed}}

// cancelChildren forces the unfinished task runs and subflow runs of a
// cancelled flow run to CANCELLED.
func (c *Cancellation) cancelChildren(ctx context.Context, ws, runID model.ID, now time.Time) error {
	st := c.deps.Store
	msg := "The parent flow run was cancelled."
	tasks, err := st.TaskRunList(ctx, ws, model.RunQuery{TaskRuns: &model.TaskRunFilter{
		FlowRunID: &model.OptionalIDFilter{Any: []model.ID{runID}}, State: &model.StateFilter{Type: notTerminal}}, Limit: 1000})
	if err != nil {
		return fmt.Errorf("cancellation: task runs of %s: %w", runID, err)
	}
	for _, tr := range tasks {
		// Only while the task run is still in the (unfinished) state listed:
		// one that finished meanwhile keeps its outcome.
		if tr.StateID == nil {
			continue
		}
		_, err := c.deps.Runs.SetTaskRunState(ctx, ws, tr.ID, runs.Proposal{Force: true, Now: now, IfStateID: tr.StateID, EmitEvents: true,
			State: model.StateCreate{Type: model.StateCancelled, Message: &msg}})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("cancellation: task run %s: %w", tr.ID, err)
		}
	}
	subs, err := st.FlowRunList(ctx, ws, model.RunQuery{FlowRuns: &model.FlowRunFilter{
		ParentFlowRunID: &model.OptionalIDFilter{Any: []model.ID{runID}}, State: &model.StateFilter{Type: notTerminal}}, Limit: 1000})
	if err != nil {
		return fmt.Errorf("cancellation: subflows of %s: %w", runID, err)
	}
	for _, sub := range subs {
		if _, err := transition(ctx, c.deps, store.SweptRun{Workspace: ws, Run: sub}, true, now,
			model.StateCreate{Type: model.StateCancelled, Message: &msg}); err != nil {
			return err
		}
	}
	return nil
}

// NewForeman returns the service that marks silent workers OFFLINE, pools
// without online workers NOT_READY, and queues and deployments nobody
// polled within pollWindow NOT_READY.
func NewForeman(deps RunDeps, every, pollWindow time.Duration) *Periodic {
	return &Periodic{ServiceName: "foreman", Interval: every, Now: deps.Now, Logger: deps.logger(),
		Tick: func(ctx context.Context, now time.Time) error {
			res, err := deps.Store.WorkPoolsSweep(ctx, now, pollWindow)
			if err != nil {
				return fmt.Errorf("foreman: %w", err)
			}
			if res.WorkersOffline+res.PoolsNotReady+res.QueuesNotReady+res.DeploymentsNotReady > 0 {
				deps.logger().Info("foreman: statuses changed", "workers_offline", res.WorkersOffline, "pools_not_ready", res.PoolsNotReady,
					"queues_not_ready", res.QueuesNotReady, "deployments_not_ready", res.DeploymentsNotReady)
			}
			emitStatusChanges(ctx, deps, res.Changed, now)
			return nil
		}}
}

// emitStatusChanges records prefect.work-pool|work-queue|deployment.not-ready
// for what a foreman round changed, with Prefect's resources, so
// automations can react ("a work pool goes not ready"). The statuses are
// already committed: a failure to record is logged.
func emitStatusChanges(ctx context.Context, deps RunDeps, changes []store.StatusChange, now time.Time) {
	if deps.Events == nil || len(changes) == 0 {
		return
	}
	byWS := map[model.ID][]model.Event{}
	var order []model.ID
	for _, c := range changes {
		status := strings.ReplaceAll(strings.ToLower(c.Status), "_", "-")
		res := map[string]string{"prefect.resource.id": "prefect." + c.Kind + "." + c.ID.String(), "prefect.resource.name": c.Name}
		related := []map[string]string{}
		switch c.Kind {
		case "work-pool":
			res["prefect.work-pool.type"] = c.PoolType
		case "work-queue":
			res["prefect.resource.role"] = "work-queue"
			if c.PoolID != nil {
				related = append(related, map[string]string{"prefect.resource.id": "prefect.work-pool." + c.PoolID.String(), "prefect.resource.role": "work-pool"})
			}
		}
		if _, ok := byWS[c.Workspace]; !ok {
			order = append(order, c.Workspace)
		}
		byWS[c.Workspace] = append(byWS[c.Workspace], model.Event{ID: model.NewIDv7(), Occurred: model.NewTime(now),
			Event: "prefect." + c.Kind + "." + status, Resource: res, Related: related})
	}
	for _, ws := range order {
		if err := deps.Events.Accept(ctx, ws, byWS[ws]); err != nil {
			deps.logger().Warn("foreman: status events not recorded", "err", err)
		}
	}
}
