package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

const (
	// deploymentCols are what deploymentRow reads: the body, the columns
	// the store updates on their own, and the deployment's global
	// concurrency limit (its id is the deployment's; see
	// syncDeploymentLimit) joined as deploymentFrom does.
	deploymentCols = `d.body, d.last_polled, d.status, dcl.id, dcl.created, dcl.updated, dcl.active, dcl.name, dcl."limit",
    dcl.active_slots, dcl.slot_decay_per_second`
	deploymentFrom      = `deployments d LEFT JOIN concurrency_limits dcl ON dcl.workspace_id = d.workspace_id AND dcl.id = d.id`
	selectDeploymentSQL = `SELECT ` + deploymentCols + `, d.generation FROM ` + deploymentFrom + ` WHERE d.workspace_id = ? AND d.id = ?`
	insertDeploymentSQL = `INSERT INTO deployments (workspace_id, id, flow_id, name, created, updated, paused, tags, work_queue_name,
    work_queue_id, concurrency_limit, scheduled, generation, next_check, last_polled, status, body)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL, 'NOT_READY', ?)`
	updateDeploymentSQL = `UPDATE deployments SET name = ?, updated = ?, paused = ?, tags = ?, work_queue_name = ?, work_queue_id = ?,
    concurrency_limit = ?, scheduled = ?, body = ? WHERE workspace_id = ? AND id = ?`
	// Future auto-scheduled runs that have not started: what a change of
	// the deployment's schedules makes obsolete.
	deleteFutureAutoRunsSQL = `DELETE FROM flow_runs WHERE workspace_id = ? AND deployment_id = ? AND state_type = 'SCHEDULED'
    AND idempotency_key LIKE 'scheduled %' AND next_scheduled_start_time >= ?`
)

// deploymentRow receives the deploymentCols of one row.
type deploymentRow struct {
	body       []byte
	lastPolled sql.NullInt64
	status     string
	limitID    []byte
	created    sql.NullInt64
	updated    sql.NullInt64
	active     sql.NullBool
	name       sql.NullString
	limit      sql.NullInt64
	slots      sql.NullInt64
	decay      sql.NullFloat64
}

// dest is the Scan destinations of deploymentCols, in order.
func (r *deploymentRow) dest() []any {
	return []any{&r.body, &r.lastPolled, &r.status, &r.limitID, &r.created, &r.updated, &r.active, &r.name, &r.limit, &r.slots, &r.decay}
}

// deployment decodes the row, overlaying the columns the store updates
// without rewriting the body (last_polled, status) and the deployment's
// global concurrency limit.
func (r *deploymentRow) deployment() (model.Deployment, error) {
	var d model.Deployment
	if err := unmarshalBody(r.body, &d); err != nil {
		return d, err
	}
	if r.lastPolled.Valid {
		t := model.TimeFromMicros(r.lastPolled.Int64)
		d.LastPolled = &t
	}
	d.Status = r.status
	d.ConcurrencyLimit, d.GlobalConcurrencyLimit, d.DeprecatedConcurrencyLimit = nil, nil, nil
	if r.limitID != nil {
		id, err := scanID(r.limitID)
		if err != nil {
			return d, err
		}
		n := int(r.limit.Int64)
		d.ConcurrencyLimit = &n
		d.GlobalConcurrencyLimit = &model.DeploymentConcurrencyLimit{ID: id, Created: model.TimeFromMicros(r.created.Int64),
			Updated: model.TimeFromMicros(r.updated.Int64), Active: r.active.Bool, Name: r.name.String, Limit: n,
			ActiveSlots: int(r.slots.Int64), SlotDecayPerSecond: r.decay.Float64}
	}
	normalizeDeployment(&d)
	return d, nil
}

