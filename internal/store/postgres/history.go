package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// FlowRunHistory groups matching runs by interval and state in one indexed
// query (expected_start_time range), so the dashboard's chart stays fast
// with many runs.
func (s *Store) FlowRunHistory(ctx context.Context, ws model.ID, q model.RunQuery, start, end time.Time, every time.Duration) ([]model.HistoryInterval, error) {
	if every <= 0 || !end.After(start) {
		return nil, fmt.Errorf("flow run history: empty range or interval")
	}
	return s.runHistory(ctx, "flow_runs fr", "fr.", flowRunsWhere(ws, q), start, end, every)
}

// TaskRunHistory is FlowRunHistory for task runs (bucketed by expected
// start time, filtered by q as task-run listings are).
func (s *Store) TaskRunHistory(ctx context.Context, ws model.ID, q model.RunQuery, start, end time.Time, every time.Duration) ([]model.HistoryInterval, error) {
	if every <= 0 || !end.After(start) {
		return nil, fmt.Errorf("task run history: empty range or interval")
	}
	return s.runHistory(ctx, "task_runs tr", "tr.", taskRunsWhere(ws, q), start, end, every)
}

// runHistory counts the runs of from (aliased a) matching w by state in
// consecutive intervals, with their summed run time and lateness.
func (s *Store) runHistory(ctx context.Context, from, a string, w expr, start, end time.Time, every time.Duration) ([]model.HistoryInterval, error) {
	startUS, endUS, stepUS := start.UnixMicro(), end.UnixMicro(), every.Microseconds()
	nowUS := time.Now().UnixMicro()
	cols := strings.ReplaceAll(`SELECT (fr.expected_start_time - ?) / ? AS bucket, fr.state_type, coalesce(fr.state_name, ''), count(*),
		coalesce(sum(CASE WHEN fr.start_time IS NOT NULL THEN coalesce(fr.end_time, ?) - fr.start_time ELSE 0 END), 0)::bigint,
		coalesce(sum(CASE
			WHEN fr.start_time IS NOT NULL AND fr.start_time > fr.expected_start_time THEN fr.start_time - fr.expected_start_time
			WHEN fr.start_time IS NULL AND fr.state_type = 'SCHEDULED' AND ? > fr.expected_start_time THEN ? - fr.expected_start_time
			ELSE 0 END), 0)::bigint`, "fr.", a)
	cond := strings.ReplaceAll(` AND fr.expected_start_time >= ? AND fr.expected_start_time < ? AND fr.state_type IS NOT NULL
		GROUP BY bucket, fr.state_type, fr.state_name ORDER BY bucket`, "fr.", a)
	sqlText := cols + " FROM " + from + " WHERE " + w.sql + cond
	args := append([]any{startUS, stepUS, nowUS, nowUS, nowUS}, w.args...)
	args = append(args, startUS, endUS)
	rows, err := s.query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("%s history: %w", from, err)
	}
	defer rows.Close()
	n := int((endUS - startUS + stepUS - 1) / stepUS)
	out := make([]model.HistoryInterval, n)
	for i := range out {
		is := startUS + int64(i)*stepUS
		ie := min(is+stepUS, endUS)
		out[i] = model.HistoryInterval{IntervalStart: model.TimeFromMicros(is), IntervalEnd: model.TimeFromMicros(ie), States: []model.HistoryState{}}
	}
	for rows.Next() {
		var bucket, cnt, runUS, lateUS int64
		var st model.HistoryState
		var typ string
		if err := rows.Scan(&bucket, &typ, &st.StateName, &cnt, &runUS, &lateUS); err != nil {
			return nil, fmt.Errorf("%s history: %w", from, err)
		}
		if bucket < 0 || int(bucket) >= n {
			continue
		}
		st.StateType = model.StateType(typ)
		st.CountRuns = int(cnt)
		st.SumEstimatedRunTime = model.Duration(float64(runUS) / 1e6)
		st.SumEstimatedLateness = model.Duration(float64(lateUS) / 1e6)
		out[bucket].States = append(out[bucket].States, st)
	}
	return out, rows.Err()
}

// FlowRunLateness averages, in seconds, how late the matching runs started
// (or, for runs not started and not finished, how late they are at now); nil
// when no run matches.
func (s *Store) FlowRunLateness(ctx context.Context, ws model.ID, q model.RunQuery, now time.Time) (*float64, error) {
	w := flowRunsWhere(ws, q)
	nowUS := now.UnixMicro()
	text := `SELECT avg(CASE
		WHEN fr.start_time IS NOT NULL AND fr.start_time > fr.expected_start_time THEN fr.start_time - fr.expected_start_time
		WHEN fr.start_time IS NULL AND coalesce(fr.state_type, '') NOT IN ('COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED')
			AND fr.expected_start_time < ? THEN ? - fr.expected_start_time
		ELSE 0 END)::float8 FROM flow_runs fr WHERE ` + w.sql
	var avg sql.NullFloat64
	if err := s.queryRow(ctx, text, append([]any{nowUS, nowUS}, w.args...)...).Scan(&avg); err != nil {
		return nil, fmt.Errorf("postgres: flow run lateness: %w", err)
	}
	if !avg.Valid {
		return nil, nil
	}
	secs := avg.Float64 / 1e6
	return &secs, nil
}

// ObservedStates groups both state histories by type and name. The type
// and name live in each state's JSON body.
func (s *Store) ObservedStates(ctx context.Context, ws model.ID, prefix string, byLastSeen bool, limit int) ([]model.ObservedState, error) {
	q := `SELECT typ, name, min(first), max(last) FROM (
		SELECT body ->> 'type' AS typ, body ->> 'name' AS name, min(timestamp) AS first, max(timestamp) AS last
			FROM flow_run_states WHERE workspace_id = ? GROUP BY 1, 2
		UNION ALL
		SELECT body ->> 'type', body ->> 'name', min(timestamp), max(timestamp)
			FROM task_run_states WHERE workspace_id = ? GROUP BY 1, 2
	) AS o WHERE typ IS NOT NULL AND name IS NOT NULL`
	args := []any{idv(ws), idv(ws)}
	if prefix != "" {
		q += ` AND (lower(left(typ, ?::int)) = lower(?::text) OR lower(left(name, ?::int)) = lower(?::text))`
		n := len([]rune(prefix))
		args = append(args, n, prefix, n, prefix)
	}
	q += ` GROUP BY typ, name ORDER BY `
	if byLastSeen {
		q += `max(last) DESC, `
	}
	q += `typ, name LIMIT ?`
	args = append(args, limit)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: observed states: %w", err)
	}
	defer rows.Close()
	out := []model.ObservedState{}
	for rows.Next() {
		var o model.ObservedState
		var first, last int64
		if err := rows.Scan(&o.StateType, &o.StateName, &first, &last); err != nil {
			return nil, fmt.Errorf("postgres: observed states: %w", err)
		}
		o.FirstSeen, o.LastSeen = model.TimeFromMicros(first), model.TimeFromMicros(last)
		out = append(out, o)
	}
	return out, rows.Err()
}
