package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

var variableOrders = map[string]string{
	"CREATED_DESC": "v.created DESC, v.id DESC",
	"UPDATED_DESC": "v.updated DESC, v.id DESC",
	"NAME_ASC":     "v.name ASC",
	"NAME_DESC":    "v.name DESC",
}

// refWhere renders a Ref as a condition on alias a ("a.id = ?" or
// "a.name = ?") and names it for not-found errors.
func refWhere(a string, ref store.Ref) (expr, any) {
	if ref.ID.IsNil() {
		return expr{sql: a + "name = ?", args: []any{ref.Name}}, ref.Name
	}
	return expr{sql: a + "id = ?", args: []any{idv(ref.ID)}}, ref.ID
}

// VariableCreate inserts a variable; a taken name is store.ErrConflict.
func (s *Store) VariableCreate(ctx context.Context, ws model.ID, in model.VariableCreate) (model.Variable, error) {
	t := s.now()
	v := model.Variable{ID: model.NewID(), Created: t, Updated: t, Name: in.Name, Value: in.Value, Tags: nonNilTags(in.Tags)}
	if v.Value == nil {
		v.Value = json.RawMessage("null")
	}
	err := s.write(ctx, func(tx *wtx) error { return writeVariable(tx, ws, &v, true) })
	if err != nil {
		return model.Variable{}, fmt.Errorf("postgres: create variable %q: %w", in.Name, err)
	}
	return v, nil
}

func writeVariable(tx *wtx, ws model.ID, v *model.Variable, insert bool) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if insert {
		_, err = tx.exec(`INSERT INTO variables (workspace_id, id, name, created, updated, tags, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			idv(ws), idv(v.ID), v.Name, v.Created.Micros(), v.Updated.Micros(), tagsJSON(v.Tags), body)
	} else {
		_, err = tx.exec(`UPDATE variables SET name = ?, updated = ?, tags = ?, body = ? WHERE workspace_id = ? AND id = ?`,
			v.Name, v.Updated.Micros(), tagsJSON(v.Tags), body, idv(ws), idv(v.ID))
	}
	if isUnique(err) {
		return fmt.Errorf("a variable named %q: %w", v.Name, store.ErrConflict)
	}
	return err
}

// VariableGet reads a variable by id or name.
func (s *Store) VariableGet(ctx context.Context, ws model.ID, ref store.Ref) (model.Variable, error) {
	w, key := refWhere("v.", ref)
	var body []byte
	err := s.queryRow(ctx, "SELECT v.body FROM variables v WHERE v.workspace_id = ? AND "+w.sql, append([]any{idv(ws)}, w.args...)...).Scan(&body)
	var v model.Variable
	if noRows(err) {
		return v, notFound("variable", key)
	}
	if err != nil {
		return v, fmt.Errorf("postgres: get variable: %w", err)
	}
	return v, unmarshalBody(body, &v)
}

func variableFilter(f *model.VariableFilter) expr {
	if f == nil {
		return expr{}
	}
	return combine(f.Operator, idFilter("v.id", f.ID), nameFilter("v.name", f.Name), tagsFilter("v.tags", f.Tags))
}

// VariableList lists variables matching q (default sort NAME_ASC).
func (s *Store) VariableList(ctx context.Context, ws model.ID, q model.VariableQuery) ([]model.Variable, error) {
	w := combine("", expr{sql: "v.workspace_id = ?", args: []any{idv(ws)}}, variableFilter(q.Variables))
	win, wargs := window(q.Limit, q.Offset)
	text := "SELECT v.body FROM variables v WHERE " + w.sql + " ORDER BY " + orderBy(variableOrders, q.Sort, "NAME_ASC") + win
	return listBodies[model.Variable](ctx, s, text, append(w.args, wargs...))
}

// VariableCount counts variables matching f.
func (s *Store) VariableCount(ctx context.Context, ws model.ID, f *model.VariableFilter) (int, error) {
	w := combine("", expr{sql: "v.workspace_id = ?", args: []any{idv(ws)}}, variableFilter(f))
	return count(ctx, s, "SELECT count(*) FROM variables v WHERE "+w.sql, w.args)
}

// VariableUpdate applies in's set fields in one write transaction.
func (s *Store) VariableUpdate(ctx context.Context, ws model.ID, ref store.Ref, in model.VariableUpdate) (model.Variable, error) {
	var v model.Variable
	err := s.write(ctx, func(tx *wtx) error {
		w, key := refWhere("", ref)
		var body []byte
		err := tx.queryRow("SELECT body FROM variables WHERE workspace_id = ? AND "+w.sql, append([]any{idv(ws)}, w.args...)...).Scan(&body)
		if noRows(err) {
			return notFound("variable", key)
		}
		if err != nil {
			return err
		}
		if err := unmarshalBody(body, &v); err != nil {
			return err
		}
		if in.Name != nil {
			v.Name = *in.Name
		}
		if in.Value != nil {
			v.Value = in.Value
		}
		if in.Tags != nil {
			v.Tags = nonNilTags(*in.Tags)
		}
		v.Updated = s.now()
		return writeVariable(tx, ws, &v, false)
	})
	if err != nil {
		return model.Variable{}, fmt.Errorf("postgres: update variable: %w", err)
	}
	return v, nil
}

// VariableDelete removes a variable by id or name.
func (s *Store) VariableDelete(ctx context.Context, ws model.ID, ref store.Ref) error {
	err := s.write(ctx, func(tx *wtx) error {
		w, key := refWhere("", ref)
		res, err := tx.exec("DELETE FROM variables WHERE workspace_id = ? AND "+w.sql, append([]any{idv(ws)}, w.args...)...)
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return notFound("variable", key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: delete variable: %w", err)
	}
	return nil
}
