package runs

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// The parameter schema of a deployment is the JSON Schema the Prefect
// client derives from the flow's signature (type, properties, required,
// enum, anyOf/allOf/oneOf, items, $ref into definitions or $defs). Baton
// checks run parameters against it with this small validator; the error
// names the parameter and the expectation.

// ValidateParameters checks params against schema (no schema: anything).
func ValidateParameters(schema json.RawMessage, params map[string]any) error {
	if len(schema) == 0 || string(schema) == "null" || string(schema) == "{}" {
		return nil
	}
	var root map[string]any
	if err := json.Unmarshal(schema, &root); err != nil {
		return nil // an unreadable schema cannot reject anything
	}
	v := &schemaValidator{root: root}
	if req, ok := root["required"].([]any); ok {
		for _, r := range req {
			name, _ := r.(string)
			if _, ok := params[name]; !ok {
				return fmt.Errorf("parameter %q is required", name)
			}
		}
	}
	props, _ := root["properties"].(map[string]any)
	for name, val := range params {
		ps, ok := props[name].(map[string]any)
		if !ok {
			continue
		}
		if err := v.check(val, ps, name, 0); err != nil {
			return err
		}
	}
	return nil
}

type schemaValidator struct{ root map[string]any }

// resolve follows a local $ref.
func (v *schemaValidator) resolve(s map[string]any) map[string]any {
	for range 10 {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		var cur any = v.root
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, ok := cur.(map[string]any)
			if !ok {
				return map[string]any{}
			}
			cur = m[part]
		}
		next, ok := cur.(map[string]any)
		if !ok {
			return map[string]any{}
		}
		s = next
	}
	return s
}

func (v *schemaValidator) check(val any, s map[string]any, path string, depth int) error {
	if depth > 32 {
		return nil
	}
	s = v.resolve(s)
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			if m, ok := sub.(map[string]any); ok {
				if err := v.check(val, m, path, depth+1); err != nil {
					return err
				}
			}
		}
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		alts, ok := s[key].([]any)
		if !ok || len(alts) == 0 {
			continue
		}
		var first error
		matched := false
		for _, sub := range alts {
			m, ok := sub.(map[string]any)
			if !ok {
				continue
			}
			err := v.check(val, m, path, depth+1)
			if err == nil {
				matched = true
				break
			}
			if first == nil {
				first = err
			}
		}
		if !matched && first != nil {
			return first
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(val) {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("parameter %q: %s is not one of %v", path, describeValue(val), enum)
		}
	}
	if t, ok := s["type"]; ok {
		var types []string
		switch tt := t.(type) {
		case string:
			types = []string{tt}
		case []any:
			for _, x := range tt {
				if str, ok := x.(string); ok {
					types = append(types, str)
				}
			}
		}
		okType := len(types) == 0
		for _, ty := range types {
			if hasType(val, ty) {
				okType = true
				break
			}
		}
		if !okType {
			return fmt.Errorf("parameter %q: expected %s, got %s", path, strings.Join(types, " or "), describeValue(val))
		}
	}
	switch x := val.(type) {
	case map[string]any:
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				name, _ := r.(string)
				if _, ok := x[name]; !ok {
					return fmt.Errorf("parameter %q: field %q is required", path, name)
				}
			}
		}
		if props, ok := s["properties"].(map[string]any); ok {
			for k, sub := range x {
				if m, ok := props[k].(map[string]any); ok {
					if err := v.check(sub, m, path+"."+k, depth+1); err != nil {
						return err
					}
				}
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, it := range x {
				if err := v.check(it, items, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func hasType(val any, ty string) bool {
	switch ty {
	case "string":
		_, ok := val.(string)
		return ok
	case "integer":
		f, ok := val.(float64)
		return ok && f == math.Trunc(f)
	case "number":
		_, ok := val.(float64)
		return ok
	case "boolean":
		_, ok := val.(bool)
		return ok
	case "array":
		_, ok := val.([]any)
		return ok
	case "object":
		_, ok := val.(map[string]any)
		return ok
	case "null":
		return val == nil
	}
	return true
}

func describeValue(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	switch v.(type) {
	case string:
		return "string " + s
	case float64:
		return "number " + s
	case bool:
		return "boolean " + s
	case nil:
		return "null"
	case []any:
		return "array " + s
	}
	return "object " + s
}

// HydrateParameters resolves the client's `__prefect_kind` placeholders
// that need no server state: "json" (a JSON document in a string) and
// "none" (the value as given). Other kinds are left for the client.
func HydrateParameters(params map[string]any) map[string]any {
	for k, v := range params {
		params[k] = hydrate(v, 0)
	}
	return params
}

func hydrate(v any, depth int) any {
	m, ok := v.(map[string]any)
	if !ok || depth > 32 {
		return v
	}
	switch m["__prefect_kind"] {
	case "json":
		if s, ok := m["value"].(string); ok {
			var out any
			if json.Unmarshal([]byte(s), &out) == nil {
				return out
			}
		}
		return v
	case "none":
		return m["value"]
	case nil:
		for k, sub := range m {
			m[k] = hydrate(sub, depth+1)
		}
	}
	return v
}
