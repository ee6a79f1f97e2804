package runs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/orchestration"
	"github.com/batonhq/baton/internal/store"
)

// NewFlowRun is a flow run to create.
type NewFlowRun struct {
	// Run holds the caller's fields (flow, parameters, tags, deployment,
	// work queue...). ID, Created, Updated and Name are filled in when
	// zero; the state fields are set from State.
	Run model.FlowRun
	// State is the initial state, applied with the forced policy (empty
	// type: PENDING).
	State model.StateCreate
	// Deployment is the deployment the run is created from, when the caller
	// has it (its name and tags label the run's events).
	Deployment *model.Deployment
	// Now is the creation time; zero means the Service's clock.
	Now time.Time
}

// CreateFlowRun creates a flow run in its initial state and writes the
// state's event with it; with an idempotency key that a run of the same
// flow already has, it returns that run and created=false and writes
// nothing. A missing flow is a NotFoundError naming "flow_id".
func (s *Service) CreateFlowRun(ctx context.Context, ws model.ID, in NewFlowRun) (run model.FlowRun, created bool, err error) {
	now := in.Now
	if now.IsZero() {
		now = s.now()
	}
	run = in.Run
	prepareFlowRun(&run, now)
	rel := orchestration.RelatedResources{}
	if rel.FlowName, err = s.flowName(ctx, ws, run.FlowID); err != nil {
		return model.FlowRun{}, false, notFound(err, "flow", run.FlowID, "flow_id")
	}
	if d := in.Deployment; d != nil {
		rel.DeploymentName, rel.DeploymentTags = d.Name, d.Tags
	}
	proposed := in.State
	if proposed.Type == "" {
		proposed.Type = model.StatePending
	}
	out := orchestration.ProposeFlowRunState(orchestration.FlowRunInput{Run: run, Proposed: proposed, Force: true, Now: now, Related: rel})
	if out.Run != nil {
		run = *out.Run
	}
	saved, created, err := s.st.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: run, Events: out.Events})
	if err != nil {
		return model.FlowRun{}, false, notFound(err, "flow", run.FlowID, "flow_id")
	}
	if created {
		s.names.rememberRun(ws, &saved)
		s.publish(ws, out.Events)
	}
	return saved, created, nil
}

// prepareFlowRun fills what a new run must have: an id, times, a name and
// non-null JSON fields (the API returns {} and [] rather than null).
func prepareFlowRun(r *model.FlowRun, now time.Time) {
	if r.ID.IsNil() {
		r.ID = model.NewIDv7()
	}
	if r.Created.IsZero() {
		r.Created = model.NewTime(now)
	}
	if r.Updated.IsZero() {
		r.Updated = r.Created
	}
	if r.Name == "" {
		r.Name = Name()
	}
	r.Parameters = emptyObject(r.Parameters)
	r.Context = emptyObject(r.Context)
	r.JobVariables = emptyObject(r.JobVariables)
	if r.Tags == nil {
		r.Tags = []string{}
	}
	if r.Labels == nil {
		r.Labels = model.Labels{}
	}
	if r.EmpiricalPolicy.PauseKeys == nil {
		r.EmpiricalPolicy.PauseKeys = []string{}
	}
}

func emptyObject(m json.RawMessage) json.RawMessage {
	if len(m) == 0 || string(m) == "null" {
		return json.RawMessage("{}")
	}
	return m
}

// SetFlowRunState proposes a state for a flow run: the orchestration policy
// decides, and the run, its new state, the state mirrored onto a subflow's
// parent task run, the transition's event and what it does to its
// deployment's concurrency slots (take, renew or give back; see slots.go)
// are written in one transaction. A missing run is a NotFoundError.
func (s *Service) SetFlowRunState(ctx context.Context, ws, id model.ID, p Proposal) (Transition, error) {
	rel, deployment, err := s.related(ctx, ws, id)
	if err != nil {
		return Transition{}, err
	}
	return retrySlots(func() (Transition, error) {
		dc, err := s.deploymentConcurrency(ctx, ws, id, deployment, p)
		if err != nil {
			return Transition{}, err
		}
		var out orchestration.Outcome
		ch, err := s.st.FlowRunSetState(ctx, ws, id, func(run model.FlowRun) (store.FlowRunChange, error) {
			out = orchestration.Outcome{}
			if p.IfStateID != nil && (run.StateID == nil || *run.StateID != *p.IfStateID) {
				out.Result = movedOn(run.State, *p.IfStateID)
				return store.FlowRunChange{}, nil
			}
			if err := checkGathered(run, dc); err != nil {
				return store.FlowRunChange{}, err
			}
			out = orchestration.ProposeFlowRunState(orchestration.FlowRunInput{Run: run, Proposed: p.State, Force: p.Force,
				Now: s.decisionTime(p), ClientVersion: p.ClientVersion, Related: rel, Deployment: dc})
			return store.FlowRunChange{Run: out.Run, State: out.State, ParentTaskState: out.ParentTaskState, Events: out.Events,
				Slots: out.Slots}, nil
		})
		if err != nil {
			return Transition{}, notFound(err, "flow run", id, "")
		}
		s.publish(ws, ch.Events)
		return Transition{Result: out.Result, Written: ch.State != nil}, nil
	})
}

