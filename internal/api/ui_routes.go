package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/runs"
)

// The /ui/... routes: the aggregates Prefect's web UI asks for (counts per
// flow run or flow, next runs, a task run with its flow run's name, the
// task-run dashboard buckets, schema validation for its forms).

// idsBody is a body of the form {"<field>": [ids]} with at most 200 ids.
type flowRunIDs struct {
	FlowRunIDs []model.ID `json:"flow_run_ids" required:"true"`
}

type flowIDs struct {
	FlowIDs []model.ID `json:"flow_ids" required:"true"`
}

// deploymentRunsQuery is the body of POST /ui/deployments/runs (Baton's
// own): the deployments of a list page, and how many of each one's latest
// runs to return (default 8, at most 50).
type deploymentRunsQuery struct {
	DeploymentIDs []model.ID `json:"deployment_ids" required:"true"`
	Recent        *int       `json:"recent"`
}

// runDot is a flow run reduced to what a list row shows of it.
type runDot struct {
	ID                model.ID         `json:"id"`
	Name              string           `json:"name"`
	StateType         *model.StateType `json:"state_type"`
	StateName         *string          `json:"state_name"`
	ExpectedStartTime *model.Time      `json:"expected_start_time"`
}

// deploymentRuns is one deployment's entry in the answer: its next
// scheduled run (null when none) and its latest runs that are not
// scheduled, newest first.
type deploymentRuns struct {
	Next   *runDot  `json:"next"`
	Recent []runDot `json:"recent"`
}

// simpleNextFlowRun is Prefect's SimpleNextFlowRun: a flow's next
// scheduled run.
type simpleNextFlowRun struct {
	ID                     model.ID        `json:"id"`
	FlowID                 model.ID        `json:"flow_id"`
	Name                   string          `json:"name"`
	StateName              string          `json:"state_name"`
	StateType              model.StateType `json:"state_type"`
	NextScheduledStartTime model.Time      `json:"next_scheduled_start_time"`
}

// uiTaskRun is a task run with its flow run's name.
type uiTaskRun struct {
	model.TaskRun
	FlowRunName *string `json:"flow_run_name"`
}

// countByState is Prefect's CountByState: runs per state type.
type countByState struct {
	COMPLETED  int `json:"COMPLETED"`
	PENDING    int `json:"PENDING"`
	RUNNING    int `json:"RUNNING"`
	FAILED     int `json:"FAILED"`
	CANCELLED  int `json:"CANCELLED"`
	CRASHED    int `json:"CRASHED"`
	PAUSED     int `json:"PAUSED"`
	CANCELLING int `json:"CANCELLING"`
	SCHEDULED  int `json:"SCHEDULED"`
}

// taskRunBucket is one bar of the dashboard's task-run chart.
type taskRunBucket struct {
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
}

// dashboardCountsQuery is the body of POST /ui/task_runs/dashboard/counts;
// task_runs.start_time.after_ is required.
type dashboardCountsQuery struct {
	model.RunQuery
	TaskRuns   *model.TaskRunFilter   `json:"task_runs" required:"true"`
	WorkQueues *model.WorkQueueFilter `json:"work_queues"`
}

// schemaValidate is the body of POST /ui/schemas/validate.
type schemaValidate struct {
	Schema json.RawMessage `json:"schema" required:"true"`
	Values map[string]any  `json:"values" required:"true"`
}

// schemaValidation answers it: valid, and the errors by property.
type schemaValidation struct {
	Errors []any `json:"errors"`
	Valid  bool  `json:"valid"`
}

// maxUIIDs bounds the id lists the /ui/... aggregates take, as Prefect does.
const maxUIIDs = 200

func checkIDs(field string, ids []model.ID) error {
	if len(ids) > maxUIIDs {
		return errorf(http.StatusUnprocessableEntity, "field %q: at most %d ids, got %d", field, maxUIIDs, len(ids))
	}
	return nil
}