// syncDeploymentLimit makes the deployment's global concurrency limit
// (named deployment:<id>, with the deployment's id as its own, which links
// the two as Prefect's concurrency_limit_id does) match d.ConcurrencyLimit,
// as Prefect does when a write carries concurrency_limit: a nil limit
// deletes it, a new size updates it, and a first size creates it. A limit
// already of that size is left alone (its slots and settings too).
func syncDeploymentLimit(tx *wtx, ws model.ID, d *model.Deployment) error {
	var cur sql.NullInt64
	err := tx.queryRow(`SELECT "limit" FROM concurrency_limits WHERE workspace_id = ? AND id = ?`, idv(ws), idv(d.ID)).Scan(&cur)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	err = nil
	t := tx.s.now().Micros()
	switch want := d.ConcurrencyLimit; {
	case want == nil && exists:
		_, err = tx.exec(`DELETE FROM concurrency_limits WHERE workspace_id = ? AND id = ?`, idv(ws), idv(d.ID))
	case want == nil, exists && int(cur.Int64) == *want:
	case exists:
		_, err = tx.exec(`UPDATE concurrency_limits SET "limit" = ?, updated = ? WHERE workspace_id = ? AND id = ?`, *want, t, idv(ws), idv(d.ID))
	default:
		_, err = tx.exec(`INSERT INTO concurrency_limits (workspace_id, `+limitColumns+`) VALUES (?, ?, ?, ?, ?, 1, ?, 0, 0, 0, 0)`,
			idv(ws), idv(d.ID), model.DeploymentLimitName(d.ID), t, t, *want)
		if isUnique(err) {
			return fmt.Errorf("concurrency limit %q: %w", model.DeploymentLimitName(d.ID), store.ErrConflict)
		}
	}
	return err
}

// normalizeDeployment replaces nils with the empty values Prefect returns.
func normalizeDeployment(d *model.Deployment) {
	d.Tags = nonNilTags(d.Tags)
	d.Labels = nonNilLabels(d.Labels)
	if d.Schedules == nil {
		d.Schedules = []model.DeploymentSchedule{}
	}
	if len(d.Parameters) == 0 || string(d.Parameters) == "null" {
		d.Parameters = json.RawMessage("{}")
	}
	if len(d.JobVariables) == 0 || string(d.JobVariables) == "null" {
		d.JobVariables = json.RawMessage("{}")
	}
	if d.Status == "" {
		d.Status = model.DeploymentNotReady
	}
}

// hasActiveSchedule reports whether the scheduler has anything to do for d.
func hasActiveSchedule(d *model.Deployment) bool {
	for _, s := range d.Schedules {
		if s.Active {
			return true
		}
	}
	return false
}

// schedulingInputs is what auto-scheduled runs are derived from; a change
// in it makes existing future runs obsolete.
func schedulingInputs(d *model.Deployment) []byte {
	b, _ := json.Marshal(struct {
		S  []model.DeploymentSchedule
		P  bool
		Pa json.RawMessage
		T  []string
		Q  *model.ID
		QN *string
		L  model.Labels
	}{d.Schedules, d.Paused, d.Parameters, d.Tags, d.WorkQueueID, d.WorkQueueName, d.Labels})
	return b
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func optInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// writeDeployment inserts or updates d's row and syncs its global
// concurrency limit with d.ConcurrencyLimit; d is then as a read returns it.
func writeDeployment(tx *wtx, ws model.ID, d *model.Deployment, insert bool) error {
	if err := writeDeploymentRow(tx, ws, d, insert); err != nil {
		return err
	}
	if err := syncDeploymentLimit(tx, ws, d); err != nil {
		return err
	}
	got, err := readDeployment(tx, ws, d.ID)
	if err != nil {
		return err
	}
	d.ConcurrencyLimit, d.GlobalConcurrencyLimit = got.ConcurrencyLimit, got.GlobalConcurrencyLimit
	return nil
}

func writeDeploymentRow(tx *wtx, ws model.ID, d *model.Deployment, insert bool) error {
	normalizeDeployment(d)
	// The limit lives in its own row; the body never carries a copy.
	d.GlobalConcurrencyLimit, d.DeprecatedConcurrencyLimit = nil, nil
	body, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if insert {
		_, err = tx.exec(insertDeploymentSQL, idv(ws), idv(d.ID), idv(d.FlowID), d.Name, d.Created.Micros(), d.Updated.Micros(),
			boolInt(d.Paused), tagsJSON(d.Tags), optStr(d.WorkQueueName), optID(d.WorkQueueID), optInt(d.ConcurrencyLimit),
			boolInt(hasActiveSchedule(d)), body)
		if isUnique(err) {
			return fmt.Errorf("deployment %q: %w", d.Name, store.ErrConflict)
		}
		return err
	}
	res, err := tx.exec(updateDeploymentSQL, d.Name, d.Updated.Micros(), boolInt(d.Paused), tagsJSON(d.Tags), optStr(d.WorkQueueName),
		optID(d.WorkQueueID), optInt(d.ConcurrencyLimit), boolInt(hasActiveSchedule(d)), body, idv(ws), idv(d.ID))
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("deployment %q: %w", d.Name, store.ErrConflict)
		}
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("deployment", d.ID)
	}
	return nil
}

