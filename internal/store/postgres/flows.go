package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/batonhq/baton/internal/model"
)

// WorkspaceDefault returns the seeded default workspace.
func (s *Store) WorkspaceDefault(ctx context.Context) (model.Workspace, error) {
	return s.workspace(ctx, `SELECT id, account_id, name, handle FROM workspaces WHERE is_default LIMIT 1`)
}

// WorkspaceGet returns workspaceID if it belongs to accountID.
func (s *Store) WorkspaceGet(ctx context.Context, accountID, workspaceID model.ID) (model.Workspace, error) {
	return s.workspace(ctx, `SELECT id, account_id, name, handle FROM workspaces WHERE id = ? AND account_id = ?`, idv(workspaceID), idv(accountID))
}

func (s *Store) workspace(ctx context.Context, q string, args ...any) (model.Workspace, error) {
	var w model.Workspace
	var id, acc []byte
	err := s.queryRow(ctx, q, args...).Scan(&id, &acc, &w.Name, &w.Handle)
	if noRows(err) {
		return w, notFound("workspace", args)
	}
	if err != nil {
		return w, fmt.Errorf("postgres: workspace: %w", err)
	}
	if w.ID, err = scanID(id); err != nil {
		return w, err
	}
	w.AccountID, err = scanID(acc)
	return w, err
}

// tagsJSON renders tags for a tags column; nil becomes [] so JSON
// functions see an array.
func tagsJSON(tags []string) string {
	if len(tags) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

func nonNilTags(t []string) []string {
	if t == nil {
		return []string{}
	}
	return t
}

func nonNilLabels(l model.Labels) model.Labels {
	if l == nil {
		return model.Labels{}
	}
	return l
}

// unmarshalBody decodes a stored body into v.
func unmarshalBody(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("postgres: decode stored row: %w", err)
	}
	return nil
}

// FlowUpsert creates the flow named in.Name or returns the existing one.
func (s *Store) FlowUpsert(ctx context.Context, ws model.ID, in model.FlowCreate) (model.Flow, bool, error) {
	var f model.Flow
	var created bool
	err := s.write(ctx, func(tx *wtx) error {
		var body []byte
		err := tx.queryRow(`SELECT body FROM flows WHERE workspace_id = ? AND name = ?`, idv(ws), in.Name).Scan(&body)
		if err == nil {
			created = false
			return unmarshalBody(body, &f)
		}
		if !noRows(err) {
			return err
		}
		t := s.now()
		f = model.Flow{ID: model.NewID(), Created: t, Updated: t, Name: in.Name, Tags: nonNilTags(in.Tags), Labels: nonNilLabels(in.Labels)}
		created = true
		return insertFlow(tx, ws, &f)
	})
	if err != nil {
		return model.Flow{}, false, fmt.Errorf("postgres: upsert flow %q: %w", in.Name, err)
	}
	return f, created, nil
}

func insertFlow(tx *wtx, ws model.ID, f *model.Flow) error {
	body, err := json.Marshal(f)
	if err != nil {
		return err
	}
	_, err = tx.exec(`INSERT INTO flows (workspace_id, id, name, created, updated, tags, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		idv(ws), idv(f.ID), f.Name, f.Created.Micros(), f.Updated.Micros(), tagsJSON(f.Tags), body)
	return err
}

// FlowGet returns one flow of ws.
func (s *Store) FlowGet(ctx context.Context, ws, id model.ID) (model.Flow, error) {
	return s.flowBy(ctx, `SELECT body FROM flows WHERE workspace_id = ? AND id = ?`, id, idv(ws), idv(id))
}

// FlowGetByName returns the flow of ws with that name.
func (s *Store) FlowGetByName(ctx context.Context, ws model.ID, name string) (model.Flow, error) {
	return s.flowBy(ctx, `SELECT body FROM flows WHERE workspace_id = ? AND name = ?`, name, idv(ws), name)
}

func (s *Store) flowBy(ctx context.Context, q string, key any, args ...any) (model.Flow, error) {
	var f model.Flow
	var body []byte
	err := s.queryRow(ctx, q, args...).Scan(&body)
	if noRows(err) {
		return f, notFound("flow", key)
	}
	if err != nil {
		return f, fmt.Errorf("postgres: get flow: %w", err)
	}
	return f, unmarshalBody(body, &f)
}

// FlowList lists flows matching q, sorted by q.Sort (default CREATED_DESC).
func (s *Store) FlowList(ctx context.Context, ws model.ID, q model.RunQuery) ([]model.Flow, error) {
	w := flowsWhere(ws, q)
	win, wargs := window(q.Limit, q.Offset)
	sqlText := "SELECT f.body FROM flows f WHERE " + w.sql + " ORDER BY " + orderBy(flowOrders, q.Sort, "CREATED_DESC") + win
	return listBodies[model.Flow](ctx, s, sqlText, append(w.args, wargs...))
}

// FlowCount counts flows matching q.
func (s *Store) FlowCount(ctx context.Context, ws model.ID, q model.RunQuery) (int, error) {
	w := flowsWhere(ws, q)
	return count(ctx, s, "SELECT count(*) FROM flows f WHERE "+w.sql, w.args)
}

// FlowUpdate replaces the flow's tags when given.
func (s *Store) FlowUpdate(ctx context.Context, ws, id model.ID, in model.FlowUpdate) error {
	err := s.write(ctx, func(tx *wtx) error {
		var f model.Flow
		var body []byte
		err := tx.queryRow(`SELECT body FROM flows WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id)).Scan(&body)
		if noRows(err) {
			return notFound("flow", id)
		}
		if err != nil {
			return err
		}
		if err := unmarshalBody(body, &f); err != nil {
			return err
		}
		if in.Tags != nil {
			f.Tags = nonNilTags(*in.Tags)
		}
		f.Updated = s.now()
		if body, err = json.Marshal(&f); err != nil {
			return err
		}
		_, err = tx.exec(`UPDATE flows SET updated = ?, tags = ?, body = ? WHERE workspace_id = ? AND id = ?`,
			f.Updated.Micros(), tagsJSON(f.Tags), body, idv(ws), idv(id))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: update flow: %w", err)
	}
	return nil
}

// FlowDelete removes the flow, its flow runs and their task runs and states.
func (s *Store) FlowDelete(ctx context.Context, ws, id model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		if err := releaseSlotsOfDeleted(tx, ws, "fr.flow_id = ?", []any{idv(id)},
			"t.flow_run_id IN (SELECT id FROM flow_runs WHERE workspace_id = ? AND flow_id = ?)", []any{idv(ws), idv(id)}); err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM task_runs WHERE workspace_id = ? AND flow_run_id IN (SELECT id FROM flow_runs WHERE workspace_id = ? AND flow_id = ?)`,
			idv(ws), idv(ws), idv(id)); err != nil {
			return err
		}
		res, err := tx.exec(`DELETE FROM flows WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id))
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return notFound("flow", id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: delete flow: %w", err)
	}
	return nil
}

// listBodies runs a query selecting one body column and decodes each row.
func listBodies[T any](ctx context.Context, s *Store, q string, args []any) ([]T, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list: %w", err)
	}
	defer rows.Close()
	out := []T{}
	var body []byte
	for rows.Next() {
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("postgres: list: %w", err)
		}
		var v T
		if err := unmarshalBody(body, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list: %w", err)
	}
	return out, nil
}

// count runs a count(*) query.
func count(ctx context.Context, s *Store, q string, args []any) (int, error) {
	var n int
	if err := s.queryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count: %w", err)
	}
	return n, nil
}
