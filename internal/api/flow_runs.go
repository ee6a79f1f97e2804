package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/orchestration"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/store"
)

func flowRunRoutes() []route {
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	return []route{
		alsoOK(op(wsWrite, "POST", "/flow_runs", "Flow Runs", "Create a flow run (or return the one with the same idempotency key, 200)", 201, createFlowRun)),
		op(wsRead, "GET", "/flow_runs/{id}", "Flow Runs", "Read a flow run", 200, func(c *call, _ *noBody) (model.FlowRun, error) {
			rid := c.id("id")
			return c.getFlowRun(rid)
		}, id),
		op(wsWrite, "PATCH", "/flow_runs/{id}", "Flow Runs", "Update a flow run", 204, updateFlowRun, id),
		op(wsWrite, "PATCH", "/flow_runs/{id}/labels", "Flow Runs", "Merge labels into a flow run's labels", 204, func(c *call, b *model.Labels) (noContent, error) {
			rid := c.id("id")
			return noContent{}, c.srv.cfg.Runs.MergeFlowRunLabels(c.ctx, c.ws, rid, *b)
		}, id),
		op(wsWrite, "DELETE", "/flow_runs/{id}", "Flow Runs", "Delete a flow run", 204, func(c *call, _ *noBody) (noContent, error) {
			rid := c.id("id")
			return noContent{}, c.srv.cfg.Runs.DeleteFlowRun(c.ctx, c.ws, rid)
		}, id),
		alsoOK(op(wsWrite, "POST", "/flow_runs/{id}/set_state", "Flow Runs", "Propose a new state; the orchestration policy decides (200 when nothing was written)", 201, setFlowRunState, id)),
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

func createFlowRun(c *call, b *model.FlowRunCreate) (model.FlowRun, error) {
	if err := checkObject(b.Parameters, "parameters"); err != nil {
		return model.FlowRun{}, err
	}
	in := runs.NewFlowRun{Run: model.FlowRun{
		FlowID: b.FlowID, FlowVersion: b.FlowVersion, Parameters: b.Parameters, Context: b.Context,
		ParentTaskRunID: b.ParentTaskRunID, InfrastructureDocumentID: b.InfrastructureDocumentID,
		Tags: b.Tags, Labels: b.Labels, IdempotencyKey: b.IdempotencyKey, WorkQueueName: b.WorkQueueName,
		WorkPoolName: b.WorkPoolName, JobVariables: b.JobVariables, DeploymentID: b.DeploymentID,
	}}
	if b.Name != nil {
		in.Run.Name = *b.Name
	}
	if b.EmpiricalPolicy != nil {
		in.Run.EmpiricalPolicy = *b.EmpiricalPolicy
	}
	if b.State != nil {
		in.State = *b.State
	}
	run, created, err := c.srv.cfg.Runs.CreateFlowRun(c.ctx, c.ws, in)
	if err == nil && !created {
		c.setStatus(http.StatusOK)
	}
	return run, err
}

func emptyObject(m json.RawMessage) json.RawMessage {
	if len(m) == 0 || string(m) == "null" {
		return json.RawMessage("{}")
	}
	return m
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
	rid := c.id("id")
	if err := checkObject(b.Parameters, "parameters"); err != nil {
		return noContent{}, err
	}
	return noContent{}, c.srv.cfg.Runs.UpdateFlowRun(c.ctx, c.ws, rid, *b)
}

func setFlowRunState(c *call, b *model.SetStateRequest) (model.OrchestrationResult, error) {
	rid := c.id("id")
	t, err := c.srv.cfg.Runs.SetFlowRunState(c.ctx, c.ws, rid, runs.Proposal{IfStateID: b.IfStateID, State: b.State, Force: b.Force,
		ClientVersion: orchestration.ClientVersionFromUserAgent(c.r.UserAgent())})
	if err != nil {
		return model.OrchestrationResult{}, err
	}
	if !t.Written {
		c.setStatus(http.StatusOK)
	}
	return t.Result, nil
}
