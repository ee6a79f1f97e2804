package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// terminalTypesSQL are the state types a run never leaves; only runs in
// them are old enough to delete.
const terminalTypesSQL = `('COMPLETED','FAILED','CANCELLED','CRASHED')`

// RetentionWorkspaces lists every workspace.
func (s *Store) RetentionWorkspaces(ctx context.Context) ([]model.ID, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id FROM workspaces ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list workspaces: %w", err)
	}
	defer rows.Close()
	var out []model.ID
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("sqlite: list workspaces: %w", err)
		}
		id, err := scanID(b)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// RetentionPurge deletes up to limit old rows of res in ws in one write
// operation of the writer's group commit.
func (s *Store) RetentionPurge(ctx context.Context, ws model.ID, res store.RetentionResource, before time.Time, limit int) (store.Purged, error) {
	if limit <= 0 {
		return store.Purged{}, fmt.Errorf("sqlite: retention: limit %d must be positive", limit)
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
		return store.Purged{}, fmt.Errorf("sqlite: retention: unknown resource %q", res)
	}
	var out store.Purged
	err := s.write(ctx, func(tx *wtx) error {
		p := &purge{ws: idv(ws), before: before.UnixMicro(), budget: limit, limit: limit}
		if err := fn(tx, p); err != nil {
			return err
		}
		out = p.result
		return nil
	})
	if err != nil {
		return store.Purged{}, fmt.Errorf("sqlite: retention of %s: %w", res, err)
	}
	return out, nil
}

// purge is one RetentionPurge call's state: the rows it may still delete
// (budget) and what it did.
type purge struct {
	ws     []byte
	before int64
	limit  int
	budget int
	result store.Purged
}

// spend deletes with q (whose last argument is the row limit, appended
// here) and charges the rows to the budget as dependants; it reports
// whether the budget is spent (then the caller stops and says More).
func (p *purge) spend(tx *wtx, q string, args ...any) (bool, error) {
	if p.budget <= 0 {
		p.result.More = true
		return true, nil
	}
	res, err := tx.Exec(q, append(args, p.budget)...)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	p.budget -= int(n)
	p.result.Dependants += int(n)
	if p.budget <= 0 {
		p.result.More = true
		return true, nil
	}
	return false, nil
}

