package automations

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// templateContext builds what an action's templates see, as Prefect's
// JinjaTemplateAction does: automation, event, labels, firing, firings,
// events, plus — only when a template names them — the objects of the
// triggering event's resources (flow_run, flow, deployment, task_run,
// work_pool, work_queue, concurrency_limit) read from the store, and the
// workspace's variables.
type templateContext struct {
	s  *Service
	ws model.ID
	ta *TriggeredAction
}

func (s *Service) newTemplateContext(ws model.ID, ta *TriggeredAction) *templateContext {
	return &templateContext{s: s, ws: ws, ta: ta}
}

// plain converts a value to template data (JSON-shaped).
func plain(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return out
}

// eventValue is an event as templates see it: its resources answer .id,
// .name and .role.
func eventValue(e *model.Event) any {
	if e == nil {
		return nil
	}
	m, _ := plain(e).(map[string]any)
	if m == nil {
		return nil
	}
	if r, ok := m["resource"].(map[string]any); ok {
		m["resource"] = AsResource(r)
	}
	if rel, ok := m["related"].([]any); ok {
		out := make([]any, len(rel))
		for i, r := range rel {
			if rm, ok := r.(map[string]any); ok {
				out[i] = AsResource(rm)
			} else {
				out[i] = r
			}
		}
		m["related"] = out
	}
	return dict(m)
}

// labelDiver is Prefect's LabelDiver: labels.prefect.resource.id reads the
// label "prefect.resource.id"; labels['prefect.resource.id'] too.
func labelDiver(labels map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range labels {
		out[k] = v
		parts := strings.Split(k, ".")
		cur := out
		for i, p := range parts {
			if i == len(parts)-1 {
				if _, taken := cur[p]; !taken {
					cur[p] = v
				}
				break
			}
			next, ok := cur[p].(map[string]any)
			if !ok {
				if _, taken := cur[p]; taken {
					break
				}
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
	}
	return out
}

// objectKinds are the context names that read an object of the triggering
// event, with the resource kind that names it.
var objectKinds = map[string]string{
	"deployment":        "prefect.deployment",
	"flow":              "prefect.flow",
	"flow_run":          "prefect.flow-run",
	"task_run":          "prefect.task-run",
	"work_pool":         "prefect.work-pool",
	"work_queue":        "prefect.work-queue",
	"concurrency_limit": "prefect.concurrency-limit",
}

// data returns the context for templates (only the objects they name are
// read).
func (tc *templateContext) data(ctx context.Context, templates []string) (map[string]any, error) {
	ta := tc.ta
	out := map[string]any{
		"automation": nil,
		"event":      eventValue(ta.TriggeringEvent),
		"labels":     labelDiver(ta.TriggeringLabels),
		"firing":     plain(ta.Firing),
		"firings":    []any{},
		"events":     []any{},
		"__ui_url__": tc.s.cfg.UIURL,
	}
	if obj, err := contextObject("prefect.automation", ta.Automation); err == nil {
		out["automation"] = obj
	}
	if ta.Firing != nil {
		var fs, es []any
		for _, f := range ta.Firing.allFirings() {
			fs = append(fs, plain(f))
		}
		evs := ta.Firing.allEvents()
		for i := range evs {
			es = append(es, eventValue(&evs[i]))
		}
		out["firings"], out["events"] = fs, es
	}
	names := map[string]bool{}
	for _, t := range templates {
		for n := range TemplateNames(t) {
			names[n] = true
		}
	}
	if ta.TriggeringEvent != nil {
		for name, kind := range objectKinds {
			if !names[name] {
				continue
			}
			obj, err := tc.object(ctx, kind)
			if err != nil {
				return nil, err
			}
			if obj != nil {
				out[name] = obj
			}
		}
	}
	if names["variables"] {
		vars, err := tc.s.st.VariableList(ctx, tc.ws, model.VariableQuery{Limit: 1000})
		if err != nil {
			return nil, err
		}
		m := map[string]any{}
		for _, v := range vars {
			var val any
			if json.Unmarshal(v.Value, &val) == nil {
				m[v.Name] = val
			}
		}
		out["variables"] = m
	}
	return out, nil
}

// object reads the triggering event's first resource of kind from the
// store (nil when there is none or it no longer exists).
func (tc *templateContext) object(ctx context.Context, kind string) (any, error) {
	e := tc.ta.TriggeringEvent
	var res map[string]string
	var id model.ID
	found := false
	for _, r := range append([]map[string]string{e.Resource}, e.Related...) {
		if rid, ok := idOfKind(r["prefect.resource.id"], kind); ok {
			id, res, found = rid, r, true
			break
		}
	}
	if !found {
		return nil, nil
	}
	st := tc.s.st
	var v any
	var err error
	switch kind {
	case "prefect.deployment":
		v, err = st.DeploymentGet(ctx, tc.ws, id)
	case "prefect.flow":
		v, err = st.FlowGet(ctx, tc.ws, id)
	case "prefect.flow-run":
		v, err = st.FlowRunGet(ctx, tc.ws, id)
	case "prefect.task-run":
		v, err = st.TaskRunGet(ctx, tc.ws, id)
	case "prefect.work-pool":
		v, err = st.WorkPoolGetByID(ctx, tc.ws, id)
	case "prefect.work-queue":
		v, err = st.WorkQueueGetByID(ctx, tc.ws, id)
	case "prefect.concurrency-limit":
		v, err = st.ConcurrencyLimitGet(ctx, tc.ws, id.String())
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	obj, err := contextObject(kind, v)
	if err != nil || obj == nil {
		return nil, err
	}
	// The run may have moved on since the event: show the state the event
	// reported (as Prefect rebuilds it from the resource's labels).
	if kind == "prefect.flow-run" || kind == "prefect.task-run" {
		if _, ok := res["prefect.state-type"]; ok {
			m := obj.(object)
			state, _ := m["state"].(map[string]any)
			if state == nil {
				state = map[string]any{}
			}
			state["type"] = res["prefect.state-type"]
			state["name"] = res["prefect.state-name"]
			state["message"] = res["prefect.state-message"]
			state["timestamp"] = res["prefect.state-timestamp"]
			m["state"] = state
			m["state_type"] = res["prefect.state-type"]
			m["state_name"] = res["prefect.state-name"]
		}
	}
	return obj, nil
}

// renderAll renders templates with one context.
func (tc *templateContext) renderAll(ctx context.Context, templates ...string) ([]string, error) {
	data, err := tc.data(ctx, templates)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(templates))
	for i, t := range templates {
		r, err := RenderTemplate(ctx, t, data)
		if err != nil {
			return nil, failed("Template rendering failed: %v", err)
		}
		out[i] = r
	}
	return out, nil
}
