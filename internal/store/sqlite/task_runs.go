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

const (
	// The statements bind a taskRunRow by name (taskRunRow.args).
	insertTaskRunSQL = `INSERT INTO task_runs (workspace_id, id, flow_run_id, name, task_key, dynamic_key, created, updated, state_id,
    state_type, state_name, state_timestamp, tags, start_time, end_time, expected_start_time, next_scheduled_start_time, body)
VALUES (:workspace_id, :id, :flow_run_id, :name, :task_key, :dynamic_key, :created, :updated, :state_id, :state_type, :state_name,
    :state_timestamp, :tags, :start_time, :end_time, :expected_start_time, :next_scheduled_start_time, :body)`
	updateTaskRunSQL = `UPDATE task_runs SET flow_run_id = :flow_run_id, name = :name, task_key = :task_key, dynamic_key = :dynamic_key,
    updated = :updated, state_id = :state_id, state_type = :state_type, state_name = :state_name, state_timestamp = :state_timestamp,
    tags = :tags, start_time = :start_time, end_time = :end_time, expected_start_time = :expected_start_time,
    next_scheduled_start_time = :next_scheduled_start_time, body = :body
WHERE workspace_id = :workspace_id AND id = :id`
	// recordTaskRunSQL inserts a task run or overwrites it only when the
	// incoming state is newer; a row of another workspace with the same id,
	// or a different id holding the same natural key, is left alone. The
	// created column is never overwritten (reads take Created from it).
	recordTaskRunSQL = insertTaskRunSQL + `
ON CONFLICT (id) DO UPDATE SET flow_run_id = excluded.flow_run_id, name = excluded.name, task_key = excluded.task_key,
    dynamic_key = excluded.dynamic_key, updated = excluded.updated, state_id = excluded.state_id, state_type = excluded.state_type,
    state_name = excluded.state_name, state_timestamp = excluded.state_timestamp, tags = excluded.tags,
    start_time = excluded.start_time, end_time = excluded.end_time, expected_start_time = excluded.expected_start_time,
    next_scheduled_start_time = excluded.next_scheduled_start_time, body = excluded.body
WHERE task_runs.workspace_id = excluded.workspace_id
    AND (task_runs.state_timestamp IS NULL OR excluded.state_timestamp > task_runs.state_timestamp)
ON CONFLICT DO NOTHING`
	// recordTaskRunStateSQL is recordTaskRunSQL for the usual event: a
	// task run's next state, its other identifying columns unchanged. Its
	// SET list holds only the columns a state change moves, because SQLite
	// rewrites the entry of every index holding a column of the SET list,
	// changed or not: the natural key and the expected-start index are not
	// touched. When a column outside the list differs (or the run is not
	// this workspace's, or the state is not newer) it changes nothing and
	// TaskRunRecord runs recordTaskRunSQL, which decides as before.
	recordTaskRunStateSQL = insertTaskRunSQL + `
ON CONFLICT (id) DO UPDATE SET updated = excluded.updated, state_id = excluded.state_id, state_type = excluded.state_type,
    state_name = excluded.state_name, state_timestamp = excluded.state_timestamp, start_time = excluded.start_time,
    end_time = excluded.end_time, next_scheduled_start_time = excluded.next_scheduled_start_time, body = excluded.body
WHERE task_runs.workspace_id = excluded.workspace_id
    AND (task_runs.state_timestamp IS NULL OR excluded.state_timestamp > task_runs.state_timestamp)
    AND task_runs.flow_run_id IS excluded.flow_run_id AND task_runs.name IS excluded.name
    AND task_runs.task_key IS excluded.task_key AND task_runs.dynamic_key IS excluded.dynamic_key
    AND task_runs.tags IS excluded.tags AND task_runs.expected_start_time IS excluded.expected_start_time
ON CONFLICT DO NOTHING`
	// insertRecordedStateSQL appends a state only when its task run is this
	// workspace's (the upsert above may have been skipped).
	insertRecordedStateSQL = `INSERT INTO task_run_states (workspace_id, id, task_run_id, timestamp, body)
SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM task_runs WHERE id = ?3 AND workspace_id = ?1)
ON CONFLICT DO NOTHING`
	selectTaskRunSQL      = `SELECT created, body FROM task_runs WHERE workspace_id = ? AND id = ?`
	insertTaskRunStateSQL = `INSERT OR IGNORE INTO task_run_states (workspace_id, id, task_run_id, timestamp, body) VALUES (?, ?, ?, ?, ?)`
)

