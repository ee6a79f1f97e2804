package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

const (
	poolCols     = `wp.body, wp.status, wp.is_paused`
	queueCols    = `q.body, q.last_polled, q.status, q.is_paused`
	workerCols   = `w.id, w.work_pool_id, w.name, w.created, w.last_heartbeat, w.heartbeat_interval, w.status`
	defaultQueue = "default"
)

// activeTypes are the states that occupy a concurrency slot of a pool or
// queue.
const activeTypesSQL = `('PENDING','RUNNING','CANCELLING')`

func scanPool(body []byte, status string, paused int) (model.WorkPool, error) {
	var p model.WorkPool
	if err := unmarshalBody(body, &p); err != nil {
		return p, err
	}
	p.IsPaused = paused != 0
	p.Status = status
	if p.IsPaused {
		p.Status = model.PoolPaused
	}
	if len(p.BaseJobTemplate) == 0 || string(p.BaseJobTemplate) == "null" {
		p.BaseJobTemplate = json.RawMessage("{}")
	}
	return p, nil
}

func scanQueue(body []byte, lastPolled sql.NullInt64, status string, paused int) (model.WorkQueue, error) {
	var q model.WorkQueue
	if err := unmarshalBody(body, &q); err != nil {
		return q, err
	}
	q.IsPaused = paused != 0
	q.Status = status
	if q.IsPaused {
		q.Status = model.PoolPaused
	}
	if lastPolled.Valid {
		t := model.TimeFromMicros(lastPolled.Int64)
		q.LastPolled = &t
	}
	return q, nil
}

type rowScanner interface{ Scan(...any) error }

func scanWorker(r rowScanner) (model.Worker, error) {
	var w model.Worker
	var id, pool []byte
	var created, hb int64
	var interval sql.NullInt64
	if err := r.Scan(&id, &pool, &w.Name, &created, &hb, &interval, &w.Status); err != nil {
		return w, err
	}
	var err error
	if w.ID, err = scanID(id); err != nil {
		return w, err
	}
	if w.WorkPoolID, err = scanID(pool); err != nil {
		return w, err
	}
	w.Created = model.TimeFromMicros(created)
	w.Updated = model.TimeFromMicros(hb)
	t := model.TimeFromMicros(hb)
	w.LastHeartbeatTime = &t
	if interval.Valid {
		n := int(interval.Int64)
		w.HeartbeatIntervalSeconds = &n
	}
	return w, nil
}

func writePool(tx *wtx, ws model.ID, p *model.WorkPool, insert bool) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if insert {
		_, err = tx.exec(`INSERT INTO work_pools (workspace_id, id, name, type, created, updated, is_paused, status, concurrency_limit, body)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, idv(ws), idv(p.ID), p.Name, p.Type, p.Created.Micros(), p.Updated.Micros(), boolInt(p.IsPaused),
			model.PoolNotReady, optInt(p.ConcurrencyLimit), body)
		if isUnique(err) {
			return fmt.Errorf("work pool %q: %w", p.Name, store.ErrConflict)
		}
		return err
	}
	_, err = tx.exec(`UPDATE work_pools SET updated = ?, is_paused = ?, concurrency_limit = ?, body = ? WHERE workspace_id = ? AND id = ?`,
		p.Updated.Micros(), boolInt(p.IsPaused), optInt(p.ConcurrencyLimit), body, idv(ws), idv(p.ID))
	return err
}

func writeQueue(tx *wtx, ws model.ID, q *model.WorkQueue, insert bool) error {
	if q.Description == nil {
		q.Description = new(string)
	}
	body, err := json.Marshal(q)
	if err != nil {
		return err
	}
	if insert {
		_, err = tx.exec(`INSERT INTO work_queues (workspace_id, id, work_pool_id, name, created, updated, priority, is_paused, concurrency_limit, status, body)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, idv(ws), idv(q.ID), optID(q.WorkPoolID), q.Name, q.Created.Micros(), q.Updated.Micros(), q.Priority,
			boolInt(q.IsPaused), optInt(q.ConcurrencyLimit), model.PoolNotReady, body)
		if isUnique(err) {
			return fmt.Errorf("work queue %q: %w", q.Name, store.ErrConflict)
		}
		return err
	}
	_, err = tx.exec(`UPDATE work_queues SET name = ?, updated = ?, priority = ?, is_paused = ?, concurrency_limit = ?, last_polled = coalesce(?, last_polled), body = ?
WHERE workspace_id = ? AND id = ?`, q.Name, q.Updated.Micros(), q.Priority, boolInt(q.IsPaused), optInt(q.ConcurrencyLimit), optTime(q.LastPolled), body, idv(ws), idv(q.ID))
	if isUnique(err) {
		return fmt.Errorf("work queue %q: %w", q.Name, store.ErrConflict)
	}
	return err
}