// resetSchedule makes the scheduler regenerate d's runs: it bumps the
// generation, clears the next check and deletes future auto-scheduled runs.
func resetSchedule(tx *wtx, ws, id model.ID) error {
	if _, err := tx.exec(`UPDATE deployments SET generation = generation + 1, next_check = NULL WHERE workspace_id = ? AND id = ?`,
		idv(ws), idv(id)); err != nil {
		return err
	}
	_, err := tx.exec(deleteFutureAutoRunsSQL, idv(ws), idv(id), tx.s.now().Micros())
	return err
}

func readDeployment(tx *wtx, ws, id model.ID) (model.Deployment, error) {
	var row deploymentRow
	var gen int64
	err := tx.queryRow(selectDeploymentSQL, idv(ws), idv(id)).Scan(append(row.dest(), &gen)...)
	if errors.Is(err, sql.ErrNoRows) {
		return model.Deployment{}, notFound("deployment", id)
	}
	if err != nil {
		return model.Deployment{}, err
	}
	return row.deployment()
}

// DeploymentUpsert creates or replaces the deployment named d.Name of d.FlowID.
func (s *Store) DeploymentUpsert(ctx context.Context, ws model.ID, d model.Deployment) (model.Deployment, bool, error) {
	created := false
	err := s.write(ctx, func(tx *wtx) error {
		var flowName string
		err := tx.queryRow(`SELECT name FROM flows WHERE workspace_id = ? AND id = ?`, idv(ws), idv(d.FlowID)).Scan(&flowName)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("flow", d.FlowID)
		}
		if err != nil {
			return err
		}
		d.FlowName = flowName
		t := s.now()
		var idb []byte
		err = tx.queryRow(`SELECT id FROM deployments WHERE workspace_id = ? AND flow_id = ? AND name = ?`, idv(ws), idv(d.FlowID), d.Name).Scan(&idb)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			created = true
			if d.ID.IsNil() {
				d.ID = model.NewID()
			}
			d.Created, d.Updated = t, t
			fixScheduleOwners(&d)
			return writeDeployment(tx, ws, &d, true)
		case err != nil:
			return err
		}
		old, err := readDeployment(tx, ws, mustScanID(idb))
		if err != nil {
			return err
		}
		d.ID, d.Created, d.Updated = old.ID, old.Created, t
		d.LastPolled, d.Status = old.LastPolled, old.Status
		fixScheduleOwners(&d)
		if err := writeDeployment(tx, ws, &d, false); err != nil {
			return err
		}
		return resetSchedule(tx, ws, d.ID)
	})
	if err != nil {
		return model.Deployment{}, false, fmt.Errorf("sqlite: upsert deployment: %w", err)
	}
	return d, created, nil
}

func mustScanID(b []byte) model.ID {
	id, _ := scanID(b)
	return id
}

// fixScheduleOwners points every schedule at its deployment.
func fixScheduleOwners(d *model.Deployment) {
	for i := range d.Schedules {
		id := d.ID
		d.Schedules[i].DeploymentID = &id
	}
}

// DeploymentGet returns one deployment of ws.
func (s *Store) DeploymentGet(ctx context.Context, ws, id model.ID) (model.Deployment, error) {
	return s.deploymentBy(ctx, selectDeploymentSQL, id, idv(ws), idv(id))
}

