package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

var (
	artifactOrders = map[string]string{
		"CREATED_DESC": "a.created DESC, a.id DESC",
		"UPDATED_DESC": "a.updated DESC, a.id DESC",
		"ID_DESC":      "a.id DESC",
		"KEY_DESC":     "a.key DESC, a.id DESC",
		"KEY_ASC":      "a.key ASC, a.id",
	}
)

// artifactKeyFilter narrows on a nullable key column.
func artifactKeyFilter(col string, f *model.ArtifactKeyFilter) expr {
	if f == nil {
		return expr{}
	}
	var exists expr
	if f.Exists != nil {
		v := !*f.Exists
		exists = isNull(col, &v)
	}
	return combine("", in(col, f.Any, strArg, false), like(col, f.Like), exists)
}

// artifactsWhere filters artifacts (or collection rows) aliased a; the run,
// flow and deployment filters match through the artifact's flow run and
// task run, as Prefect's EXISTS subqueries do.
func artifactsWhere(ws model.ID, q model.ArtifactQuery, collection bool) expr {
	parts := []expr{{sql: "a.workspace_id = ?", args: []any{idv(ws)}}}
	if f := q.Artifacts; f != nil {
		idCol := "a.id"
		idf := f.ID
		if collection {
			idCol, idf = "a.latest_id", f.LatestID
		}
		parts = append(parts, combine(f.Operator,
			idFilter(idCol, idf),
			artifactKeyFilter("a.key", f.Key),
			idFilter("a.flow_run_id", f.FlowRunID),
			idFilter("a.task_run_id", f.TaskRunID),
			stringsFilter("a.type", f.Type)))
	}
	if q.FlowRuns != nil || q.Flows != nil || q.Deployments != nil {
		inner := []expr{flowRunFilter(ws, q.FlowRuns)}
		if q.Flows != nil {
			inner = append(inner, subquery("fr.flow_id", "f.id", "flows f", ws, flowFilter(ws, q.Flows)))
		}
		if q.Deployments != nil {
			inner = append(inner, subquery("fr.deployment_id", "d.id", "deployments d", ws, deploymentFilter(ws, q.Deployments)))
		}
		parts = append(parts, subquery("a.flow_run_id", "fr.id", "flow_runs fr", ws, inner...))
	}
	if q.TaskRuns != nil {
		parts = append(parts, subquery("a.task_run_id", "tr.id", "task_runs tr", ws, taskRunFilter(ws, q.TaskRuns)))
	}
	return combine("", parts...)
}

// ArtifactCreate inserts the artifact and, for a keyed one, points its
// key's collection at it, in one transaction.
func (s *Store) ArtifactCreate(ctx context.Context, ws model.ID, in model.ArtifactCreate) (model.Artifact, error) {
	t := s.now()
	a := model.Artifact{ID: model.NewID(), Created: t, Updated: t, Key: in.Key, Type: in.Type, Description: in.Description,
		Data: in.Data, Metadata: in.Metadata, FlowRunID: in.FlowRunID, TaskRunID: in.TaskRunID}
	if a.Data == nil {
		a.Data = json.RawMessage("null")
	}
	err := s.write(ctx, func(tx *wtx) error {
		body, err := json.Marshal(&a)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO artifacts (workspace_id, id, key, type, flow_run_id, task_run_id, created, updated, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			idv(ws), idv(a.ID), optStr(a.Key), optStr(a.Type), optID(a.FlowRunID), optID(a.TaskRunID), a.Created.Micros(), a.Updated.Micros(), body); err != nil {
			return err
		}
		if a.Key == nil {
			return nil
		}
		return setCollection(tx, ws, a, t)
	})
	if err != nil {
		return model.Artifact{}, fmt.Errorf("sqlite: create artifact: %w", err)
	}
	return a, nil
}