func readPoolTx(tx *wtx, ws model.ID, name string) (model.WorkPool, error) {
	var body []byte
	var status string
	var paused int
	err := tx.queryRow(`SELECT `+poolCols+` FROM work_pools wp WHERE wp.workspace_id = ? AND wp.name = ?`, idv(ws), name).Scan(&body, &status, &paused)
	if errors.Is(err, sql.ErrNoRows) {
		return model.WorkPool{}, notFound("work pool", name)
	}
	if err != nil {
		return model.WorkPool{}, err
	}
	return scanPool(body, status, paused)
}

func readQueueTx(tx *wtx, ws, poolID model.ID, name string) (model.WorkQueue, error) {
	var body []byte
	var lp sql.NullInt64
	var status string
	var paused int
	err := tx.queryRow(`SELECT `+queueCols+` FROM work_queues q WHERE q.workspace_id = ? AND q.work_pool_id = ? AND q.name = ?`,
		idv(ws), idv(poolID), name).Scan(&body, &lp, &status, &paused)
	if errors.Is(err, sql.ErrNoRows) {
		return model.WorkQueue{}, notFound("work queue", name)
	}
	if err != nil {
		return model.WorkQueue{}, err
	}
	return scanQueue(body, lp, status, paused)
}

// newQueueTx inserts a queue into pool p; a nil priority goes after the
// pool's last queue.
func newQueueTx(tx *wtx, ws model.ID, p *model.WorkPool, q model.WorkQueue, priority *int) (model.WorkQueue, error) {
	t := tx.s.now()
	if q.ID.IsNil() {
		q.ID = model.NewID()
	}
	q.Created, q.Updated = t, t
	pid, pname := p.ID, p.Name
	q.WorkPoolID, q.WorkPoolName = &pid, &pname
	if priority != nil {
		q.Priority = *priority
	} else {
		var maxp sql.NullInt64
		if err := tx.queryRow(`SELECT max(priority) FROM work_queues WHERE workspace_id = ? AND work_pool_id = ?`, idv(ws), idv(p.ID)).Scan(&maxp); err != nil {
			return q, err
		}
		q.Priority = int(maxp.Int64) + 1
	}
	q.Status = model.PoolNotReady
	return q, writeQueue(tx, ws, &q, true)
}

// WorkPoolCreate creates the pool and its default queue.
func (s *Store) WorkPoolCreate(ctx context.Context, ws model.ID, p model.WorkPool) (model.WorkPool, error) {
	err := s.write(ctx, func(tx *wtx) error {
		t := s.now()
		if p.ID.IsNil() {
			p.ID = model.NewID()
		}
		p.Created, p.Updated = t, t
		p.DefaultQueueID = model.NewID()
		p.Status = model.PoolNotReady
		if err := writePool(tx, ws, &p, true); err != nil {
			return err
		}
		one := 1
		_, err := newQueueTx(tx, ws, &p, model.WorkQueue{ID: p.DefaultQueueID, Name: defaultQueue, Description: strp("The work pool's default queue.")}, &one)
		return err
	})
	if err != nil {
		return model.WorkPool{}, fmt.Errorf("sqlite: create work pool: %w", err)
	}
	if p.IsPaused {
		p.Status = model.PoolPaused
	}
	return p, nil
}

func strp(s string) *string { return &s }

// WorkPoolGet returns the pool named name.
func (s *Store) WorkPoolGet(ctx context.Context, ws model.ID, name string) (model.WorkPool, error) {
	return s.poolBy(ctx, `SELECT `+poolCols+` FROM work_pools wp WHERE wp.workspace_id = ? AND wp.name = ?`, name, idv(ws), name)
}

// WorkPoolGetByID returns the pool with that id.
func (s *Store) WorkPoolGetByID(ctx context.Context, ws, id model.ID) (model.WorkPool, error) {
	return s.poolBy(ctx, `SELECT `+poolCols+` FROM work_pools wp WHERE wp.workspace_id = ? AND wp.id = ?`, id, idv(ws), idv(id))
}

