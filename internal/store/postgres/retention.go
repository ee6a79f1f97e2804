package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// terminalTypesSQL are the state types a run never leaves; only runs in
// them are old enough to delete.
const terminalTypesSQL = `('COMPLETED','FAILED','CANCELLED','CRASHED')`

// RetentionWorkspaces lists every workspace.
func (s *Store) RetentionWorkspaces(ctx context.Context) ([]model.ID, error) {
	rows, err := s.query(ctx, `SELECT id FROM workspaces ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list workspaces: %w", err)
	}
	defer rows.Close()
	var out []model.ID
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("postgres: list workspaces: %w", err)
		}
		id, err := scanID(b)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// RetentionPurge deletes up to limit old rows of res in ws in one READ
// COMMITTED transaction. The rows it picks are locked (FOR UPDATE SKIP
// LOCKED), and the final delete checks their age and state again, so a run
// another replica moves on meanwhile is left alone.
func (s *Store) RetentionPurge(ctx context.Context, ws model.ID, res store.RetentionResource, before time.Time, limit int) (store.Purged, error) {
	if limit <= 0 {
		return store.Purged{}, fmt.Errorf("postgres: retention: limit %d must be positive", limit)
	}
	var fn func(tx *wtx, p *purge) error
	switch res {
	case store.RetainFlowRuns:
		fn = purgeFlowRuns
	case store.RetainTaskRuns:
		fn = purgeTaskRuns
	case store.RetainLogs:
		fn = purgeLogs
	case store.RetainEvents:
		fn = purgeEvents
	case store.RetainArtifacts:
		fn = purgeArtifacts
	default:
		return store.Purged{}, fmt.Errorf("postgres: retention: unknown resource %q", res)
	}
	var out store.Purged
	err := s.writeRC(ctx, func(tx *wtx) error {
		p := &purge{ws: idv(ws), wsID: ws, before: before.UnixMicro(), budget: limit, limit: limit}
		if err := fn(tx, p); err != nil {
			return err
		}
		out = p.result
		return nil
	})
	if err != nil {
		return store.Purged{}, fmt.Errorf("postgres: retention of %s: %w", res, err)
	}
	return out, nil
}

// purge is one RetentionPurge call's state: the rows it may still delete
// (budget) and what it did.
type purge struct {
	ws     []byte
	wsID   model.ID
	before int64
	limit  int
	budget int
	result store.Purged
}

// spend deletes with q (whose last placeholder is the row limit, appended
// here) and charges the rows to the budget as dependants; it reports
// whether the budget is spent.
func (p *purge) spend(tx *wtx, q string, args ...any) (bool, error) {
	if p.budget <= 0 {
		p.result.More = true
		return true, nil
	}
	tag, err := tx.exec(q, append(args, p.budget)...)
	if err != nil {
		return false, err
	}
	n := int(tag.RowsAffected())
	p.budget -= n
	p.result.Dependants += n
	if p.budget <= 0 {
		p.result.More = true
		return true, nil
	}
	return false, nil
}

// candidates reads ids (as bind arguments) with q.
func candidates(tx *wtx, q string, args ...any) ([]any, error) {
	rows, err := tx.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []any
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// purgeFlowRuns deletes terminal flow runs that ended before the cutoff,
// their logs, artifacts and task runs first.
func purgeFlowRuns(tx *wtx, p *purge) error {
	ids, err := candidates(tx, `SELECT id FROM flow_runs WHERE workspace_id = ? AND state_type IN `+terminalTypesSQL+` AND state_timestamp < ?
LIMIT ? FOR UPDATE SKIP LOCKED`, p.ws, p.before, p.limit)
	if err != nil || len(ids) == 0 {
		return err
	}
	in := "(" + placeholders(len(ids)) + ")"
	withWS := func() []any { return append([]any{p.ws}, ids...) }
	tasks := `SELECT id FROM task_runs WHERE workspace_id = ? AND flow_run_id IN ` + in
	if done, err := p.spend(tx, `DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE workspace_id = ? AND flow_run_id IN `+in+` LIMIT ?)`, withWS()...); done || err != nil {
		return err
	}
	if done, err := p.spend(tx, `DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE workspace_id = ? AND task_run_id IN (`+tasks+`) LIMIT ?)`,
		append([]any{p.ws}, withWS()...)...); done || err != nil {
		return err
	}
	if done, err := deleteArtifacts(tx, p, `flow_run_id IN `+in, ids...); done || err != nil {
		return err
	}
	if done, err := deleteArtifacts(tx, p, `task_run_id IN (`+tasks+`)`, withWS()...); done || err != nil {
		return err
	}
	if done, err := p.spend(tx, `DELETE FROM task_runs WHERE id IN (SELECT id FROM task_runs WHERE workspace_id = ? AND flow_run_id IN `+in+` LIMIT ?)`, withWS()...); done || err != nil {
		return err
	}
	tag, err := tx.exec(`DELETE FROM flow_runs WHERE workspace_id = ? AND id IN `+in+` AND state_type IN `+terminalTypesSQL+` AND state_timestamp < ?`,
		append(withWS(), p.before)...)
	if err != nil {
		return err
	}
	p.result.Rows = int(tag.RowsAffected())
	p.result.More = len(ids) == p.limit
	return nil
}

// purgeTaskRuns deletes terminal task runs that ended before the cutoff,
// their logs and artifacts first.
func purgeTaskRuns(tx *wtx, p *purge) error {
	ids, err := candidates(tx, `SELECT id FROM task_runs WHERE workspace_id = ? AND state_type IN `+terminalTypesSQL+` AND state_timestamp < ?