// DeploymentScheduleTarget reads one deployment with its generation, for
// scheduling its runs on request.
func (s *Store) DeploymentScheduleTarget(ctx context.Context, ws, id model.ID) (store.ScheduleTarget, error) {
	var row deploymentRow
	var gen int64
	err := s.queryRow(ctx, selectDeploymentSQL, idv(ws), idv(id)).Scan(append(row.dest(), &gen)...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ScheduleTarget{}, notFound("deployment", id)
	}
	if err != nil {
		return store.ScheduleTarget{}, fmt.Errorf("sqlite: get deployment: %w", err)
	}
	d, err := row.deployment()
	return store.ScheduleTarget{Workspace: ws, Deployment: d, Generation: gen, Manual: true}, err
}

// DeploymentGetByName finds flowName/name.
func (s *Store) DeploymentGetByName(ctx context.Context, ws model.ID, flowName, name string) (model.Deployment, error) {
	q := `SELECT ` + deploymentCols + `, d.generation FROM ` + deploymentFrom + ` JOIN flows f ON f.id = d.flow_id
WHERE d.workspace_id = ? AND f.workspace_id = ? AND f.name = ? AND d.name = ?`
	return s.deploymentBy(ctx, q, flowName+"/"+name, idv(ws), idv(ws), flowName, name)
}

func (s *Store) deploymentBy(ctx context.Context, q string, key any, args ...any) (model.Deployment, error) {
	var row deploymentRow
	var gen int64
	err := s.queryRow(ctx, q, args...).Scan(append(row.dest(), &gen)...)
	if errors.Is(err, sql.ErrNoRows) {
		return model.Deployment{}, notFound("deployment", key)
	}
	if err != nil {
		return model.Deployment{}, fmt.Errorf("sqlite: get deployment: %w", err)
	}
	return row.deployment()
}

var deploymentOrders = map[string]string{
	"CREATED_DESC": "d.created DESC, d.id DESC",
	"UPDATED_DESC": "d.updated DESC, d.id DESC",
	"NAME_ASC":     "d.name ASC, d.id",
	"NAME_DESC":    "d.name DESC, d.id DESC",
}

// deploymentFilter narrows deployments aliased d.
func deploymentFilter(ws model.ID, f *model.DeploymentFilter) expr {
	if f == nil {
		return expr{}
	}
	var paused, both, limit expr
	if f.Paused != nil && f.Paused.Eq != nil {
		paused = expr{sql: "d.paused = ?", args: []any{boolInt(*f.Paused.Eq)}}
	}
	if f.FlowOrDeploymentName != nil && f.FlowOrDeploymentName.Like != nil {
		n := *f.FlowOrDeploymentName.Like
		dn, fn := like("d.name", &n), like("f2.name", &n)
		both = expr{sql: "(" + dn.sql + " OR d.flow_id IN (SELECT f2.id FROM flows f2 WHERE f2.workspace_id = ? AND " + fn.sql + "))",
			args: append(append(dn.args, idv(ws)), fn.args...)}
	}
	if c := f.ConcurrencyLimit; c != nil {
		var parts []expr
		if c.GE != nil {
			parts = append(parts, expr{sql: "d.concurrency_limit >= ?", args: []any{*c.GE}})
		}
		if c.LE != nil {
			parts = append(parts, expr{sql: "d.concurrency_limit <= ?", args: []any{*c.LE}})
		}
		parts = append(parts, isNull("d.concurrency_limit", c.IsNull))
		limit = combine("", parts...)
	}
	return combine(f.Operator, idFilter("d.id", f.ID), nameFilter("d.name", f.Name), both, paused,
		tagsFilter("d.tags", f.Tags), stringsFilter("d.work_queue_name", f.WorkQueueName), limit)
}

