package postgres

import (
	"context"
	"fmt"

	"github.com/batonhq/baton/internal/model"
	"github.com/jackc/pgx/v5/pgtype"
)

// LogCreate stores logs with one multi-row insert. A log without an id
// gets a time-ordered one; Created/Updated default to now. A repeated id is
// dropped.
func (s *Store) LogCreate(ctx context.Context, ws model.ID, logs []model.Log) error {
	if len(logs) == 0 {
		return nil
	}
	t := s.now()
	n := len(logs)
	ids := make([][16]byte, n)
	created, ts := make([]int64, n), make([]int64, n)
	names, msgs := make([]string, n), make([]string, n)
	levels := make([]int32, n)
	frs, trs, wks := make([]pgtype.UUID, n), make([]pgtype.UUID, n), make([]pgtype.UUID, n)
	opt := func(id *model.ID) pgtype.UUID {
		if id == nil {
			return pgtype.UUID{}
		}
		return pgtype.UUID{Bytes: *id, Valid: true}
	}
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
		ids[i], created[i], ts[i] = [16]byte(l.ID), l.Created.Micros(), l.Timestamp.Micros()
		names[i], msgs[i], levels[i] = l.Name, l.Message, int32(l.Level)
		frs[i], trs[i], wks[i] = opt(l.FlowRunID), opt(l.TaskRunID), opt(l.WorkerID)
	}
	err := s.writeRC(ctx, func(tx *wtx) error {
		_, err := tx.tx.Exec(tx.ctx, `INSERT INTO logs (workspace_id, id, created, name, level, message, timestamp, flow_run_id, task_run_id, worker_id)
SELECT $1, u.id, u.created, u.name, u.level, u.message, u.ts, u.fr, u.tr, u.wk
FROM unnest($2::uuid[], $3::bigint[], $4::text[], $5::int[], $6::text[], $7::bigint[], $8::uuid[], $9::uuid[], $10::uuid[])
    AS u(id, created, name, level, message, ts, fr, tr, wk)
ON CONFLICT DO NOTHING`, idv(ws), ids, created, names, levels, msgs, ts, frs, trs, wks)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: create logs: %w", err)
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
	rows, err := s.query(ctx, sqlText, append(w.args, wargs...)...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list logs: %w", err)
	}
	defer rows.Close()
	out := []model.Log{}
	for rows.Next() {
		var l model.Log
		var id, fr, tr, wk []byte
		var created, ts int64
		if err := rows.Scan(&id, &created, &l.Name, &l.Level, &l.Message, &ts, &fr, &tr, &wk); err != nil {
			return nil, fmt.Errorf("postgres: list logs: %w", err)
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
		return nil, fmt.Errorf("postgres: list logs: %w", err)
	}
	return out, nil
}