// syncTaskRunState points the run's state columns at its State.
func syncTaskRunState(r *model.TaskRun) {
	if r.State == nil {
		return
	}
	id, typ, name := r.State.ID, r.State.Type, r.State.Name
	r.StateID, r.StateType, r.StateName = &id, &typ, &name
}

// taskRunRow is the task_runs row of a task run: its filterable columns,
// which must agree with the body, and the body itself.
type taskRunRow struct {
	workspace, id, flowRunID, stateID                    any
	name, taskKey, dynamicKey, stateType, stateName      any
	created, updated, stateTimestamp, startTime, endTime any
	expectedStartTime, nextScheduledStartTime, tags      any
	body                                                 []byte
}

func newTaskRunRow(ws model.ID, r *model.TaskRun) (taskRunRow, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return taskRunRow{}, err
	}
	return taskRunRow{
		workspace: idv(ws), id: idv(r.ID), flowRunID: optID(r.FlowRunID), stateID: optID(r.StateID),
		name: r.Name, taskKey: r.TaskKey, dynamicKey: r.DynamicKey, stateType: optStr(r.StateType), stateName: optStr(r.StateName),
		created: r.Created.Micros(), updated: r.Updated.Micros(), stateTimestamp: stateTimestamp(r.State),
		startTime: optTime(r.StartTime), endTime: optTime(r.EndTime), expectedStartTime: optTime(r.ExpectedStartTime),
		nextScheduledStartTime: optTime(r.NextScheduledStartTime), tags: tagsJSON(r.Tags), body: body,
	}, nil
}

// args binds the row to the statements' named parameters.
func (w taskRunRow) args() []any {
	return []any{
		sql.Named("workspace_id", w.workspace), sql.Named("id", w.id), sql.Named("flow_run_id", w.flowRunID), sql.Named("name", w.name),
		sql.Named("task_key", w.taskKey), sql.Named("dynamic_key", w.dynamicKey), sql.Named("created", w.created),
		sql.Named("updated", w.updated), sql.Named("state_id", w.stateID), sql.Named("state_type", w.stateType),
		sql.Named("state_name", w.stateName), sql.Named("state_timestamp", w.stateTimestamp), sql.Named("tags", w.tags),
		sql.Named("start_time", w.startTime), sql.Named("end_time", w.endTime), sql.Named("expected_start_time", w.expectedStartTime),
		sql.Named("next_scheduled_start_time", w.nextScheduledStartTime), sql.Named("body", w.body),
	}
}

// writeTaskRun inserts or updates the row of r.
func writeTaskRun(tx *wtx, ws model.ID, r *model.TaskRun, insert bool) error {
	row, err := newTaskRunRow(ws, r)
	if err != nil {
		return err
	}
	if insert {
		_, err = tx.exec(insertTaskRunSQL, row.args()...)
		return err
	}
	res, err := tx.exec(updateTaskRunSQL, row.args()...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("task run", r.ID)
	}
	return nil
}

// decodeTaskRun decodes a row's body, taking Created from its column (the
// record path never rewrites it).
func decodeTaskRun(created int64, body []byte) (model.TaskRun, error) {
	var r model.TaskRun
	if err := unmarshalBody(body, &r); err != nil {
		return r, err
	}
	r.Created = model.TimeFromMicros(created)
	return r, nil
}

func readTaskRun(tx *wtx, ws, id model.ID) (model.TaskRun, error) {
	var created int64
	var body []byte
	err := tx.queryRow(selectTaskRunSQL, idv(ws), idv(id)).Scan(&created, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return model.TaskRun{}, notFound("task run", id)
	}
	if err != nil {
		return model.TaskRun{}, err
	}
	return decodeTaskRun(created, body)
}

