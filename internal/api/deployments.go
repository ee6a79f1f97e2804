package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/schedule"
	"github.com/batonhq/baton/internal/store"
)

// deploymentPage is the response of /deployments/paginate.
type deploymentPage struct {
	Results []model.Deployment `json:"results"`
	Count   int                `json:"count"`
	Limit   int                `json:"limit"`
	Pages   int                `json:"pages"`
	Page    int                `json:"page"`
}

func deploymentRoutes() []route {
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	sid := param{name: "schedule_id", in: "path", typ: "uuid", required: true}
	const tag = "Deployments"
	return []route{
		alsoOK(op(wsWrite, "POST", "/deployments", tag, "Create a deployment, or replace the one with the same flow and name (200)", 201, createDeployment)),
		op(wsRead, "GET", "/deployments/{id}", tag, "Read a deployment", 200, func(c *call, _ *noBody) (model.Deployment, error) {
			did := c.id("id")
			return c.getDeployment(did)
		}, id),
		op(wsRead, "GET", "/deployments/name/{flow_name}/{deployment_name}", tag, "Read a deployment by flow and deployment name", 200,
			func(c *call, _ *noBody) (model.Deployment, error) {
				f, d := c.r.PathValue("flow_name"), c.r.PathValue("deployment_name")
				dep, err := c.srv.cfg.Store.DeploymentGetByName(c.ctx, c.ws, f, d)
				return dep, notFoundAs(err, "deployment", f+"/"+d)
			},
			param{name: "flow_name", in: "path", typ: "string", required: true}, param{name: "deployment_name", in: "path", typ: "string", required: true}),
		op(wsWrite, "PATCH", "/deployments/{id}", tag, "Update a deployment", 204, updateDeployment, id),
		op(wsWrite, "DELETE", "/deployments/{id}", tag, "Delete a deployment, its future scheduled runs and the automations it owns (its triggers)", 204, func(c *call, _ *noBody) (noContent, error) {
			did := c.id("id")
			dep, err := c.srv.cfg.Store.DeploymentGet(c.ctx, c.ws, did)
			if err != nil {
				return noContent{}, notFoundAs(err, "deployment", did)
			}
			deleted := c.deploymentEvent("deleted", dep, nil)
			if err := c.srv.cfg.Store.DeploymentDelete(c.ctx, c.ws, did); err != nil {
				return noContent{}, notFoundAs(err, "deployment", did)
			}
			c.emit(deleted)
			return noContent{}, c.automations().DeleteOwned(c.ctx, c.ws, "prefect.deployment."+did.String())
		}, id),
		optionalBody(op(wsRead, "POST", "/deployments/filter", tag, "Query deployments", 200, func(c *call, q *model.DeploymentQuery) ([]model.Deployment, error) {
			if err := checkDeploymentQuery(q); err != nil {
				return nil, err
			}
			return c.srv.cfg.Store.DeploymentList(c.ctx, c.ws, *q)
		})),
		optionalBody(op(wsRead, "POST", "/deployments/count", tag, "Count deployments", 200, func(c *call, q *model.DeploymentQuery) (int, error) {
			return c.srv.cfg.Store.DeploymentCount(c.ctx, c.ws, *q)
		})),
		optionalBody(op(wsRead, "POST", "/deployments/paginate", tag, "Page through deployments", 200, func(c *call, q *model.DeploymentQuery) (deploymentPage, error) {
			if q.Page == 0 {
				q.Page = 1
			}
			if q.Page < 1 {
				return deploymentPage{}, errorf(http.StatusUnprocessableEntity, "field \"page\" must be >= 1")
			}
			if err := checkDeploymentQuery(q); err != nil {
				return deploymentPage{}, err
			}
			q.Offset = (q.Page - 1) * q.Limit
			res, err := c.srv.cfg.Store.DeploymentList(c.ctx, c.ws, *q)
			if err != nil {
				return deploymentPage{}, err
			}
			n, err := c.srv.cfg.Store.DeploymentCount(c.ctx, c.ws, *q)
			return deploymentPage{Results: res, Count: n, Limit: q.Limit, Page: q.Page, Pages: pages(n, q.Limit)}, err
		})),
		op(wsWrite, "POST", "/deployments/{id}/pause_deployment", tag, "Pause a deployment: its schedules stop creating runs", 204, func(c *call, _ *noBody) (noContent, error) {
			return noContent{}, c.setPaused(true)
		}, id),
		op(wsWrite, "POST", "/deployments/{id}/resume_deployment", tag, "Resume a paused deployment", 204, func(c *call, _ *noBody) (noContent, error) {
			return noContent{}, c.setPaused(false)
		}, id),
		op(wsRead, "GET", "/deployments/{id}/schedules", tag, "List a deployment's schedules", 200, func(c *call, _ *noBody) ([]model.DeploymentSchedule, error) {
			did := c.id("id")
			d, err := c.getDeployment(did)
			return d.Schedules, err
		}, id),
		op(wsWrite, "POST", "/deployments/{id}/schedules", tag, "Add schedules to a deployment", 201, func(c *call, b *[]model.DeploymentScheduleCreate) ([]model.DeploymentSchedule, error) {
			did := c.id("id")
			added, err := buildSchedules(*b, c.srv.now())
			if err != nil {
				return nil, err
			}
			_, err = c.srv.cfg.Store.DeploymentUpdate(c.ctx, c.ws, did, func(d *model.Deployment) error {
				d.Schedules = append(d.Schedules, added...)
				return checkUniqueSlugs(d.Schedules)
			})
			return added, notFoundAs(err, "deployment", did)
		}, id),
		op(wsWrite, "PATCH", "/deployments/{id}/schedules/{schedule_id}", tag, "Update one schedule of a deployment", 204, updateSchedule, id, sid),
		op(wsWrite, "DELETE", "/deployments/{id}/schedules/{schedule_id}", tag, "Delete one schedule of a deployment", 204, func(c *call, _ *noBody) (noContent, error) {
			return noContent{}, c.editSchedule(func(d *model.Deployment, i int) error {
				d.Schedules = slices.Delete(d.Schedules, i, i+1)
				return nil
			})
		}, id, sid),
		optionalBody(op(wsWrite, "POST", "/deployments/{id}/schedule", tag,
			"Create the runs of a deployment's active schedules between start_time and end_time (past times backfill); existing runs are kept", 200,
			scheduleDeploymentRuns, id)),
		alsoOK(op(wsWrite, "POST", "/deployments/{id}/create_flow_run", tag, "Create a flow run of a deployment (200: the run with the same idempotency key)", 201, createDeploymentFlowRun, id)),
		longPolling(op(wsWrite, "POST", "/deployments/get_scheduled_flow_runs", tag,
			"Scheduled runs of deployments due before scheduled_before (Baton: wait_seconds long-polls until one is due)", 200, deploymentScheduledRuns)),
	}
}