func uiRoutes() []route {
	const tag = "UI"
	return []route{
		op(wsRead, "POST", "/ui/flow_runs/count-task-runs", tag, "Task runs per flow run (subflow trackers not counted)", 200,
			func(c *call, b *flowRunIDs) (map[string]int, error) {
				if err := checkIDs("flow_run_ids", b.FlowRunIDs); err != nil {
					return nil, err
				}
				no := false
				out := make(map[string]int, len(b.FlowRunIDs))
				for _, id := range b.FlowRunIDs {
					n, err := c.srv.cfg.Store.TaskRunCount(c.ctx, c.ws, model.RunQuery{TaskRuns: &model.TaskRunFilter{
						FlowRunID: &model.OptionalIDFilter{Any: []model.ID{id}}, SubflowRuns: &model.SubflowRunsFilter{Exists: &no}}})
					if err != nil {
						return nil, err
					}
					out[id.String()] = n
				}
				return out, nil
			}),
		op(wsRead, "POST", "/ui/flows/count-deployments", tag, "Deployments per flow", 200,
			func(c *call, b *flowIDs) (map[string]int, error) {
				if err := checkIDs("flow_ids", b.FlowIDs); err != nil {
					return nil, err
				}
				out := make(map[string]int, len(b.FlowIDs))
				for _, id := range b.FlowIDs {
					n, err := c.srv.cfg.Store.DeploymentCount(c.ctx, c.ws, model.DeploymentQuery{Flows: &model.FlowFilter{ID: &model.IDFilter{Any: []model.ID{id}}}})
					if err != nil {
						return nil, err
					}
					out[id.String()] = n
				}
				return out, nil
			}),
		op(wsRead, "POST", "/ui/flows/next-runs", tag, "Each flow's next scheduled run (null when it has none)", 200,
			func(c *call, b *flowIDs) (map[string]*simpleNextFlowRun, error) {
				if err := checkIDs("flow_ids", b.FlowIDs); err != nil {
					return nil, err
				}
				out := make(map[string]*simpleNextFlowRun, len(b.FlowIDs))
				for _, id := range b.FlowIDs {
					runs, err := c.srv.cfg.Store.FlowRunList(c.ctx, c.ws, model.RunQuery{
						Flows:    &model.FlowFilter{ID: &model.IDFilter{Any: []model.ID{id}}},
						FlowRuns: &model.FlowRunFilter{State: &model.StateFilter{Type: &model.StateTypeFilter{Any: []model.StateType{model.StateScheduled}}}},
						Sort:     "NEXT_SCHEDULED_START_TIME_ASC", Limit: 1,
					})
					if err != nil {
						return nil, err
					}
					out[id.String()] = nil
					if len(runs) == 1 && runs[0].NextScheduledStartTime != nil {
						r := runs[0]
						n := &simpleNextFlowRun{ID: r.ID, FlowID: r.FlowID, Name: r.Name, StateType: model.StateScheduled, NextScheduledStartTime: *r.NextScheduledStartTime}
						if r.StateName != nil {
							n.StateName = *r.StateName
						}
						out[id.String()] = n
					}
				}
				return out, nil
			}),
		op(wsRead, "POST", "/ui/deployments/runs", tag, "Baton's own: each deployment's next scheduled run and latest other runs, newest first (one call for a deployments list page instead of two per row)", 200, deploymentRunSummaries),
		op(wsRead, "GET", "/ui/task_runs/{id}", tag, "A task run with its flow run's name", 200, func(c *call, _ *noBody) (uiTaskRun, error) {
			rid := c.id("id")
			tr, err := c.srv.cfg.Store.TaskRunGet(c.ctx, c.ws, rid)
			if err != nil {
				return uiTaskRun{}, notFoundAs(err, "task run", rid)
			}
			out := uiTaskRun{TaskRun: tr}
			if tr.FlowRunID != nil {
				if fr, err := c.srv.cfg.Store.FlowRunGet(c.ctx, c.ws, *tr.FlowRunID); err == nil {
					out.FlowRunName = &fr.Name
				}
			}
			return out, nil
		}, param{name: "id", in: "path", typ: "uuid", required: true}),
		optionalBody(op(wsRead, "POST", "/ui/task_runs/count", tag, "Matching task runs per state type", 200,
			func(c *call, q *model.RunQuery) (countByState, error) {
				var out countByState
				slots := map[model.StateType]*int{
					model.StateCompleted: &out.COMPLETED, model.StatePending: &out.PENDING, model.StateRunning: &out.RUNNING,
					model.StateFailed: &out.FAILED, model.StateCancelled: &out.CANCELLED, model.StateCrashed: &out.CRASHED,
					model.StatePaused: &out.PAUSED, model.StateCancelling: &out.CANCELLING, model.StateScheduled: &out.SCHEDULED,
				}
				for typ, dst := range slots {
					n, err := c.srv.cfg.Store.TaskRunCount(c.ctx, c.ws, withTaskStates(*q, typ))
					if err != nil {
						return out, err
					}
					*dst = n
				}
				return out, nil
			})),
		op(wsRead, "POST", "/ui/task_runs/dashboard/counts", tag, "Finished task runs in 20 time buckets from task_runs.start_time.after_: completed and failed (or crashed)", 200, dashboardTaskRunCounts),
		op(wsRead, "POST", "/ui/schemas/validate", tag, "Validate values against a JSON schema (the UI's parameter forms)", 200,
			func(c *call, b *schemaValidate) (schemaValidation, error) {
				var root map[string]any
				if err := json.Unmarshal(b.Schema, &root); err != nil || root == nil {
					return schemaValidation{}, errorf(http.StatusUnprocessableEntity, "field \"schema\" must be a JSON schema object")
				}
				out := schemaValidation{Errors: []any{}, Valid: true}
				if err := runs.ValidateParameters(b.Schema, b.Values); err != nil {
					out.Valid = false
					out.Errors = append(out.Errors, schemaError(err.Error()))
				}
				return out, nil
			}),
	}
}

