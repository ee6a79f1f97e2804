package api

import (
	"net/http"
	"strings"

	"github.com/batonhq/baton/internal/model"
)

// Collections views, observed states and the other
// small read-only routes Prefect's UI and CLI call.

// knownViews are the collection views Prefect serves. Baton has no
// collection registry (and fetches nothing from the network): the worker
// view lists the worker types Baton runs, the others are empty.
var knownViews = map[string]bool{
	"aggregate-block-metadata":  true,
	"aggregate-flow-metadata":   true,
	"aggregate-worker-metadata": true,
	"demo-flows":                true,
}

// processJobVariables is the variables schema of a process work pool's base
// job template: what a deployment may set for each run it starts.
func processJobVariables() map[string]any {
	str := func(title, doc string) map[string]any {
		return map[string]any{"title": title, "description": doc, "type": "string"}
	}
	strMap := func(title, doc string) map[string]any {
		return map[string]any{"title": title, "description": doc, "type": "object", "additionalProperties": map[string]any{"type": "string"}}
	}
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"name":          str("Name", "A name for the process the worker starts."),
			"env":           strMap("Environment Variables", "Extra environment variables of the flow run's process."),
			"labels":        strMap("Labels", "Labels the worker attaches to the process it starts."),
			"command":       str("Command", "The command that starts the flow run; leave empty for the worker's default."),
			"stream_output": map[string]any{"title": "Stream Output", "description": "Copy the process's output to the worker's output.", "type": "boolean", "default": true},
			"working_dir":   map[string]any{"title": "Working Directory", "description": "The directory the process starts in (a temporary one when empty).", "type": "string", "format": "path"},
		},
	}
}

// workerMetadata is the aggregate-worker-metadata view: per package, the
// worker types with their default base job template.
func workerMetadata() map[string]any {
	tmpl := map[string]any{
		"job_configuration": map[string]any{
			"command": "{{ command }}", "env": "{{ env }}", "labels": "{{ labels }}",
			"name": "{{ name }}", "stream_output": "{{ stream_output }}", "working_dir": "{{ working_dir }}",
		},
		"variables": processJobVariables(),
	}
	return map[string]any{
		"prefect": map[string]any{
			"process": map[string]any{
				"type":                           "process",
				"display_name":                   "Process",
				"description":                    "Runs each flow run as a subprocess of the worker, on the worker's machine.",
				"documentation_url":              "https://docs.prefect.io/v3/deploy/infrastructure-concepts/workers",
				"install_command":                "pip install prefect",
				"is_beta":                        false,
				"logo_url":                       "",
				"default_base_job_configuration": tmpl,
			},
		},
	}
}

// observedState is Prefect's ObservedState: a state type/name pair seen in
// the retained run histories.
type observedState = model.ObservedState

func collectionRoutes() []route {
	return []route{
		op(wsRead, "GET", "/collections/views/{view}", "Collections", "A collection view (the worker types Baton runs and their job templates; no registry: other views are empty)", 200,
			func(c *call, _ *noBody) (map[string]any, error) {
				v := c.r.PathValue("view")
				if !knownViews[v] {
					return nil, errorf(http.StatusNotFound, "View %s not found in registry", v)
				}
				if v == "aggregate-worker-metadata" {
					return workerMetadata(), nil
				}
				return map[string]any{}, nil
			}, param{name: "view", in: "path", typ: "string", required: true}),
		op(wsRead, "GET", "/observed-states", "Observed States", "The state type/name pairs in the retained run histories, with when each was first and last seen", 200,
			func(c *call, _ *noBody) ([]observedState, error) {
				q := c.r.URL.Query()
				prefix := strings.TrimSpace(q.Get("query"))
				if len(prefix) > 100 {
					return nil, errorf(http.StatusUnprocessableEntity, "query parameter \"query\" must be at most 100 characters")
				}
				order := q.Get("order_by")
				if order == "" {
					order = "LAST_SEEN_DESC"
				}
				if order != "LAST_SEEN_DESC" && order != "NAME_ASC" {
					return nil, errorf(http.StatusUnprocessableEntity, "query parameter \"order_by\": %q is not LAST_SEEN_DESC or NAME_ASC", order)
				}
				limit, err := c.queryInt("limit", 200)
				if err != nil {
					return nil, err
				}
				if limit < 1 || limit > 200 {
					return nil, errorf(http.StatusUnprocessableEntity, "query parameter \"limit\" must be between 1 and 200")
				}
				res, err := c.srv.cfg.Store.ObservedStates(c.ctx, c.ws, prefix, order == "LAST_SEEN_DESC", limit)
				return nonNil(res), err
			},
			param{name: "query", in: "query", typ: "string", doc: "case-insensitive prefix of the state type or name"},
			param{name: "order_by", in: "query", typ: "string", doc: "LAST_SEEN_DESC (default)"},
			param{name: "limit", in: "query", typ: "integer", doc: "1..200, default 200"}),
		op(wsRead, "GET", "/deployments/{id}/work_queue_check", "Deployments", "The work queues that can pick up a deployment's runs", 200,
			func(c *call, _ *noBody) ([]model.WorkQueue, error) {
				d, err := c.getDeployment(c.id("id"))
				if err != nil {
					return nil, err
				}
				out := []model.WorkQueue{}
				if d.WorkQueueID != nil {
					if q, err := c.srv.cfg.Store.WorkQueueGetByID(c.ctx, c.ws, *d.WorkQueueID); err == nil {
						out = append(out, q)
					} else if !isNotFound(err) {
						return nil, err
					}
				}
				return out, nil
			}, param{name: "id", in: "path", typ: "uuid", required: true}),
	}
}