func checkDeploymentQuery(q *model.DeploymentQuery) error {
	if q.Sort != "" && !contains(model.DeploymentSorts, q.Sort) {
		return errorf(http.StatusUnprocessableEntity, "field \"sort\": %q is not one of %v", q.Sort, model.DeploymentSorts)
	}
	if q.Offset < 0 {
		return errorf(http.StatusUnprocessableEntity, "field \"offset\" must be >= 0")
	}
	if q.Limit < 0 || q.Limit > maxLimit {
		return errorf(http.StatusUnprocessableEntity, "field \"limit\" must be between 0 and %d", maxLimit)
	}
	if q.Limit == 0 {
		q.Limit = 200
	}
	return nil
}

func (c *call) getDeployment(id model.ID) (model.Deployment, error) {
	d, err := c.srv.cfg.Store.DeploymentGet(c.ctx, c.ws, id)
	return d, notFoundAs(err, "deployment", id)
}

func (c *call) setPaused(paused bool) error {
	did := c.id("id")
	var before model.Deployment
	after, err := c.srv.cfg.Store.DeploymentUpdate(c.ctx, c.ws, did, func(d *model.Deployment) error {
		before = *d
		d.Paused = paused
		return nil
	})
	if err == nil && before.Paused != paused {
		c.emit(c.deploymentEvent("updated", after, changedFields(before, after)))
	}
	return notFoundAs(err, "deployment", did)
}

// buildSchedules validates schedule definitions and gives them ids.
func buildSchedules(in []model.DeploymentScheduleCreate, now time.Time) ([]model.DeploymentSchedule, error) {
	out := make([]model.DeploymentSchedule, 0, len(in))
	for i, s := range in {
		if _, err := schedule.FromModel(s.Schedule); err != nil {
			return nil, errorf(http.StatusUnprocessableEntity, "field \"schedules[%d].schedule\": %v", i, err)
		}
		if s.Schedule.Kind() == "interval" && s.Schedule.AnchorDate == nil {
			s.Schedule.AnchorDate = model.TimePtr(now)
		}
		if err := checkObject(s.Parameters, fmt.Sprintf("schedules[%d].parameters", i)); err != nil {
			return nil, err
		}
		if s.MaxScheduledRuns != nil && *s.MaxScheduledRuns < 1 {
			return nil, errorf(http.StatusUnprocessableEntity, "field \"schedules[%d].max_scheduled_runs\" must be >= 1", i)
		}
		active := true
		if s.Active != nil {
			active = *s.Active
		}
		t := model.NewTime(now)
		out = append(out, model.DeploymentSchedule{ID: model.NewID(), Created: t, Updated: t, Schedule: s.Schedule, Active: active,
			MaxScheduledRuns: s.MaxScheduledRuns, Parameters: emptyObject(s.Parameters), Slug: s.Slug})
	}
	return out, nil
}