// schemaError shapes a validator message the way Prefect's UI reads it:
// {"property": name, "errors": [message]} when it names a parameter.
func schemaError(msg string) any {
	if _, rest, ok := strings.Cut(msg, "parameter \""); ok {
		if name, _, ok := strings.Cut(rest, "\""); ok {
			prop := name
			if i := strings.IndexAny(prop, ".["); i > 0 {
				prop = prop[:i]
			}
			return map[string]any{"property": prop, "errors": []string{msg}}
		}
	}
	return msg
}

// withTaskStates narrows q's task runs to the given state types.
func withTaskStates(q model.RunQuery, types ...model.StateType) model.RunQuery {
	var f model.TaskRunFilter
	if q.TaskRuns != nil {
		f = *q.TaskRuns
	}
	st := model.StateFilter{}
	if f.State != nil {
		st = *f.State
	}
	st.Type = &model.StateTypeFilter{Any: types}
	f.State = &st
	q.TaskRuns = &f
	return q
}

// dashboardBuckets is how many bars the dashboard's task-run chart has.
const dashboardBuckets = 20

func dashboardTaskRunCounts(c *call, q *dashboardCountsQuery) ([]taskRunBucket, error) {
	if q.TaskRuns.StartTime == nil || q.TaskRuns.StartTime.After == nil {
		return nil, errorf(http.StatusUnprocessableEntity, "task_runs.start_time.after_ is required")
	}
	start := q.TaskRuns.StartTime.After.Truncate(time.Minute)
	end := c.srv.now()
	if q.TaskRuns.StartTime.Before != nil {
		end = q.TaskRuns.StartTime.Before.Time
	}
	end = end.Truncate(time.Minute).Add(time.Minute - time.Microsecond)
	if !end.After(start) {
		return nil, errorf(http.StatusUnprocessableEntity, "task_runs.start_time.before_ must be after task_runs.start_time.after_")
	}
	delta := end.Sub(start) / dashboardBuckets
	out := make([]taskRunBucket, dashboardBuckets)
	base := q.RunQuery
	base.WorkQueues = q.WorkQueues
	base.TaskRuns = q.TaskRuns
	for i := range out {
		lo := model.NewTime(start.Add(time.Duration(i) * delta))
		hi := model.NewTime(start.Add(time.Duration(i+1)*delta - time.Microsecond))
		if i == dashboardBuckets-1 {
			hi = model.NewTime(end)
		}
		bq := base
		f := *q.TaskRuns
		f.StartTime = &model.TimeFilter{After: &lo, Before: &hi}
		bq.TaskRuns = &f
		failed, err := c.srv.cfg.Store.TaskRunCount(c.ctx, c.ws, withTaskStates(bq, model.StateFailed, model.StateCrashed))
		if err != nil {
			return nil, err
		}
		done, err := c.srv.cfg.Store.TaskRunCount(c.ctx, c.ws, withTaskStates(bq, model.StateCompleted, model.StateCancelled))
		if err != nil {
			return nil, err
		}
		out[i] = taskRunBucket{Completed: done, Failed: failed}
	}
	return out, nil
}

func deploymentRunSummaries(c *call, b *deploymentRunsQuery) (map[string]deploymentRuns, error) {
	if err := checkIDs("deployment_ids", b.DeploymentIDs); err != nil {
		return nil, err
	}
	recent := 8
	if b.Recent != nil {
		if *b.Recent < 0 || *b.Recent > 50 {
			return nil, errorf(http.StatusUnprocessableEntity, "field \"recent\": must be between 0 and 50, got %d", *b.Recent)
		}
		recent = *b.Recent
	}
	dot := func(r model.FlowRun) runDot {
		return runDot{ID: r.ID, Name: r.Name, StateType: r.StateType, StateName: r.StateName, ExpectedStartTime: r.ExpectedStartTime}
	}
	scheduled := []model.StateType{model.StateScheduled}
	out := make(map[string]deploymentRuns, len(b.DeploymentIDs))
	for _, id := range b.DeploymentIDs {
		if _, ok := out[id.String()]; ok {
			continue
		}
		of := &model.OptionalIDFilter{Any: []model.ID{id}}
		entry := deploymentRuns{Recent: []runDot{}}
		next, err := c.srv.cfg.Store.FlowRunList(c.ctx, c.ws, model.RunQuery{
			FlowRuns: &model.FlowRunFilter{DeploymentID: of, State: &model.StateFilter{Type: &model.StateTypeFilter{Any: scheduled}}},
			Sort:     "EXPECTED_START_TIME_ASC", Limit: 1,
		})
		if err != nil {
			return nil, err
		}
		if len(next) == 1 {
			d := dot(next[0])
			entry.Next = &d
		}
		if recent > 0 {
			latest, err := c.srv.cfg.Store.FlowRunList(c.ctx, c.ws, model.RunQuery{
				FlowRuns: &model.FlowRunFilter{DeploymentID: of, State: &model.StateFilter{Type: &model.StateTypeFilter{NotAny: scheduled}}},
				Sort:     "EXPECTED_START_TIME_DESC", Limit: recent,
			})
			if err != nil {
				return nil, err
			}
			for _, r := range latest {
				entry.Recent = append(entry.Recent, dot(r))
			}
		}
		out[id.String()] = entry
	}
	return out, nil
}
