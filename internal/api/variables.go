package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Prefect's rules for variables (prefect/types: VariableName,
// MAX_VARIABLE_VALUE_LENGTH): a name of at most 255 lowercase letters,
// digits, dashes and underscores, and a value whose compact JSON is at most
// 5000 bytes.
const (
	maxVariableName  = 255
	maxVariableValue = 5000
)

var variableNameRe = regexp.MustCompile(`^[a-z0-9_-]*$`)

func variableRoutes() []route {
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	name := param{name: "name", in: "path", typ: "string", required: true}
	byID := func(c *call) store.Ref { v := c.id("id"); return store.RefID(v) }
	byName := func(c *call) store.Ref { return store.RefName(c.r.PathValue("name")) }
	vars := func(c *call) store.Variables { return c.srv.cfg.Store }
	get := func(ref func(*call) store.Ref) func(*call, *noBody) (model.Variable, error) {
		return func(c *call, _ *noBody) (model.Variable, error) { return vars(c).VariableGet(c.ctx, c.ws, ref(c)) }
	}
	update := func(ref func(*call) store.Ref) func(*call, *model.VariableUpdate) (noContent, error) {
		return func(c *call, b *model.VariableUpdate) (noContent, error) {
			if b.Name != nil {
				if err := checkVariableName(*b.Name); err != nil {
					return noContent{}, err
				}
			}
			if err := checkVariableValue(b.Value); err != nil {
				return noContent{}, err
			}
			_, err := vars(c).VariableUpdate(c.ctx, c.ws, ref(c), *b)
			return noContent{}, err
		}
	}
	del := func(ref func(*call) store.Ref) func(*call, *noBody) (noContent, error) {
		return func(c *call, _ *noBody) (noContent, error) {
			return noContent{}, vars(c).VariableDelete(c.ctx, c.ws, ref(c))
		}
	}
	return []route{
		op(wsWrite, "POST", "/variables", "Variables", "Create a variable", 201, createVariable),
		op(wsRead, "GET", "/variables/{id}", "Variables", "Read a variable", 200, get(byID), id),
		op(wsRead, "GET", "/variables/name/{name}", "Variables", "Read a variable by name", 200, get(byName), name),
		optionalBody(op(wsRead, "POST", "/variables/filter", "Variables", "Query variables", 200, func(c *call, q *model.VariableQuery) ([]model.Variable, error) {
			if err := checkSortWindow(q.Sort, model.VariableSorts, &q.Offset, &q.Limit); err != nil {
				return nil, err
			}
			return vars(c).VariableList(c.ctx, c.ws, *q)
		})),
		optionalBody(op(wsRead, "POST", "/variables/count", "Variables", "Count variables", 200, func(c *call, q *model.VariableQuery) (int, error) {
			return vars(c).VariableCount(c.ctx, c.ws, q.Variables)
		})),
		op(wsWrite, "PATCH", "/variables/{id}", "Variables", "Update a variable", 204, update(byID), id),
		op(wsWrite, "PATCH", "/variables/name/{name}", "Variables", "Update a variable by name", 204, update(byName), name),
		op(wsWrite, "DELETE", "/variables/{id}", "Variables", "Delete a variable", 204, del(byID), id),
		op(wsWrite, "DELETE", "/variables/name/{name}", "Variables", "Delete a variable by name", 204, del(byName), name),
	}
}

func createVariable(c *call, b *model.VariableCreate) (model.Variable, error) {
	if err := checkVariableName(b.Name); err != nil {
		return model.Variable{}, err
	}
	if b.Value == nil {
		return model.Variable{}, errorf(http.StatusUnprocessableEntity, "field \"value\" is required")
	}
	if err := checkVariableValue(b.Value); err != nil {
		return model.Variable{}, err
	}
	v, err := c.srv.cfg.Store.VariableCreate(c.ctx, c.ws, *b)
	if err != nil && isConflict(err) {
		return v, errorf(http.StatusConflict, "A variable with the name %q already exists.", b.Name)
	}
	return v, err
}

func checkVariableName(n string) error {
	if len(n) > maxVariableName {
		return errorf(http.StatusUnprocessableEntity, "field \"name\": Variable name must be at most %d characters", maxVariableName)
	}
	if !variableNameRe.MatchString(n) {
		return errorf(http.StatusUnprocessableEntity, "field \"name\": Variable name must only contain lowercase letters, numbers, and dashes or underscores.")
	}
	return nil
}

// checkVariableValue applies Prefect's size limit to the value's compact
// JSON encoding (nil: the value was not sent).
func checkVariableValue(v json.RawMessage) error {
	if v == nil || string(bytes.TrimSpace(v)) == "null" {
		return nil
	}
	if n := compactJSONLen(v); n > maxVariableValue {
		return errorf(http.StatusUnprocessableEntity, "field \"value\": Variable value must be less than %d characters (it is %d)", maxVariableValue, n)
	}
	return nil
}

// compactJSONLen is the length of v re-encoded without spaces and without
// HTML escaping, as Prefect's orjson measures it.
func compactJSONLen(v json.RawMessage) int {
	var x any
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	if dec.Decode(&x) != nil {
		return len(v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(x) != nil {
		return len(v)
	}
	return buf.Len() - 1 // Encode's trailing newline
}

// isConflict reports a store uniqueness conflict.
func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }

// checkSortWindow validates a listing's sort key, offset and limit (0
// becomes the default page of 200).
func checkSortWindow(sort string, sorts []string, offset *int, limit *int) error {
	if sort != "" && !contains(sorts, sort) {
		return errorf(http.StatusUnprocessableEntity, "field \"sort\": %q is not one of %v", sort, sorts)
	}
	return checkWindow(offset, limit)
}