LIMIT ? FOR UPDATE SKIP LOCKED`, p.ws, p.before, p.limit)
	if err != nil || len(ids) == 0 {
		return err
	}
	in := "(" + placeholders(len(ids)) + ")"
	withWS := append([]any{p.ws}, ids...)
	if done, err := p.spend(tx, `DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE workspace_id = ? AND task_run_id IN `+in+` LIMIT ?)`, withWS...); done || err != nil {
		return err
	}
	if done, err := deleteArtifacts(tx, p, `task_run_id IN `+in, ids...); done || err != nil {
		return err
	}
	tag, err := tx.exec(`DELETE FROM task_runs WHERE workspace_id = ? AND id IN `+in+` AND state_type IN `+terminalTypesSQL+` AND state_timestamp < ?`,
		append(withWS, p.before)...)
	if err != nil {
		return err
	}
	p.result.Rows = int(tag.RowsAffected())
	p.result.More = len(ids) == p.limit
	return nil
}

// purgeLogs deletes log lines stamped before the cutoff.
func purgeLogs(tx *wtx, p *purge) error {
	tag, err := tx.exec(`DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE workspace_id = ? AND timestamp < ? LIMIT ?)`, p.ws, p.before, p.limit)
	if err != nil {
		return err
	}
	p.result.Rows = int(tag.RowsAffected())
	p.result.More = p.result.Rows == p.limit
	return nil
}

// purgeEvents deletes events that occurred before the cutoff with their
// resource rows, never past the automations engine's position.
func purgeEvents(tx *wtx, p *purge) error {
	upTo := int64(math.MaxInt64)
	var pos *int64
	if err := tx.queryRow(`SELECT min(position) FROM automation_engine`).Scan(&pos); err != nil {
		return err
	}
	if pos != nil {
		upTo = *pos
	}
	n := max(p.limit/4, 1)
	rows, err := tx.query(`SELECT id, occurred, resource_id, body FROM events WHERE workspace_id = ? AND occurred < ? AND seq <= ? LIMIT ? FOR UPDATE SKIP LOCKED`,
		p.ws, p.before, upTo, n)
	if err != nil {
		return err
	}
	type victim struct {
		id        []byte
		occurred  int64
		resources []string
	}
	var vs []victim
	for rows.Next() {
		var v victim
		var primary string
		var body []byte
		if err := rows.Scan(&v.id, &v.occurred, &primary, &body); err != nil {
			rows.Close()
			return err
		}
		v.resources = append(v.resources, primary)
		var related struct {
			Related []map[string]string `json:"related"`
		}
		if json.Unmarshal(body, &related) == nil {
			for _, r := range related.Related {
				if id := r["prefect.resource.id"]; id != "" && id != primary {
					v.resources = append(v.resources, id)
				}
			}
		}
		vs = append(vs, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, v := range vs {
		for _, r := range v.resources {
			tag, err := tx.exec(`DELETE FROM event_resources WHERE workspace_id = ? AND resource_id = ? AND occurred = ? AND event_id = ?`, p.ws, r, v.occurred, v.id)
			if err != nil {
				return err
			}
			p.result.Dependants += int(tag.RowsAffected())
		}
		if _, err := tx.exec(`DELETE FROM events WHERE workspace_id = ? AND id = ?`, p.ws, v.id); err != nil {
			return err
		}
	}
	p.result.Rows = len(vs)
	p.result.More = len(vs) == n
	return nil
}

// purgeArtifacts deletes artifacts created before the cutoff.
func purgeArtifacts(tx *wtx, p *purge) error {
	before := p.result.Dependants
	done, err := deleteArtifacts(tx, p, `created < ?`, p.before)
	if err != nil {
		return err
	}
	p.result.Rows, p.result.Dependants = p.result.Dependants-before, before
	p.result.More = done
	return nil
}

// deleteArtifacts deletes up to the budget of p's workspace's artifacts
// matching where, charges them as dependants and repoints the collections
// whose latest artifact went.
func deleteArtifacts(tx *wtx, p *purge, where string, args ...any) (bool, error) {
	if p.budget <= 0 {
		p.result.More = true
		return true, nil
	}
	rows, err := tx.query(`SELECT id, key FROM artifacts WHERE workspace_id = ? AND `+where+` LIMIT ? FOR UPDATE SKIP LOCKED`,
		append(append([]any{p.ws}, args...), p.budget)...)
	if err != nil {
		return false, err
	}
	var ids []any
	keys := map[string]bool{}
	for rows.Next() {
		var id []byte
		var key *string
		if err := rows.Scan(&id, &key); err != nil {
			rows.Close()
			return false, err
		}
		ids = append(ids, id)
		if key != nil {
			keys[*key] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return false, err
	}
	if _, err := tx.exec(`DELETE FROM artifacts WHERE workspace_id = ? AND id IN (`+placeholders(len(ids))+`)`, append([]any{p.ws}, ids...)...); err != nil {
		return false, err
	}
	for key := range keys {
		if err := repointCollection(tx, p.wsID, key); err != nil {
			return false, err
		}
	}
	p.budget -= len(ids)
	p.result.Dependants += len(ids)
	if p.budget <= 0 {
		p.result.More = true
		return true, nil
	}
	return false, nil
}

// repointCollection moves key's collection to the newest artifact of the
// key when its latest one is gone, or deletes it when none is left.
func repointCollection(tx *wtx, ws model.ID, key string) error {
	var latest []byte
	err := tx.queryRow(`SELECT latest_id FROM artifact_collections WHERE workspace_id = ? AND key = ?`, idv(ws), key).Scan(&latest)
	if noRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var n int
	if err := tx.queryRow(`SELECT count(*) FROM artifacts WHERE workspace_id = ? AND id = ?`, idv(ws), latest).Scan(&n); err != nil || n > 0 {
		return err
	}
	var body []byte
	err = tx.queryRow(`SELECT body FROM artifacts WHERE workspace_id = ? AND key = ? ORDER BY created DESC, id DESC LIMIT 1`, idv(ws), key).Scan(&body)
	if noRows(err) {
		_, err = tx.exec(`DELETE FROM artifact_collections WHERE workspace_id = ? AND key = ?`, idv(ws), key)
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
}

// RetentionReclaim does nothing on PostgreSQL: its autovacuum makes the
// space of deleted rows reusable (and returns empty pages at the end of a
// table) without the server's help, so Supported is true with nothing
// freed here.
func (s *Store) RetentionReclaim(ctx context.Context, maxBytes int64) (store.Reclaimed, error) {
	return store.Reclaimed{Supported: true}, nil
}

var _ store.Retention = (*Store)(nil)