// setCollection creates the collection row of a.Key, or moves it to a
// (keeping the row's id and created time), stamping updated.
func setCollection(tx *wtx, ws model.ID, a model.Artifact, updated model.Time) error {
	c := model.ArtifactCollection{ID: model.NewID(), Created: updated, Key: *a.Key}
	var old []byte
	err := tx.queryRow(`SELECT body FROM artifact_collections WHERE workspace_id = ? AND key = ?`, idv(ws), *a.Key).Scan(&old)
	switch {
	case err == nil:
		if err := unmarshalBody(old, &c); err != nil {
			return err
		}
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	c.Updated, c.LatestID = updated, a.ID
	c.Type, c.Description, c.Data, c.Metadata, c.FlowRunID, c.TaskRunID = a.Type, a.Description, a.Data, a.Metadata, a.FlowRunID, a.TaskRunID
	body, err := json.Marshal(&c)
	if err != nil {
		return err
	}
	_, err = tx.exec(`INSERT INTO artifact_collections (workspace_id, id, key, latest_id, type, flow_run_id, task_run_id, created, updated, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, key) DO UPDATE SET latest_id = excluded.latest_id, type = excluded.type,
		flow_run_id = excluded.flow_run_id, task_run_id = excluded.task_run_id, updated = excluded.updated, body = excluded.body`,
		idv(ws), idv(c.ID), c.Key, idv(c.LatestID), optStr(c.Type), optID(c.FlowRunID), optID(c.TaskRunID), c.Created.Micros(), c.Updated.Micros(), body)
	return err
}

// ArtifactGet reads one artifact.
func (s *Store) ArtifactGet(ctx context.Context, ws, id model.ID) (model.Artifact, error) {
	var a model.Artifact
	var body []byte
	err := s.queryRow(ctx, `SELECT body FROM artifacts WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id)).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFound("artifact", id)
	}
	if err != nil {
		return a, fmt.Errorf("sqlite: get artifact: %w", err)
	}
	return a, unmarshalBody(body, &a)
}

// ArtifactLatest reads the collection row of key.
func (s *Store) ArtifactLatest(ctx context.Context, ws model.ID, key string) (model.ArtifactCollection, error) {
	var c model.ArtifactCollection
	var body []byte
	err := s.queryRow(ctx, `SELECT body FROM artifact_collections WHERE workspace_id = ? AND key = ?`, idv(ws), key).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("artifact with key", key)
	}
	if err != nil {
		return c, fmt.Errorf("sqlite: get latest artifact: %w", err)
	}
	return c, unmarshalBody(body, &c)
}

// ArtifactList lists artifacts matching q (default sort ID_DESC).
func (s *Store) ArtifactList(ctx context.Context, ws model.ID, q model.ArtifactQuery) ([]model.Artifact, error) {
	w := artifactsWhere(ws, q, false)
	win, wargs := window(q.Limit, q.Offset)
	text := "SELECT a.body FROM artifacts a WHERE " + w.sql + " ORDER BY " + orderBy(artifactOrders, q.Sort, "ID_DESC") + win
	return listBodies[model.Artifact](ctx, s.rdb, text, append(w.args, wargs...))
}

// ArtifactCount counts artifacts matching q.
func (s *Store) ArtifactCount(ctx context.Context, ws model.ID, q model.ArtifactQuery) (int, error) {
	w := artifactsWhere(ws, q, false)
	return count(ctx, s.rdb, "SELECT count(*) FROM artifacts a WHERE "+w.sql, w.args)
}

// ArtifactLatestList lists collection rows matching q (default ID_DESC).
func (s *Store) ArtifactLatestList(ctx context.Context, ws model.ID, q model.ArtifactQuery) ([]model.ArtifactCollection, error) {
	w := artifactsWhere(ws, q, true)
	win, wargs := window(q.Limit, q.Offset)
	text := "SELECT a.body FROM artifact_collections a WHERE " + w.sql + " ORDER BY " + orderBy(artifactOrders, q.Sort, "ID_DESC") + win
	return listBodies[model.ArtifactCollection](ctx, s.rdb, text, append(w.args, wargs...))
}

// ArtifactLatestCount counts collection rows matching q.
func (s *Store) ArtifactLatestCount(ctx context.Context, ws model.ID, q model.ArtifactQuery) (int, error) {
	w := artifactsWhere(ws, q, true)
	return count(ctx, s.rdb, "SELECT count(*) FROM artifact_collections a WHERE "+w.sql, w.args)
}

// ArtifactUpdate changes an artifact's data, description or metadata, and
// its collection row's when it is its key's latest.
func (s *Store) ArtifactUpdate(ctx context.Context, ws, id model.ID, in model.ArtifactUpdate) error {
	err := s.write(ctx, func(tx *wtx) error {
		var a model.Artifact
		var body []byte
		err := tx.queryRow(`SELECT body FROM artifacts WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id)).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("artifact", id)
		}
		if err != nil {
			return err
		}
		if err := unmarshalBody(body, &a); err != nil {
			return err
		}
		if in.Data != nil {
			a.Data = in.Data
		}
		if in.Description != nil {
			a.Description = in.Description
		}
		if in.Metadata != nil {
			a.Metadata = in.Metadata
		}
		a.Updated = s.now()
		if body, err = json.Marshal(&a); err != nil {
			return err
		}
		if _, err := tx.exec(`UPDATE artifacts SET updated = ?, body = ? WHERE workspace_id = ? AND id = ?`, a.Updated.Micros(), body, idv(ws), idv(id)); err != nil {
			return err
		}
		if a.Key == nil {
			return nil
		}
		var latest []byte
		err = tx.queryRow(`SELECT latest_id FROM artifact_collections WHERE workspace_id = ? AND key = ?`, idv(ws), *a.Key).Scan(&latest)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if lid, err := scanID(latest); err != nil || lid != a.ID {
			return err
		}
		return setCollection(tx, ws, a, a.Updated)
	})
	if err != nil {
		return fmt.Errorf("sqlite: update artifact: %w", err)
	}
	return nil
}

// ArtifactDelete removes an artifact, moving or removing its key's
// collection row when it was the latest.
func (s *Store) ArtifactDelete(ctx context.Context, ws, id model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		var key sql.NullString
		err := tx.queryRow(`SELECT key FROM artifacts WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id)).Scan(&key)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("artifact", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM artifacts WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id)); err != nil {
			return err
		}
		if !key.Valid {
			return nil
		}
		var n int
		if err := tx.queryRow(`SELECT count(*) FROM artifact_collections WHERE workspace_id = ? AND key = ? AND latest_id = ?`, idv(ws), key.String, idv(id)).Scan(&n); err != nil || n == 0 {
			return err
		}
		var body []byte
		err = tx.queryRow(`SELECT body FROM artifacts WHERE workspace_id = ? AND key = ? ORDER BY created DESC, id DESC LIMIT 1`, idv(ws), key.String).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = tx.exec(`DELETE FROM artifact_collections WHERE workspace_id = ? AND key = ?`, idv(ws), key.String)
			return err
		}
		if err != nil {
			return err
		}
		var next model.Artifact
		if err := unmarshalBody(body, &next); err != nil {
			return err
		}
		return setCollection(tx, ws, next, next.Updated)
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete artifact: %w", err)
	}
	return nil
}

var _ store.Artifacts = (*Store)(nil)
var _ store.Variables = (*Store)(nil)
