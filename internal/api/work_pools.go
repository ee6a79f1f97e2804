package api

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

func workPoolRoutes() []route {
	pool := param{name: "name", in: "path", typ: "string", required: true}
	poolOf := param{name: "work_pool_name", in: "path", typ: "string", required: true}
	name := param{name: "name", in: "path", typ: "string", required: true}
	const tag = "Work Pools"
	return []route{
		op(wsWrite, "POST", "/work_pools", tag, "Create a work pool (with its default queue)", 201, createWorkPool),
		op(wsRead, "GET", "/work_pools/{name}", tag, "Read a work pool", 200, func(c *call, _ *noBody) (model.WorkPool, error) {
			n := c.r.PathValue("name")
			p, err := c.srv.cfg.Store.WorkPoolGet(c.ctx, c.ws, n)
			return p, notFoundAs(err, "work pool", n)
		}, pool),
		op(wsWrite, "PATCH", "/work_pools/{name}", tag, "Update a work pool", 204, updateWorkPool, pool),
		op(wsWrite, "DELETE", "/work_pools/{name}", tag, "Delete a work pool with its queues and workers", 204, func(c *call, _ *noBody) (noContent, error) {
			n := c.r.PathValue("name")
			p, err := c.srv.cfg.Store.WorkPoolGet(c.ctx, c.ws, n)
			if err != nil {
				return noContent{}, notFoundAs(err, "work pool", n)
			}
			if err := c.srv.cfg.Store.WorkPoolDelete(c.ctx, c.ws, n); err != nil {
				return noContent{}, notFoundAs(err, "work pool", n)
			}
			c.emit(workPoolEvent("deleted", p, nil))
			return noContent{}, nil
		}, pool),
		optionalBody(op(wsRead, "POST", "/work_pools/filter", tag, "Query work pools", 200, func(c *call, q *model.WorkPoolQuery) ([]model.WorkPool, error) {
			if err := checkWindow(&q.Offset, &q.Limit); err != nil {
				return nil, err
			}
			return c.srv.cfg.Store.WorkPoolList(c.ctx, c.ws, *q)
		})),
		optionalBody(op(wsRead, "POST", "/work_pools/count", tag, "Count work pools", 200, func(c *call, q *model.WorkPoolQuery) (int, error) {
			return c.srv.cfg.Store.WorkPoolCount(c.ctx, c.ws, *q)
		})),
		longPolling(optionalBody(op(wsWrite, "POST", "/work_pools/{name}/get_scheduled_flow_runs", tag,
			"Runs a pool's workers may start now (Baton: wait_seconds long-polls until one is due)", 200, poolScheduledRuns, pool))),
		op(wsWrite, "POST", "/work_pools/{work_pool_name}/queues", tag, "Create a work queue in a pool", 201, createWorkQueue, poolOf),
		op(wsRead, "GET", "/work_pools/{work_pool_name}/queues/{name}", tag, "Read a work queue", 200, func(c *call, _ *noBody) (model.WorkQueue, error) {
			p, n := c.r.PathValue("work_pool_name"), c.r.PathValue("name")
			q, err := c.srv.cfg.Store.WorkQueueGet(c.ctx, c.ws, p, n)
			return q, notFoundAs(err, "work queue", p+"/"+n)
		}, poolOf, name),
		op(wsWrite, "PATCH", "/work_pools/{work_pool_name}/queues/{name}", tag, "Update a work queue", 204, updateWorkQueue, poolOf, name),
		op(wsWrite, "DELETE", "/work_pools/{work_pool_name}/queues/{name}", tag, "Delete a work queue (not the default one)", 204, func(c *call, _ *noBody) (noContent, error) {
			p, n := c.r.PathValue("work_pool_name"), c.r.PathValue("name")
			q, err := c.srv.cfg.Store.WorkQueueGet(c.ctx, c.ws, p, n)
			if err != nil {
				return noContent{}, notFoundAs(err, "work queue", p+"/"+n)
			}
			deleted := c.workQueueEvent("deleted", q, nil)
			if err := c.srv.cfg.Store.WorkQueueDelete(c.ctx, c.ws, p, n); err != nil {
				return noContent{}, notFoundAs(err, "work queue", p+"/"+n)
			}
			c.emit(deleted)
			return noContent{}, nil
		}, poolOf, name),
		optionalBody(op(wsRead, "POST", "/work_pools/{work_pool_name}/queues/filter", tag, "Query a pool's work queues", 200, func(c *call, q *model.WorkQueueQuery) ([]model.WorkQueue, error) {
			if err := checkWindow(&q.Offset, &q.Limit); err != nil {
				return nil, err
			}
			p := c.r.PathValue("work_pool_name")
			res, err := c.srv.cfg.Store.WorkQueueList(c.ctx, c.ws, p, *q)
			return res, notFoundAs(err, "work pool", p)
		}, poolOf)),
		op(wsWrite, "POST", "/work_pools/{work_pool_name}/workers/heartbeat", tag, "Record a worker heartbeat (the worker is ONLINE, the pool READY)", 204,
			func(c *call, b *model.WorkerHeartbeat) (noContent, error) {
				p := c.r.PathValue("work_pool_name")
				if strings.TrimSpace(b.Name) == "" {
					return noContent{}, errorf(http.StatusUnprocessableEntity, "field \"name\" must not be empty")
				}
				if b.HeartbeatIntervalSeconds != nil && *b.HeartbeatIntervalSeconds <= 0 {
					return noContent{}, errorf(http.StatusUnprocessableEntity, "field \"heartbeat_interval_seconds\" must be > 0")
				}
				// Prefect reads the pool's status before the heartbeat: a
				// NOT_READY pool becomes READY, with its event.
				before, err := c.srv.cfg.Store.WorkPoolGet(c.ctx, c.ws, p)
				if err != nil {
					return noContent{}, notFoundAs(err, "work pool", p)
				}
				_, err = c.srv.cfg.Store.WorkerHeartbeat(c.ctx, c.ws, p, b.Name, b.HeartbeatIntervalSeconds, c.srv.now())
				if err == nil && before.Status == model.PoolNotReady && !before.IsPaused {
					after := before
					after.Status = model.PoolReady
					c.emit(workPoolStatusEvent(after))
				}
				return noContent{}, notFoundAs(err, "work pool", p)
			}, poolOf),
		optionalBody(op(wsRead, "POST", "/work_pools/{work_pool_name}/workers/filter", tag, "Query a pool's workers", 200, func(c *call, q *model.WorkerQuery) ([]model.Worker, error) {
			if err := checkWindow(&q.Offset, &q.Limit); err != nil {
				return nil, err
			}
			p := c.r.PathValue("work_pool_name")
			res, err := c.srv.cfg.Store.WorkerList(c.ctx, c.ws, p, *q)
			return res, notFoundAs(err, "work pool", p)
		}, poolOf)),
		op(wsWrite, "DELETE", "/work_pools/{work_pool_name}/workers/{name}", tag, "Delete a worker", 204, func(c *call, _ *noBody) (noContent, error) {
			p, n := c.r.PathValue("work_pool_name"), c.r.PathValue("name")
			return noContent{}, notFoundAs(c.srv.cfg.Store.WorkerDelete(c.ctx, c.ws, p, n), "worker", p+"/"+n)
		}, poolOf, name),
		// The client reads a run's queue by id to label its events (and
		// drops every event of the run when this fails).
		op(wsRead, "GET", "/work_queues/{id}", "Work Queues", "Read a work queue by id", 200, func(c *call, _ *noBody) (model.WorkQueue, error) {
			id := c.id("id")
			q, err := c.srv.cfg.Store.WorkQueueGetByID(c.ctx, c.ws, id)
			return q, notFoundAs(err, "work queue", id)
		}, param{name: "id", in: "path", typ: "uuid", required: true}),
		// Prefect's worker channel is not implemented: a 404 makes the
		// client disable it for good and use the REST endpoints above.
		{access: wsRead, status: http.StatusNotFound, method: "GET", path: "/work_pools/{name}/workers/connect", tag: tag, summary: "Worker channel websocket: not implemented (404, REST polling is used)",
			raw: func(w http.ResponseWriter, r *http.Request) {
				writeError(w, errorf(http.StatusNotFound, "the worker channel is not available on this server; use REST polling"))
			}},
	}
}