// resolveQueue points d at its work pool's queue (created if missing); a
// pool that does not exist is a 404 naming it.
func (c *call) resolveQueue(d *model.Deployment) error {
	d.WorkPoolID, d.WorkQueueID = nil, nil
	if d.WorkPoolName == nil || *d.WorkPoolName == "" {
		d.WorkPoolName = nil
		return nil
	}
	pool, err := c.srv.cfg.Store.WorkPoolGet(c.ctx, c.ws, *d.WorkPoolName)
	if err != nil {
		return notFoundAs(err, "work pool", *d.WorkPoolName)
	}
	name := ""
	if d.WorkQueueName != nil {
		name = *d.WorkQueueName
	}
	q, err := c.srv.cfg.Store.WorkQueueEnsure(c.ctx, c.ws, pool.Name, name)
	if err != nil {
		return err
	}
	pid, qid, qn := pool.ID, q.ID, q.Name
	d.WorkPoolID, d.WorkQueueID, d.WorkQueueName = &pid, &qid, &qn
	return nil
}

func checkConcurrency(limit *int, opts *model.ConcurrencyOptions) error {
	if limit != nil && *limit < 0 {
		return errorf(http.StatusUnprocessableEntity, "field \"concurrency_limit\" must be >= 0")
	}
	if opts != nil && opts.CollisionStrategy != "ENQUEUE" && opts.CollisionStrategy != "CANCEL_NEW" {
		return errorf(http.StatusUnprocessableEntity, "field \"concurrency_options.collision_strategy\" must be ENQUEUE or CANCEL_NEW, got %q", opts.CollisionStrategy)
	}
	if opts != nil && opts.GracePeriodSeconds != nil && (*opts.GracePeriodSeconds < 60 || *opts.GracePeriodSeconds > 86400) {
		return errorf(http.StatusUnprocessableEntity, "field \"concurrency_options.grace_period_seconds\" must be between 60 and 86400")
	}
	return nil
}

func createDeployment(c *call, b *model.DeploymentCreate) (model.Deployment, error) {
	if b.Name == "" {
		return model.Deployment{}, errorf(http.StatusUnprocessableEntity, "field \"name\" must not be empty")
	}
	for _, f := range []struct {
		v    json.RawMessage
		name string
	}{{b.Parameters, "parameters"}, {b.JobVariables, "job_variables"}, {b.ParameterOpenAPISchema, "parameter_openapi_schema"}} {
		if err := checkObject(f.v, f.name); err != nil {
			return model.Deployment{}, err
		}
	}
	if err := checkConcurrency(b.ConcurrencyLimit, b.ConcurrencyOptions); err != nil {
		return model.Deployment{}, err
	}
	scheds, err := buildSchedules(b.Schedules, c.srv.now())
	if err != nil {
		return model.Deployment{}, err
	}
	if err := checkUniqueSlugs(scheds); err != nil {
		return model.Deployment{}, err
	}
	enforce := true
	if b.EnforceParameterSchema != nil {
		enforce = *b.EnforceParameterSchema
	}
	d := model.Deployment{
		Name: b.Name, FlowID: b.FlowID, Paused: b.Paused, Schedules: scheds, ConcurrencyLimit: b.ConcurrencyLimit,
		ConcurrencyOptions: b.ConcurrencyOptions, EnforceParameterSchema: enforce, ParameterOpenAPISchema: b.ParameterOpenAPISchema,
		Parameters: emptyObject(b.Parameters), Tags: nonNil(b.Tags), Labels: b.Labels, PullSteps: b.PullSteps,
		WorkQueueName: b.WorkQueueName, WorkPoolName: b.WorkPoolName, StorageDocumentID: b.StorageDocumentID,
		InfrastructureDocumentID: b.InfrastructureDocumentID, Description: b.Description, Path: b.Path, Version: b.Version,
		Entrypoint: b.Entrypoint, JobVariables: emptyObject(b.JobVariables),
	}
	if err := c.resolveQueue(&d); err != nil {
		return model.Deployment{}, err
	}
	out, created, err := c.srv.cfg.Store.DeploymentUpsert(c.ctx, c.ws, d)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return out, errorf(http.StatusNotFound, "flow %s not found (field \"flow_id\")", b.FlowID)
		}
		return out, err
	}
	if !created {
		c.setStatus(http.StatusOK)
		c.emit(c.deploymentEvent("updated", out, nil))
	} else {
		c.emit(c.deploymentEvent("created", out, nil))
	}
	return out, nil
}

