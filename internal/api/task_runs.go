package api

import (
	"net/http"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/runs"
)

func taskRunRoutes() []route {
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	return []route{
		alsoOK(op(wsWrite, "POST", "/task_runs", "Task Runs", "Create a task run (or return the one with the same flow run, task key and dynamic key, 200)", 201, createTaskRun)),
		op(wsRead, "GET", "/task_runs/{id}", "Task Runs", "Read a task run", 200, func(c *call, _ *noBody) (model.TaskRun, error) {
			rid := c.id("id")
			r, err := c.srv.cfg.Store.TaskRunGet(c.ctx, c.ws, rid)
			return r, notFoundAs(err, "task run", rid)
		}, id),
		op(wsWrite, "PATCH", "/task_runs/{id}", "Task Runs", "Update a task run", 204, func(c *call, b *model.TaskRunUpdate) (noContent, error) {
			rid := c.id("id")
			return noContent{}, c.srv.cfg.Runs.UpdateTaskRun(c.ctx, c.ws, rid, *b)
		}, id),
		op(wsWrite, "DELETE", "/task_runs/{id}", "Task Runs", "Delete a task run", 204, func(c *call, _ *noBody) (noContent, error) {
			rid := c.id("id")
			return noContent{}, c.srv.cfg.Runs.DeleteTaskRun(c.ctx, c.ws, rid)
		}, id),
		alsoOK(op(wsWrite, "POST", "/task_runs/{id}/set_state", "Task Runs", "Propose a new task-run state; the orchestration policy decides (200 when nothing was written)", 201, setTaskRunState, id)),
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
	in := runs.NewTaskRun{Run: model.TaskRun{
		FlowRunID: b.FlowRunID, TaskKey: b.TaskKey, DynamicKey: b.DynamicKey, CacheKey: b.CacheKey,
		CacheExpiration: b.CacheExpiration, TaskVersion: b.TaskVersion, Tags: b.Tags, Labels: b.Labels,
		TaskInputs: b.TaskInputs,
	}}
	if b.ID != nil {
		in.Run.ID = *b.ID
	}
	if b.Name != nil {
		in.Run.Name = *b.Name
	}
	if b.EmpiricalPolicy != nil {
		in.Run.EmpiricalPolicy = *b.EmpiricalPolicy
	}
	if b.State != nil {
		in.State = *b.State
	}
	run, created, err := c.srv.cfg.Runs.CreateTaskRun(c.ctx, c.ws, in)
	if err == nil && !created {
		c.setStatus(http.StatusOK)
	}
	if err == nil && created && run.FlowRunID == nil && run.StateType != nil && *run.StateType == model.StateScheduled {
		// A background task (task.delay()): wake the task workers.
		c.srv.tasks.notify()
	}
	return run, err
}

func setTaskRunState(c *call, b *model.SetStateRequest) (model.OrchestrationResult, error) {
	rid := c.id("id")
	t, err := c.srv.cfg.Runs.SetTaskRunState(c.ctx, c.ws, rid, runs.Proposal{IfStateID: b.IfStateID, State: b.State, Force: b.Force})
	if err != nil {
		return model.OrchestrationResult{}, err
	}
	if !t.Written {
		c.setStatus(http.StatusOK)
	}
	return t.Result, nil
}