func deploymentsWhere(ws model.ID, q model.DeploymentQuery) expr {
	parts := []expr{{sql: "d.workspace_id = ?", args: []any{idv(ws)}}, deploymentFilter(ws, q.Deployments)}
	if q.Flows != nil {
		parts = append(parts, subquery("d.flow_id", "f.id", "flows f", ws, flowFilter(ws, q.Flows)))
	}
	if q.FlowRuns != nil || q.TaskRuns != nil {
		// Deployments having a run that matches (Prefect's EXISTS).
		var trs expr
		if q.TaskRuns != nil {
			trs = subquery("fr.id", "tr.flow_run_id", "task_runs tr", ws, taskRunFilter(ws, q.TaskRuns))
		}
		parts = append(parts, subquery("d.id", "fr.deployment_id", "flow_runs fr", ws, flowRunFilter(ws, q.FlowRuns), trs))
	}
	if q.WorkPoolQueues != nil {
		parts = append(parts, subquery("json_extract(d.body, '$.work_queue_id')", "json_extract(q.body, '$.id')", "work_queues q", ws, workQueueFilter(q.WorkPoolQueues)))
	}
	if q.WorkPools != nil {
		parts = append(parts, subquery("json_extract(d.body, '$.work_pool_name')", "wp.name", "work_pools wp", ws, workPoolFilter(q.WorkPools)))
	}
	return combine("", parts...)
}