func (s *Store) poolBy(ctx context.Context, q string, key any, args ...any) (model.WorkPool, error) {
	var body []byte
	var status string
	var paused int
	err := s.queryRow(ctx, q, args...).Scan(&body, &status, &paused)
	if errors.Is(err, sql.ErrNoRows) {
		return model.WorkPool{}, notFound("work pool", key)
	}
	if err != nil {
		return model.WorkPool{}, fmt.Errorf("sqlite: get work pool: %w", err)
	}
	return scanPool(body, status, paused)
}

func workPoolFilter(f *model.WorkPoolFilter) expr {
	if f == nil {
		return expr{}
	}
	return combine(f.Operator, idFilter("wp.id", f.ID), nameFilter("wp.name", f.Name), stringsFilter("wp.type", f.Type))
}

// WorkPoolList lists pools by name.
func (s *Store) WorkPoolList(ctx context.Context, ws model.ID, q model.WorkPoolQuery) ([]model.WorkPool, error) {
	w := combine("", expr{sql: "wp.workspace_id = ?", args: []any{idv(ws)}}, workPoolFilter(q.WorkPools))
	win, wargs := window(q.Limit, q.Offset)
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+poolCols+` FROM work_pools wp WHERE `+w.sql+` ORDER BY wp.name, wp.id`+win, append(w.args, wargs...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list work pools: %w", err)
	}
	defer rows.Close()
	out := []model.WorkPool{}
	for rows.Next() {
		var body []byte
		var status string
		var paused int
		if err := rows.Scan(&body, &status, &paused); err != nil {
			return nil, fmt.Errorf("sqlite: list work pools: %w", err)
		}
		p, err := scanPool(body, status, paused)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// WorkPoolCount counts pools matching q.
func (s *Store) WorkPoolCount(ctx context.Context, ws model.ID, q model.WorkPoolQuery) (int, error) {
	w := combine("", expr{sql: "wp.workspace_id = ?", args: []any{idv(ws)}}, workPoolFilter(q.WorkPools))
	return count(ctx, s.rdb, "SELECT count(*) FROM work_pools wp WHERE "+w.sql, w.args)
}

// WorkPoolUpdate applies fn to the pool named name.
func (s *Store) WorkPoolUpdate(ctx context.Context, ws model.ID, name string, fn func(*model.WorkPool) error) (model.WorkPool, error) {
	var p model.WorkPool
	err := s.write(ctx, func(tx *wtx) error {
		var err error
		if p, err = readPoolTx(tx, ws, name); err != nil {
			return err
		}
		if err := fn(&p); err != nil {
			return err
		}
		p.Updated = s.now()
		return writePool(tx, ws, &p, false)
	})
	if err != nil {
		return model.WorkPool{}, fmt.Errorf("sqlite: update work pool: %w", err)
	}
	return p, nil
}

// WorkPoolDelete removes the pool (queues and workers cascade).
func (s *Store) WorkPoolDelete(ctx context.Context, ws model.ID, name string) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM work_pools WHERE workspace_id = ? AND name = ?`, idv(ws), name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("work pool", name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete work pool: %w", err)
	}
	return nil
}

// WorkQueueCreate adds a queue to pool.
func (s *Store) WorkQueueCreate(ctx context.Context, ws model.ID, pool string, q model.WorkQueue) (model.WorkQueue, error) {
	err := s.write(ctx, func(tx *wtx) error {
		p, err := readPoolTx(tx, ws, pool)
		if err != nil {
			return err
		}
		var prio *int
		if q.Priority > 0 {
			prio = &q.Priority
		}
		q, err = newQueueTx(tx, ws, &p, q, prio)
		return err
	})
	if err != nil {
		return model.WorkQueue{}, fmt.Errorf("sqlite: create work queue: %w", err)
	}
	return q, nil
}

// WorkQueueGet returns a queue of pool by name.
func (s *Store) WorkQueueGet(ctx context.Context, ws model.ID, pool, name string) (model.WorkQueue, error) {
	return s.queueBy(ctx, `SELECT `+queueCols+` FROM work_queues q JOIN work_pools wp ON wp.id = q.work_pool_id
WHERE q.workspace_id = ? AND wp.name = ? AND q.name = ?`, pool+"/"+name, idv(ws), pool, name)
}

// WorkQueueGetByID returns a queue by id.
func (s *Store) WorkQueueGetByID(ctx context.Context, ws, id model.ID) (model.WorkQueue, error) {
	return s.queueBy(ctx, `SELECT `+queueCols+` FROM work_queues q WHERE q.workspace_id = ? AND q.id = ?`, id, idv(ws), idv(id))
}

func (s *Store) queueBy(ctx context.Context, q string, key any, args ...any) (model.WorkQueue, error) {
	var body []byte
	var lp sql.NullInt64
	var status string
	var paused int
	err := s.queryRow(ctx, q, args...).Scan(&body, &lp, &status, &paused)
	if errors.Is(err, sql.ErrNoRows) {
		return model.WorkQueue{}, notFound("work queue", key)
	}
	if err != nil {
		return model.WorkQueue{}, fmt.Errorf("sqlite: get work queue: %w", err)
	}
	return scanQueue(body, lp, status, paused)
}

// WorkQueueEnsure returns (creating if needed) the named queue of pool.
func (s *Store) WorkQueueEnsure(ctx context.Context, ws model.ID, pool, name string) (model.WorkQueue, error) {
	var q model.WorkQueue
	err := s.write(ctx, func(tx *wtx) error {
		p, err := readPoolTx(tx, ws, pool)
		if err != nil {
			return err
		}
		if name == "" {
			var body []byte
			var lp sql.NullInt64
			var status string
			var paused int
			err := tx.queryRow(`SELECT `+queueCols+` FROM work_queues q WHERE q.workspace_id = ? AND q.id = ?`, idv(ws), idv(p.DefaultQueueID)).
				Scan(&body, &lp, &status, &paused)
			if err == nil {
				q, err = scanQueue(body, lp, status, paused)
				return err
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			name = defaultQueue
		}
		q, err = readQueueTx(tx, ws, p.ID, name)
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		q, err = newQueueTx(tx, ws, &p, model.WorkQueue{Name: name, Description: new(string)}, nil)
		return err
	})
	if err != nil {
		return model.WorkQueue{}, fmt.Errorf("sqlite: ensure work queue: %w", err)
	}
	return q, nil
}

func workQueueFilter(f *model.WorkQueueFilter) expr {
	if f == nil {
		return expr{}
	}
	return combine(f.Operator, idFilter("q.id", f.ID), nameFilter("q.name", f.Name))
}

// WorkQueueList lists a pool's queues by priority.
func (s *Store) WorkQueueList(ctx context.Context, ws model.ID, pool string, qq model.WorkQueueQuery) ([]model.WorkQueue, error) {
	if _, err := s.WorkPoolGet(ctx, ws, pool); err != nil {
		return nil, err
	}
	w := combine("", expr{sql: "q.workspace_id = ? AND wp.name = ?", args: []any{idv(ws), pool}}, workQueueFilter(qq.WorkQueues))
	win, wargs := window(qq.Limit, qq.Offset)
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+queueCols+` FROM work_queues q JOIN work_pools wp ON wp.id = q.work_pool_id WHERE `+w.sql+
		` ORDER BY q.priority, q.name`+win, append(w.args, wargs...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list work queues: %w", err)
	}
	defer rows.Close()
	out := []model.WorkQueue{}
	for rows.Next() {
		var body []byte
		var lp sql.NullInt64
		var status string
		var paused int
		if err := rows.Scan(&body, &lp, &status, &paused); err != nil {
			return nil, fmt.Errorf("sqlite: list work queues: %w", err)
		}
		q, err := scanQueue(body, lp, status, paused)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// WorkQueueUpdate applies fn to a queue of pool.
func (s *Store) WorkQueueUpdate(ctx context.Context, ws model.ID, pool, name string, fn func(*model.WorkQueue) error) (model.WorkQueue, error) {
	var q model.WorkQueue
	err := s.write(ctx, func(tx *wtx) error {
		p, err := readPoolTx(tx, ws, pool)
		if err != nil {
			return err
		}
		if q, err = readQueueTx(tx, ws, p.ID, name); err != nil {
			return err
		}
		if err := fn(&q); err != nil {
			return err
		}
		q.Updated = s.now()
		return writeQueue(tx, ws, &q, false)
	})
	if err != nil {
		return model.WorkQueue{}, fmt.Errorf("sqlite: update work queue: %w", err)
	}
	return q, nil
}

// WorkQueueDelete removes a non-default queue.
func (s *Store) WorkQueueDelete(ctx context.Context, ws model.ID, pool, name string) error {
	err := s.write(ctx, func(tx *wtx) error {
		p, err := readPoolTx(tx, ws, pool)
		if err != nil {
			return err
		}
		q, err := readQueueTx(tx, ws, p.ID, name)
		if err != nil {
			return err
		}
		if q.ID == p.DefaultQueueID {
			return fmt.Errorf("the default queue of work pool %q cannot be deleted: %w", pool, store.ErrConflict)
		}
		_, err = tx.exec(`DELETE FROM work_queues WHERE workspace_id = ? AND id = ?`, idv(ws), idv(q.ID))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete work queue: %w", err)
	}
	return nil
}

// WorkerHeartbeat upserts the worker as ONLINE and the pool as READY.
func (s *Store) WorkerHeartbeat(ctx context.Context, ws model.ID, pool, name string, interval *int, at time.Time) (model.Worker, error) {
	var w model.Worker
	err := s.write(ctx, func(tx *wtx) error {
		p, err := readPoolTx(tx, ws, pool)
		if err != nil {
			return err
		}
		t := model.NewTime(at).Micros()
		if _, err := tx.exec(`INSERT INTO workers (workspace_id, id, work_pool_id, name, created, last_heartbeat, heartbeat_interval, status)
VALUES (?, ?, ?, ?, ?, ?, ?, 'ONLINE')
ON CONFLICT (work_pool_id, name) DO UPDATE SET last_heartbeat = excluded.last_heartbeat,
    heartbeat_interval = coalesce(excluded.heartbeat_interval, heartbeat_interval), status = 'ONLINE'`,
			idv(ws), idv(model.NewID()), idv(p.ID), name, t, t, optInt(interval)); err != nil {
			return err
		}
		if _, err := tx.exec(`UPDATE work_pools SET status = 'READY' WHERE id = ? AND status != 'READY'`, idv(p.ID)); err != nil {
			return err
		}
		w, err = scanWorker(tx.queryRow(`SELECT `+workerCols+` FROM workers w WHERE w.work_pool_id = ? AND w.name = ?`, idv(p.ID), name))
		return err
	})
	if err != nil {
		return model.Worker{}, fmt.Errorf("sqlite: worker heartbeat: %w", err)
	}
	return w, nil
}

// WorkerList lists a pool's workers, most recent heartbeat first.
func (s *Store) WorkerList(ctx context.Context, ws model.ID, pool string, q model.WorkerQuery) ([]model.Worker, error) {
	p, err := s.WorkPoolGet(ctx, ws, pool)
	if err != nil {
		return nil, err
	}
	parts := []expr{{sql: "w.workspace_id = ? AND w.work_pool_id = ?", args: []any{idv(ws), idv(p.ID)}}}
	if f := q.Workers; f != nil {
		parts = append(parts, combine(f.Operator, timeFilter("w.last_heartbeat", f.LastHeartbeatTime), stringsFilter("w.status", f.Status)))
	}
	w := combine("", parts...)
	win, wargs := window(q.Limit, q.Offset)
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+workerCols+` FROM workers w WHERE `+w.sql+` ORDER BY w.last_heartbeat DESC, w.id`+win, append(w.args, wargs...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list workers: %w", err)
	}
	defer rows.Close()
	out := []model.Worker{}
	for rows.Next() {
		wk, err := scanWorker(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list workers: %w", err)
		}
		out = append(out, wk)
	}
	return out, rows.Err()
}

// WorkerDelete removes a worker of pool.
func (s *Store) WorkerDelete(ctx context.Context, ws model.ID, pool, name string) error {
	err := s.write(ctx, func(tx *wtx) error {
		p, err := readPoolTx(tx, ws, pool)
		if err != nil {
			return err
		}
		res, err := tx.exec(`DELETE FROM workers WHERE workspace_id = ? AND work_pool_id = ? AND name = ?`, idv(ws), idv(p.ID), name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("worker", name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete worker: %w", err)
	}
	return nil
}

// activeIn counts slot-holding runs in the given queues.
func (s *Store) activeIn(ctx context.Context, ws model.ID, queueIDs []string) (int, error) {
	if len(queueIDs) == 0 {
		return 0, nil
	}
	args := []any{idv(ws)}
	for _, q := range queueIDs {
		args = append(args, q)
	}
	return count(ctx, s.rdb, `SELECT count(*) FROM flow_runs WHERE workspace_id = ? AND work_queue_ref IN (`+placeholders(len(queueIDs))+
		`) AND state_type IN `+activeTypesSQL, args)
}

// WorkPoolScheduledRuns is the dispatch query (see store.WorkPools).
func (s *Store) WorkPoolScheduledRuns(ctx context.Context, ws model.ID, pq store.PoolRunsQuery) ([]model.WorkerFlowRun, error) {
	p, err := s.WorkPoolGet(ctx, ws, pq.Pool)
	if err != nil {
		return nil, err
	}
	all, err := s.WorkQueueList(ctx, ws, pq.Pool, model.WorkQueueQuery{Limit: 1000})
	if err != nil {
		return nil, err
	}
	var polled []model.WorkQueue
	for _, q := range all {
		if len(pq.QueueNames) == 0 || contains(pq.QueueNames, q.Name) {
			polled = append(polled, q)
		}
	}
	if err := s.markQueuesPolled(ctx, ws, polled, pq.Now, pq.BecameReady); err != nil {
		return nil, err
	}
	out := []model.WorkerFlowRun{}
	admit := s.DeploymentAdmitter()
	if p.IsPaused {
		return out, nil
	}
	limit := pq.Limit
	if limit <= 0 {
		limit = 100
	}
	if p.ConcurrencyLimit != nil {
		ids := make([]string, len(all))
		for i, q := range all {
			ids[i] = q.ID.String()
		}
		n, err := s.activeIn(ctx, ws, ids)
		if err != nil {
			return nil, err
		}
		limit = min(limit, *p.ConcurrencyLimit-n)
	}
	for _, q := range polled {
		if limit <= 0 {
			break
		}
		if q.IsPaused {
			continue
		}
		room := limit
		if q.ConcurrencyLimit != nil {
			n, err := s.activeIn(ctx, ws, []string{q.ID.String()})
			if err != nil {
				return nil, err
			}
			room = min(room, *q.ConcurrencyLimit-n)
		}
		if room <= 0 {
			continue
		}
		parts := []expr{{sql: `fr.workspace_id = ? AND fr.work_queue_ref = ? AND fr.state_type = 'SCHEDULED'
  AND coalesce(json_extract(fr.body, '$.empirical_policy.retry_type'), '') != 'in_process'`, args: []any{idv(ws), q.ID.String()}}}
		if pq.Before != nil {
			parts = append(parts, expr{sql: "fr.next_scheduled_start_time <= ?", args: []any{model.NewTime(*pq.Before).Micros()}})
		}
		if pq.After != nil {
			parts = append(parts, expr{sql: "fr.next_scheduled_start_time >= ?", args: []any{model.NewTime(*pq.After).Micros()}})
		}
		w := combine("", parts...)
		// Fetch a few more than there is room for: runs of deployments at
		// their concurrency limit are skipped.
		runs, err := listBodies[model.FlowRun](ctx, s.rdb, `SELECT fr.body FROM flow_runs fr WHERE `+w.sql+
			` ORDER BY fr.next_scheduled_start_time, fr.id LIMIT ?`, append(w.args, room+50))
		if err != nil {
			return nil, err
		}
		taken := 0
		for _, r := range runs {
			if taken >= room {
				break
			}
			ok, err := admit(ctx, ws, r)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			out = append(out, model.WorkerFlowRun{WorkPoolID: p.ID, WorkQueueID: q.ID, FlowRun: r})
			taken++
		}
		limit -= taken
	}
	return out, nil
}

// DeploymentAdmitRuns filters runs through a fresh DeploymentAdmitter.
func (s *Store) DeploymentAdmitRuns(ctx context.Context, ws model.ID, runs []model.FlowRun) ([]model.FlowRun, error) {
	admit := s.DeploymentAdmitter()
	out := make([]model.FlowRun, 0, len(runs))
	for _, r := range runs {
		ok, err := admit(ctx, ws, r)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// DeploymentAdmitter returns a function that admits scheduled runs for
// dispatch while their deployment's global concurrency limit has free
// slots: a deployment with a limit gets at most its free slots' worth of
// runs handed out per call (none while the limit is inactive, since
// orchestration cannot take a slot of an inactive limit either). The slots
// themselves are taken when a run moves to PENDING (orchestration), so this
// only spares workers runs they would see rejected into
// AwaitingConcurrencySlot.
func (s *Store) DeploymentAdmitter() func(ctx context.Context, ws model.ID, r model.FlowRun) (bool, error) {
	room := map[model.ID]int{}
	return func(ctx context.Context, ws model.ID, r model.FlowRun) (bool, error) {
		if r.DeploymentID == nil {
			return true, nil
		}
		id := *r.DeploymentID
		left, seen := room[id]
		if !seen {
			var limit, slots int
			var active bool
			err := s.queryRow(ctx, `SELECT "limit", active_slots, active FROM concurrency_limits WHERE workspace_id = ? AND id = ?`,
				idv(ws), idv(id)).Scan(&limit, &slots, &active)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				left = -1 // no limit
			case err != nil:
				return false, fmt.Errorf("sqlite: deployment limit: %w", err)
			case !active:
				left = 0
			default:
				left = max(limit-slots, 0)
			}
			room[id] = left
		}
		if left < 0 {
			return true, nil
		}
		if left == 0 {
			return false, nil
		}
		room[id] = left - 1
		return true, nil
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// pollStampEvery is how stale last_polled may get before a poll rewrites
// it, so a long-polling worker does not turn every check into a write.
const pollStampEvery = 5 * time.Second

// markQueuesPolled stamps last_polled/READY on the queues and their
// deployments when the stamp is stale, and reports in became (when non-nil)
// which of them were NOT_READY.
func (s *Store) markQueuesPolled(ctx context.Context, ws model.ID, qs []model.WorkQueue, at time.Time, became *store.ReadyChanges) error {
	if became != nil {
		*became = store.ReadyChanges{}
	}
	if at.IsZero() {
		return nil
	}
	var stale []model.ID
	for _, q := range qs {
		if q.Status != model.PoolReady && !q.IsPaused || q.LastPolled == nil || at.Sub(q.LastPolled.Time) > pollStampEvery {
			stale = append(stale, q.ID)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *wtx) error {
		args := []any{model.NewTime(at).Micros(), idv(ws)}
		for _, id := range stale {
			args = append(args, idv(id))
		}
		in := placeholders(len(stale))
		if became != nil {
			// A retried write runs this again.
			*became = store.ReadyChanges{}
			var err error
			if became.Queues, err = readIDs(tx.Query(`SELECT id FROM work_queues WHERE workspace_id = ? AND status = 'NOT_READY' AND id IN (`+in+`)`, args[1:]...)); err != nil {
				return err
			}
			if became.Deployments, err = readIDs(tx.Query(`SELECT id FROM deployments WHERE workspace_id = ? AND status = 'NOT_READY' AND work_queue_id IN (`+in+`)`, args[1:]...)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(`UPDATE work_queues SET last_polled = ?, status = 'READY' WHERE workspace_id = ? AND id IN (`+in+`)`, args...); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE deployments SET last_polled = ?, status = 'READY' WHERE workspace_id = ? AND work_queue_id IN (`+in+`)`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: mark queues polled: %w", err)
	}
	return nil
}