// TaskRunCreate inserts run, or returns the run with the same
// (flow_run_id, task_key, dynamic_key) with created=false.
func (s *Store) TaskRunCreate(ctx context.Context, ws model.ID, run model.TaskRun) (model.TaskRun, bool, error) {
	created := true
	err := s.write(ctx, func(tx *wtx) error {
		var c int64
		var body []byte
		err := tx.queryRow(`SELECT created, body FROM task_runs WHERE workspace_id = ? AND flow_run_id IS ? AND task_key = ? AND dynamic_key = ?`,
			idv(ws), optID(run.FlowRunID), run.TaskKey, run.DynamicKey).Scan(&c, &body)
		if err == nil && run.FlowRunID != nil {
			created = false
			run, err = decodeTaskRun(c, body)
			return err
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if run.ID.IsNil() {
			run.ID = model.NewID()
		}
		t := s.now()
		if run.Created.IsZero() {
			run.Created = t
		}
		if run.Updated.IsZero() {
			run.Updated = t
		}
		run.Tags = nonNilTags(run.Tags)
		run.Labels = nonNilLabels(run.Labels)
		syncTaskRunState(&run)
		if err := writeTaskRun(tx, ws, &run, true); err != nil {
			if isUnique(err) {
				return fmt.Errorf("task run %s: %w", run.ID, store.ErrConflict)
			}
			return err
		}
		if run.State != nil {
			return insertState(tx, insertTaskRunStateSQL, ws, run.ID, run.State)
		}
		return nil
	})
	if err != nil {
		return model.TaskRun{}, false, fmt.Errorf("sqlite: create task run: %w", err)
	}
	return run, created, nil
}

// TaskRunGet returns one task run of ws.
func (s *Store) TaskRunGet(ctx context.Context, ws, id model.ID) (model.TaskRun, error) {
	var created int64
	var body []byte
	err := s.queryRow(ctx, selectTaskRunSQL, idv(ws), idv(id)).Scan(&created, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return model.TaskRun{}, fmt.Errorf("sqlite: %w", notFound("task run", id))
	}
	if err != nil {
		return model.TaskRun{}, fmt.Errorf("sqlite: get task run: %w", err)
	}
	return decodeTaskRun(created, body)
}

// TaskRunList lists task runs matching q (default sort ID_DESC).
func (s *Store) TaskRunList(ctx context.Context, ws model.ID, q model.RunQuery) ([]model.TaskRun, error) {
	w := taskRunsWhere(ws, q)
	win, wargs := window(q.Limit, q.Offset)
	order := orderBy(taskRunOrders, q.Sort, "ID_DESC")
	unfiltered := q.FlowRuns == nil && q.Flows == nil && q.TaskRuns == nil && q.Deployments == nil && q.WorkPools == nil && q.WorkPoolQueues == nil && q.WorkQueues == nil
	inner, scan := s.runPlan(ctx, "task_runs tr", w, unfiltered, order, pageEnd(q))
	if scan {
		w = taskRunsWhereTags(ws, q, true)
	}
	// Deferred join, as in FlowRunList: window over row ids, then read bodies.
	sqlText := "SELECT tr.created, tr.body FROM task_runs tr WHERE tr.rowid IN (SELECT tr.rowid FROM task_runs tr WHERE " + w.sql +
		" ORDER BY " + inner + win + ") ORDER BY " + order
	rows, err := s.rdb.QueryContext(ctx, sqlText, append(w.args, wargs...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list task runs: %w", err)
	}
	defer rows.Close()
	out := []model.TaskRun{}
	var created int64
	var body []byte
	for rows.Next() {
		if err := rows.Scan(&created, &body); err != nil {
			return nil, fmt.Errorf("sqlite: list task runs: %w", err)
		}
		r, err := decodeTaskRun(created, body)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list task runs: %w", err)
	}
	return out, nil
}

// taskRunGraphSQL reads a flow run's task runs for its graph. The unary
// plus keeps SQLite from walking task_runs_ws_expected (the workspace's task
// runs in expected-start order, testing each one's flow run: 1.8 s at a
// million task runs): it reads the run's rows through the natural-key index
// and sorts them.
const taskRunGraphSQL = `SELECT tr.id, tr.name, tr.state_type, tr.expected_start_time, tr.start_time, tr.end_time, json_extract(tr.body, '$.task_inputs')
	FROM task_runs tr WHERE tr.workspace_id = ? AND tr.flow_run_id = ?
	ORDER BY +tr.expected_start_time ASC NULLS LAST, +tr.id LIMIT ?`

// TaskRunGraph implements store.TaskRuns: the graph's fields come from
// the row's columns, and only the task_inputs member is read from the body.
func (s *Store) TaskRunGraph(ctx context.Context, ws, flowRunID model.ID, limit int) ([]model.TaskRun, error) {
	rows, err := s.rdb.QueryContext(ctx, taskRunGraphSQL, idv(ws), idv(flowRunID), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: task run graph: %w", err)
	}
	defer rows.Close()
	out := []model.TaskRun{}
	for rows.Next() {
		var (
			id, inputs           []byte
			name                 string
			stateType            *string
			expected, start, end *int64
		)
		if err := rows.Scan(&id, &name, &stateType, &expected, &start, &end, &inputs); err != nil {
			return nil, fmt.Errorf("sqlite: task run graph: %w", err)
		}
		r := model.TaskRun{Name: name, ExpectedStartTime: microsTime(expected), StartTime: microsTime(start), EndTime: microsTime(end)}
		if r.ID, err = scanID(id); err != nil {
			return nil, err
		}
		if stateType != nil {
			st := model.StateType(*stateType)
			r.StateType = &st
		}
		if len(inputs) > 0 {
			if err := json.Unmarshal(inputs, &r.TaskInputs); err != nil {
				return nil, fmt.Errorf("sqlite: task run %s: task_inputs: %w", r.ID, err)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: task run graph: %w", err)
	}
	return out, nil
}

// microsTime is a nullable unix-micros column as a time.
func microsTime(us *int64) *model.Time {
	if us == nil {
		return nil
	}
	t := model.TimeFromMicros(*us)
	return &t
}

// TaskRunCount counts task runs matching q.
func (s *Store) TaskRunCount(ctx context.Context, ws model.ID, q model.RunQuery) (int, error) {
	if q.TaskRuns != nil && q.TaskRuns.Tags != nil {
		rest, f := q, *q.TaskRuns
		f.Tags, rest.TaskRuns = nil, &f
		if onlyNarrows(taskRunsWhere(ws, rest), taskRunsWhere(ws, model.RunQuery{})) {
			if tq, args, ok := tagCount("task_run_tags", ws, q.TaskRuns.Tags); ok {
				return count(ctx, s.rdb, tq, args)
			}
		}
	}
	w := taskRunsWhere(ws, q)
	return count(ctx, s.rdb, "SELECT count(*) FROM task_runs tr WHERE "+w.sql, w.args)
}

// TaskRunUpdate applies fn to the current row and writes it back.
func (s *Store) TaskRunUpdate(ctx context.Context, ws, id model.ID, fn func(*model.TaskRun) error) (model.TaskRun, error) {
	var r model.TaskRun
	err := s.write(ctx, func(tx *wtx) error {
		var err error
		if r, err = readTaskRun(tx, ws, id); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		r.ID = id
		r.Updated = s.now()
		return writeTaskRun(tx, ws, &r, false)
	})
	if err != nil {
		return model.TaskRun{}, fmt.Errorf("sqlite: update task run: %w", err)
	}
	return r, nil
}

// TaskRunSetState is FlowRunSetState for task runs.
func (s *Store) TaskRunSetState(ctx context.Context, ws, id model.ID, decide store.TaskRunDecider) (store.TaskRunChange, error) {
	var ch store.TaskRunChange
	err := s.write(ctx, func(tx *wtx) error {
		cur, err := readTaskRun(tx, ws, id)
		if err != nil {
			return err
		}
		var parent *model.FlowRun
		if cur.FlowRunID != nil {
			fr, err := readFlowRun(tx, ws, *cur.FlowRunID)
			switch {
			case err == nil:
				parent = &fr
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
		if ch, err = decide(cur, parent); err != nil {
			return err
		}
		if ch.Run != nil {
			ch.Run.ID = id
			ch.Run.Updated = s.now()
			if err := writeTaskRun(tx, ws, ch.Run, false); err != nil {
				return err
			}
		}
		if ch.State != nil {
			if err := insertState(tx, insertTaskRunStateSQL, ws, id, ch.State); err != nil {
				return err
			}
		}
		if err := applySlots(tx, ws, ch.Slots); err != nil {
			return err
		}
		rows, err := encodeEvents(ch.Events, s.now())
		if err != nil {
			return err
		}
		_, err = insertEvents(tx, ws, rows)
		return err
	})
	if err != nil {
		return store.TaskRunChange{}, fmt.Errorf("sqlite: set task run state: %w", err)
	}
	return ch, nil
}

// TaskRunStates returns the task run's state history, oldest first.
func (s *Store) TaskRunStates(ctx context.Context, ws, taskRunID model.ID) ([]model.State, error) {
	return s.states(ctx, `SELECT body FROM task_run_states WHERE workspace_id = ? AND task_run_id = ? ORDER BY timestamp, rowid`, ws, taskRunID)
}

// TaskRunDelete removes the task run and its history.
func (s *Store) TaskRunDelete(ctx context.Context, ws, id model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		if err := releaseSlotsOfDeleted(tx, ws, "", nil, "t.id = ?", []any{idv(id)}); err != nil {
			return err
		}
		res, err := tx.exec(`DELETE FROM task_runs WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("task run", id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete task run: %w", err)
	}
	return nil
}

// TaskRunRecord upserts task runs from client events in one transaction;
// see store.TaskRuns for the convergence rules.
func (s *Store) TaskRunRecord(ctx context.Context, ws model.ID, recs []store.TaskRunRecord) error {
	if len(recs) == 0 {
		return nil
	}
	// Everything but the statements is computed before the write, so the
	// writer goroutine only runs SQL.
	type row struct {
		id        model.ID
		args      []any
		stateArgs []any
	}
	rows := make([]row, len(recs))
	t := s.now()
	for i := range recs {
		r := recs[i].Run
		st := recs[i].State
		r.State = &st
		syncTaskRunState(&r)
		if r.Created.IsZero() {
			r.Created = t
		}
		r.Updated = t
		r.Tags = nonNilTags(r.Tags)
		r.Labels = nonNilLabels(r.Labels)
		tr, err := newTaskRunRow(ws, &r)
		if err != nil {
			return fmt.Errorf("sqlite: record task run %s: %w", r.ID, err)
		}
		args := tr.args()
		body, err := json.Marshal(&st)
		if err != nil {
			return fmt.Errorf("sqlite: record task run %s: %w", r.ID, err)
		}
		rows[i] = row{id: r.ID, args: args, stateArgs: []any{idv(ws), idv(st.ID), idv(r.ID), st.Timestamp.Micros(), body}}
	}
	err := s.write(ctx, func(tx *wtx) error {
		for _, r := range rows {
			res, err := tx.exec(recordTaskRunStateSQL, r.args...)
			if err != nil {
				return fmt.Errorf("task run %s: %w", r.id, err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				if _, err := tx.exec(recordTaskRunSQL, r.args...); err != nil {
					return fmt.Errorf("task run %s: %w", r.id, err)
				}
			}
			if _, err := tx.exec(insertRecordedStateSQL, r.stateArgs...); err != nil {
				return fmt.Errorf("task run %s state: %w", r.id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: record task runs: %w", err)
	}
	return nil
}
