package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// FlowRunInputCreate stores an input; a key the run already has is
// store.ErrConflict, a run not in ws is store.ErrNotFound.
func (s *Store) FlowRunInputCreate(ctx context.Context, ws model.ID, in model.FlowRunInput) (model.FlowRunInput, error) {
	t := s.now()
	in.ID, in.Created, in.Updated = model.NewID(), t, t
	body, err := json.Marshal(in)
	if err != nil {
		return in, err
	}
	err = s.write(ctx, func(tx *wtx) error {
		var one int
		if err := tx.queryRow(`SELECT 1 FROM flow_runs WHERE workspace_id = ? AND id = ?`, idv(ws), idv(in.FlowRunID)).Scan(&one); noRows(err) {
			return notFound("flow run", in.FlowRunID)
		} else if err != nil {
			return err
		}
		_, err := tx.exec(`INSERT INTO flow_run_inputs (workspace_id, id, flow_run_id, key, created, body) VALUES (?, ?, ?, ?, ?, ?)`,
			idv(ws), idv(in.ID), idv(in.FlowRunID), in.Key, t.Micros(), body)
		if isUnique(err) {
			return fmt.Errorf("flow run input %q: %w", in.Key, store.ErrConflict)
		}
		return err
	})
	if err != nil {
		return model.FlowRunInput{}, fmt.Errorf("postgres: create flow run input: %w", err)
	}
	return in, nil
}

// FlowRunInputGet reads one input of a run by key.
func (s *Store) FlowRunInputGet(ctx context.Context, ws, runID model.ID, key string) (model.FlowRunInput, error) {
	var in model.FlowRunInput
	var body []byte
	err := s.queryRow(ctx, `SELECT body FROM flow_run_inputs WHERE workspace_id = ? AND flow_run_id = ? AND key = ?`, idv(ws), idv(runID), key).Scan(&body)
	if noRows(err) {
		return in, fmt.Errorf("postgres: %w", notFound("flow run input", key))
	}
	if err != nil {
		return in, fmt.Errorf("postgres: get flow run input: %w", err)
	}
	return in, unmarshalBody(body, &in)
}

// FlowRunInputFilter lists a run's inputs whose key starts with prefix,
// oldest first, leaving out the excluded keys.
func (s *Store) FlowRunInputFilter(ctx context.Context, ws, runID model.ID, prefix string, limit int, exclude []string) ([]model.FlowRunInput, error) {
	q := `SELECT body FROM flow_run_inputs WHERE workspace_id = ? AND flow_run_id = ? AND substr(key, 1, ?) = ?`
	args := []any{idv(ws), idv(runID), len([]rune(prefix)), prefix}
	if len(exclude) > 0 {
		q += ` AND key NOT IN (` + placeholders(len(exclude)) + `)`
		args = append(args, anySlice(exclude)...)
	}
	q += ` ORDER BY created, id LIMIT ?`
	args = append(args, max(limit, 0))
	return listBodies[model.FlowRunInput](ctx, s, q, args)
}

// FlowRunInputDelete removes one input of a run.
func (s *Store) FlowRunInputDelete(ctx context.Context, ws, runID model.ID, key string) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM flow_run_inputs WHERE workspace_id = ? AND flow_run_id = ? AND key = ?`, idv(ws), idv(runID), key)
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return notFound("flow run input", key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: delete flow run input: %w", err)
	}
	return nil
}

// SavedSearchUpsert creates the saved search, or replaces the filters of
// the one with the same name (keeping its id and created time).
func (s *Store) SavedSearchUpsert(ctx context.Context, ws model.ID, name string, filters []model.SavedSearchFilter) (out model.SavedSearch, created bool, err error) {
	t := s.now()
	err = s.write(ctx, func(tx *wtx) error {
		var body []byte
		err := tx.queryRow(`SELECT body FROM saved_searches WHERE workspace_id = ? AND name = ?`, idv(ws), name).Scan(&body)
		switch {
		case noRows(err):
			out, created = model.SavedSearch{ID: model.NewID(), Created: t, Updated: t, Name: name, Filters: filters}, true
		case err != nil:
			return err
		default:
			if err := unmarshalBody(body, &out); err != nil {
				return err
			}
			out.Filters, out.Updated, created = filters, t, false
		}
		nb, err := json.Marshal(out)
		if err != nil {
			return err
		}
		if created {
			_, err = tx.exec(`INSERT INTO saved_searches (workspace_id, id, name, created, body) VALUES (?, ?, ?, ?, ?)`, idv(ws), idv(out.ID), name, t.Micros(), nb)
		} else {
			_, err = tx.exec(`UPDATE saved_searches SET body = ? WHERE workspace_id = ? AND id = ?`, nb, idv(ws), idv(out.ID))
		}
		return err
	})
	if err != nil {
		return model.SavedSearch{}, false, fmt.Errorf("postgres: upsert saved search: %w", err)
	}
	return out, created, nil
}

// SavedSearchGet reads a saved search by id.
func (s *Store) SavedSearchGet(ctx context.Context, ws, id model.ID) (model.SavedSearch, error) {
	var out model.SavedSearch
	var body []byte
	err := s.queryRow(ctx, `SELECT body FROM saved_searches WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id)).Scan(&body)
	if noRows(err) {
		return out, fmt.Errorf("postgres: %w", notFound("saved search", id))
	}
	if err != nil {
		return out, fmt.Errorf("postgres: get saved search: %w", err)
	}
	return out, unmarshalBody(body, &out)
}

// SavedSearchList lists saved searches by name.
func (s *Store) SavedSearchList(ctx context.Context, ws model.ID, offset, limit int) ([]model.SavedSearch, error) {
	win, wargs := window(limit, offset)
	return listBodies[model.SavedSearch](ctx, s, `SELECT body FROM saved_searches WHERE workspace_id = ? ORDER BY name, id`+win, append([]any{idv(ws)}, wargs...))
}

// SavedSearchDelete removes a saved search.
func (s *Store) SavedSearchDelete(ctx context.Context, ws, id model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM saved_searches WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id))
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return notFound("saved search", id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: delete saved search: %w", err)
	}
	return nil
}
