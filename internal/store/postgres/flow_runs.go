package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

const (
	// The statements bind a flowRunRow by name (flowRunRow.args).
	insertFlowRunSQL = `INSERT INTO flow_runs (workspace_id, id, flow_id, name, created, updated, state_id, state_type, state_name,
    state_timestamp, deployment_id, work_queue_name, flow_version, parent_task_run_id, idempotency_key, tags, start_time, end_time,
    expected_start_time, next_scheduled_start_time, body)
VALUES (@workspace_id, @id, @flow_id, @name, @created, @updated, @state_id, @state_type, @state_name, @state_timestamp,
    @deployment_id, @work_queue_name, @flow_version, @parent_task_run_id, @idempotency_key, @tags, @start_time, @end_time,
    @expected_start_time, @next_scheduled_start_time, @body)`
	updateFlowRunSQL = `UPDATE flow_runs SET name = @name, updated = @updated, state_id = @state_id, state_type = @state_type,
    state_name = @state_name, state_timestamp = @state_timestamp, deployment_id = @deployment_id, work_queue_name = @work_queue_name,
    flow_version = @flow_version, parent_task_run_id = @parent_task_run_id, idempotency_key = @idempotency_key, tags = @tags,
    start_time = @start_time, end_time = @end_time, expected_start_time = @expected_start_time,
    next_scheduled_start_time = @next_scheduled_start_time, body = @body
WHERE workspace_id = @workspace_id AND id = @id`
	// createFlowRunSQL leaves a run alone whose flow already has the
	// idempotency key (concurrent creations converge on one run).
	createFlowRunSQL      = insertFlowRunSQL + ` ON CONFLICT (workspace_id, flow_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`
	selectFlowRunSQL      = `SELECT body FROM flow_runs WHERE workspace_id = ? AND id = ?`
	insertFlowRunStateSQL = `INSERT INTO flow_run_states (workspace_id, id, flow_run_id, timestamp, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
)

// stateTimestamp is the state_timestamp column of a run with state st.
func stateTimestamp(st *model.State) any {
	if st == nil {
		return nil
	}
	return st.Timestamp.Micros()
}

// syncFlowRunState points the run's state columns at its State.
func syncFlowRunState(r *model.FlowRun) {
	if r.State == nil {
		return
	}
	id, typ, name := r.State.ID, r.State.Type, r.State.Name
	r.StateID, r.StateType, r.StateName = &id, &typ, &name
}

// FlowRunCreate inserts the run and its events, or returns the run of the
// same flow with the same idempotency key (created=false).
func (s *Store) FlowRunCreate(ctx context.Context, ws model.ID, in store.NewFlowRun) (model.FlowRun, bool, error) {
	created := true
	run := in.Run
	var out model.FlowRun
	evRows, err := encodeEvents(in.Events, s.now())
	if err != nil {
		return model.FlowRun{}, false, fmt.Errorf("postgres: create flow run: %w", err)
	}
	err = s.writeRC(ctx, func(tx *wtx) error {
		run := run
		created = true
		var one int
		err := tx.queryRow(`SELECT 1 FROM flows WHERE workspace_id = ? AND id = ?`, idv(ws), idv(run.FlowID)).Scan(&one)
		if noRows(err) {
			return notFound("flow", run.FlowID)
		}
		if err != nil {
			return err
		}
		existing := func() (bool, error) {
			if run.IdempotencyKey == nil {
				return false, nil
			}
			var body []byte
			err := tx.queryRow(`SELECT body FROM flow_runs WHERE workspace_id = ? AND flow_id = ? AND idempotency_key = ?`,
				idv(ws), idv(run.FlowID), *run.IdempotencyKey).Scan(&body)
			if noRows(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			created = false
			out = model.FlowRun{}
			return true, unmarshalBody(body, &out)
		}
		if found, err := existing(); found || err != nil {
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
		syncFlowRunState(&run)
		row, err := newFlowRunRow(ws, &run)
		if err != nil {
			return err
		}
		res, err := tx.exec(createFlowRunSQL, row.args())
		if err != nil {
			if isUnique(err) {
				return fmt.Errorf("flow run %s: %w", run.ID, store.ErrConflict)
			}
			return err
		}
		if res.RowsAffected() == 0 {
			// Another creation with the same key committed meanwhile.
			if found, err := existing(); found || err != nil {
				return err
			}
			return fmt.Errorf("flow run %s: %w", run.ID, store.ErrConflict)
		}
		if run.State != nil {
			if err := insertState(tx, insertFlowRunStateSQL, ws, run.ID, run.State); err != nil {
				return err
			}
		}
		if _, err := insertEvents(tx, ws, evRows); err != nil {
			return err
		}
		out = run
		return nil
	})
	if err != nil {
		return model.FlowRun{}, false, fmt.Errorf("postgres: create flow run: %w", err)
	}
	return out, created, nil
}

// flowRunRow is the flow_runs row of a run: its filterable columns, which
// must agree with the body because listings filter and sort on them, and
// the body itself.
type flowRunRow struct {
	workspace, id, flowID, deploymentID, parentTaskRunID, stateID          any
	name, stateType, stateName, workQueueName, flowVersion, idempotencyKey any
	created, updated, stateTimestamp, startTime, endTime                   any
	expectedStartTime, nextScheduledStartTime, tags                        any
	body                                                                   []byte
}

func newFlowRunRow(ws model.ID, r *model.FlowRun) (flowRunRow, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return flowRunRow{}, err
	}
	return flowRunRow{
		workspace: idv(ws), id: idv(r.ID), flowID: idv(r.FlowID), deploymentID: optID(r.DeploymentID),
		parentTaskRunID: optID(r.ParentTaskRunID), stateID: optID(r.StateID),
		name: r.Name, stateType: optStr(r.StateType), stateName: optStr(r.StateName), workQueueName: optStr(r.WorkQueueName),
		flowVersion: optStr(r.FlowVersion), idempotencyKey: optStr(r.IdempotencyKey),
		created: r.Created.Micros(), updated: r.Updated.Micros(), stateTimestamp: stateTimestamp(r.State),
		startTime: optTime(r.StartTime), endTime: optTime(r.EndTime), expectedStartTime: optTime(r.ExpectedStartTime),
		nextScheduledStartTime: optTime(r.NextScheduledStartTime), tags: tagsJSON(r.Tags), body: body,
	}, nil
}

// args binds the row to the statements' named parameters.
func (w flowRunRow) args() pgx.NamedArgs {
	return pgx.NamedArgs{
		"workspace_id": w.workspace, "id": w.id, "flow_id": w.flowID, "name": w.name,
		"created": w.created, "updated": w.updated, "state_id": w.stateID,
		"state_type": w.stateType, "state_name": w.stateName, "state_timestamp": w.stateTimestamp,
		"deployment_id": w.deploymentID, "work_queue_name": w.workQueueName, "flow_version": w.flowVersion,
		"parent_task_run_id": w.parentTaskRunID, "idempotency_key": w.idempotencyKey, "tags": w.tags,
		"start_time": w.startTime, "end_time": w.endTime, "expected_start_time": w.expectedStartTime,
		"next_scheduled_start_time": w.nextScheduledStartTime, "body": w.body,
	}
}

// writeFlowRun inserts or updates the row of r.
func writeFlowRun(tx *wtx, ws model.ID, r *model.FlowRun, insert bool) error {
	row, err := newFlowRunRow(ws, r)
	if err != nil {
		return err
	}
	if insert {
		_, err = tx.exec(insertFlowRunSQL, row.args())
		return err
	}
	res, err := tx.exec(updateFlowRunSQL, row.args())
	if err != nil {
		return err
	}
	if res.RowsAffected() == 0 {
		return notFound("flow run", r.ID)
	}
	return nil
}

// insertState appends st to a history table (ignoring a repeated state id).
func insertState(tx *wtx, q string, ws, runID model.ID, st *model.State) error {
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = tx.exec(q, idv(ws), idv(st.ID), idv(runID), st.Timestamp.Micros(), body)
	return err
}

// readFlowRun loads a run inside a write transaction; lock takes its row
// lock (FOR UPDATE) for a read-decide-write.
func readFlowRun(tx *wtx, ws, id model.ID, lock bool) (model.FlowRun, error) {
	var r model.FlowRun
	var body []byte
	q := selectFlowRunSQL
	if lock {
		q += " FOR UPDATE"
	}
	err := tx.queryRow(q, idv(ws), idv(id)).Scan(&body)
	if noRows(err) {
		return r, notFound("flow run", id)
	}
	if err != nil {
		return r, err
	}
	return r, unmarshalBody(body, &r)
}

// FlowRunGet returns one flow run of ws.
func (s *Store) FlowRunGet(ctx context.Context, ws, id model.ID) (model.FlowRun, error) {
	var r model.FlowRun
	var body []byte
	err := s.queryRow(ctx, selectFlowRunSQL, idv(ws), idv(id)).Scan(&body)
	if noRows(err) {
		return r, fmt.Errorf("postgres: %w", notFound("flow run", id))
	}
	if err != nil {
		return r, fmt.Errorf("postgres: get flow run: %w", err)
	}
	return r, unmarshalBody(body, &r)
}

// FlowRunList lists flow runs matching q (default sort ID_DESC).
func (s *Store) FlowRunList(ctx context.Context, ws model.ID, q model.RunQuery) ([]model.FlowRun, error) {
	sqlText, args := flowRunListSQL(ws, q)
	return listBodies[model.FlowRun](ctx, s, sqlText, args)
}

// flowRunListSQL is FlowRunList's statement. Deferred join: sort and window
// over row ids (small rows) first, then read the JSON bodies of just that
// page. The newest-first sorts the UI uses have indexes in their exact order
// (DESC NULLS LAST; migration 0010), so a page is read from an index instead
// of sorting all of the workspace's runs.
func flowRunListSQL(ws model.ID, q model.RunQuery) (string, []any) {
	w := flowRunsWhere(ws, q)
	win, wargs := window(q.Limit, q.Offset)
	order := orderBy(flowRunOrders, q.Sort, "ID_DESC")
	return "SELECT fr.body FROM flow_runs fr WHERE fr.id IN (SELECT fr.id FROM flow_runs fr WHERE " + w.sql +
		" ORDER BY " + order + win + ") ORDER BY " + order, append(w.args, wargs...)
}

// FlowRunCount counts flow runs matching q.
func (s *Store) FlowRunCount(ctx context.Context, ws model.ID, q model.RunQuery) (int, error) {
	w := flowRunsWhere(ws, q)
	return count(ctx, s, "SELECT count(*) FROM flow_runs fr WHERE "+w.sql, w.args)
}

// FlowRunUpdate applies fn to the current row and writes it back (Updated
// is set to now). The id and flow cannot be changed through fn.
func (s *Store) FlowRunUpdate(ctx context.Context, ws, id model.ID, fn func(*model.FlowRun) error) (model.FlowRun, error) {
	var r model.FlowRun
	err := s.write(ctx, func(tx *wtx) error {
		var err error
		if r, err = readFlowRun(tx, ws, id, true); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		r.ID = id
		r.Updated = s.now()
		return writeFlowRun(tx, ws, &r, false)
	})
	if err != nil {
		return model.FlowRun{}, fmt.Errorf("postgres: update flow run: %w", err)
	}
	return r, nil
}

// FlowRunSetState reads the run, lets decide choose the change, and writes
// the row, the state history, the parent task run's mirrored state and the
// events, all in one transaction.
func (s *Store) FlowRunSetState(ctx context.Context, ws, id model.ID, decide store.FlowRunDecider) (store.FlowRunChange, error) {
	var ch store.FlowRunChange
	err := s.writeRC(ctx, func(tx *wtx) error {
		cur, err := readFlowRun(tx, ws, id, true)
		if err != nil {
			return err
		}
		if ch, err = decide(cur); err != nil {
			return err
		}
		run := &cur
		if ch.Run != nil {
			ch.Run.ID = id
			ch.Run.Updated = s.now()
			if err := writeFlowRun(tx, ws, ch.Run, false); err != nil {
				return err
			}
			run = ch.Run
		}
		if ch.State != nil {
			if err := insertState(tx, insertFlowRunStateSQL, ws, id, ch.State); err != nil {
				return err
			}
		}
		if ch.ParentTaskState != nil && run.ParentTaskRunID != nil {
			if err := mirrorParentTaskState(tx, ws, *run.ParentTaskRunID, ch.ParentTaskState); err != nil {
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
		return store.FlowRunChange{}, fmt.Errorf("postgres: set flow run state: %w", err)
	}
	return ch, nil
}

// mirrorParentTaskState makes st the current state of a subflow's tracking
// task run and appends it to that task run's history. A parent that is not
// (or no longer) stored is skipped: the subflow's own transition stands.
func mirrorParentTaskState(tx *wtx, ws, taskRunID model.ID, st *model.State) error {
	tr, err := readTaskRun(tx, ws, taskRunID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	stCopy := *st
	tr.State = &stCopy
	syncTaskRunState(&tr)
	tr.Updated = tx.s.now()
	if err := writeTaskRun(tx, ws, &tr, false); err != nil {
		return err
	}
	return insertState(tx, insertTaskRunStateSQL, ws, taskRunID, st)
}

// FlowRunStates returns the run's state history, oldest first.
func (s *Store) FlowRunStates(ctx context.Context, ws, flowRunID model.ID) ([]model.State, error) {
	return s.states(ctx, `SELECT body FROM flow_run_states WHERE workspace_id = ? AND flow_run_id = ? ORDER BY timestamp, n`, ws, flowRunID)
}

func (s *Store) states(ctx context.Context, q string, ws, runID model.ID) ([]model.State, error) {
	rows, err := s.query(ctx, q, idv(ws), idv(runID))
	if err != nil {
		return nil, fmt.Errorf("postgres: states: %w", err)
	}
	defer rows.Close()
	out := []model.State{}
	var body []byte
	for rows.Next() {
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("postgres: states: %w", err)
		}
		var st model.State
		if err := unmarshalBody(body, &st); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: states: %w", err)
	}
	return out, nil
}

// FlowRunDelete removes the run, its task runs and every state history row.
func (s *Store) FlowRunDelete(ctx context.Context, ws, id model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		if err := releaseSlotsOfDeleted(tx, ws, "fr.id = ?", []any{idv(id)}, "t.flow_run_id = ?", []any{idv(id)}); err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM task_runs WHERE workspace_id = ? AND flow_run_id = ?`, idv(ws), idv(id)); err != nil {
			return err
		}
		res, err := tx.exec(`DELETE FROM flow_runs WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id))
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return notFound("flow run", id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: delete flow run: %w", err)
	}
	return nil
}

// FlowRunStateGet returns one state of a flow run's history by its id.
func (s *Store) FlowRunStateGet(ctx context.Context, ws, stateID model.ID) (model.State, error) {
	return s.stateByID(ctx, `SELECT body FROM flow_run_states WHERE workspace_id = ? AND id = ?`, "flow run state", ws, stateID)
}

// TaskRunStateGet returns one state of a task run's history by its id.
func (s *Store) TaskRunStateGet(ctx context.Context, ws, stateID model.ID) (model.State, error) {
	return s.stateByID(ctx, `SELECT body FROM task_run_states WHERE workspace_id = ? AND id = ?`, "task run state", ws, stateID)
}

func (s *Store) stateByID(ctx context.Context, q, kind string, ws, id model.ID) (model.State, error) {
	var st model.State
	var body []byte
	err := s.queryRow(ctx, q, idv(ws), idv(id)).Scan(&body)
	if noRows(err) {
		return st, fmt.Errorf("postgres: %w", notFound(kind, id))
	}
	if err != nil {
		return st, fmt.Errorf("postgres: get %s: %w", kind, err)
	}
	return st, unmarshalBody(body, &st)
}
