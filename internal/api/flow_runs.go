package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/orchestration"
	"github.com/batonhq/baton/internal/store"
)

func flowRunRoutes() []route {
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	return []route{
		op(wsWrite, "POST", "/flow_runs", "Flow Runs", "Create a flow run (or return the one with the same idempotency key)", 201, createFlowRun),
		op(wsRead, "GET", "/flow_runs/{id}", "Flow Runs", "Read a flow run", 200, func(c *call, _ *noBody) (model.FlowRun, error) {
			rid, _ := c.pathID("id")
			return c.getFlowRun(rid)
		}, id),
		op(wsWrite, "PATCH", "/flow_runs/{id}", "Flow Runs", "Update a flow run", 204, updateFlowRun, id),
		op(wsWrite, "PATCH", "/flow_runs/{id}/labels", "Flow Runs", "Merge labels into a flow run's labels", 204, func(c *call, b *model.Labels) (noContent, error) {
			rid, _ := c.pathID("id")
			_, err := c.srv.cfg.Store.FlowRunUpdate(c.ctx, c.ws, rid, func(r *model.FlowRun) error {
				if r.Labels == nil {
					r.Labels = model.Labels{}
				}
				for k, v := range *b {
					r.Labels[k] = v
				}
				r.Updated = model.NewTime(c.srv.now())
				return nil
			})
			return noContent{}, notFoundAs(err, "flow run", rid)
		}, id),
		op(wsWrite, "DELETE", "/flow_runs/{id}", "Flow Runs", "Delete a flow run", 204, func(c *call, _ *noBody) (noContent, error) {
			rid, _ := c.pathID("id")
			return noContent{}, notFoundAs(c.srv.cfg.Store.FlowRunDelete(c.ctx, c.ws, rid), "flow run", rid)
		}, id),
		op(wsWrite, "POST", "/flow_runs/{id}/set_state", "Flow Runs", "Propose a new state; the orchestration policy decides", 201, setFlowRunState, id),
		optionalBody(op(wsRead, "POST", "/flow_runs/filter", "Flow Runs", "Query flow runs", 200, func(c *call, q *model.RunQuery) ([]model.FlowRun, error) {
			if err := checkQuery(q, model.FlowRunSorts); err != nil {
				return nil, err
			}
			res, err := c.srv.cfg.Store.FlowRunList(c.ctx, c.ws, *q)
			return nonNil(res), err
		})),
		optionalBody(op(wsRead, "POST", "/flow_runs/count", "Flow Runs", "Count flow runs", 200, func(c *call, q *model.RunQuery) (int, error) {
			return c.srv.cfg.Store.FlowRunCount(c.ctx, c.ws, *q)
		})),
		optionalBody(op(wsRead, "POST", "/flow_runs/paginate", "Flow Runs", "Page through flow runs", 200, func(c *call, q *paginateQuery) (page[model.FlowRun], error) {
			return paginate(c, q, model.FlowRunSorts, c.srv.cfg.Store.FlowRunList, c.srv.cfg.Store.FlowRunCount)
		})),
		op(wsRead, "GET", "/flow_run_states", "Flow Run States", "A flow run's state history, oldest first", 200, func(c *call, _ *noBody) ([]model.State, error) {
			rid, err := c.queryID("flow_run_id")
			if err != nil {
				return nil, err
			}
			states, err := c.srv.cfg.Store.FlowRunStates(c.ctx, c.ws, rid)
			return nonNil(states), err
		}, param{name: "flow_run_id", in: "query", typ: "uuid", required: true}),
	}
}

func (c *call) getFlowRun(id model.ID) (model.FlowRun, error) {
	r, err := c.srv.cfg.Store.FlowRunGet(c.ctx, c.ws, id)
	return r, notFoundAs(err, "flow run", id)
}

// notFoundAs rewrites a store ErrNotFound into a 404 naming the object.
func notFoundAs(err error, kind string, id any) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(kind, id)
	}
	return err
}

func emptyObject(m json.RawMessage) json.RawMessage {
	if len(m) == 0 || string(m) == "null" {
		return json.RawMessage("{}")
	}
	return m
}

