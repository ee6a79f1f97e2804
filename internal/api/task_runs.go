package api

import (
	"errors"
	"net/http"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/orchestration"
	"github.com/batonhq/baton/internal/store"
)

func taskRunRoutes() []route {
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	return []route{
		op(wsWrite, "POST", "/task_runs", "Task Runs", "Create a task run (or return the one with the same flow run, task key and dynamic key)", 201, createTaskRun),
		op(wsRead, "GET", "/task_runs/{id}", "Task Runs", "Read a task run", 200, func(c *call, _ *noBody) (model.TaskRun, error) {
			rid, _ := c.pathID("id")
			r, err := c.srv.cfg.Store.TaskRunGet(c.ctx, c.ws, rid)
			return r, notFoundAs(err, "task run", rid)
		}, id),
		op(wsWrite, "PATCH", "/task_runs/{id}", "Task Runs", "Update a task run", 204, func(c *call, b *model.TaskRunUpdate) (noContent, error) {
			rid, _ := c.pathID("id")
			_, err := c.srv.cfg.Store.TaskRunUpdate(c.ctx, c.ws, rid, func(r *model.TaskRun) error {
				if b.Name != nil {
					r.Name = *b.Name
				}
				r.Updated = model.NewTime(c.srv.now())
				return nil
			})
			return noContent{}, notFoundAs(err, "task run", rid)
		}, id),
		op(wsWrite, "DELETE", "/task_runs/{id}", "Task Runs", "Delete a task run", 204, func(c *call, _ *noBody) (noContent, error) {
			rid, _ := c.pathID("id")
			return noContent{}, notFoundAs(c.srv.cfg.Store.TaskRunDelete(c.ctx, c.ws, rid), "task run", rid)
		}, id),
		op(wsWrite, "POST", "/task_runs/{id}/set_state", "Task Runs", "Propose a new task-run state; the orchestration policy decides", 201, setTaskRunState, id),
		optionalBody(op(wsRead, "POST", "/task_runs/filter", "Task Runs", "Query task runs", 200, func(c *call, q *model.RunQuery) ([]model.TaskRun, error) {
			if err := checkQuery(q, model.TaskRunSorts); err != nil {
				return nil, err
			}
			res, err := c.srv.cfg.Store.TaskRunList(c.ctx, c.ws, *q)
			return nonNil(res), err
		})),
		optionalBody(op(wsRead, "POST", "/task_runs/count", "Task Runs", "Count task runs", 200, func(c *call, q *model.RunQuery) (int, error) {
			return c.srv.cfg.Store.TaskRunCount(c.ctx, c.ws, *q)
		})),
		optionalBody(op(wsRead, "POST", "/task_runs/paginate", "Task Runs", "Page through task runs", 200, func(c *call, q *paginateQuery) (page[model.TaskRun], error) {
			return paginate(c, q, model.TaskRunSorts, c.srv.cfg.Store.TaskRunList, c.srv.cfg.Store.TaskRunCount)
		})),
		op(wsRead, "GET", "/task_run_states", "Task Run States", "A task run's state history, oldest first", 200, func(c *call, _ *noBody) ([]model.State, error) {
			rid, err := c.queryID("task_run_id")
			if err != nil {
				return nil, err
			}
			states, err := c.srv.cfg.Store.TaskRunStates(c.ctx, c.ws, rid)
			return nonNil(states), err
		}, param{name: "task_run_id", in: "query", typ: "uuid", required: true}),
	}
}

func createTaskRun(c *call, b *model.TaskRunCreate) (model.TaskRun, error) {
	st := c.srv.cfg.Store
	if b.FlowRunID != nil {
		if _, err := st.FlowRunGet(c.ctx, c.ws, *b.FlowRunID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return model.TaskRun{}, errorf(http.StatusNotFound, "flow run %s not found (field \"flow_run_id\")", *b.FlowRunID)
			}
			return model.TaskRun{}, err
		}
	}
	now := c.srv.now()
	run := model.TaskRun{
		ID: model.NewID(), Created: model.NewTime(now), Updated: model.NewTime(now),
		FlowRunID: b.FlowRunID, TaskKey: b.TaskKey, DynamicKey: b.DynamicKey, CacheKey: b.CacheKey,
		CacheExpiration: b.CacheExpiration, TaskVersion: b.TaskVersion, Tags: nonNil(b.Tags), Labels: b.Labels,
		TaskInputs: b.TaskInputs,
	}
	if b.ID != nil {
		run.ID = *b.ID
	}
	if run.Labels == nil {
		run.Labels = model.Labels{}
	}
	if run.TaskInputs == nil {
		run.TaskInputs = map[string][]model.TaskRunInput{}
	}
	if b.Name != nil && *b.Name != "" {
		run.Name = *b.Name
	} else {
		run.Name = b.TaskKey + "-" + shortKey(b.DynamicKey)
	}
	if b.EmpiricalPolicy != nil {
		run.EmpiricalPolicy = *b.EmpiricalPolicy
	}
	proposed := model.StateCreate{Type: model.StatePending}
	if b.State != nil {
		proposed = *b.State
	}
	out := orchestration.ProposeTaskRunState(orchestration.TaskRunInput{Run: run, Proposed: proposed, Force: true, Now: now})
	if out.TaskRun != nil {
		run = *out.TaskRun
	}
	saved, created, err := st.TaskRunCreate(c.ctx, c.ws, run)
	if err == nil && !created {
		c.setStatus(http.StatusOK)
	}
	return saved, err
}

func shortKey(k string) string {
	if len(k) > 3 {
		return k[:3]
	}
	return k
}

func setTaskRunState(c *call, b *model.SetStateRequest) (model.OrchestrationResult, error) {
	rid, _ := c.pathID("id")
	st := c.srv.cfg.Store
	current, err := st.TaskRunGet(c.ctx, c.ws, rid)
	if err != nil {
		return model.OrchestrationResult{}, notFoundAs(err, "task run", rid)
	}
	var parent *model.FlowRun
	if current.FlowRunID != nil {
		if fr, err := st.FlowRunGet(c.ctx, c.ws, *current.FlowRunID); err == nil {
			parent = &fr
		}
	}
	var out orchestration.Outcome
	change, err := st.TaskRunSetState(c.ctx, c.ws, rid, func(run model.TaskRun) (store.TaskRunChange, error) {
		out = orchestration.ProposeTaskRunState(orchestration.TaskRunInput{Run: run, Proposed: b.State, Force: b.Force, Now: c.srv.now(), FlowRun: parent})
		return store.TaskRunChange{Run: out.TaskRun, State: out.State, Events: out.Events}, nil
	})
	if err != nil {
		return model.OrchestrationResult{}, notFoundAs(err, "task run", rid)
	}
	c.srv.cfg.Bus.Publish(c.ws, change.Events)
	if out.State == nil {
		c.setStatus(http.StatusOK)
	}
	return out.Result, nil
}
