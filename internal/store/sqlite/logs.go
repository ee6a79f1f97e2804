package sqlite

import (
	"context"
	"fmt"

	"github.com/batonhq/baton/internal/model"
)

// LogCreate stores logs in one transaction. A log without an id gets a
// time-ordered one; Created/Updated default to now.
func (s *Store) LogCreate(ctx context.Context, ws model.ID, logs []model.Log) error {
	if len(logs) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *wtx) error {
		t := s.now()
		for i := range logs {
			l := &logs[i]
			if l.ID.IsNil() {
				l.ID = model.NewIDv7()
			}
			if l.Created.IsZero() {
				l.Created = t
			}
			if l.Updated.IsZero() {
				l.Updated = l.Created
			}
			if _, err := tx.exec(`INSERT OR IGNORE INTO logs (workspace_id, id, created, name, level, message, timestamp, flow_run_id, task_run_id, worker_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				idv(ws), idv(l.ID), l.Created.Micros(), l.Name, l.Level, l.Message, l.Timestamp.Micros(),
				optID(l.FlowRunID), optID(l.TaskRunID), optID(l.WorkerID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: create logs: %w", err)
	}
	return nil
}

// logWhere renders a LogFilter over logs aliased l.
func logWhere(ws model.ID, f *model.LogFilter) expr {
	parts := []expr{{sql: "l.workspace_id = ?", args: []any{idv(ws)}}}
	if f != nil {
		var lvl expr
		if f.Level != nil {
			var ps []expr
			if f.Level.GE != nil {
				ps = append(ps, expr{sql: "l.level >= ?", args: []any{*f.Level.GE}})
			}
			if f.Level.LE != nil {
				ps = append(ps, expr{sql: "l.level <= ?", args: []any{*f.Level.LE}})
			}
			lvl = combine("", ps...)
		}
		var text expr
		if f.Text != nil && f.Text.Query != "" {
			text = like("l.message", &f.Text.Query)
		}
		parts = append(parts, combine(f.Operator, lvl, timeFilter("l.timestamp", f.Timestamp),
			optionalIDFilter("l.flow_run_id", f.FlowRunID), optionalIDFilter("l.task_run_id", f.TaskRunID), text))
	}
	return combine("", parts...)
}

// LogList lists logs matching q (default sort TIMESTAMP_ASC).
func (s *Store) LogList(ctx context.Context, ws model.ID, q model.LogQuery) ([]model.Log, error) {
	w := logWhere(ws, q.Logs)
	win, wargs := window(q.Limit, q.Offset)
	sqlText := `SELECT l.id, l.created, l.name, l.level, l.message, l.timestamp, l.flow_run_id, l.task_run_id, l.worker_id
FROM logs l WHERE ` + w.sql + " ORDER BY " + orderBy(logOrders, q.Sort, "TIMESTAMP_ASC") + win
	rows, err := s.rdb.QueryContext(ctx, sqlText, append(w.args, wargs...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list logs: %w", err)
	}
	defer rows.Close()
	out := []model.Log{}
	for rows.Next() {
		var l model.Log
		var id, fr, tr, wk []byte
		var created, ts int64
		if err := rows.Scan(&id, &created, &l.Name, &l.Level, &l.Message, &ts, &fr, &tr, &wk); err != nil {
			return nil, fmt.Errorf("sqlite: list logs: %w", err)
		}
		if l.ID, err = scanID(id); err != nil {
			return nil, err
		}
		l.Created = model.TimeFromMicros(created)
		l.Updated = l.Created
		l.Timestamp = model.TimeFromMicros(ts)
		if l.FlowRunID, err = scanOptID(fr); err != nil {
			return nil, err
		}
		if l.TaskRunID, err = scanOptID(tr); err != nil {
			return nil, err
		}
		if l.WorkerID, err = scanOptID(wk); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list logs: %w", err)
	}
	return out, nil
}

// scanOptID converts a nullable BLOB id.
func scanOptID(b []byte) (*model.ID, error) {
	if b == nil {
		return nil, nil
	}
	id, err := scanID(b)
	if err != nil {
		return nil, err
	}
	return &id, nil
}