// PlannedRun is a run the scheduler wants: the run's fields and the time
// it is scheduled for.
type PlannedRun struct {
	Run model.FlowRun
	At  time.Time
}

// ScheduleDeploymentRuns creates the scheduler's runs for one deployment,
// each SCHEDULED at its time with its event, skipping those whose
// idempotency key exists, and records when to look at the deployment again
// (see store.Deployments.DeploymentScheduleRuns). It returns how many runs
// were new.
func (s *Service) ScheduleDeploymentRuns(ctx context.Context, target store.ScheduleTarget, planned []PlannedRun, nextCheck, now time.Time) (int, error) {
	d := target.Deployment
	rel := orchestration.RelatedResources{FlowName: d.FlowName, DeploymentName: d.Name, DeploymentTags: d.Tags}
	if rel.FlowName == "" {
		name, err := s.flowName(ctx, target.Workspace, d.FlowID)
		if err != nil {
			return 0, fmt.Errorf("runs: flow of deployment %s: %w", d.ID, err)
		}
		rel.FlowName = name
	}
	news := make([]store.NewFlowRun, 0, len(planned))
	for _, p := range planned {
		run := p.Run
		prepareFlowRun(&run, now)
		out := orchestration.ProposeFlowRunState(orchestration.FlowRunInput{Run: run, Force: true, Now: now, Related: rel,
			Proposed: model.StateCreate{Type: model.StateScheduled, StateDetails: model.StateDetails{ScheduledTime: model.TimePtr(p.At)}}})
		if out.Run != nil {
			run = *out.Run
		}
		news = append(news, store.NewFlowRun{Run: run, Events: out.Events})
	}
	res, err := s.st.DeploymentScheduleRuns(ctx, target, news, nextCheck)
	if err != nil {
		return 0, err
	}
	s.publish(target.Workspace, res.Events)
	return res.Created, nil
}

// UpdateFlowRun applies a PATCH /flow_runs/{id} body: nil fields are left
// unchanged; the state is not among them (only SetFlowRunState moves it).
func (s *Service) UpdateFlowRun(ctx context.Context, ws, id model.ID, u model.FlowRunUpdate) error {
	_, err := s.st.FlowRunUpdate(ctx, ws, id, func(r *model.FlowRun) error {
		if u.Name != nil {
			r.Name = *u.Name
		}
		if u.FlowVersion != nil {
			r.FlowVersion = u.FlowVersion
		}
		if len(u.Parameters) > 0 && string(u.Parameters) != "null" {
			r.Parameters = u.Parameters
		}
		if u.EmpiricalPolicy != nil {
			r.EmpiricalPolicy = *u.EmpiricalPolicy
			if r.EmpiricalPolicy.PauseKeys == nil {
				r.EmpiricalPolicy.PauseKeys = []string{}
			}
		}
		if u.Tags != nil {
			r.Tags = *u.Tags
			if r.Tags == nil {
				r.Tags = []string{}
			}
		}
		if u.InfrastructurePID != nil {
			r.InfrastructurePID = u.InfrastructurePID
		}
		if len(u.JobVariables) > 0 && string(u.JobVariables) != "null" {
			r.JobVariables = u.JobVariables
		}
		r.Updated = model.NewTime(s.now())
		return nil
	})
	return notFound(err, "flow run", id, "")
}

// MergeFlowRunLabels sets the given labels on a flow run, keeping the others.
func (s *Service) MergeFlowRunLabels(ctx context.Context, ws, id model.ID, labels model.Labels) error {
	_, err := s.st.FlowRunUpdate(ctx, ws, id, func(r *model.FlowRun) error {
		if r.Labels == nil {
			r.Labels = model.Labels{}
		}
		for k, v := range labels {
			r.Labels[k] = v
		}
		r.Updated = model.NewTime(s.now())
		return nil
	})
	return notFound(err, "flow run", id, "")
}

// DeleteFlowRun deletes a flow run with its task runs and histories.
func (s *Service) DeleteFlowRun(ctx context.Context, ws, id model.ID) error {
	return notFound(s.st.FlowRunDelete(ctx, ws, id), "flow run", id, "")
}

// ImportFlowRun writes a run exactly as given (its state included, without
// orchestration or events): history loaded by tools such as `baton dev
// seed`, never a live run.
func (s *Service) ImportFlowRun(ctx context.Context, ws model.ID, run model.FlowRun) error {
	_, _, err := s.st.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: run})
	return notFound(err, "flow", run.FlowID, "flow_id")
}
