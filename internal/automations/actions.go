package automations

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/store"
)

// perform carries out one triggered action (Prefect's Action.act). An
// error is an *ActionFailed when trying again cannot help; any other error
// is retried.
func (s *Service) perform(ctx context.Context, ws model.ID, ta *TriggeredAction, res *actionResult) error {
	a := &ta.Action
	switch a.Type {
	case model.ActionDoNothing:
		return nil
	case model.ActionRunDeployment:
		return s.runDeployment(ctx, ws, ta, res)
	case model.ActionPauseDeployment, model.ActionResumeDeployment:
		id, err := targetID(ta, a.Source, a.DeploymentID, "prefect.deployment", "deployment")
		if err != nil {
			return err
		}
		res.relate("prefect.deployment."+id.String(), "target", "")
		paused := a.Type == model.ActionPauseDeployment
		_, err = s.st.DeploymentUpdate(ctx, ws, id, func(d *model.Deployment) error {
			d.Paused = paused
			return nil
		})
		return missing(err, "Deployment %s not found", id)
	case model.ActionPauseWorkPool, model.ActionResumeWorkPool:
		id, err := targetID(ta, a.Source, a.WorkPoolID, "prefect.work-pool", "work pool")
		if err != nil {
			return err
		}
		pool, err := s.st.WorkPoolGetByID(ctx, ws, id)
		if err != nil {
			return missing(err, "Work pool %s not found", id)
		}
		res.relate("prefect.work-pool."+id.String(), "target", pool.Name)
		paused := a.Type == model.ActionPauseWorkPool
		_, err = s.st.WorkPoolUpdate(ctx, ws, pool.Name, func(p *model.WorkPool) error {
			p.IsPaused = paused
			return nil
		})
		return missing(err, "Work pool %s not found", id)
	case model.ActionPauseWorkQueue, model.ActionResumeWorkQueue:
		id, err := targetID(ta, a.Source, a.WorkQueueID, "prefect.work-queue", "work queue")
		if err != nil {
			return err
		}
		res.relate("prefect.work-queue."+id.String(), "target", "")
		q, err := s.st.WorkQueueGetByID(ctx, ws, id)
		if err != nil {
			return missing(err, "Work queue %s not found", id)
		}
		pool := ""
		if q.WorkPoolName != nil {
			pool = *q.WorkPoolName
		}
		paused := a.Type == model.ActionPauseWorkQueue
		_, err = s.st.WorkQueueUpdate(ctx, ws, pool, q.Name, func(q *model.WorkQueue) error {
			q.IsPaused = paused
			return nil
		})
		return missing(err, "Work queue %s not found", id)
	case model.ActionPauseAutomation, model.ActionResumeAutomation:
		id, err := targetID(ta, a.Source, a.AutomationID, "prefect.automation", "automation")
		if err != nil {
			return err
		}
		res.relate("prefect.automation."+id.String(), "target", "")
		_, err = s.SetEnabled(ctx, ws, id, a.Type == model.ActionResumeAutomation)
		var ve *ValidationError
		if errors.As(err, &ve) {
			return failed("Validation error occurred for %q - %s", a.Type, ve.Msg)
		}
		return missing(err, "Automation %s not found", id)
	case model.ActionCancelFlowRun, model.ActionSuspendFlowRun, model.ActionChangeFlowRunState:
		return s.changeFlowRunState(ctx, ws, ta, res)
	case model.ActionResumeFlowRun:
		return s.resumeFlowRun(ctx, ws, ta, res)
	case model.ActionDeleteFlowRun:
		id, err := flowRunTarget(ta)
		if err != nil {
			return err
		}
		res.relate("prefect.flow-run."+id.String(), "target", "")
		if err := s.cfg.Runs.DeleteFlowRun(ctx, ws, id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				// Already gone: deleted by an earlier attempt, or by someone.
				return nil
			}
			return err
		}
		return nil
	case model.ActionSendNotification:
		return s.sendNotification(ctx, ws, ta, res)
	case model.ActionCallWebhook:
		return s.callWebhook(ctx, ws, ta, res)
	}
	return failed("unknown action type %q", a.Type)
}

// missing turns a store not-found into a permanent failure naming the
// target.
func missing(err error, format string, id model.ID) error {
	if errors.Is(err, store.ErrNotFound) {
		return failed(format, id)
	}
	return err
}

// idOfKind returns the id of a resource id "kind.<uuid>" of that kind.
func idOfKind(resourceID, kind string) (model.ID, bool) {
	rest, ok := strings.CutPrefix(resourceID, kind+".")
	if !ok || strings.Contains(rest, ".") {
		return model.Nil, false
	}
	id, err := model.ParseID(rest)
	return id, err == nil
}

