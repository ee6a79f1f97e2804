package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

const (
	// The statements bind a taskRunRow by name (taskRunRow.args).
	insertTaskRunSQL = `INSERT INTO task_runs (workspace_id, id, flow_run_id, name, task_key, dynamic_key, created, updated, state_id,
    state_type, state_name, state_timestamp, tags, start_time, end_time, expected_start_time, next_scheduled_start_time, body)
VALUES (@workspace_id, @id, @flow_run_id, @name, @task_key, @dynamic_key, @created, @updated, @state_id, @state_type, @state_name,
    @state_timestamp, @tags, @start_time, @end_time, @expected_start_time, @next_scheduled_start_time, @body)`
	updateTaskRunSQL = `UPDATE task_runs SET flow_run_id = @flow_run_id, name = @name, task_key = @task_key, dynamic_key = @dynamic_key,
    updated = @updated, state_id = @state_id, state_type = @state_type, state_name = @state_name, state_timestamp = @state_timestamp,
    tags = @tags, start_time = @start_time, end_time = @end_time, expected_start_time = @expected_start_time,
    next_scheduled_start_time = @next_scheduled_start_time, body = @body
WHERE workspace_id = @workspace_id AND id = @id`
	// The record path (TaskRunRecord) works on a whole batch in three
	// statements over arrays: insert the task runs that are new (by id or
	// natural key), overwrite those whose stored state is older, and append
	// every state whose task run is this workspace's. The created column is
	// never overwritten (reads take Created from it).
	recordInsertSQL = `INSERT INTO task_runs (workspace_id, id, flow_run_id, name, task_key, dynamic_key, created, updated, state_id,
    state_type, state_name, state_timestamp, tags, start_time, end_time, expected_start_time, next_scheduled_start_time, body)
SELECT $1, u.id, u.flow_run_id, u.name, u.task_key, u.dynamic_key, u.created, u.updated, u.state_id, u.state_type, u.state_name,
    u.state_timestamp, u.tags, u.start_time, u.end_time, u.expected_start_time, u.next_scheduled_start_time, u.body
FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::uuid[], $10::text[], $11::text[],
    $12::bigint[], $13::jsonb[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::json[])
    AS u(id, flow_run_id, name, task_key, dynamic_key, created, updated, state_id, state_type, state_name, state_timestamp, tags,
    start_time, end_time, expected_start_time, next_scheduled_start_time, body)
ON CONFLICT DO NOTHING`
	recordUpdateSQL = `UPDATE task_runs t SET flow_run_id = u.flow_run_id, name = u.name, task_key = u.task_key, dynamic_key = u.dynamic_key,
    updated = u.updated, state_id = u.state_id, state_type = u.state_type, state_name = u.state_name, state_timestamp = u.state_timestamp,
    tags = u.tags, start_time = u.start_time, end_time = u.end_time, expected_start_time = u.expected_start_time,
    next_scheduled_start_time = u.next_scheduled_start_time, body = u.body
FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::uuid[], $10::text[], $11::text[],
    $12::bigint[], $13::jsonb[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::json[])
    AS u(id, flow_run_id, name, task_key, dynamic_key, created, updated, state_id, state_type, state_name, state_timestamp, tags,
    start_time, end_time, expected_start_time, next_scheduled_start_time, body)
WHERE t.id = u.id AND t.workspace_id = $1 AND (t.state_timestamp IS NULL OR u.state_timestamp > t.state_timestamp)`
	recordStatesSQL = `INSERT INTO task_run_states (workspace_id, id, task_run_id, timestamp, body)
SELECT $1, u.id, u.task_run_id, u.ts, u.body
FROM unnest($2::uuid[], $3::uuid[], $4::bigint[], $5::json[]) WITH ORDINALITY AS u(id, task_run_id, ts, body, ord)
WHERE EXISTS (SELECT 1 FROM task_runs WHERE id = u.task_run_id AND workspace_id = $1)
ORDER BY u.ord
ON CONFLICT DO NOTHING`
	selectTaskRunSQL      = `SELECT created, body FROM task_runs WHERE workspace_id = ? AND id = ?`
	insertTaskRunStateSQL = `INSERT INTO task_run_states (workspace_id, id, task_run_id, timestamp, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
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
func (w taskRunRow) args() pgx.NamedArgs {
	return pgx.NamedArgs{
		"workspace_id": w.workspace, "id": w.id, "flow_run_id": w.flowRunID, "name": w.name,
		"task_key": w.taskKey, "dynamic_key": w.dynamicKey, "created": w.created,
		"updated": w.updated, "state_id": w.stateID, "state_type": w.stateType,
		"state_name": w.stateName, "state_timestamp": w.stateTimestamp, "tags": w.tags,
		"start_time": w.startTime, "end_time": w.endTime, "expected_start_time": w.expectedStartTime,
		"next_scheduled_start_time": w.nextScheduledStartTime, "body": w.body,
	}
}

// writeTaskRun inserts or updates the row of r.
func writeTaskRun(tx *wtx, ws model.ID, r *model.TaskRun, insert bool) error {
	row, err := newTaskRunRow(ws, r)
	if err != nil {
		return err
	}
	if insert {
		_, err = tx.exec(insertTaskRunSQL, row.args())
		return err
	}
	res, err := tx.exec(updateTaskRunSQL, row.args())
	if err != nil {
		return err
	}
	if res.RowsAffected() == 0 {
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

// readTaskRun loads a task run inside a write transaction, taking its row
// lock: every caller decides and writes it.
func readTaskRun(tx *wtx, ws, id model.ID) (model.TaskRun, error) {
	var created int64
	var body []byte
	err := tx.queryRow(selectTaskRunSQL+" FOR UPDATE", idv(ws), idv(id)).Scan(&created, &body)
	if noRows(err) {
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
		err := tx.queryRow(`SELECT created, body FROM task_runs WHERE workspace_id = ? AND flow_run_id IS NOT DISTINCT FROM ?::uuid AND task_key = ? AND dynamic_key = ?`,
			idv(ws), optID(run.FlowRunID), run.TaskKey, run.DynamicKey).Scan(&c, &body)
		if err == nil && run.FlowRunID != nil {
			created = false
			run, err = decodeTaskRun(c, body)
			return err
		}
		if err != nil && !noRows(err) {
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
		return model.TaskRun{}, false, fmt.Errorf("postgres: create task run: %w", err)
	}
	return run, created, nil
}

// TaskRunGet returns one task run of ws.
func (s *Store) TaskRunGet(ctx context.Context, ws, id model.ID) (model.TaskRun, error) {
	var created int64
	var body []byte
	err := s.queryRow(ctx, selectTaskRunSQL, idv(ws), idv(id)).Scan(&created, &body)
	if noRows(err) {
		return model.TaskRun{}, fmt.Errorf("postgres: %w", notFound("task run", id))
	}
	if err != nil {
		return model.TaskRun{}, fmt.Errorf("postgres: get task run: %w", err)
	}
	return decodeTaskRun(created, body)
}

// TaskRunList lists task runs matching q (default sort ID_DESC).
func (s *Store) TaskRunList(ctx context.Context, ws model.ID, q model.RunQuery) ([]model.TaskRun, error) {
	w := taskRunsWhere(ws, q)
	win, wargs := window(q.Limit, q.Offset)
	order := orderBy(taskRunOrders, q.Sort, "ID_DESC")
	// Deferred join, as in FlowRunList: window over row ids, then read bodies.
	sqlText := "SELECT tr.created, tr.body FROM task_runs tr WHERE tr.id IN (SELECT tr.id FROM task_runs tr WHERE " + w.sql +
		" ORDER BY " + order + win + ") ORDER BY " + order
	rows, err := s.query(ctx, sqlText, append(w.args, wargs...)...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list task runs: %w", err)
	}
	defer rows.Close()
	out := []model.TaskRun{}
	var created int64
	var body []byte
	for rows.Next() {
		if err := rows.Scan(&created, &body); err != nil {
			return nil, fmt.Errorf("postgres: list task runs: %w", err)
		}
		r, err := decodeTaskRun(created, body)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list task runs: %w", err)
	}
	return out, nil
}

// TaskRunGraph implements store.TaskRuns: the graph's fields come from
// the row's columns, and only the task_inputs member is read from the body.
func (s *Store) TaskRunGraph(ctx context.Context, ws, flowRunID model.ID, limit int) ([]model.TaskRun, error) {
	rows, err := s.query(ctx, `SELECT tr.id, tr.name, tr.state_type, tr.expected_start_time, tr.start_time, tr.end_time, tr.body->'task_inputs'
		FROM task_runs tr WHERE tr.workspace_id = ? AND tr.flow_run_id = ?
		ORDER BY tr.expected_start_time ASC NULLS LAST, tr.id LIMIT ?`, idv(ws), idv(flowRunID), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: task run graph: %w", err)
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
			return nil, fmt.Errorf("postgres: task run graph: %w", err)
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
				return nil, fmt.Errorf("postgres: task run %s: task_inputs: %w", r.ID, err)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: task run graph: %w", err)
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
	w := taskRunsWhere(ws, q)
	return count(ctx, s, "SELECT count(*) FROM task_runs tr WHERE "+w.sql, w.args)
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
		return model.TaskRun{}, fmt.Errorf("postgres: update task run: %w", err)
	}
	return r, nil
}

// TaskRunSetState is FlowRunSetState for task runs.
func (s *Store) TaskRunSetState(ctx context.Context, ws, id model.ID, decide store.TaskRunDecider) (store.TaskRunChange, error) {
	var ch store.TaskRunChange
	err := s.writeRC(ctx, func(tx *wtx) error {
		cur, err := readTaskRun(tx, ws, id)
		if err != nil {
			return err
		}
		var parent *model.FlowRun
		if cur.FlowRunID != nil {
			fr, err := readFlowRun(tx, ws, *cur.FlowRunID, false)
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
		return store.TaskRunChange{}, fmt.Errorf("postgres: set task run state: %w", err)
	}
	return ch, nil
}

// TaskRunStates returns the task run's state history, oldest first.
func (s *Store) TaskRunStates(ctx context.Context, ws, taskRunID model.ID) ([]model.State, error) {
	return s.states(ctx, `SELECT body FROM task_run_states WHERE workspace_id = ? AND task_run_id = ? ORDER BY timestamp, n`, ws, taskRunID)
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
		if res.RowsAffected() == 0 {
			return notFound("task run", id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: delete task run: %w", err)
	}
	return nil
}

// TaskRunRecord upserts task runs from client events in one transaction
// of three multi-row statements; see store.TaskRuns for the convergence
// rules. Within a batch, each task run's newest record is the one that
// lands (the first of equally new ones), as if they were applied in order.
func (s *Store) TaskRunRecord(ctx context.Context, ws model.ID, recs []store.TaskRunRecord) error {
	if len(recs) == 0 {
		return nil
	}
	t := s.now()
	winner := map[model.ID]int{}
	var order []model.ID
	stateIDs := make([][16]byte, len(recs))
	stateRuns := make([][16]byte, len(recs))
	stateTS := make([]int64, len(recs))
	stateBodies := make([]string, len(recs))
	for i := range recs {
		st := recs[i].State
		body, err := json.Marshal(&st)
		if err != nil {
			return fmt.Errorf("postgres: record task run %s: %w", recs[i].Run.ID, err)
		}
		stateIDs[i], stateRuns[i], stateTS[i], stateBodies[i] = [16]byte(st.ID), [16]byte(recs[i].Run.ID), st.Timestamp.Micros(), string(body)
		id := recs[i].Run.ID
		w, seen := winner[id]
		if !seen {
			order = append(order, id)
			winner[id] = i
		} else if st.Timestamp.Micros() > recs[w].State.Timestamp.Micros() {
			winner[id] = i
		}
	}
	n := len(order)
	var (
		ids, frIDs, stIDs                          = make([][16]byte, n), make([]pgtype.UUID, n), make([]pgtype.UUID, n)
		names, keys, dyn, stTypes, stNames, bodies = make([]string, n), make([]string, n), make([]string, n), make([]*string, n), make([]*string, n), make([]string, n)
		created, updated                           = make([]int64, n), make([]int64, n)
		stTS, start, end, expected, nextSched      = make([]*int64, n), make([]*int64, n), make([]*int64, n), make([]*int64, n), make([]*int64, n)
		tags                                       = make([]string, n)
	)
	for k, id := range order {
		rec := recs[winner[id]]
		r := rec.Run
		st := rec.State
		r.State = &st
		syncTaskRunState(&r)
		if r.Created.IsZero() {
			r.Created = t
		}
		r.Updated = t
		r.Tags = nonNilTags(r.Tags)
		r.Labels = nonNilLabels(r.Labels)
		body, err := json.Marshal(&r)
		if err != nil {
			return fmt.Errorf("postgres: record task run %s: %w", r.ID, err)
		}
		ids[k] = [16]byte(r.ID)
		if r.FlowRunID != nil {
			frIDs[k] = pgtype.UUID{Bytes: *r.FlowRunID, Valid: true}
		}
		stIDs[k] = pgtype.UUID{Bytes: st.ID, Valid: true}
		names[k], keys[k], dyn[k] = r.Name, r.TaskKey, r.DynamicKey
		typ, nm := string(st.Type), st.Name
		stTypes[k], stNames[k] = &typ, &nm
		created[k], updated[k] = r.Created.Micros(), r.Updated.Micros()
		ts := st.Timestamp.Micros()
		stTS[k] = &ts
		start[k], end[k], expected[k], nextSched[k] = microsPtr(r.StartTime), microsPtr(r.EndTime), microsPtr(r.ExpectedStartTime), microsPtr(r.NextScheduledStartTime)
		tags[k] = tagsJSON(r.Tags)
		bodies[k] = string(body)
	}
	args := []any{idv(ws), ids, frIDs, names, keys, dyn, created, updated, stIDs, stTypes, stNames, stTS, tags, start, end, expected, nextSched, bodies}
	err := s.writeRC(ctx, func(tx *wtx) error {
		if _, err := tx.tx.Exec(tx.ctx, recordInsertSQL, args...); err != nil {
			return fmt.Errorf("insert task runs: %w", err)
		}
		if _, err := tx.tx.Exec(tx.ctx, recordUpdateSQL, args...); err != nil {
			return fmt.Errorf("update task runs: %w", err)
		}
		if _, err := tx.tx.Exec(tx.ctx, recordStatesSQL, idv(ws), stateIDs, stateRuns, stateTS, stateBodies); err != nil {
			return fmt.Errorf("task run states: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: record task runs: %w", err)
	}
	return nil
}

// microsPtr is a nullable instant as unix micros for an array element.
func microsPtr(t *model.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.Micros()
	return &v
}
