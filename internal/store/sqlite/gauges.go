package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Queries of OperatorGauges, shared in spirit with the PostgreSQL engine's.
const (
	gaugeLateSQL  = `SELECT count(*), min(next_scheduled_start_time) FROM flow_runs WHERE state_type = 'SCHEDULED' AND next_scheduled_start_time < ?`
	gaugeQueueSQL = `SELECT workspace_id, work_queue_ref, count(*) FROM flow_runs
WHERE state_type = 'SCHEDULED' AND next_scheduled_start_time <= ? AND work_queue_ref IS NOT NULL GROUP BY workspace_id, work_queue_ref`
	gaugeQueueNamesSQL = `SELECT q.workspace_id, q.id, p.name, q.name FROM work_queues q JOIN work_pools p ON p.id = q.work_pool_id`
	gaugeSlotsSQL      = `SELECT CASE WHEN name LIKE 'tag:%' THEN 'tag' WHEN name LIKE 'deployment:%' THEN 'deployment' ELSE 'global' END,
count(*), coalesce(sum("limit"), 0), coalesce(sum(active_slots), 0) FROM concurrency_limits WHERE active = 1 GROUP BY 1`
	gaugeLeasesSQL = `SELECT count(*), coalesce(sum(slots), 0), coalesce(sum(CASE WHEN expiration < ? THEN 1 ELSE 0 END), 0) FROM concurrency_leases`
)

// OperatorGauges implements store.GaugeReporter with a few aggregate reads
// (the run counts and the late and queue figures use indexes on
// state_type).
func (s *Store) OperatorGauges(ctx context.Context, now, lateCutoff time.Time) (store.Gauges, error) {
	g := store.Gauges{Slots: map[string]store.SlotGauge{}}
	var err error
	if g.FlowRunsByState, err = s.countByState(ctx, "flow_runs"); err != nil {
		return g, err
	}
	if g.TaskRunsByState, err = s.countByState(ctx, "task_runs"); err != nil {
		return g, err
	}
	var oldest *int64
	if err := s.rdb.QueryRowContext(ctx, gaugeLateSQL, lateCutoff.UnixMicro()).Scan(&g.LateRuns, &oldest); err != nil {
		return g, fmt.Errorf("sqlite: gauges: late runs: %w", err)
	}
	if oldest != nil {
		g.OldestDue = time.UnixMicro(*oldest)
	}
	names := map[[2]string][2]string{}
	rows, err := s.rdb.QueryContext(ctx, gaugeQueueNamesSQL)
	if err != nil {
		return g, fmt.Errorf("sqlite: gauges: queues: %w", err)
	}
	for rows.Next() {
		var ws, id []byte
		var pool, queue string
		if err := rows.Scan(&ws, &id, &pool, &queue); err != nil {
			rows.Close()
			return g, fmt.Errorf("sqlite: gauges: queues: %w", err)
		}
		qid, err := scanID(id)
		if err != nil {
			rows.Close()
			return g, err
		}
		names[[2]string{string(ws), qid.String()}] = [2]string{pool, queue}
	}
	rows.Close()
	rows, err = s.rdb.QueryContext(ctx, gaugeQueueSQL, now.UnixMicro())
	if err != nil {
		return g, fmt.Errorf("sqlite: gauges: queue depth: %w", err)
	}
	for rows.Next() {
		var ws []byte
		var ref string
		var n int64
		if err := rows.Scan(&ws, &ref, &n); err != nil {
			rows.Close()
			return g, fmt.Errorf("sqlite: gauges: queue depth: %w", err)
		}
		if pq, ok := names[[2]string{string(ws), ref}]; ok {
			g.Queues = append(g.Queues, store.QueueDepth{Pool: pq[0], Queue: pq[1], Ready: n})
		}
	}
	rows.Close()
	rows, err = s.rdb.QueryContext(ctx, gaugeSlotsSQL)
	if err != nil {
		return g, fmt.Errorf("sqlite: gauges: slots: %w", err)
	}
	for rows.Next() {
		var kind string
		var sg store.SlotGauge
		if err := rows.Scan(&kind, &sg.Limits, &sg.Slots, &sg.Active); err != nil {
			rows.Close()
			return g, fmt.Errorf("sqlite: gauges: slots: %w", err)
		}
		g.Slots[kind] = sg
	}
	rows.Close()
	if err := s.rdb.QueryRowContext(ctx, gaugeLeasesSQL, now.UnixMicro()).Scan(&g.Leases, &g.LeaseSlots, &g.LeasesExpired); err != nil {
		return g, fmt.Errorf("sqlite: gauges: leases: %w", err)
	}
	return g, nil
}

func (s *Store) countByState(ctx context.Context, table string) (map[model.StateType]int64, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT coalesce(state_type, ''), count(*) FROM `+table+` GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: gauges: %s by state: %w", table, err)
	}
	defer rows.Close()
	out := map[model.StateType]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("sqlite: gauges: %s by state: %w", table, err)
		}
		if st != "" {
			out[model.StateType(st)] = n
		}
	}
	return out, rows.Err()
}
