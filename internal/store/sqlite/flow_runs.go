package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"sync"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

const (
	// The statements bind a flowRunRow by name (flowRunRow.args).
	insertFlowRunSQL = `INSERT INTO flow_runs (workspace_id, id, flow_id, name, created, updated, state_id, state_type, state_name,
    state_timestamp, deployment_id, work_queue_name, flow_version, parent_task_run_id, idempotency_key, tags, start_time, end_time,
    expected_start_time, next_scheduled_start_time, body)
VALUES (:workspace_id, :id, :flow_id, :name, :created, :updated, :state_id, :state_type, :state_name, :state_timestamp,
    :deployment_id, :work_queue_name, :flow_version, :parent_task_run_id, :idempotency_key, :tags, :start_time, :end_time,
    :expected_start_time, :next_scheduled_start_time, :body)`
	updateFlowRunSQL = `UPDATE flow_runs SET name = :name, updated = :updated, state_id = :state_id, state_type = :state_type,
    state_name = :state_name, state_timestamp = :state_timestamp, deployment_id = :deployment_id, work_queue_name = :work_queue_name,
    flow_version = :flow_version, parent_task_run_id = :parent_task_run_id, idempotency_key = :idempotency_key, tags = :tags,
    start_time = :start_time, end_time = :end_time, expected_start_time = :expected_start_time,
    next_scheduled_start_time = :next_scheduled_start_time, body = :body
WHERE workspace_id = :workspace_id AND id = :id`
	selectFlowRunSQL      = `SELECT body FROM flow_runs WHERE workspace_id = ? AND id = ?`
	insertFlowRunStateSQL = `INSERT OR IGNORE INTO flow_run_states (workspace_id, id, flow_run_id, timestamp, body) VALUES (?, ?, ?, ?, ?)`
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
		return model.FlowRun{}, false, fmt.Errorf("sqlite: create flow run: %w", err)
	}
	err = s.write(ctx, func(tx *wtx) error {
		run := run
		var one int
		err := tx.queryRow(`SELECT 1 FROM flows WHERE workspace_id = ? AND id = ?`, idv(ws), idv(run.FlowID)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("flow", run.FlowID)
		}
		if err != nil {
			return err
		}
		if run.IdempotencyKey != nil {
			var body []byte
			err := tx.queryRow(`SELECT body FROM flow_runs WHERE workspace_id = ? AND flow_id = ? AND idempotency_key = ?`,
				idv(ws), idv(run.FlowID), *run.IdempotencyKey).Scan(&body)
			if err == nil {
				created = false
				run = model.FlowRun{}
				if err := unmarshalBody(body, &run); err != nil {
					return err
				}
				out = run
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if run.ID.IsNil() {
			run.ID = model.NewIDv7()
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
		if err := writeFlowRun(tx, ws, &run, true); err != nil {
			if isUnique(err) {
				return fmt.Errorf("flow run %s: %w", run.ID, store.ErrConflict)
			}
			return err
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
		return model.FlowRun{}, false, fmt.Errorf("sqlite: create flow run: %w", err)
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
	row, err := flowRunCols(ws, r)
	row.body = body
	return row, err
}

// flowRunCols is the row of r without its body.
func flowRunCols(ws model.ID, r *model.FlowRun) (flowRunRow, error) {
	return flowRunRow{
		workspace: idv(ws), id: idv(r.ID), flowID: idv(r.FlowID), deploymentID: optID(r.DeploymentID),
		parentTaskRunID: optID(r.ParentTaskRunID), stateID: optID(r.StateID),
		name: r.Name, stateType: optStr(r.StateType), stateName: optStr(r.StateName), workQueueName: optStr(r.WorkQueueName),
		flowVersion: optStr(r.FlowVersion), idempotencyKey: optStr(r.IdempotencyKey),
		created: r.Created.Micros(), updated: r.Updated.Micros(), stateTimestamp: stateTimestamp(r.State),
		startTime: optTime(r.StartTime), endTime: optTime(r.EndTime), expectedStartTime: optTime(r.ExpectedStartTime),
		nextScheduledStartTime: optTime(r.NextScheduledStartTime), tags: tagsJSON(r.Tags),
	}, nil
}

// args binds the row to the statements' named parameters.
func (w flowRunRow) args() []any {
	return []any{
		sql.Named("workspace_id", w.workspace), sql.Named("id", w.id), sql.Named("flow_id", w.flowID), sql.Named("name", w.name),
		sql.Named("created", w.created), sql.Named("updated", w.updated), sql.Named("state_id", w.stateID),
		sql.Named("state_type", w.stateType), sql.Named("state_name", w.stateName), sql.Named("state_timestamp", w.stateTimestamp),
		sql.Named("deployment_id", w.deploymentID), sql.Named("work_queue_name", w.workQueueName), sql.Named("flow_version", w.flowVersion),
		sql.Named("parent_task_run_id", w.parentTaskRunID), sql.Named("idempotency_key", w.idempotencyKey), sql.Named("tags", w.tags),
		sql.Named("start_time", w.startTime), sql.Named("end_time", w.endTime), sql.Named("expected_start_time", w.expectedStartTime),
		sql.Named("next_scheduled_start_time", w.nextScheduledStartTime), sql.Named("body", w.body),
	}
}

// writeFlowRun inserts the row of r, or rewrites all of it (when the row
// it replaces is not at hand).
func writeFlowRun(tx *wtx, ws model.ID, r *model.FlowRun, insert bool) error {
	row, err := newFlowRunRow(ws, r)
	if err != nil {
		return err
	}
	if insert {
		_, err = tx.exec(insertFlowRunSQL, row.args()...)
		return err
	}
	res, err := tx.exec(updateFlowRunSQL, row.args()...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("flow run", r.ID)
	}
	return nil
}

// flowRunUpdateCols are the flow_runs columns an update may change, in the
// order of flowRunRow.updatable.
var flowRunUpdateCols = []string{"name", "updated", "state_id", "state_type", "state_name", "state_timestamp",
	"deployment_id", "work_queue_name", "flow_version", "parent_task_run_id", "idempotency_key", "tags", "start_time",
	"end_time", "expected_start_time", "next_scheduled_start_time"}

// updatable returns the row's values of flowRunUpdateCols.
func (w flowRunRow) updatable() []any {
	return []any{w.name, w.updated, w.stateID, w.stateType, w.stateName, w.stateTimestamp, w.deploymentID, w.workQueueName,
		w.flowVersion, w.parentTaskRunID, w.idempotencyKey, w.tags, w.startTime, w.endTime, w.expectedStartTime,
		w.nextScheduledStartTime}
}

// updateFlowRun rewrites the row of r that was old (the row as read in the
// same transaction), setting only the columns whose values changed besides
// the body. SQLite maintains an index on UPDATE when one of its columns is
// in the SET list, whether or not the value changed, and every index entry
// it rewrites dirties a page the commit then writes to the WAL: a state
// change that set all 17 columns rewrote all 13 indexes of flow_runs.
func updateFlowRun(tx *wtx, ws model.ID, old flowRunRow, r *model.FlowRun) error {
	row, err := newFlowRunRow(ws, r)
	if err != nil {
		return err
	}
	q, args := narrowUpdate(&flowRunUpdates, "flow_runs", flowRunUpdateCols, old.updatable(), row.updatable())
	args = append(args, row.body, row.workspace, row.id)
	res, err := tx.exec(q, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("flow run", r.ID)
	}
	return nil
}

// updateSQLs caches the UPDATE statements narrowUpdate built, by the set of
// changed columns. It holds at most maxUpdateShapes of them; past that an
// unseen set of changes sets every column (still correct, only slower), so
// an unusual mix of updates cannot grow the statement cache without bound.
type updateSQLs struct {
	mu sync.Mutex
	m  map[uint64]string
}

const maxUpdateShapes = 64

var flowRunUpdates updateSQLs

// narrowUpdate returns `UPDATE table SET <changed columns>, body = ? WHERE
// workspace_id = ? AND id = ?` and its leading arguments (the changed
// values; the caller appends body, workspace and id).
func narrowUpdate(c *updateSQLs, table string, cols []string, old, cur []any) (string, []any) {
	var mask uint64
	for i := range cols {
		if !sameValue(old[i], cur[i]) {
			mask |= 1 << i
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.m[mask]
	if !ok && len(c.m) >= maxUpdateShapes {
		mask = 1<<len(cols) - 1
		q, ok = c.m[mask]
	}
	if !ok {
		var b strings.Builder
		b.WriteString("UPDATE " + table + " SET ")
		for i, col := range cols {
			if mask&(1<<i) != 0 {
				b.WriteString(col + " = ?, ")
			}
		}
		b.WriteString("body = ? WHERE workspace_id = ? AND id = ?")
		q = b.String()
		if c.m == nil {
			c.m = make(map[uint64]string)
		}
		c.m[mask] = q
	}
	args := make([]any, 0, bits.OnesCount64(mask)+3)
	for i := range cols {
		if mask&(1<<i) != 0 {
			args = append(args, cur[i])
		}
	}
	return q, args
}

// sameValue reports whether two column values (nil, int64, string or
// []byte, as the row builders make them) are equal.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	default:
		return false
	}
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

// readFlowRun loads a run inside a write transaction.
func readFlowRun(tx *wtx, ws, id model.ID) (model.FlowRun, error) {
	var r model.FlowRun
	var body []byte
	err := tx.queryRow(selectFlowRunSQL, idv(ws), idv(id)).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
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
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("sqlite: %w", notFound("flow run", id))
	}
	if err != nil {
		return r, fmt.Errorf("sqlite: get flow run: %w", err)
	}
	return r, unmarshalBody(body, &r)
}

// FlowRunList lists flow runs matching q (default sort ID_DESC).
func (s *Store) FlowRunList(ctx context.Context, ws model.ID, q model.RunQuery) ([]model.FlowRun, error) {
	w := flowRunsWhere(ws, q)
	win, wargs := window(q.Limit, q.Offset)
	order := orderBy(flowRunOrders, q.Sort, "ID_DESC")
	unfiltered := q.FlowRuns == nil && q.Flows == nil && q.TaskRuns == nil && q.Deployments == nil && q.WorkPools == nil && q.WorkPoolQueues == nil && q.WorkQueues == nil
	inner, scan := s.runPlan(ctx, "flow_runs fr", w, unfiltered, order, pageEnd(q))
	if scan {
		w = flowRunsWhereTags(ws, q, true)
	}
	// Deferred join: sort and window over row ids (small rows) first, then
	// read the JSON bodies of just that page. Sorting whole rows made SQLite
	// copy every matching body (kilobytes each) into its sort tree.
	sqlText := "SELECT fr.body FROM flow_runs fr WHERE fr.rowid IN (SELECT fr.rowid FROM flow_runs fr WHERE " + w.sql +
		" ORDER BY " + inner + win + ") ORDER BY " + order
	return listBodies[model.FlowRun](ctx, s.rdb, sqlText, append(w.args, wargs...))
}

// FlowRunCount counts flow runs matching q.
func (s *Store) FlowRunCount(ctx context.Context, ws model.ID, q model.RunQuery) (int, error) {
	if q.FlowRuns != nil && q.FlowRuns.Tags != nil {
		rest, f := q, *q.FlowRuns
		f.Tags, rest.FlowRuns = nil, &f
		if onlyNarrows(flowRunsWhere(ws, rest), flowRunsWhere(ws, model.RunQuery{})) {
			if tq, args, ok := tagCount("flow_run_tags", ws, q.FlowRuns.Tags); ok {
				return count(ctx, s.rdb, tq, args)
			}
		}
	}
	w := flowRunsWhere(ws, q)
	return count(ctx, s.rdb, "SELECT count(*) FROM flow_runs fr WHERE "+w.sql, w.args)
}

// FlowRunUpdate applies fn to the current row and writes it back (Updated
// is set to now). The id and flow cannot be changed through fn.
func (s *Store) FlowRunUpdate(ctx context.Context, ws, id model.ID, fn func(*model.FlowRun) error) (model.FlowRun, error) {
	var r model.FlowRun
	err := s.write(ctx, func(tx *wtx) error {
		var err error
		if r, err = readFlowRun(tx, ws, id); err != nil {
			return err
		}
		old, err := flowRunCols(ws, &r)
		if err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		r.ID = id
		r.Updated = s.now()
		return updateFlowRun(tx, ws, old, &r)
	})
	if err != nil {
		return model.FlowRun{}, fmt.Errorf("sqlite: update flow run: %w", err)
	}
	return r, nil
}

// FlowRunSetState reads the run, lets decide choose the change, and writes
// the row, the state history, the parent task run's mirrored state, the
// slot change and the events, all in one transaction.
func (s *Store) FlowRunSetState(ctx context.Context, ws, id model.ID, decide store.FlowRunDecider) (store.FlowRunChange, error) {
	var ch store.FlowRunChange
	err := s.write(ctx, func(tx *wtx) error {
		cur, err := readFlowRun(tx, ws, id)
		if err != nil {
			return err
		}
		old, err := flowRunCols(ws, &cur)
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
			if err := updateFlowRun(tx, ws, old, ch.Run); err != nil {
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
		return store.FlowRunChange{}, fmt.Errorf("sqlite: set flow run state: %w", err)
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
	return s.states(ctx, `SELECT body FROM flow_run_states WHERE workspace_id = ? AND flow_run_id = ? ORDER BY timestamp, rowid`, ws, flowRunID)
}

func (s *Store) states(ctx context.Context, q string, ws, runID model.ID) ([]model.State, error) {
	rows, err := s.query(ctx, q, idv(ws), idv(runID))
	if err != nil {
		return nil, fmt.Errorf("sqlite: states: %w", err)
	}
	defer rows.Close()
	out := []model.State{}
	var body []byte
	for rows.Next() {
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("sqlite: states: %w", err)
		}
		var st model.State
		if err := unmarshalBody(body, &st); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: states: %w", err)
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
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("flow run", id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete flow run: %w", err)
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
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("sqlite: %w", notFound(kind, id))
	}
	if err != nil {
		return st, fmt.Errorf("sqlite: get %s: %w", kind, err)
	}
	return st, unmarshalBody(body, &st)
}