func updateDeployment(c *call, b *model.DeploymentUpdate) (noContent, error) {
	did := c.id("id")
	for _, f := range []struct {
		v    json.RawMessage
		name string
	}{{b.Parameters, "parameters"}, {b.JobVariables, "job_variables"}, {b.ParameterOpenAPISchema, "parameter_openapi_schema"}} {
		if err := checkObject(f.v, f.name); err != nil {
			return noContent{}, err
		}
	}
	if err := checkConcurrency(b.ConcurrencyLimit, b.ConcurrencyOptions); err != nil {
		return noContent{}, err
	}
	now := c.srv.now()
	if b.Schedules != nil {
		for i := range *b.Schedules {
			if err := checkScheduleUpdate(&(*b.Schedules)[i], fmt.Sprintf("schedules[%d]", i), now); err != nil {
				return noContent{}, err
			}
		}
	}
	cur, err := c.getDeployment(did)
	if err != nil {
		return noContent{}, err
	}
	// The queue is resolved outside the write (it may create a queue).
	next := cur
	if b.WorkPoolName != nil {
		next.WorkPoolName = b.WorkPoolName
	}
	if b.WorkQueueName != nil {
		next.WorkQueueName = b.WorkQueueName
	}
	if b.WorkPoolName != nil || b.WorkQueueName != nil {
		if err := c.resolveQueue(&next); err != nil {
			return noContent{}, err
		}
	}
	set := func(dst *json.RawMessage, src json.RawMessage) {
		if len(src) > 0 && string(src) != "null" {
			*dst = src
		}
	}
	var before model.Deployment
	after, err := c.srv.cfg.Store.DeploymentUpdate(c.ctx, c.ws, did, func(d *model.Deployment) error {
		before = *d
		if b.Version != nil {
			d.Version = b.Version
		}
		if b.Description != nil {
			d.Description = b.Description
		}
		if b.Paused != nil {
			d.Paused = *b.Paused
		}
		if b.Schedules != nil {
			merged, err := mergeSchedules(d.Schedules, *b.Schedules, now)
			if err != nil {
				return err
			}
			d.Schedules = merged
		}
		switch {
		case b.ConcurrencyLimit != nil:
			d.ConcurrencyLimit = b.ConcurrencyLimit
		case b.ClearConcurrencyLimit:
			d.ConcurrencyLimit = nil
		}
		if b.ConcurrencyOptions != nil {
			d.ConcurrencyOptions = b.ConcurrencyOptions
		}
		set(&d.Parameters, b.Parameters)
		set(&d.ParameterOpenAPISchema, b.ParameterOpenAPISchema)
		set(&d.JobVariables, b.JobVariables)
		set(&d.PullSteps, b.PullSteps)
		if b.Tags != nil {
			d.Tags = nonNil(*b.Tags)
		}
		if b.WorkPoolName != nil || b.WorkQueueName != nil {
			d.WorkPoolName, d.WorkPoolID, d.WorkQueueName, d.WorkQueueID = next.WorkPoolName, next.WorkPoolID, next.WorkQueueName, next.WorkQueueID
		}
		if b.Path != nil {
			d.Path = b.Path
		}
		if b.Entrypoint != nil {
			d.Entrypoint = b.Entrypoint
		}
		if b.StorageDocumentID != nil {
			d.StorageDocumentID = b.StorageDocumentID
		}
		if b.InfrastructureDocumentID != nil {
			d.InfrastructureDocumentID = b.InfrastructureDocumentID
		}
		if b.EnforceParameterSchema != nil {
			d.EnforceParameterSchema = *b.EnforceParameterSchema
		}
		return nil
	})
	if err == nil {
		if changes := changedFields(before, after); len(changes) > 0 {
			c.emit(c.deploymentEvent("updated", after, changes))
		}
	}
	return noContent{}, notFoundAs(err, "deployment", did)
}

