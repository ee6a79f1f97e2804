package automations

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Run-deployment parameters may hold placeholders, as Prefect's hydration
// defines them: {"__prefect_kind": "json", "value": "<json>"},
// {"__prefect_kind": "jinja", "template": "..."},
// {"__prefect_kind": "workspace_variable", "variable_name": "..."} and
// {"__prefect_kind": "none", "value": ...}. A plain string holding template
// syntax is a "v1" template: a lone expression keeps its value's type
// (rendered through tojson), anything else renders to a string.

// upgradeV1Templates rewrites plain template strings into placeholders.
func upgradeV1Templates(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if _, ok := t["__prefect_kind"]; ok {
			return t
		}
		for k, sub := range t {
			t[k] = upgradeV1Templates(sub)
		}
		return t
	case []any:
		for i, sub := range t {
			switch s := sub.(type) {
			case map[string]any:
				t[i] = upgradeV1Templates(s)
			case string:
				if MaybeTemplate(s) {
					t[i] = wrapV1Template(s)
				}
			}
		}
		return t
	case string:
		if MaybeTemplate(t) {
			return wrapV1Template(t)
		}
	}
	return v
}

func wrapV1Template(tmpl string) map[string]any {
	s := strings.TrimSpace(tmpl)
	if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") && strings.Count(s, "{{") == 1 {
		inner := strings.TrimSpace(s[2 : len(s)-2])
		return map[string]any{"__prefect_kind": "json", "value": map[string]any{
			"__prefect_kind": "jinja", "template": "{{ " + inner + " | tojson }}"}}
	}
	return map[string]any{"__prefect_kind": "jinja", "template": tmpl}
}

// hydration resolves placeholders. Without render it only checks them;
// with render, templates are rendered with data and workspace variables
// read through variable.
type hydration struct {
	ctx      context.Context
	render   bool
	data     map[string]any
	variable func(name string) (any, bool, error)
	// problems collects what is wrong, by path ("" is the top level).
	problems map[string]string
	err      error // a store failure while rendering
}

// removed marks a placeholder Prefect drops from its parent.
type removed struct{}

// pending marks a valid placeholder left for rendering (validation only).
type pending struct{}

func (h *hydration) value(v any, path string) any {
	m, ok := v.(map[string]any)
	if !ok {
		if list, ok := v.([]any); ok {
			out := []any{}
			for i, item := range list {
				r := h.value(item, fmt.Sprintf("%s[%d]", path, i))
				if _, drop := r.(removed); !drop {
					out = append(out, r)
				}
			}
			return out
		}
		return v
	}
	kind, isPlaceholder := m["__prefect_kind"]
	if !isPlaceholder {
		out := map[string]any{}
		for k, sub := range m {
			p := k
			if path != "" {
				p = path + "." + k
			}
			r := h.value(sub, p)
			if _, drop := r.(removed); !drop {
				out[k] = r
			}
		}
		return out
	}
	k, _ := kind.(string)
	switch k {
	case "none":
		val, ok := m["value"]
		if !ok {
			h.problems[path] = "Missing 'value' key in __prefect object"
			return nil
		}
		return h.value(val, path)
	case "json":
		val, ok := m["value"]
		if !ok {
			return removed{}
		}
		if sub, isMap := val.(map[string]any); isMap {
			val = h.value(sub, path)
		}
		s, isString := val.(string)
		if !isString {
			return val
		}
		var out any
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			h.problems[path] = "Invalid JSON: " + err.Error()
			return nil
		}
		return out
	case "jinja":
		tmpl, ok := m["template"]
		if !ok {
			h.problems[path] = "Missing 'template' key in __prefect object"
			return nil
		}
		if sub, isMap := tmpl.(map[string]any); isMap {
			tmpl = h.value(sub, path)
		}
		s, _ := tmpl.(string)
		if err := ValidateTemplate(s); err != nil {
			h.problems[path] = "Invalid jinja: " + err.Error()
			return nil
		}
		if !h.render {
			return pending{}
		}
		out, err := RenderTemplate(h.ctx, s, h.data)
		if err != nil {
			h.problems[path] = "Invalid jinja: " + err.Error()
			return nil
		}
		return out
	case "workspace_variable":
		name, ok := m["variable_name"]
		if !ok {
			return removed{}
		}
		if sub, isMap := name.(map[string]any); isMap {
			name = h.value(sub, path)
		}
		s, _ := name.(string)
		if !h.render {
			return pending{}
		}
		v, found, err := h.variable(s)
		if err != nil {
			h.err = err
			return nil
		}
		if !found {
			h.problems[path] = fmt.Sprintf("Variable '%s' not found in workspace.", s)
			return nil
		}
		return v
	default:
		return m["value"]
	}
}

func (h *hydration) describe() string {
	keys := make([]string, 0, len(h.problems))
	for k := range h.problems {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		if k == "" {
			lines[i] = " " + h.problems[k]
		} else {
			lines[i] = k + ": " + h.problems[k]
		}
	}
	return "Invalid parameters: \n" + strings.Join(lines, "\n  ")
}

// validateParameters checks a run-deployment action's parameters as
// Prefect does when the automation is saved.
func validateParameters(raw json.RawMessage, field string) error {
	var params map[string]any
	if err := json.Unmarshal(raw, &params); err != nil {
		return invalidf(field, "must be an object")
	}
	h := &hydration{problems: map[string]string{}}
	h.value(upgradeV1Templates(params), "")
	if len(h.problems) > 0 {
		return invalidf(field, "%s", h.describe())
	}
	return nil
}

// renderParameters hydrates a run-deployment action's parameters for one
// firing: templates rendered with data, workspace variables read.
func renderParameters(ctx context.Context, raw json.RawMessage, data map[string]any, variable func(string) (any, bool, error)) (map[string]any, error) {
	params := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &params); err != nil {
			return nil, fmt.Errorf("parameters: %w", err)
		}
	}
	h := &hydration{ctx: ctx, render: true, data: data, variable: variable, problems: map[string]string{}}
	out, _ := h.value(upgradeV1Templates(params), "").(map[string]any)
	if h.err != nil {
		return nil, h.err
	}
	if len(h.problems) > 0 {
		return nil, fmt.Errorf("%s", h.describe())
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}
