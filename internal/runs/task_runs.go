package runs

import (
	"context"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/orchestration"
	"github.com/batonhq/baton/internal/store"
)

// NewTaskRun is a task run to create through the API (the Prefect client
// reports most task runs as events instead; see RecordTaskRuns).
type NewTaskRun struct {
	// Run holds the caller's fields. ID, Created, Updated and Name are
	// filled in when zero; the state fields are set from State.
	Run model.TaskRun
	// State is the initial state, applied with the forced policy (empty
	// type: PENDING).
	State model.StateCreate
}

// CreateTaskRun creates a task run in its initial state, or returns the
// task run with the same (flow run, task key, dynamic key) and
// created=false. A flow run that does not exist is a NotFoundError naming
// "flow_run_id".
func (s *Service) CreateTaskRun(ctx context.Context, ws model.ID, in NewTaskRun) (model.TaskRun, bool, error) {
	run := in.Run
	if run.FlowRunID != nil {
		if _, err := s.st.FlowRunGet(ctx, ws, *run.FlowRunID); err != nil {
			return model.TaskRun{}, false, notFound(err, "flow run", *run.FlowRunID, "flow_run_id")
		}
	}
	now := s.now()
	if run.ID.IsNil() {
		run.ID = model.NewIDv7()
	}
	if run.Created.IsZero() {
		run.Created = model.NewTime(now)
	}
	if run.Updated.IsZero() {
		run.Updated = run.Created
	}
	if run.Name == "" {
		run.Name = run.TaskKey + "-" + run.DynamicKey[:min(3, len(run.DynamicKey))]
	}
	if run.Tags == nil {
		run.Tags = []string{}
	}
	if run.Labels == nil {
		run.Labels = model.Labels{}
	}
	if run.TaskInputs == nil {
		run.TaskInputs = map[string][]model.TaskRunInput{}
	}
	proposed := in.State
	if proposed.Type == "" {
		proposed.Type = model.StatePending
	}
	out := orchestration.ProposeTaskRunState(orchestration.TaskRunInput{Run: run, Proposed: proposed, Force: true, Now: now})
	if out.TaskRun != nil {
		run = *out.TaskRun
	}
	saved, created, err := s.st.TaskRunCreate(ctx, ws, run)
	if err != nil {
		return model.TaskRun{}, false, err
	}
	return saved, created, nil
}

// SetTaskRunState proposes a state for a task run. The store hands the
// decider the task run and its flow run read in the same transaction (the
// task policy looks at the flow run's state), so the decision is pure and
// consistent; the limits of the run's tags are read before (see slots.go),
// and the slots the decision takes or gives back are written with the
// state. A missing task run is a NotFoundError.
func (s *Service) SetTaskRunState(ctx context.Context, ws, id model.ID, p Proposal) (Transition, error) {
	return retrySlots(func() (Transition, error) {
		tags, limits, err := s.tagLimits(ctx, ws, id)
		if err != nil {
			return Transition{}, err
		}
		var out orchestration.Outcome
		ch, err := s.st.TaskRunSetState(ctx, ws, id, func(run model.TaskRun, flowRun *model.FlowRun) (store.TaskRunChange, error) {
			out = orchestration.Outcome{}
			if p.IfStateID != nil && (run.StateID == nil || *run.StateID != *p.IfStateID) {
				out.Result = movedOn(run.State, *p.IfStateID)
				return store.TaskRunChange{}, nil
			}
			if !sameTags(run.Tags, tags) {
				return store.TaskRunChange{}, errStale
			}
			out = orchestration.ProposeTaskRunState(orchestration.TaskRunInput{Run: run, Proposed: p.State, Force: p.Force,
				Now: s.decisionTime(p), FlowRun: flowRun, EmitEvents: p.EmitEvents, TagLimits: limits})
			return store.TaskRunChange{Run: out.TaskRun, State: out.State, Events: out.Events, Slots: out.Slots}, nil
		})
		if err != nil {
			return Transition{}, notFound(err, "task run", id, "")
		}
		s.publish(ws, ch.Events)
		return Transition{Result: out.Result, Written: ch.State != nil}, nil
	})
}

// RecordTaskRuns writes task runs reported by client events (the event
// ingest's recorder): each record moves its task run forward only when its
// state is newer than the stored one (see store.TaskRuns.TaskRunRecord).
// The events themselves are the ingest's to store and publish.
func (s *Service) RecordTaskRuns(ctx context.Context, ws model.ID, recs []store.TaskRunRecord) error {
	return s.st.TaskRunRecord(ctx, ws, recs)
}

// UpdateTaskRun applies a PATCH /task_runs/{id} body (the name is all it
// may change).
func (s *Service) UpdateTaskRun(ctx context.Context, ws, id model.ID, u model.TaskRunUpdate) error {
	_, err := s.st.TaskRunUpdate(ctx, ws, id, func(r *model.TaskRun) error {
		if u.Name != nil {
			r.Name = *u.Name
		}
		r.Updated = model.NewTime(s.now())
		return nil
	})
	return notFound(err, "task run", id, "")
}

// DeleteTaskRun deletes a task run and its history.
func (s *Service) DeleteTaskRun(ctx context.Context, ws, id model.ID) error {
	return notFound(s.st.TaskRunDelete(ctx, ws, id), "task run", id, "")
}