// editSchedule finds the addressed schedule and lets fn change the
// deployment around it.
func (c *call) editSchedule(fn func(d *model.Deployment, i int) error) error {
	did := c.id("id")
	sid := c.id("schedule_id")
	_, err := c.srv.cfg.Store.DeploymentUpdate(c.ctx, c.ws, did, func(d *model.Deployment) error {
		i := slices.IndexFunc(d.Schedules, func(s model.DeploymentSchedule) bool { return s.ID == sid })
		if i < 0 {
			return notFound("schedule", sid)
		}
		return fn(d, i)
	})
	return notFoundAs(err, "deployment", did)
}

func updateSchedule(c *call, b *model.DeploymentScheduleUpdate) (noContent, error) {
	if b.Schedule != nil {
		if _, err := schedule.FromModel(*b.Schedule); err != nil {
			return noContent{}, errorf(http.StatusUnprocessableEntity, "field \"schedule\": %v", err)
		}
	}
	if err := checkObject(b.Parameters, "parameters"); err != nil {
		return noContent{}, err
	}
	return noContent{}, c.editSchedule(func(d *model.Deployment, i int) error {
		s := d.Schedules[i]
		if b.Active != nil {
			s.Active = *b.Active
		}
		if b.Schedule != nil {
			s.Schedule = *b.Schedule
			if s.Schedule.Kind() == "interval" && s.Schedule.AnchorDate == nil {
				s.Schedule.AnchorDate = model.TimePtr(c.srv.now())
			}
		}
		if b.MaxScheduledRuns != nil {
			s.MaxScheduledRuns = b.MaxScheduledRuns
		}
		if len(b.Parameters) > 0 && string(b.Parameters) != "null" {
			s.Parameters = b.Parameters
		}
		if b.Slug != nil {
			s.Slug = b.Slug
		}
		s.Updated = model.NewTime(c.srv.now())
		d.Schedules[i] = s
		return checkUniqueSlugs(d.Schedules)
	})
}

func createDeploymentFlowRun(c *call, b *model.DeploymentFlowRunCreate) (model.FlowRun, error) {
	did := c.id("id")
	dep, err := c.getDeployment(did)
	if err != nil {
		return model.FlowRun{}, err
	}
	for _, f := range []struct {
		v    json.RawMessage
		name string
	}{{b.Parameters, "parameters"}, {b.Context, "context"}, {b.JobVariables, "job_variables"}} {
		if err := checkObject(f.v, f.name); err != nil {
			return model.FlowRun{}, err
		}
	}
	saved, created, err := c.srv.cfg.Runs.CreateDeploymentFlowRun(c.ctx, c.ws, runs.DeploymentRun{Deployment: dep, Request: *b, Now: c.srv.now()})
	if err != nil {
		return saved, err
	}
	if !created {
		c.setStatus(http.StatusOK)
		return saved, nil
	}
	dispatchSignalOf(c.srv).notify()
	return saved, nil
}

func scheduledWindow(c *call, before *model.Time) time.Duration {
	if before == nil {
		return 0
	}
	return before.Sub(c.srv.now())
}

func deploymentScheduledRuns(c *call, b *model.DeploymentScheduledQuery) ([]model.FlowRun, error) {
	if len(b.DeploymentIDs) == 0 {
		return []model.FlowRun{}, nil
	}
	limit := 100
	if b.Limit != nil && *b.Limit > 0 {
		limit = min(*b.Limit, maxLimit)
	}
	ahead := scheduledWindow(c, b.ScheduledBefore)
	if err := c.srv.cfg.Store.DeploymentsMarkPolled(c.ctx, c.ws, b.DeploymentIDs, c.srv.now()); err != nil {
		return nil, err
	}
	fetch := func() ([]model.FlowRun, error) {
		f := &model.FlowRunFilter{
			DeploymentID: &model.OptionalIDFilter{Any: b.DeploymentIDs},
			State:        &model.StateFilter{Type: &model.StateTypeFilter{Any: []model.StateType{model.StateScheduled}}},
		}
		if b.ScheduledBefore != nil {
			f.NextScheduledStartTime = &model.TimeFilter{Before: model.TimePtr(c.srv.now().Add(ahead))}
		}
		runs, err := c.srv.cfg.Store.FlowRunList(c.ctx, c.ws, model.RunQuery{FlowRuns: f, Sort: "NEXT_SCHEDULED_START_TIME_ASC", Limit: limit + 50})
		if err != nil {
			return nil, err
		}
		if runs, err = c.srv.cfg.Store.DeploymentAdmitRuns(c.ctx, c.ws, runs); err != nil {
			return nil, err
		}
		return runs[:min(len(runs), limit)], nil
	}
	return longPoll(c, b.WaitSeconds, fetch)
}
