package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/batonhq/baton/internal/automations"
	"github.com/batonhq/baton/internal/model"
)

// automationPatch is AutomationPartialUpdate: enabled defaults to true.
type automationPatch struct {
	Enabled *bool `json:"enabled"`
}

// automationCount is the body of POST /automations/count.
type automationCount struct {
	Automations *model.AutomationFilter `json:"automations"`
}

func automationRoutes() []route {
	const tag = "Automations"
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	rid := param{name: "resource_id", in: "path", typ: "string", required: true}
	return []route{
		op(wsWrite, "POST", "/automations", tag, "Create an automation", 201, func(c *call, b *automations.Input) (model.Automation, error) {
			return c.automations().Create(c.ctx, c.ws, b)
		}),
		op(wsRead, "GET", "/automations/{id}", tag, "Read an automation", 200, func(c *call, _ *noBody) (model.Automation, error) {
			aid := c.id("id")
			return c.automations().Get(c.ctx, c.ws, aid)
		}, id),
		op(wsWrite, "PUT", "/automations/{id}", tag, "Replace an automation's definition", 204, func(c *call, b *automations.Input) (noContent, error) {
			aid := c.id("id")
			if b.OwnerResource != nil {
				return noContent{}, errorf(http.StatusUnprocessableEntity, "field \"owner_resource\": extra fields are not permitted")
			}
			return noContent{}, c.automations().Replace(c.ctx, c.ws, aid, b)
		}, id),
		optionalBody(op(wsWrite, "PATCH", "/automations/{id}", tag, "Enable or disable an automation", 204, func(c *call, b *automationPatch) (noContent, error) {
			aid := c.id("id")
			enabled := b.Enabled == nil || *b.Enabled
			_, err := c.automations().SetEnabled(c.ctx, c.ws, aid, enabled)
			return noContent{}, err
		}, id)),
		op(wsWrite, "DELETE", "/automations/{id}", tag, "Delete an automation", 204, func(c *call, _ *noBody) (noContent, error) {
			aid := c.id("id")
			return noContent{}, c.automations().Delete(c.ctx, c.ws, aid)
		}, id),
		optionalBody(op(wsRead, "POST", "/automations/filter", tag, "Query automations (sorted by name by default)", 200, func(c *call, q *automations.Query) ([]model.Automation, error) {
			if err := automations.CheckQuery(q); err != nil {
				return nil, err
			}
			return c.automations().List(c.ctx, c.ws, *q)
		})),
		optionalBody(op(wsRead, "POST", "/automations/count", tag, "Count automations", 200, func(c *call, b *automationCount) (int, error) {
			return c.automations().Count(c.ctx, c.ws, b.Automations)
		})),
		op(wsRead, "GET", "/automations/related-to/{resource_id}", tag, "Automations related to a resource (the deployments they run, what owns them)", 200,
			func(c *call, _ *noBody) ([]model.Automation, error) {
				out, err := c.automations().Related(c.ctx, c.ws, c.r.PathValue("resource_id"))
				return nonNil(out), err
			}, rid),
		op(wsWrite, "DELETE", "/automations/owned-by/{resource_id}", tag, "Delete the automations a resource owns (a deployment's triggers)", 202,
			func(c *call, _ *noBody) (noContent, error) {
				return noContent{}, c.automations().DeleteOwned(c.ctx, c.ws, c.r.PathValue("resource_id"))
			}, rid),
		templateValidateRoute("/templates/validate"),
		templateValidateRoute("/automations/templates/validate"),
	}
}

func (c *call) automations() *automations.Service { return c.srv.cfg.Automations }

// templateValidateRoute answers 204 for a template that parses and keeps to
// the sandbox's rules, and Prefect's 422 {"error": {line, message, source}}
// otherwise. The body is the template as a JSON string.
func templateValidateRoute(path string) route {
	return route{access: wsRead, status: http.StatusNoContent, method: "POST", path: path, tag: "Automations", summary: "Validate a template (a JSON string body)",
		raw: func(w http.ResponseWriter, r *http.Request) {
			raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, defaultBodyLimit))
			if err != nil {
				writeError(w, errorf(http.StatusRequestEntityTooLarge, "request body is too large"))
				return
			}
			var tmpl string
			if len(raw) > 0 {
				if err := json.Unmarshal(raw, &tmpl); err != nil {
					writeError(w, errorf(http.StatusUnprocessableEntity, "request body must be a JSON string (the template)"))
					return
				}
			}
			if err := automations.ValidateTemplate(tmpl); err != nil {
				var te *automations.TemplateError
				line, msg := 0, err.Error()
				if errors.As(err, &te) {
					line, msg = te.Line, te.Message
				}
				writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": map[string]any{"line": line, "message": msg, "source": tmpl}})
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}}
}