// firstOfKind is Prefect's _id_of_first_resource_of_kind over the event's
// primary and related resources.
func firstOfKind(e *model.Event, kind string) (model.ID, bool) {
	if e == nil {
		return model.Nil, false
	}
	if id, ok := idOfKind(e.ResourceID(), kind); ok {
		return id, true
	}
	for _, r := range e.Related {
		if id, ok := idOfKind(r["prefect.resource.id"], kind); ok {
			return id, true
		}
	}
	return model.Nil, false
}

// targetID resolves a selected id or infers it from the triggering event.
func targetID(ta *TriggeredAction, source string, selected *model.ID, kind, what string) (model.ID, error) {
	if source != "inferred" {
		if selected == nil {
			return model.Nil, failed("No %s was selected", what)
		}
		return *selected, nil
	}
	if ta.TriggeringEvent == nil {
		return model.Nil, failed("No event to infer the %s", what)
	}
	if id, ok := firstOfKind(ta.TriggeringEvent, kind); ok {
		return id, nil
	}
	return model.Nil, failed("No %s could be inferred", what)
}

// flowRunTarget is FlowRunAction.flow_run: the for_each label of a
// per-run trigger, else the triggering event's first flow run.
func flowRunTarget(ta *TriggeredAction) (model.ID, error) {
	if rid := ta.TriggeringLabels["prefect.resource.id"]; rid != "" {
		if id, ok := idOfKind(rid, "prefect.flow-run"); ok {
			return id, nil
		}
	}
	if id, ok := firstOfKind(ta.TriggeringEvent, "prefect.flow-run"); ok {
		return id, nil
	}
	return model.Nil, failed("No flow run could be inferred")
}

func strPtr(s string) *string { return &s }

// changeFlowRunState proposes the state of a cancel, suspend or change
// action through the runs layer. A run already in the target state counts
// as done, so running the action again after a crash changes nothing.
func (s *Service) changeFlowRunState(ctx context.Context, ws model.ID, ta *TriggeredAction, res *actionResult) error {
	a := &ta.Action
	id, err := flowRunTarget(ta)
	if err != nil {
		return err
	}
	res.relate("prefect.flow-run."+id.String(), "target", "")
	auto := ta.Automation.ID.String()
	var proposed model.StateCreate
	switch a.Type {
	case model.ActionCancelFlowRun:
		proposed = model.StateCreate{Type: model.StateCancelling, Message: strPtr("Cancelled by Automation " + auto)}
	case model.ActionSuspendFlowRun:
		timeout := model.NewTime(s.now().Add(3600e9))
		proposed = model.StateCreate{Type: model.StatePaused, Name: strPtr("Suspended"), Message: strPtr("Suspended by Automation " + auto),
			StateDetails: model.StateDetails{PauseTimeout: &timeout, PauseReschedule: true}}
	default:
		msg := "State changed by Automation " + auto
		if a.Message != nil && *a.Message != "" {
			msg = *a.Message
		}
		proposed = model.StateCreate{Type: a.State, Name: a.Name, Message: &msg}
	}
	run, err := s.st.FlowRunGet(ctx, ws, id)
	if err != nil {
		return missing(err, "Flow run %s not found", id)
	}
	if run.State != nil && run.State.Type == proposed.Type && (proposed.Name == nil || *proposed.Name == run.State.Name) {
		if run.State.Message != nil && proposed.Message != nil && *run.State.Message == *proposed.Message {
			return nil
		}
	}
	tr, err := s.cfg.Runs.SetFlowRunState(ctx, ws, id, runs.Proposal{State: proposed, Force: a.Force})
	if err != nil {
		var nf *runs.NotFoundError
		if errors.As(err, &nf) {
			return failed("%s", nf.Error())
		}
		return err
	}
	res.details["status_code"] = 201
	if tr.Result.Status != model.StatusAccept {
		reason := tr.Result.Details.Reason
		return failed("Failed to set state: %s", reason)
	}
	return nil
}

// resumeFlowRun is Prefect's resume_flow_run for a paused run without
// requested input: back to Scheduled ("Resuming") when it was suspended,
// Running otherwise.
func (s *Service) resumeFlowRun(ctx context.Context, ws model.ID, ta *TriggeredAction, res *actionResult) error {
	id, err := flowRunTarget(ta)
	if err != nil {
		return err
	}
	res.relate("prefect.flow-run."+id.String(), "target", "")
	run, err := s.st.FlowRunGet(ctx, ws, id)
	if err != nil {
		return missing(err, "Flow run %s not found", id)
	}
	if run.State == nil || run.State.Type != model.StatePaused {
		return failed("Failed to resume flow run: Cannot resume a flow run that is not paused.")
	}
	if len(run.State.StateDetails.RunInputKeyset) > 0 {
		return failed("Failed to resume flow run: the flow run waits for input, which an automation cannot give")
	}
	proposed := model.StateCreate{Type: model.StateRunning}
	if run.State.StateDetails.PauseReschedule {
		now := model.NewTime(s.now())
		proposed = model.StateCreate{Type: model.StateScheduled, Name: strPtr("Resuming"), StateDetails: model.StateDetails{ScheduledTime: &now}}
	}
	stateID := run.State.ID
	tr, err := s.cfg.Runs.SetFlowRunState(ctx, ws, id, runs.Proposal{State: proposed, IfStateID: &stateID})
	if err != nil {
		return err
	}
	if tr.Result.Status != model.StatusAccept {
		reason := tr.Result.Details.Reason
		return failed("Failed to resume flow run: %s", reason)
	}
	return nil
}

