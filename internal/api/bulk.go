package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// bulkLimit is Prefect's BULK_OPERATION_LIMIT: how many objects one bulk
// delete (or bulk set-state) may touch; bulkCreateLimit bounds bulk run
// creation.
const (
	bulkLimit       = 50
	bulkCreateLimit = 100
)

// bulkDeleted answers every bulk delete: the ids that were deleted.
type bulkDeleted struct {
	Deleted []model.ID `json:"deleted"`
}

// flowRunBulkDelete is the body of POST /flow_runs/bulk_delete.
type flowRunBulkDelete struct {
	FlowRuns *model.FlowRunFilter `json:"flow_runs"`
	Limit    *int                 `json:"limit"`
}

// flowBulkDelete is the body of POST /flows/bulk_delete.
type flowBulkDelete struct {
	Flows *model.FlowFilter `json:"flows"`
	Limit *int              `json:"limit"`
}

// deploymentBulkDelete is the body of POST /deployments/bulk_delete.
type deploymentBulkDelete struct {
	Deployments *model.DeploymentFilter `json:"deployments"`
	Limit       *int                    `json:"limit"`
}

// flowRunCreateResult is one entry of a bulk run creation's answer.
type flowRunCreateResult struct {
	FlowRunID *model.ID `json:"flow_run_id"`
	// Status is CREATED or FAILED.
	Status string  `json:"status"`
	Error  *string `json:"error"`
}

// flowRunBulkCreated answers POST /deployments/{id}/create_flow_run/bulk.
type flowRunBulkCreated struct {
	Results []flowRunCreateResult `json:"results"`
}

// bulkWindow validates a bulk operation's limit (1..bulkLimit, default
// bulkLimit).
func bulkWindow(limit *int) (int, error) {
	if limit == nil {
		return bulkLimit, nil
	}
	if *limit < 1 || *limit > bulkLimit {
		return 0, errorf(http.StatusUnprocessableEntity, "field \"limit\" must be between 1 and %d", bulkLimit)
	}
	return *limit, nil
}

// isNotFound reports a store ErrNotFound (a row deleted concurrently).
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func bulkRoutes() []route {
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	return []route{
		optionalBody(op(wsWrite, "POST", "/flow_runs/bulk_delete", "Flow Runs", "Delete the flow runs matching a filter (at most limit, default and maximum 50)", 200,
			func(c *call, b *flowRunBulkDelete) (bulkDeleted, error) {
				n, err := bulkWindow(b.Limit)
				if err != nil {
					return bulkDeleted{}, err
				}
				runs, err := c.srv.cfg.Store.FlowRunList(c.ctx, c.ws, model.RunQuery{FlowRuns: b.FlowRuns, Limit: n})
				if err != nil {
					return bulkDeleted{}, err
				}
				out := bulkDeleted{Deleted: []model.ID{}}
				for _, r := range runs {
					if err := c.srv.cfg.Runs.DeleteFlowRun(c.ctx, c.ws, r.ID); err == nil {
						out.Deleted = append(out.Deleted, r.ID)
					} else if !isNotFound(err) {
						return out, err
					}
				}
				return out, nil
			})),
		optionalBody(op(wsWrite, "POST", "/flows/bulk_delete", "Flows", "Delete the flows matching a filter, with their runs and deployments (at most limit, default and maximum 50)", 200,
			func(c *call, b *flowBulkDelete) (bulkDeleted, error) {
				n, err := bulkWindow(b.Limit)
				if err != nil {
					return bulkDeleted{}, err
				}
				flows, err := c.srv.cfg.Store.FlowList(c.ctx, c.ws, model.RunQuery{Flows: b.Flows, Limit: n})
				if err != nil {
					return bulkDeleted{}, err
				}
				out := bulkDeleted{Deleted: []model.ID{}}
				for _, f := range flows {
					if err := c.srv.cfg.Store.FlowDelete(c.ctx, c.ws, f.ID); err == nil {
						out.Deleted = append(out.Deleted, f.ID)
					} else if !isNotFound(err) {
						return out, err
					}
				}
				return out, nil
			})),
		optionalBody(op(wsWrite, "POST", "/deployments/bulk_delete", "Deployments", "Delete the deployments matching a filter (at most limit, default and maximum 50)", 200,
			func(c *call, b *deploymentBulkDelete) (bulkDeleted, error) {
				n, err := bulkWindow(b.Limit)
				if err != nil {
					return bulkDeleted{}, err
				}
				deps, err := c.srv.cfg.Store.DeploymentList(c.ctx, c.ws, model.DeploymentQuery{Deployments: b.Deployments, Limit: n})
				if err != nil {
					return bulkDeleted{}, err
				}
				out := bulkDeleted{Deleted: []model.ID{}}
				for _, d := range deps {
					if err := c.srv.cfg.Store.DeploymentDelete(c.ctx, c.ws, d.ID); err == nil {
						out.Deleted = append(out.Deleted, d.ID)
					} else if !isNotFound(err) {
						return out, err
					}
				}
				return out, nil
			})),
		op(wsWrite, "POST", "/deployments/{id}/create_flow_run/bulk", "Deployments", "Create up to 100 flow runs of a deployment; each entry answers CREATED with its id or FAILED with the reason", 200,
			func(c *call, b *[]model.DeploymentFlowRunCreate) (flowRunBulkCreated, error) {
				did := c.id("id")
				if len(*b) > bulkCreateLimit {
					return flowRunBulkCreated{}, errorf(http.StatusBadRequest, "Cannot create more than %d flow runs at once.", bulkCreateLimit)
				}
				if _, err := c.getDeployment(did); err != nil {
					return flowRunBulkCreated{}, err
				}
				out := flowRunBulkCreated{Results: []flowRunCreateResult{}}
				for i := range *b {
					run, err := createDeploymentFlowRun(c, &(*b)[i])
					if err != nil {
						ae := toAPIError(err)
						if ae.Status >= 500 {
							return out, err
						}
						msg := fmt.Sprint(ae.Detail)
						out.Results = append(out.Results, flowRunCreateResult{Status: "FAILED", Error: &msg})
						continue
					}
					rid := run.ID
					out.Results = append(out.Results, flowRunCreateResult{FlowRunID: &rid, Status: "CREATED"})
				}
				c.status = 0 // one run's idempotent 200 is not the answer's status
				return out, nil
			}, id),
	}
}