// checkWindow validates an offset/limit pair (0 means the default 200).
func checkWindow(offset, limit *int) error {
	if *offset < 0 {
		return errorf(http.StatusUnprocessableEntity, "field \"offset\" must be >= 0")
	}
	if *limit < 0 || *limit > maxLimit {
		return errorf(http.StatusUnprocessableEntity, "field \"limit\" must be between 0 and %d", maxLimit)
	}
	if *limit == 0 {
		*limit = 200
	}
	return nil
}

// validPoolName rejects names that cannot be used in a URL path segment.
func validPoolName(field, n string) error {
	if strings.TrimSpace(n) == "" {
		return errorf(http.StatusUnprocessableEntity, "field %q must not be empty", field)
	}
	if strings.ContainsAny(n, "/%&><") {
		return errorf(http.StatusUnprocessableEntity, "field %q must not contain '/', '%%', '&', '>' or '<'", field)
	}
	return nil
}

func createWorkPool(c *call, b *model.WorkPoolCreate) (model.WorkPool, error) {
	if err := validPoolName("name", b.Name); err != nil {
		return model.WorkPool{}, err
	}
	if err := checkObject(b.BaseJobTemplate, "base_job_template"); err != nil {
		return model.WorkPool{}, err
	}
	if b.ConcurrencyLimit != nil && *b.ConcurrencyLimit < 0 {
		return model.WorkPool{}, errorf(http.StatusUnprocessableEntity, "field \"concurrency_limit\" must be >= 0")
	}
	typ := "prefect-agent"
	if b.Type != nil && *b.Type != "" {
		typ = *b.Type
	}
	p := model.WorkPool{Name: b.Name, Description: b.Description, Type: typ, BaseJobTemplate: emptyObject(b.BaseJobTemplate),
		IsPaused: b.IsPaused, ConcurrencyLimit: b.ConcurrencyLimit}
	if b.StorageConfiguration != nil {
		p.StorageConfiguration = *b.StorageConfiguration
	}
	out, err := c.srv.cfg.Store.WorkPoolCreate(c.ctx, c.ws, p)
	if err == nil {
		c.emit(workPoolEvent("created", out, nil))
	}
	return out, err
}