// runDeployment creates a flow run of the selected (or inferred)
// deployment with the rendered parameters. The invocation's idempotency key
// makes a second attempt find the run the first one created.
func (s *Service) runDeployment(ctx context.Context, ws model.ID, ta *TriggeredAction, res *actionResult) error {
	a := &ta.Action
	id, err := targetID(ta, a.Source, a.DeploymentID, "prefect.deployment", "deployment")
	if err != nil {
		return err
	}
	res.relate("prefect.deployment."+id.String(), "target", "")
	dep, err := s.st.DeploymentGet(ctx, ws, id)
	if err != nil {
		return missing(err, "Deployment %s not found", id)
	}
	var data map[string]any
	jobVars := a.JobVariables
	if hasTemplates(a.Parameters) || hasTemplates(jobVars) {
		tc := s.newTemplateContext(ws, ta)
		if data, err = tc.data(ctx, append(parameterTemplates(a.Parameters), parameterTemplates(jobVars)...)); err != nil {
			return err
		}
	}
	params, err := renderParameters(ctx, a.Parameters, data, s.variableLookup(ctx, ws))
	if err != nil {
		res.details["template_error"] = err.Error()
		return failed("Unable to create flow run from deployment: %v", err)
	}
	rawParams, _ := json.Marshal(params)
	if hasTemplates(jobVars) {
		rendered, err := renderParameters(ctx, jobVars, data, s.variableLookup(ctx, ws))
		if err != nil {
			res.details["template_error"] = err.Error()
			return failed("Unable to render job variables: %v", err)
		}
		jobVars, _ = json.Marshal(rendered)
	}
	at := model.NewTime(s.now().Add(a.ScheduleAfter.Std()))
	key := ta.IdempotencyKey()
	req := model.DeploymentFlowRunCreate{Parameters: rawParams, JobVariables: jobVars, IdempotencyKey: &key,
		State: &model.StateCreate{Type: model.StateScheduled, StateDetails: model.StateDetails{ScheduledTime: &at}}}
	run, _, err := s.cfg.Runs.CreateDeploymentFlowRun(ctx, ws, runs.DeploymentRun{Deployment: dep, Request: req,
		CreatedBy: &model.CreatedBy{ID: &ta.Automation.ID, Type: "AUTOMATION", DisplayValue: ta.Automation.Name}})
	if err != nil {
		var pe *runs.ParameterError
		if errors.As(err, &pe) {
			res.details["status_code"] = 409
			res.details["validation_error"] = pe.Error()
			return failed("Validation error occurred for 'run-deployment' - %s", pe.Error())
		}
		if errors.Is(err, store.ErrNotFound) {
			return failed("%v", err)
		}
		return err
	}
	res.details["status_code"] = 201
	res.relate("prefect.flow-run."+run.ID.String(), "flow-run", run.Name)
	return nil
}

// hasTemplates reports whether a JSON document holds template syntax or
// placeholders.
func hasTemplates(raw json.RawMessage) bool {
	s := string(raw)
	return MaybeTemplate(s) || strings.Contains(s, "__prefect_kind")
}

// parameterTemplates returns the template texts inside a parameters object
// (so only the objects they read are fetched).
func parameterTemplates(raw json.RawMessage) []string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			if MaybeTemplate(t) {
				out = append(out, t)
			}
		case map[string]any:
			for _, sub := range t {
				walk(sub)
			}
		case []any:
			for _, sub := range t {
				walk(sub)
			}
		}
	}
	walk(v)
	return out
}

// variableLookup reads workspace variables for workspace_variable
// placeholders.
func (s *Service) variableLookup(ctx context.Context, ws model.ID) func(string) (any, bool, error) {
	return func(name string) (any, bool, error) {
		v, err := s.st.VariableGet(ctx, ws, store.Ref{Name: name})
		if errors.Is(err, store.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		var out any
		if err := json.Unmarshal(v.Value, &out); err != nil {
			return nil, false, nil
		}
		return out, true, nil
	}
}
