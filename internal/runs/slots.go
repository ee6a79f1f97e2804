package runs

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/orchestration"
	"github.com/batonhq/baton/internal/store"
)

// Concurrency slots: a state change of a run with a deployment limit or
// tag limits may take, renew or give back slots. What the decision needs
// (the limits, whether a lease is alive) is read before the write; the
// store applies the decision's slot change with the state and refuses with
// store.ErrSlotsBusy when what was read no longer holds (a limit filled up,
// a lease expired, the run changed under the reads). The change is then
// decided again from fresh reads, a few times at most: each refusal means
// another writer moved on, so the next reads see a settled picture.

// slotAttempts bounds how many times a state change is decided again after
// the store refused its slot change.
const slotAttempts = 5

// errStale is what a decider returns when the run it is handed does not
// match what was gathered for it; it counts as a refused slot change.
var errStale = fmt.Errorf("runs: the run changed since its limits were read: %w", store.ErrSlotsBusy)

// retrySlots runs attempt until it succeeds, fails for another reason than
// a refused slot change, or slotAttempts is reached.
func retrySlots[T any](attempt func() (T, error)) (T, error) {
	var out T
	var err error
	for i := 0; i < slotAttempts; i++ {
		out, err = attempt()
		if !errors.Is(err, store.ErrSlotsBusy) {
			return out, err
		}
	}
	return out, fmt.Errorf("runs: concurrency slots kept changing while deciding: %w", err)
}

// deploymentConcurrency gathers the concurrency of a flow run's deployment
// for a proposal (nil for a run without a deployment). The lease of the
// run's current state is looked up only when the decision may renew it
// (PENDING → RUNNING by a client that maintains leases); leaseOf is the
// lease the current state named when it was read, which the decider checks
// against the row it is handed.
func (s *Service) deploymentConcurrency(ctx context.Context, ws, runID model.ID, deployment *model.ID, p Proposal) (*orchestration.DeploymentConcurrency, error) {
	if deployment == nil {
		return nil, nil
	}
	d, err := s.st.DeploymentGet(ctx, ws, *deployment)
	if errors.Is(err, store.ErrNotFound) {
		return &orchestration.DeploymentConcurrency{Missing: true}, nil
	}
	if err != nil {
		return nil, err
	}
	dc := &orchestration.DeploymentConcurrency{Limit: d.GlobalConcurrencyLimit, Options: d.ConcurrencyOptions}
	if dc.Limit == nil || p.Force || p.State.Type != model.StateRunning {
		return dc, nil
	}
	run, err := s.st.FlowRunGet(ctx, ws, runID)
	if err != nil {
		return nil, notFound(err, "flow run", runID, "")
	}
	if run.State == nil || run.State.Type != model.StatePending || run.State.StateDetails.DeploymentConcurrencyLeaseID == nil {
		return dc, nil
	}
	lease := *run.State.StateDetails.DeploymentConcurrencyLeaseID
	dc.LeaseID = &lease
	leases, err := s.st.ConcurrencyLeasesOf(ctx, ws, dc.Limit.ID)
	if err != nil {
		return nil, err
	}
	dc.LeaseAlive = slices.ContainsFunc(leases, func(l model.ConcurrencyLease) bool { return l.ID == lease })
	return dc, nil
}

// checkGathered reports errStale when the run's current state names
// another lease than the one whose liveness was gathered.
func checkGathered(run model.FlowRun, dc *orchestration.DeploymentConcurrency) error {
	if dc == nil || dc.LeaseID == nil {
		return nil
	}
	if run.State == nil || run.State.StateDetails.DeploymentConcurrencyLeaseID == nil || *run.State.StateDetails.DeploymentConcurrencyLeaseID != *dc.LeaseID {
		return errStale
	}
	return nil
}

// tagLimits gathers the global concurrency limits of a task run's tags and
// returns the tags they were gathered for, which the decider checks against
// the row it is handed.
func (s *Service) tagLimits(ctx context.Context, ws, id model.ID) ([]string, []model.ConcurrencyLimit, error) {
	tr, err := s.st.TaskRunGet(ctx, ws, id)
	if err != nil {
		return nil, nil, notFound(err, "task run", id, "")
	}
	var limits []model.ConcurrencyLimit
	for _, tag := range uniqueTags(tr.Tags) {
		l, err := s.st.ConcurrencyLimitGet(ctx, ws, model.TagLimitPrefix+tag)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		limits = append(limits, l)
	}
	return tr.Tags, limits, nil
}

// uniqueTags is tags without repeats, in their first order.
func uniqueTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// sameTags reports whether two tag lists hold the same tags.
func sameTags(a, b []string) bool {
	a, b = uniqueTags(a), uniqueTags(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