// candidates reads up to p.limit ids (as bind arguments) with q.
func candidates(tx *wtx, q string, args ...any) ([]any, error) {
	rows, err := tx.Query(q, args...)
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

// purgeFlowRuns deletes terminal flow runs that ended before the cutoff.
// Their logs, artifacts and task runs (with those task runs' logs and
// artifacts) go first, charged to the budget; the runs themselves (states
// and inputs by cascade) only once nothing of theirs is left.
func purgeFlowRuns(tx *wtx, p *purge) error {
	ids, err := candidates(tx, `SELECT id FROM flow_runs WHERE workspace_id = ? AND state_type IN `+terminalTypesSQL+` AND state_timestamp < ? LIMIT ?`,
		p.ws, p.before, p.limit)
	if err != nil || len(ids) == 0 {
		return err
	}
	in := "(" + placeholders(len(ids)) + ")"
	tasks := `SELECT id FROM task_runs WHERE workspace_id = ? AND flow_run_id IN ` + in
	withWS := func(extra ...any) []any { return append(append([]any{p.ws}, ids...), extra...) }
	steps := []struct {
		q    string
		args []any
	}{
		{`DELETE FROM logs WHERE rowid IN (SELECT rowid FROM logs WHERE workspace_id = ? AND flow_run_id IN ` + in + ` LIMIT ?)`, withWS()},
		{`DELETE FROM logs WHERE rowid IN (SELECT rowid FROM logs WHERE workspace_id = ? AND task_run_id IN (` + tasks + `) LIMIT ?)`, append([]any{p.ws}, withWS()...)},
	}
	for _, st := range steps {
		if done, err := p.spend(tx, st.q, st.args...); done || err != nil {
			return err
		}
	}
	if done, err := deleteArtifacts(tx, p, `flow_run_id IN `+in, ids...); done || err != nil {
		return err
	}
	if done, err := deleteArtifacts(tx, p, `task_run_id IN (`+tasks+`)`, withWS()...); done || err != nil {
		return err
	}
	if done, err := p.spend(tx, `DELETE FROM task_runs WHERE rowid IN (SELECT rowid FROM task_runs WHERE workspace_id = ? AND flow_run_id IN `+in+` LIMIT ?)`, withWS()...); done || err != nil {
		return err
	}
	res, err := tx.Exec(`DELETE FROM flow_runs WHERE workspace_id = ? AND id IN `+in, withWS()...)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	p.result.Rows = int(n)
	p.result.More = len(ids) == p.limit
	return nil
}

// purgeTaskRuns deletes terminal task runs that ended before the cutoff,
// their logs and artifacts first.
func purgeTaskRuns(tx *wtx, p *purge) error {
	ids, err := candidates(tx, `SELECT id FROM task_runs WHERE workspace_id = ? AND state_type IN `+terminalTypesSQL+` AND state_timestamp < ? LIMIT ?`,
		p.ws, p.before, p.limit)
	if err != nil || len(ids) == 0 {
		return err
	}
	in := "(" + placeholders(len(ids)) + ")"
	withWS := append([]any{p.ws}, ids...)
	if done, err := p.spend(tx, `DELETE FROM logs WHERE rowid IN (SELECT rowid FROM logs WHERE workspace_id = ? AND task_run_id IN `+in+` LIMIT ?)`, withWS...); done || err != nil {
		return err
	}
	if done, err := deleteArtifacts(tx, p, `task_run_id IN `+in, ids...); done || err != nil {
		return err
	}
	res, err := tx.Exec(`DELETE FROM task_runs WHERE workspace_id = ? AND id IN `+in, withWS...)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	p.result.Rows = int(n)
	p.result.More = len(ids) == p.limit
	return nil
}

// purgeLogs deletes log lines stamped before the cutoff.
func purgeLogs(tx *wtx, p *purge) error {
	res, err := tx.Exec(`DELETE FROM logs WHERE rowid IN (SELECT rowid FROM logs WHERE workspace_id = ? AND timestamp < ? LIMIT ?)`, p.ws, p.before, p.limit)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	p.result.Rows = int(n)
	p.result.More = int(n) == p.limit
	return nil
}

// purgeEvents deletes events that occurred before the cutoff, with their
// event_resources rows (found by their primary key: the event's resource
// ids, time and id), but never past the automations engine's position.
func purgeEvents(tx *wtx, p *purge) error {
	upTo := int64(math.MaxInt64)
	var pos sql.NullInt64
	if err := tx.QueryRow(`SELECT min(position) FROM automation_engine`).Scan(&pos); err != nil {
		return err
	}
	if pos.Valid {
		upTo = pos.Int64
	}
	// Each event has a few resource rows; take a quarter of the limit in
	// events so that the rows of both tables stay near it.
	n := max(p.limit/4, 1)
	rows, err := tx.Query(`SELECT rowid, id, occurred, resource_id, body FROM events WHERE workspace_id = ? AND occurred < ? AND coalesce(seq, 0) <= ? LIMIT ?`,
		p.ws, p.before, upTo, n)
	if err != nil {
		return err
	}
	type victim struct {
		rowid     int64
		id        []byte
		occurred  int64
		resources []string
	}
	var vs []victim
	for rows.Next() {
		var v victim
		var primary string
		var body []byte
		if err := rows.Scan(&v.rowid, &v.id, &v.occurred, &primary, &body); err != nil {
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
			res, err := tx.exec(`DELETE FROM event_resources WHERE workspace_id = ? AND resource_id = ? AND occurred = ? AND event_id = ?`, p.ws, r, v.occurred, v.id)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			p.result.Dependants += int(k)
		}
		if _, err := tx.exec(`DELETE FROM events WHERE rowid = ?`, v.rowid); err != nil {
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
	// Here the artifacts are the resource itself, not dependants.
	p.result.Rows, p.result.Dependants = p.result.Dependants-before, before
	p.result.More = done
	return nil
}

// deleteArtifacts deletes up to the budget of artifacts of p's workspace
// matching where (SQL over the artifacts table, with args), charges them
// as dependants and repoints the collections whose latest artifact went:
// to the newest artifact of the key left, or away with the key.
func deleteArtifacts(tx *wtx, p *purge, where string, args ...any) (bool, error) {
	if p.budget <= 0 {
		p.result.More = true
		return true, nil
	}
	q := `SELECT rowid, key FROM artifacts WHERE workspace_id = ? AND ` + where + ` LIMIT ?`
	rows, err := tx.Query(q, append(append([]any{p.ws}, args...), p.budget)...)
	if err != nil {
		return false, err
	}
	var rowids []any
	keys := map[string]bool{}
	for rows.Next() {
		var rowid int64
		var key sql.NullString
		if err := rows.Scan(&rowid, &key); err != nil {
			rows.Close()
			return false, err
		}
		rowids = append(rowids, rowid)
		if key.Valid {
			keys[key.String] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(rowids) == 0 {
		return false, err
	}
	if _, err := tx.Exec(`DELETE FROM artifacts WHERE rowid IN (`+placeholders(len(rowids))+`)`, rowids...); err != nil {
		return false, err
	}
	for key := range keys {
		if err := repointCollection(tx, p.ws, key); err != nil {
			return false, err
		}
	}
	p.budget -= len(rowids)
	p.result.Dependants += len(rowids)
	if p.budget <= 0 {
		p.result.More = true
		return true, nil
	}
	return false, nil
}

// repointCollection moves key's collection to the newest artifact of the
// key when its latest one is gone, or deletes it when none is left.
func repointCollection(tx *wtx, ws []byte, key string) error {
	var latest []byte
	err := tx.QueryRow(`SELECT latest_id FROM artifact_collections WHERE workspace_id = ? AND key = ?`, ws, key).Scan(&latest)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM artifacts WHERE workspace_id = ? AND id = ?`, ws, latest).Scan(&n); err != nil || n > 0 {
		return err
	}
	var body []byte
	err = tx.QueryRow(`SELECT body FROM artifacts WHERE workspace_id = ? AND key = ? ORDER BY created DESC, id DESC LIMIT 1`, ws, key).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.Exec(`DELETE FROM artifact_collections WHERE workspace_id = ? AND key = ?`, ws, key)
		return err
	}
	if err != nil {
		return err
	}
	var next model.Artifact
	if err := unmarshalBody(body, &next); err != nil {
		return err
	}
	wsID, err := scanID(ws)
	if err != nil {
		return err
	}
	return setCollection(tx, wsID, next, next.Updated)
}

// RetentionReclaim returns up to maxBytes of free pages to the file system
// with an incremental vacuum, when the file was created with incremental
// auto-vacuum (new databases are; `baton vacuum` converts older ones).
func (s *Store) RetentionReclaim(ctx context.Context, maxBytes int64) (store.Reclaimed, error) {
	var out store.Reclaimed
	err := s.write(ctx, func(tx *wtx) error {
		out = store.Reclaimed{}
		var mode, pageSize, free int64
		if err := tx.QueryRow(`PRAGMA auto_vacuum`).Scan(&mode); err != nil {
			return err
		}
		if err := tx.QueryRow(`PRAGMA page_size`).Scan(&pageSize); err != nil {
			return err
		}
		if err := tx.QueryRow(`PRAGMA freelist_count`).Scan(&free); err != nil {
			return err
		}
		out.FreeBytes = free * pageSize
		if mode != autoVacuumIncremental {
			return nil
		}
		out.Supported = true
		pages := maxBytes / pageSize
		if pages <= 0 || free == 0 {
			return nil
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, pages)); err != nil {
			return err
		}
		var left int64
		if err := tx.QueryRow(`PRAGMA freelist_count`).Scan(&left); err != nil {
			return err
		}
		out.FreedBytes = (free - left) * pageSize
		out.FreeBytes = left * pageSize
		return nil
	})
	if err != nil {
		return store.Reclaimed{}, fmt.Errorf("sqlite: reclaim space: %w", err)
	}
	return out, nil
}

// autoVacuumIncremental is PRAGMA auto_vacuum's value for INCREMENTAL.
const autoVacuumIncremental = 2

var _ store.Retention = (*Store)(nil)

// Vacuum rewrites the database at path in place with incremental
// auto-vacuum (the one-time conversion of a file created before Baton set
// it), compacting it on the way, and returns the file's size before and
// after. SQLite can change the mode of a file that has tables only by
// rebuilding it, which needs about the database's size of free disk and
// exclusive use: the caller holds Lock (the server is stopped).
func Vacuum(ctx context.Context, path string) (before, after int64, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("vacuum: the database %s: %w", path, err)
	}
	if err := checkFile(path); err != nil {
		return 0, 0, err
	}
	db, err := sql.Open("sqlite", dsn(path, false, 0))
	if err != nil {
		return 0, 0, fmt.Errorf("vacuum: open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{`PRAGMA auto_vacuum = INCREMENTAL`, `VACUUM`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return 0, 0, fmt.Errorf("vacuum %s: %s: %w", path, q, err)
		}
	}
	var mode int
	if err := db.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return 0, 0, fmt.Errorf("vacuum %s: %w", path, err)
	}
	if mode != autoVacuumIncremental {
		return 0, 0, fmt.Errorf("vacuum %s: auto_vacuum is %d after the rebuild, not incremental", path, mode)
	}
	fa, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	return fi.Size(), fa.Size(), nil
}