// DeploymentList lists deployments matching q (default sort NAME_ASC).
func (s *Store) DeploymentList(ctx context.Context, ws model.ID, q model.DeploymentQuery) ([]model.Deployment, error) {
	w := deploymentsWhere(ws, q)
	win, wargs := window(q.Limit, q.Offset)
	text := "SELECT " + deploymentCols + " FROM " + deploymentFrom + " WHERE " + w.sql + " ORDER BY " + orderBy(deploymentOrders, q.Sort, "NAME_ASC") + win
	rows, err := s.rdb.QueryContext(ctx, text, append(w.args, wargs...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list deployments: %w", err)
	}
	defer rows.Close()
	out := []model.Deployment{}
	for rows.Next() {
		var row deploymentRow
		if err := rows.Scan(row.dest()...); err != nil {
			return nil, fmt.Errorf("sqlite: list deployments: %w", err)
		}
		d, err := row.deployment()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeploymentCount counts deployments matching q.
func (s *Store) DeploymentCount(ctx context.Context, ws model.ID, q model.DeploymentQuery) (int, error) {
	w := deploymentsWhere(ws, q)
	return count(ctx, s.rdb, "SELECT count(*) FROM deployments d WHERE "+w.sql, w.args)
}

// DeploymentUpdate applies fn and resets the schedule when its inputs changed.
func (s *Store) DeploymentUpdate(ctx context.Context, ws, id model.ID, fn func(*model.Deployment) error) (model.Deployment, error) {
	var d model.Deployment
	err := s.write(ctx, func(tx *wtx) error {
		var err error
		if d, err = readDeployment(tx, ws, id); err != nil {
			return err
		}
		before := schedulingInputs(&d)
		if err := fn(&d); err != nil {
			return err
		}
		d.ID = id
		d.Updated = s.now()
		fixScheduleOwners(&d)
		if err := writeDeployment(tx, ws, &d, false); err != nil {
			return err
		}
		if !bytes.Equal(before, schedulingInputs(&d)) {
			return resetSchedule(tx, ws, id)
		}
		return nil
	})
	if err != nil {
		return model.Deployment{}, fmt.Errorf("sqlite: update deployment: %w", err)
	}
	return d, nil
}

// DeploymentDelete removes the deployment and its future auto-scheduled runs.
func (s *Store) DeploymentDelete(ctx context.Context, ws, id model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		if _, err := tx.exec(deleteFutureAutoRunsSQL, idv(ws), idv(id), s.now().Micros()); err != nil {
			return err
		}
		res, err := tx.exec(`DELETE FROM deployments WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("deployment", id)
		}
		// Its global concurrency limit goes with it, as in Prefect.
		_, err = tx.exec(`DELETE FROM concurrency_limits WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete deployment: %w", err)
	}
	return nil
}

// DeploymentsMarkPolled stamps last_polled and READY.
func (s *Store) DeploymentsMarkPolled(ctx context.Context, ws model.ID, ids []model.ID, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *wtx) error {
		args := []any{model.NewTime(at).Micros(), idv(ws)}
		for _, id := range ids {
			args = append(args, idv(id))
		}
		_, err := tx.Exec(`UPDATE deployments SET last_polled = ?, status = 'READY' WHERE workspace_id = ? AND id IN (`+placeholders(len(ids))+`)`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: mark deployments polled: %w", err)
	}
	return nil
}

// DeploymentsDue lists deployments whose runs must be generated at now.
func (s *Store) DeploymentsDue(ctx context.Context, at time.Time, limit int) ([]store.ScheduleTarget, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT d.workspace_id, d.generation, `+deploymentCols+` FROM `+deploymentFrom+`
WHERE d.scheduled = 1 AND d.paused = 0 AND (d.next_check IS NULL OR d.next_check <= ?)
ORDER BY coalesce(d.next_check, 0) LIMIT ?`, model.NewTime(at).Micros(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: deployments due: %w", err)
	}
	defer rows.Close()
	var out []store.ScheduleTarget
	for rows.Next() {
		var wsb []byte
		var gen int64
		var row deploymentRow
		if err := rows.Scan(append([]any{&wsb, &gen}, row.dest()...)...); err != nil {
			return nil, fmt.Errorf("sqlite: deployments due: %w", err)
		}
		d, err := row.deployment()
		if err != nil {
			return nil, err
		}
		ws, err := scanID(wsb)
		if err != nil {
			return nil, err
		}
		out = append(out, store.ScheduleTarget{Workspace: ws, Deployment: d, Generation: gen})
	}
	return out, rows.Err()
}

// DeploymentScheduleRuns inserts the runs whose idempotency keys are new,
// with their events.
func (s *Store) DeploymentScheduleRuns(ctx context.Context, target store.ScheduleTarget, runs []store.NewFlowRun, nextCheck time.Time) (store.ScheduledRuns, error) {
	ws, id := target.Workspace, target.Deployment.ID
	evRows := make([][]eventRow, len(runs))
	for i := range runs {
		var err error
		if evRows[i], err = encodeEvents(runs[i].Events, s.now()); err != nil {
			return store.ScheduledRuns{}, fmt.Errorf("sqlite: schedule runs: %w", err)
		}
	}
	var res store.ScheduledRuns
	err := s.write(ctx, func(tx *wtx) error {
		res = store.ScheduledRuns{}
		var gen int64
		var paused int
		err := tx.queryRow(`SELECT generation, paused FROM deployments WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id)).Scan(&gen, &paused)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (gen != target.Generation || (paused != 0 && !target.Manual))) {
			return nil // deleted, paused or changed meanwhile: the next round uses the new definition
		}
		if err != nil {
			return err
		}
		for i := range runs {
			r := runs[i].Run
			if r.IdempotencyKey != nil {
				var one int
				err := tx.queryRow(`SELECT 1 FROM flow_runs WHERE workspace_id = ? AND flow_id = ? AND idempotency_key = ?`,
					idv(ws), idv(r.FlowID), *r.IdempotencyKey).Scan(&one)
				if err == nil {
					continue
				}
				if !errors.Is(err, sql.ErrNoRows) {
					return err
				}
			}
			syncFlowRunState(&r)
			r.Tags = nonNilTags(r.Tags)
			r.Labels = nonNilLabels(r.Labels)
			if err := writeFlowRun(tx, ws, &r, true); err != nil {
				if isUnique(err) {
					continue
				}
				return err
			}
			if r.State != nil {
				if err := insertState(tx, insertFlowRunStateSQL, ws, r.ID, r.State); err != nil {
					return err
				}
			}
			fresh, err := insertEvents(tx, ws, evRows[i])
			if err != nil {
				return err
			}
			res.Events = append(res.Events, fresh...)
			res.Created++
		}
		if target.Manual {
			return nil
		}
		_, err = tx.exec(`UPDATE deployments SET next_check = ? WHERE workspace_id = ? AND id = ? AND generation = ?`,
			model.NewTime(nextCheck).Micros(), idv(ws), idv(id), target.Generation)
		return err
	})
	if err != nil {
		return store.ScheduledRuns{}, fmt.Errorf("sqlite: schedule runs: %w", err)
	}
	return res, nil
}
