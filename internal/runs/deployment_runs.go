package runs

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// ParameterError reports run parameters that the deployment's parameter
// schema refuses. Prefect answers it with 409 ("Error creating flow run:
// Validation failed. ..."); the message is safe to show.
type ParameterError struct{ Msg string }

func (e *ParameterError) Error() string {
	return "Error creating flow run: Validation failed. " + e.Msg
}

// DeploymentRun is a flow run to create from a deployment (POST
// /deployments/{id}/create_flow_run, and the run-deployment automation
// action).
type DeploymentRun struct {
	Deployment model.Deployment
	Request    model.DeploymentFlowRunCreate
	// CreatedBy records who asked (the API's user, an automation).
	CreatedBy *model.CreatedBy
	Now       time.Time
}

// CreateDeploymentFlowRun creates a flow run of a deployment as Prefect
// does: the deployment's parameters overlaid with the request's, hydrated
// and (when the deployment or request enforces it) validated against the
// parameter schema; the deployment's tags, labels, work pool and queue;
// SCHEDULED now unless the request proposes a state. A request with an
// idempotency key already used by a run of the flow returns that run with
// created=false.
func (s *Service) CreateDeploymentFlowRun(ctx context.Context, ws model.ID, in DeploymentRun) (model.FlowRun, bool, error) {
	dep, b := in.Deployment, in.Request
	now := in.Now
	if now.IsZero() {
		now = s.now()
	}
	params, err := mergeParameters(dep.Parameters, b.Parameters)
	if err != nil {
		return model.FlowRun{}, false, err
	}
	params = HydrateParameters(params)
	enforce := dep.EnforceParameterSchema
	if b.EnforceParameterSchema != nil {
		enforce = *b.EnforceParameterSchema
	}
	if enforce {
		if err := ValidateParameters(dep.ParameterOpenAPISchema, params); err != nil {
			return model.FlowRun{}, false, &ParameterError{Msg: err.Error()}
		}
	}
	rawParams, _ := json.Marshal(params)
	createdBy := in.CreatedBy
	if createdBy == nil {
		createdBy = &model.CreatedBy{Type: "USER", DisplayValue: "API"}
	}
	run := model.FlowRun{
		FlowID: dep.FlowID, DeploymentID: &dep.ID, DeploymentVersion: dep.Version, Parameters: rawParams, Context: b.Context,
		Tags: mergeTags(dep.Tags, b.Tags), Labels: model.Labels{}, IdempotencyKey: b.IdempotencyKey, ParentTaskRunID: b.ParentTaskRunID,
		InfrastructureDocumentID: b.InfrastructureDocumentID, JobVariables: b.JobVariables,
		WorkQueueName: dep.WorkQueueName, WorkQueueID: dep.WorkQueueID, WorkPoolID: dep.WorkPoolID, WorkPoolName: dep.WorkPoolName,
		CreatedBy: createdBy,
	}
	if b.WorkQueueName != nil && *b.WorkQueueName != "" && dep.WorkPoolName != nil {
		q, err := s.st.WorkQueueEnsure(ctx, ws, *dep.WorkPoolName, *b.WorkQueueName)
		if err != nil {
			return model.FlowRun{}, false, fmt.Errorf("work pool %q: %w", *dep.WorkPoolName, err)
		}
		qid, qn := q.ID, q.Name
		run.WorkQueueID, run.WorkQueueName = &qid, &qn
	}
	maps.Copy(run.Labels, dep.Labels)
	maps.Copy(run.Labels, b.Labels)
	run.Labels["prefect.deployment.id"] = dep.ID.String()
	if b.Name != nil {
		run.Name = *b.Name
	}
	if b.EmpiricalPolicy != nil {
		run.EmpiricalPolicy = *b.EmpiricalPolicy
	}
	proposed := model.StateCreate{Type: model.StateScheduled, StateDetails: model.StateDetails{ScheduledTime: model.TimePtr(now)}}
	if b.State != nil {
		proposed = *b.State
		if proposed.Type == model.StateScheduled && proposed.StateDetails.ScheduledTime == nil {
			proposed.StateDetails.ScheduledTime = model.TimePtr(now)
		}
	}
	return s.CreateFlowRun(ctx, ws, NewFlowRun{Run: run, State: proposed, Deployment: &dep, Now: now})
}

// mergeParameters overlays override's keys onto base (both JSON objects).
func mergeParameters(base, override json.RawMessage) (map[string]any, error) {
	out := map[string]any{}
	if len(base) > 0 && string(base) != "null" {
		if err := json.Unmarshal(base, &out); err != nil {
			return nil, fmt.Errorf("deployment parameters: %w", err)
		}
	}
	if len(override) > 0 && string(override) != "null" {
		var o map[string]any
		if err := json.Unmarshal(override, &o); err != nil {
			return nil, &ParameterError{Msg: "parameters must be an object"}
		}
		maps.Copy(out, o)
	}
	return out, nil
}

func mergeTags(a, b []string) []string {
	out := slices.Clone(a)
	for _, t := range b {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}
