package services

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// DefaultPendingTimeout is how long a run may stay PENDING (claimed by a
// worker or a client, not yet started) before the server gives up on it.
// Generous: a worker may pull an image or start a machine before RUNNING.
const DefaultPendingTimeout = 30 * time.Minute

// PendingTimeout ends runs stuck in PENDING: something claimed them (a
// worker proposed PENDING before starting the run) and never reported the
// run starting, while that claimant still looked alive (a dead one is the
// crash detector's case). Such a run holds its deployment's concurrency slot
// and would hold it forever. It becomes CRASHED with the reason recorded in
// its state message, through the runs layer, which releases the slot in the
// same transaction; a process that starts late finds its run terminal and
// aborts, so the run is never executed twice.
type PendingTimeout struct {
	deps    RunDeps
	timeout time.Duration
}

// NewPendingTimeout returns the service; timeout <= 0 means
// DefaultPendingTimeout.
func NewPendingTimeout(deps RunDeps, timeout time.Duration) *PendingTimeout {
	if timeout <= 0 {
		timeout = DefaultPendingTimeout
	}
	return &PendingTimeout{deps: deps, timeout: timeout}
}

// Service wraps the sweep in the periodic loop (every timeout/30, 1 s to
// a minute).
func (p *PendingTimeout) Service() *Periodic {
	every := min(max(p.timeout/30, time.Second), time.Minute)
	return &Periodic{ServiceName: "pending-timeout", Interval: every, Now: p.deps.Now, Logger: p.deps.logger(), Tick: p.Tick}
}

// Tick does one round.
func (p *PendingTimeout) Tick(ctx context.Context, now time.Time) error {
	_, err := p.Run(ctx, now)
	return err
}

// Run ends every run PENDING since before now - timeout and returns how
// many it ended.
func (p *PendingTimeout) Run(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.Add(-p.timeout)
	stuck, err := p.deps.Store.FlowRunSweep(ctx, store.RunSweepQuery{StateTypes: []model.StateType{model.StatePending}, StateBefore: &cutoff, Limit: 500})
	if err != nil {
		return 0, fmt.Errorf("pending timeout: %w", err)
	}
	ended := 0
	var errs []error
	for _, sr := range stuck {
		by := "its claimant"
		if name := sr.Run.Labels["prefect.worker.name"]; name != "" {
			by = fmt.Sprintf("worker %q", name)
		}
		since := ""
		if sr.Run.State != nil {
			since = " at " + sr.Run.State.Timestamp.UTC().Format(time.RFC3339)
		}
		msg := fmt.Sprintf("Claimed by %s%s but never started within %v; ended by the server, and its concurrency slot released.", by, since, p.timeout)
		ok, err := transition(ctx, p.deps, sr, true, now, model.StateCreate{Type: model.StateCrashed, Message: &msg})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			ended++
			p.deps.logger().Warn("flow run stuck in PENDING ended", "flow_run", sr.Run.ID, "reason", msg)
		}
	}
	return ended, errors.Join(errs...)
}