func updateWorkPool(c *call, b *model.WorkPoolUpdate) (noContent, error) {
	n := c.r.PathValue("name")
	if err := checkObject(b.BaseJobTemplate, "base_job_template"); err != nil {
		return noContent{}, err
	}
	if b.ConcurrencyLimit != nil && *b.ConcurrencyLimit < 0 {
		return noContent{}, errorf(http.StatusUnprocessableEntity, "field \"concurrency_limit\" must be >= 0")
	}
	var before model.WorkPool
	after, err := c.srv.cfg.Store.WorkPoolUpdate(c.ctx, c.ws, n, func(p *model.WorkPool) error {
		before = *p
		if b.Description != nil {
			p.Description = b.Description
		}
		if b.IsPaused != nil {
			p.IsPaused = *b.IsPaused
		}
		if len(b.BaseJobTemplate) > 0 && string(b.BaseJobTemplate) != "null" {
			p.BaseJobTemplate = b.BaseJobTemplate
		}
		if b.ConcurrencyLimit != nil {
			p.ConcurrencyLimit = b.ConcurrencyLimit
		}
		if b.StorageConfiguration != nil {
			p.StorageConfiguration = *b.StorageConfiguration
		}
		return nil
	})
	if err == nil && b.IsPaused != nil && !*b.IsPaused {
		dispatchSignalOf(c.srv).notify()
	}
	if err == nil {
		var evs []model.Event
		if changes := changedFields(before, after, "is_paused", "status"); len(changes) > 0 {
			evs = append(evs, workPoolEvent("updated", after, changes))
		}
		if before.IsPaused != after.IsPaused || before.Status != after.Status {
			st := after
			if after.IsPaused {
				st.Status = "PAUSED"
			} else if st.Status == "" || st.Status == "PAUSED" {
				st.Status = "NOT_READY"
			}
			evs = append(evs, workPoolStatusEvent(st))
		}
		c.emit(evs...)
	}
	return noContent{}, notFoundAs(err, "work pool", n)
}

func createWorkQueue(c *call, b *model.WorkQueueCreate) (model.WorkQueue, error) {
	return c.createQueue(c.r.PathValue("work_pool_name"), b)
}

func updateWorkQueue(c *call, b *model.WorkQueueUpdate) (noContent, error) {
	return noContent{}, c.updateQueue(c.r.PathValue("work_pool_name"), c.r.PathValue("name"), b)
}