// WorkPoolsSweep is the foreman's round.
func (s *Store) WorkPoolsSweep(ctx context.Context, at time.Time, pollWindow time.Duration) (store.PoolSweep, error) {
	var res store.PoolSweep
	t := model.NewTime(at).Micros()
	cutoff := model.NewTime(at.Add(-pollWindow)).Micros()
	err := s.write(ctx, func(tx *wtx) error {
		n := func(r sql.Result, err error) (int, error) {
			if err != nil {
				return 0, err
			}
			k, _ := r.RowsAffected()
			return int(k), nil
		}
		var err error
		if res.WorkersOffline, err = n(tx.exec(`UPDATE workers SET status = 'OFFLINE'
WHERE status = 'ONLINE' AND last_heartbeat + 3 * coalesce(heartbeat_interval, 30) * 1000000 < ?`, t)); err != nil {
			return err
		}
		res.Changed = nil // a retried group runs this again
		// Each change is returned for the event it makes.
		changed := func(kind, q string, args ...any) (int, error) {
			rows, err := tx.Query(q, args...)
			if err != nil {
				return 0, err
			}
			defer rows.Close()
			k := 0
			for rows.Next() {
				var ws, id, extra []byte
				var name, typ sql.NullString
				var c store.StatusChange
				switch kind {
				case "work-pool":
					err = rows.Scan(&ws, &id, &name, &typ)
				case "work-queue":
					err = rows.Scan(&ws, &id, &name, &extra)
				default:
					err = rows.Scan(&ws, &id, &name)
				}
				if err != nil {
					return k, err
				}
				c.Workspace, _ = scanID(ws)
				c.ID, _ = scanID(id)
				c.Kind, c.Name, c.PoolType, c.Status = kind, name.String, typ.String, "NOT_READY"
				if extra != nil {
					if pid, err := scanID(extra); err == nil {
						c.PoolID = &pid
					}
				}
				res.Changed = append(res.Changed, c)
				k++
			}
			return k, rows.Err()
		}
		if res.PoolsNotReady, err = changed("work-pool", `UPDATE work_pools SET status = 'NOT_READY' WHERE status = 'READY'
AND NOT EXISTS (SELECT 1 FROM workers w WHERE w.work_pool_id = work_pools.id AND w.status = 'ONLINE')
RETURNING workspace_id, id, name, type`); err != nil {
			return err
		}
		if res.QueuesNotReady, err = changed("work-queue", `UPDATE work_queues SET status = 'NOT_READY' WHERE status = 'READY'
AND (last_polled IS NULL OR last_polled < ?) RETURNING workspace_id, id, name, work_pool_id`, cutoff); err != nil {
			return err
		}
		res.DeploymentsNotReady, err = changed("deployment", `UPDATE deployments SET status = 'NOT_READY' WHERE status = 'READY'
AND (last_polled IS NULL OR last_polled < ?) RETURNING workspace_id, id, name`, cutoff)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("sqlite: sweep work pools: %w", err)
	}
	return res, nil
}

// FlowRunSweep lists runs across workspaces with their liveness signals.
func (s *Store) FlowRunSweep(ctx context.Context, q store.RunSweepQuery) ([]store.SweptRun, error) {
	parts := []expr{in("fr.state_type", q.StateTypes, stateArg, false)}
	if q.StateNames != nil {
		parts = append(parts, in("fr.state_name", q.StateNames, strArg, false))
	}
	if q.NextScheduledBefore != nil {
		parts = append(parts, expr{sql: "fr.next_scheduled_start_time <= ?", args: []any{model.NewTime(*q.NextScheduledBefore).Micros()}})
	}
	if q.StateBefore != nil {
		parts = append(parts, expr{sql: "fr.state_timestamp <= ?", args: []any{model.NewTime(*q.StateBefore).Micros()}})
	}
	if q.StateAfter != nil {
		parts = append(parts, expr{sql: "fr.state_timestamp >= ?", args: []any{model.NewTime(*q.StateAfter).Micros()}})
	}
	w := combine("", parts...)
	if w.empty() {
		w = expr{sql: "1"}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 500
	}
	text := `SELECT fr.workspace_id, fr.body,
  (SELECT e.occurred FROM events e WHERE e.workspace_id = fr.workspace_id
     AND e.resource_id = 'prefect.flow-run.' || json_extract(fr.body, '$.id') AND e.event = 'prefect.flow-run.heartbeat'
     ORDER BY e.occurred DESC LIMIT 1),
  (SELECT e.occurred FROM events e WHERE e.workspace_id = fr.workspace_id
     AND e.resource_id = 'prefect.flow-run.' || json_extract(fr.body, '$.id') AND e.event = 'prefect.flow-run.heartbeat'
     ORDER BY e.occurred DESC LIMIT 1 OFFSET 1),
  json_extract(fr.body, '$.labels."prefect.worker.name"'),
  coalesce(json_extract(fr.body, '$.labels."prefect.work-pool.id"'), json_extract(fr.body, '$.work_pool_id'))
FROM flow_runs fr WHERE ` + w.sql + ` ORDER BY fr.state_timestamp LIMIT ?`
	rows, err := s.rdb.QueryContext(ctx, text, append(w.args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: sweep flow runs: %w", err)
	}
	type pending struct {
		worker, pool string
	}
	var out []store.SweptRun
	var lookups []pending
	for rows.Next() {
		var wsb, body []byte
		var hb, prev sql.NullInt64
		var wname, wpool sql.NullString
		if err := rows.Scan(&wsb, &body, &hb, &prev, &wname, &wpool); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: sweep flow runs: %w", err)
		}
		var sr store.SweptRun
		if sr.Workspace, err = scanID(wsb); err != nil {
			rows.Close()
			return nil, err
		}
		if err := unmarshalBody(body, &sr.Run); err != nil {
			rows.Close()
			return nil, err
		}
		if hb.Valid {
			t := time.UnixMicro(hb.Int64).UTC()
			sr.LastRunHeartbeat = &t
		}
		if prev.Valid {
			t := time.UnixMicro(prev.Int64).UTC()
			sr.PrevRunHeartbeat = &t
		}
		out = append(out, sr)
		lookups = append(lookups, pending{strings.TrimSpace(wname.String), wpool.String})
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("sqlite: sweep flow runs: %w", err)
	}
	for i, l := range lookups {
		if l.worker == "" || l.pool == "" {
			continue
		}
		pid, err := model.ParseID(l.pool)
		if err != nil {
			continue
		}
		wk, err := scanWorker(s.queryRow(ctx, `SELECT `+workerCols+` FROM workers w WHERE w.work_pool_id = ? AND w.name = ?`, idv(pid), l.worker))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out[i].WorkerGone = true
		case err != nil:
			return nil, fmt.Errorf("sqlite: sweep flow runs: worker: %w", err)
		default:
			out[i].Worker = &wk
		}
	}
	return out, nil
}

// readIDs reads a one-column result of ids.
func readIDs(rows *sql.Rows, err error) ([]model.ID, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.ID
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		id, err := scanID(b)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