func createFlowRun(c *call, b *model.FlowRunCreate) (model.FlowRun, error) {
	st := c.srv.cfg.Store
	if _, err := st.FlowGet(c.ctx, c.ws, b.FlowID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return model.FlowRun{}, errorf(http.StatusNotFound, "flow %s not found (field \"flow_id\")", b.FlowID)
		}
		return model.FlowRun{}, err
	}
	if err := checkObject(b.Parameters, "parameters"); err != nil {
		return model.FlowRun{}, err
	}
	now := c.srv.now()
	run := model.FlowRun{
		ID: model.NewID(), Created: model.NewTime(now), Updated: model.NewTime(now),
		FlowID: b.FlowID, FlowVersion: b.FlowVersion, Parameters: emptyObject(b.Parameters), Context: emptyObject(b.Context),
		ParentTaskRunID: b.ParentTaskRunID, InfrastructureDocumentID: b.InfrastructureDocumentID,
		Tags: nonNil(b.Tags), Labels: b.Labels, IdempotencyKey: b.IdempotencyKey, WorkQueueName: b.WorkQueueName,
		WorkPoolName: b.WorkPoolName, JobVariables: emptyObject(b.JobVariables), DeploymentID: b.DeploymentID,
	}
	if run.Labels == nil {
		run.Labels = model.Labels{}
	}
	if b.Name != nil && *b.Name != "" {
		run.Name = *b.Name
	} else {
		run.Name = runName()
	}
	if b.EmpiricalPolicy != nil {
		run.EmpiricalPolicy = *b.EmpiricalPolicy
	}
	if run.EmpiricalPolicy.PauseKeys == nil {
		run.EmpiricalPolicy.PauseKeys = []string{}
	}
	proposed := model.StateCreate{Type: model.StatePending}
	if b.State != nil {
		proposed = *b.State
	}
	out := orchestration.ProposeFlowRunState(orchestration.FlowRunInput{Run: run, Proposed: proposed, Force: true, Now: now,
		Related: orchestration.RelatedResources{FlowName: c.srv.flowName(c.ctx, c.ws, run.FlowID)}})
	if out.Run != nil {
		run = *out.Run
	}
	saved, created, err := st.FlowRunCreate(c.ctx, c.ws, run)
	if err != nil {
		return saved, err
	}
	if !created {
		c.setStatus(http.StatusOK)
		return saved, nil
	}
	c.srv.publish(c, out.Events)
	return saved, nil
}

// checkObject requires an optional raw JSON field to be an object.
func checkObject(m json.RawMessage, field string) error {
	if len(m) == 0 || string(m) == "null" {
		return nil
	}
	if m[0] != '{' {
		return errorf(http.StatusUnprocessableEntity, "field %q must be an object", field)
	}
	return nil
}

func updateFlowRun(c *call, b *model.FlowRunUpdate) (noContent, error) {
	rid, _ := c.pathID("id")
	if err := checkObject(b.Parameters, "parameters"); err != nil {
		return noContent{}, err
	}
	_, err := c.srv.cfg.Store.FlowRunUpdate(c.ctx, c.ws, rid, func(r *model.FlowRun) error {
		if b.Name != nil {
			r.Name = *b.Name
		}
		if b.FlowVersion != nil {
			r.FlowVersion = b.FlowVersion
		}
		if len(b.Parameters) > 0 && string(b.Parameters) != "null" {
			r.Parameters = b.Parameters
		}
		if b.EmpiricalPolicy != nil {
			r.EmpiricalPolicy = *b.EmpiricalPolicy
			if r.EmpiricalPolicy.PauseKeys == nil {
				r.EmpiricalPolicy.PauseKeys = []string{}
			}
		}
		if b.Tags != nil {
			r.Tags = nonNil(*b.Tags)
		}
		if b.InfrastructurePID != nil {
			r.InfrastructurePID = b.InfrastructurePID
		}
		if len(b.JobVariables) > 0 && string(b.JobVariables) != "null" {
			r.JobVariables = b.JobVariables
		}
		r.Updated = model.NewTime(c.srv.now())
		return nil
	})
	return noContent{}, notFoundAs(err, "flow run", rid)
}

func setFlowRunState(c *call, b *model.SetStateRequest) (model.OrchestrationResult, error) {
	rid, _ := c.pathID("id")
	var out orchestration.Outcome
	ver := orchestration.ClientVersionFromUserAgent(c.r.UserAgent())
	change, err := c.srv.cfg.Store.FlowRunSetState(c.ctx, c.ws, rid, func(run model.FlowRun) (store.FlowRunChange, error) {
		out = orchestration.ProposeFlowRunState(orchestration.FlowRunInput{Run: run, Proposed: b.State, Force: b.Force, Now: c.srv.now(), ClientVersion: ver,
			Related: orchestration.RelatedResources{FlowName: c.srv.flowName(c.ctx, c.ws, run.FlowID)}})
		return store.FlowRunChange{Run: out.Run, State: out.State, ParentTaskState: out.ParentTaskState, Events: out.Events}, nil
	})
	if err != nil {
		return model.OrchestrationResult{}, notFoundAs(err, "flow run", rid)
	}
	c.srv.cfg.Bus.Publish(c.ws, change.Events)
	if out.State == nil {
		c.setStatus(http.StatusOK)
	}
	return out.Result, nil
}

// publish persists server-emitted events outside a run transition (for
// example a run's initial state) and fans them out.
func (s *Server) publish(c *call, evs []model.Event) {
	if len(evs) == 0 {
		return
	}
	if err := s.cfg.Ingest.Accept(c.ctx, c.ws, evs); err != nil {
		s.log.Warn("could not record server events", "err", err, "count", len(evs))
	}
}

// flowName returns a flow's name for event labels, from a small cache (flow
// names never change; a miss costs one read).
func (s *Server) flowName(ctx context.Context, ws, flowID model.ID) string {
	key := [2]model.ID{ws, flowID}
	if v, ok := s.flowNames.Load(key); ok {
		return v.(string)
	}
	f, err := s.cfg.Store.FlowGet(ctx, ws, flowID)
	if err != nil {
		return ""
	}
	s.flowNames.Store(key, f.Name)
	return f.Name
}