// updateQueue applies a work queue update to the named queue of a pool.
func (c *call) updateQueue(p, n string, b *model.WorkQueueUpdate) error {
	if b.Name != nil {
		if err := validPoolName("name", *b.Name); err != nil {
			return err
		}
	}
	if b.Priority != nil && *b.Priority < 1 {
		return errorf(http.StatusUnprocessableEntity, "field \"priority\" must be >= 1")
	}
	if b.ConcurrencyLimit != nil && *b.ConcurrencyLimit < 0 {
		return errorf(http.StatusUnprocessableEntity, "field \"concurrency_limit\" must be >= 0")
	}
	var before model.WorkQueue
	after, err := c.srv.cfg.Store.WorkQueueUpdate(c.ctx, c.ws, p, n, func(q *model.WorkQueue) error {
		before = *q
		if b.Name != nil {
			q.Name = *b.Name
		}
		if b.Description != nil {
			q.Description = b.Description
		}
		if b.IsPaused != nil {
			q.IsPaused = *b.IsPaused
		}
		if b.ConcurrencyLimit != nil || b.ClearConcurrencyLimit {
			q.ConcurrencyLimit = b.ConcurrencyLimit
		}
		if b.Priority != nil {
			q.Priority = *b.Priority
		}
		if b.LastPolled != nil {
			q.LastPolled = b.LastPolled
		}
		return nil
	})
	if err == nil {
		dispatchSignalOf(c.srv).notify()
		var evs []model.Event
		if changes := changedFields(before, after, "is_paused", "status", "last_polled"); len(changes) > 0 {
			evs = append(evs, c.workQueueEvent("updated", after, changes))
		}
		if before.IsPaused != after.IsPaused {
			status := "NOT_READY"
			if after.IsPaused {
				status = "PAUSED"
			} else if after.Status != "" && after.Status != "PAUSED" {
				status = after.Status
			}
			evs = append(evs, c.workQueueStatusEvent(after, status))
		}
		c.emit(evs...)
	}
	return notFoundAs(err, "work queue", p+"/"+n)
}

func poolScheduledRuns(c *call, b *model.PoolScheduledQuery) ([]model.WorkerFlowRun, error) {
	p := c.r.PathValue("name")
	limit := 100
	if b.Limit != nil && *b.Limit > 0 {
		limit = min(*b.Limit, maxLimit)
	}
	ahead := scheduledWindow(c, b.ScheduledBefore)
	fetch := func() ([]model.WorkerFlowRun, error) {
		now := c.srv.now()
		q := store.PoolRunsQuery{Pool: p, QueueNames: b.WorkQueueNames, Limit: limit, Now: now}
		if b.ScheduledBefore != nil {
			before := now.Add(ahead)
			q.Before = &before
		}
		if b.ScheduledAfter != nil {
			after := b.ScheduledAfter.Time
			q.After = &after
		}
		q.BecameReady = &store.ReadyChanges{}
		res, err := c.srv.cfg.Store.WorkPoolScheduledRuns(c.ctx, c.ws, q)
		if err == nil {
			c.emitBecameReady(q.BecameReady)
		}
		return res, notFoundAs(err, "work pool", p)
	}
	return longPoll(c, b.WaitSeconds, fetch)
}

// Long polling: a worker that passes wait_seconds is answered as soon as a
// run is due instead of on its next poll. The request re-checks whenever
// this server creates a run or unpauses a pool or queue (signal), and at
// least every longPollStep otherwise (runs created elsewhere, or coming
// due as time passes).
const (
	longPollStep = 200 * time.Millisecond
	longPollMax  = 60 * time.Second
)

func longPoll[T any](c *call, wait *float64, fetch func() ([]T, error)) ([]T, error) {
	res, err := fetch()
	if err != nil || len(res) > 0 || wait == nil || *wait <= 0 {
		return nonNil(res), err
	}
	deadline := time.Now().Add(min(time.Duration(*wait*float64(time.Second)), longPollMax))
	sig := dispatchSignalOf(c.srv)
	for {
		ch := sig.wait()
		t := time.NewTimer(longPollStep)
		select {
		case <-c.ctx.Done():
			t.Stop()
			return nonNil(res), nil
		case <-ch:
			t.Stop()
		case <-t.C:
		}
		if res, err = fetch(); err != nil || len(res) > 0 || !time.Now().Before(deadline) {
			return nonNil(res), err
		}
	}
}

// signal is a broadcast that can be waited on repeatedly.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// dispatchSignals holds one signal per Server (kept outside the Server
// struct so the dispatch code stays in this file).
var dispatchSignals sync.Map

func dispatchSignalOf(s *Server) *signal {
	v, _ := dispatchSignals.LoadOrStore(s, &signal{})
	return v.(*signal)
}
