package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// The /work_queues/... routes address queues by id (and by name across
// pools), as Prefect's older, pool-less API does; a queue created without a
// pool goes into the "default-agent-pool" pool, created on first use.

// defaultAgentPool is Prefect's DEFAULT_AGENT_WORK_POOL_NAME.
const defaultAgentPool = "default-agent-pool"

// workQueueStatus is Prefect's WorkQueueStatusDetail.
type workQueueStatus struct {
	Healthy           bool            `json:"healthy"`
	LateRunsCount     int             `json:"late_runs_count"`
	LastPolled        *model.Time     `json:"last_polled"`
	HealthCheckPolicy queueHealthRule `json:"health_check_policy"`
}

// queueHealthRule is Prefect's WorkQueueHealthPolicy (every queue uses the
// default one: no late runs, polled within the last minute).
type queueHealthRule struct {
	MaximumLateRuns               *int `json:"maximum_late_runs"`
	MaximumSecondsSinceLastPolled *int `json:"maximum_seconds_since_last_polled"`
}

// queueRunsQuery is the body of POST /work_queues/{id}/get_runs.
type queueRunsQuery struct {
	Limit           int         `json:"limit"`
	ScheduledBefore *model.Time `json:"scheduled_before"`
}

// queuesQuery is the body of POST /work_queues/filter.
type queuesQuery struct {
	WorkQueues *model.WorkQueueFilter `json:"work_queues"`
	Offset     int                    `json:"offset"`
	Limit      int                    `json:"limit"`
}

// statusPage is the body of the concurrency_status routes.
type statusPage struct {
	Page  int `json:"page"`
	Limit int `json:"limit"`
}

// flowRunSlot is Prefect's FlowRunSlotSummary: a run holding a slot.
type flowRunSlot struct {
	ID                 model.ID         `json:"id"`
	Name               string           `json:"name"`
	StateType          *model.StateType `json:"state_type"`
	StateName          *string          `json:"state_name"`
	StartTime          *model.Time      `json:"start_time"`
	StateTimestamp     *model.Time      `json:"state_timestamp"`
	TimeInCurrentState *model.Duration  `json:"time_in_current_state"`
}

// queueConcurrency is Prefect's WorkQueueConcurrencyStatus.
type queueConcurrency struct {
	ActiveSlots      int           `json:"active_slots"`
	ConcurrencyLimit *int          `json:"concurrency_limit"`
	FlowRuns         []flowRunSlot `json:"flow_runs"`
	Count            int           `json:"count"`
	Limit            int           `json:"limit"`
	Pages            int           `json:"pages"`
	Page             int           `json:"page"`
}

// queueConcurrencyDetail is one queue of a pool's concurrency status.
type queueConcurrencyDetail struct {
	QueueID          model.ID      `json:"queue_id"`
	QueueName        string        `json:"queue_name"`
	ActiveSlots      int           `json:"active_slots"`
	ConcurrencyLimit *int          `json:"concurrency_limit"`
	FlowRuns         []flowRunSlot `json:"flow_runs"`
	FlowRunCount     *int          `json:"flow_run_count"`
}

// poolConcurrency is Prefect's WorkPoolConcurrencyStatus.
type poolConcurrency struct {
	ActiveSlots      int                      `json:"active_slots"`
	ConcurrencyLimit *int                     `json:"concurrency_limit"`
	Queues           []queueConcurrencyDetail `json:"queues"`
	Count            int                      `json:"count"`
	Limit            int                      `json:"limit"`
	Pages            int                      `json:"pages"`
	Page             int                      `json:"page"`
}

// slotStates are the states in which a run holds a queue's or pool's slot.
var slotStates = []model.StateType{model.StatePending, model.StateRunning, model.StateCancelling}

func workQueueRoutes() []route {
	const tag = "Work Queues"
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	return []route{
		op(wsWrite, "POST", "/work_queues", tag, "Create a work queue (in default-agent-pool; 409 if the name is taken there)", 201, func(c *call, b *model.WorkQueueCreate) (model.WorkQueue, error) {
			if _, err := c.srv.cfg.Store.WorkPoolGet(c.ctx, c.ws, defaultAgentPool); isNotFound(err) {
				_, err = c.srv.cfg.Store.WorkPoolCreate(c.ctx, c.ws, model.WorkPool{Name: defaultAgentPool, Type: "prefect-agent",
					BaseJobTemplate: emptyObject(nil), Description: strPtr("A work pool for work queues created without one")})
				if err != nil && !errors.Is(err, store.ErrConflict) {
					return model.WorkQueue{}, err
				}
			} else if err != nil {
				return model.WorkQueue{}, err
			}
			return c.createQueue(defaultAgentPool, b)
		}),
		via("GET /work_queues/{a}/{b}", op(wsRead, "GET", "/work_queues/name/{name}", tag, "Read a work queue by name (default-agent-pool first, then any pool)", 200, func(c *call, _ *noBody) (model.WorkQueue, error) {
			n := c.r.PathValue("name")
			q, err := c.srv.cfg.Store.WorkQueueGet(c.ctx, c.ws, defaultAgentPool, n)
			if err == nil || !isNotFound(err) {
				return q, err
			}
			all, err := c.allQueues(&model.WorkQueueFilter{Name: &model.NameFilter{Any: []string{n}}}, 0, 1)
			if err != nil {
				return model.WorkQueue{}, err
			}
			if len(all) == 0 {
				return model.WorkQueue{}, notFound("work queue", n)
			}
			return all[0], nil
		}, param{name: "name", in: "path", typ: "string", required: true})),
		op(wsWrite, "PATCH", "/work_queues/{id}", tag, "Update a work queue by id (\"concurrency_limit\": null removes the limit)", 204, func(c *call, b *model.WorkQueueUpdate) (noContent, error) {
			q, err := c.queueByID()
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, c.updateQueue(*q.WorkPoolName, q.Name, b)
		}, id),
		op(wsWrite, "DELETE", "/work_queues/{id}", tag, "Delete a work queue by id (not a pool's default queue)", 204, func(c *call, _ *noBody) (noContent, error) {
			q, err := c.queueByID()
			if err != nil {
				return noContent{}, err
			}
			deleted := c.workQueueEvent("deleted", q, nil)
			if err := c.srv.cfg.Store.WorkQueueDelete(c.ctx, c.ws, *q.WorkPoolName, q.Name); err != nil {
				return noContent{}, notFoundAs(err, "work queue", q.ID)
			}
			c.emit(deleted)
			return noContent{}, nil
		}, id),
		optionalBody(op(wsRead, "POST", "/work_queues/filter", tag, "Query work queues of every pool", 200, func(c *call, b *queuesQuery) ([]model.WorkQueue, error) {
			if err := checkWindow(&b.Offset, &b.Limit); err != nil {
				return nil, err
			}
			return c.allQueues(b.WorkQueues, b.Offset, b.Limit)
		})),
		optionalBody(op(wsWrite, "POST", "/work_queues/{id}/get_runs", tag, "A queue's scheduled runs that may start now (marks the queue polled unless the UI asks)", 200,
			func(c *call, b *queueRunsQuery) ([]model.FlowRun, error) {
				q, err := c.queueByID()
				if err != nil {
					return nil, err
				}
				limit := b.Limit
				if limit <= 0 || limit > maxLimit {
					limit = 200
				}
				pq := store.PoolRunsQuery{Pool: *q.WorkPoolName, QueueNames: []string{q.Name}, Limit: limit, Now: c.srv.now()}
				if b.ScheduledBefore != nil {
					t := b.ScheduledBefore.Time
					pq.Before = &t
				}
				pq.BecameReady = &store.ReadyChanges{}
				runs, err := c.srv.cfg.Store.WorkPoolScheduledRuns(c.ctx, c.ws, pq)
				if err != nil {
					return nil, err
				}
				c.emitBecameReady(pq.BecameReady)
				out := make([]model.FlowRun, 0, len(runs))
				for _, r := range runs {
					out = append(out, r.FlowRun)
				}
				return out, nil
			}, id)),
		via("GET /work_queues/{a}/{b}", op(wsRead, "GET", "/work_queues/{id}/status", tag, "A work queue's health: late runs and last poll", 200, func(c *call, _ *noBody) (workQueueStatus, error) {
			q, err := c.queueByID()
			if err != nil {
				return workQueueStatus{}, err
			}
			late, err := c.srv.cfg.Store.FlowRunCount(c.ctx, c.ws, model.RunQuery{
				FlowRuns:       &model.FlowRunFilter{State: &model.StateFilter{Name: &model.StringsFilter{Any: []string{"Late"}}}},
				WorkPoolQueues: &model.WorkQueueFilter{ID: &model.IDFilter{Any: []model.ID{q.ID}}},
			})
			if err != nil {
				return workQueueStatus{}, err
			}
			maxLate, maxSince := 0, 60
			healthy := late <= maxLate && q.LastPolled != nil && c.srv.now().Sub(q.LastPolled.Time) <= time.Duration(maxSince)*time.Second
			return workQueueStatus{Healthy: healthy, LateRunsCount: late, LastPolled: q.LastPolled,
				HealthCheckPolicy: queueHealthRule{MaximumLateRuns: &maxLate, MaximumSecondsSinceLastPolled: &maxSince}}, nil
		}, id)),
		optionalBody(op(wsRead, "POST", "/work_queues/{id}/concurrency_status", tag, "The runs holding a queue's slots (PENDING, RUNNING, CANCELLING), paged", 200,
			func(c *call, b *statusPage) (queueConcurrency, error) {
				q, err := c.queueByID()
				if err != nil {
					return queueConcurrency{}, err
				}
				if err := statusWindow(b); err != nil {
					return queueConcurrency{}, err
				}
				slots, total, err := c.slotHolders(&model.WorkQueueFilter{ID: &model.IDFilter{Any: []model.ID{q.ID}}}, (b.Page-1)*b.Limit, b.Limit)
				if err != nil {
					return queueConcurrency{}, err
				}
				return queueConcurrency{ActiveSlots: total, ConcurrencyLimit: q.ConcurrencyLimit, FlowRuns: slots, Count: total,
					Limit: b.Limit, Pages: pages(total, b.Limit), Page: b.Page}, nil
			}, id)),
		optionalBody(op(wsRead, "POST", "/work_pools/{name}/concurrency_status", "Work Pools", "A pool's slot holders per queue, queues paged", 200,
			func(c *call, b *statusPage) (poolConcurrency, error) {
				n := c.r.PathValue("name")
				pool, err := c.srv.cfg.Store.WorkPoolGet(c.ctx, c.ws, n)
				if err != nil {
					return poolConcurrency{}, notFoundAs(err, "work pool", n)
				}
				if err := statusWindow(b); err != nil {
					return poolConcurrency{}, err
				}
				queues, err := c.srv.cfg.Store.WorkQueueList(c.ctx, c.ws, n, model.WorkQueueQuery{Limit: maxLimit})
				if err != nil {
					return poolConcurrency{}, err
				}
				out := poolConcurrency{ConcurrencyLimit: pool.ConcurrencyLimit, Queues: []queueConcurrencyDetail{}, Count: len(queues),
					Limit: b.Limit, Pages: pages(len(queues), b.Limit), Page: b.Page}
				_, out.ActiveSlots, err = c.slotHolders(&model.WorkQueueFilter{ID: &model.IDFilter{Any: ids(queues)}}, 0, 0)
				if err != nil {
					return out, err
				}
				start := min((b.Page-1)*b.Limit, len(queues))
				for _, q := range queues[start:min(start+b.Limit, len(queues))] {
					slots, total, err := c.slotHolders(&model.WorkQueueFilter{ID: &model.IDFilter{Any: []model.ID{q.ID}}}, 0, maxLimit)
					if err != nil {
						return out, err
					}
					n := total
					out.Queues = append(out.Queues, queueConcurrencyDetail{QueueID: q.ID, QueueName: q.Name, ActiveSlots: total,
						ConcurrencyLimit: q.ConcurrencyLimit, FlowRuns: slots, FlowRunCount: &n})
				}
				return out, nil
			}, param{name: "name", in: "path", typ: "string", required: true})),
	}
}

func strPtr(s string) *string { return &s }

func ids(qs []model.WorkQueue) []model.ID {
	out := make([]model.ID, len(qs))
	for i, q := range qs {
		out[i] = q.ID
	}
	return out
}

func statusWindow(b *statusPage) error {
	if b.Page == 0 {
		b.Page = 1
	}
	if b.Page < 1 {
		return errorf(http.StatusUnprocessableEntity, "field \"page\" must be >= 1")
	}
	if b.Limit == 0 {
		b.Limit = 200
	}
	if b.Limit < 0 || b.Limit > maxLimit {
		return errorf(http.StatusUnprocessableEntity, "field \"limit\" must be between 1 and %d", maxLimit)
	}
	return nil
}

// slotHolders pages the runs holding slots in the matching queues and
// counts them all (limit 0: count only).
func (c *call) slotHolders(queues *model.WorkQueueFilter, offset, limit int) ([]flowRunSlot, int, error) {
	q := model.RunQuery{
		FlowRuns:       &model.FlowRunFilter{State: &model.StateFilter{Type: &model.StateTypeFilter{Any: slotStates}}},
		WorkPoolQueues: queues,
	}
	total, err := c.srv.cfg.Store.FlowRunCount(c.ctx, c.ws, q)
	if err != nil || limit == 0 {
		return nil, total, err
	}
	q.Sort, q.Offset, q.Limit = "START_TIME_ASC", offset, limit
	runs, err := c.srv.cfg.Store.FlowRunList(c.ctx, c.ws, q)
	if err != nil {
		return nil, 0, err
	}
	now := c.srv.now()
	out := make([]flowRunSlot, 0, len(runs))
	for _, r := range runs {
		s := flowRunSlot{ID: r.ID, Name: r.Name, StateType: r.StateType, StateName: r.StateName, StartTime: r.StartTime}
		if r.State != nil {
			ts := r.State.Timestamp
			s.StateTimestamp = &ts
			d := model.Duration(now.Sub(ts.Time).Seconds())
			s.TimeInCurrentState = &d
		}
		out = append(out, s)
	}
	return out, total, nil
}

// queueByID reads the queue named by the {id} path parameter.
func (c *call) queueByID() (model.WorkQueue, error) {
	qid := c.id("id")
	q, err := c.srv.cfg.Store.WorkQueueGetByID(c.ctx, c.ws, qid)
	if err == nil && q.WorkPoolName == nil {
		err = store.ErrNotFound
	}
	return q, notFoundAs(err, "work queue", qid)
}

// allQueues lists the matching queues of every pool, pools by name and
// queues by priority within a pool.
func (c *call) allQueues(f *model.WorkQueueFilter, offset, limit int) ([]model.WorkQueue, error) {
	pools, err := c.srv.cfg.Store.WorkPoolList(c.ctx, c.ws, model.WorkPoolQuery{Limit: maxLimit})
	if err != nil {
		return nil, err
	}
	out := []model.WorkQueue{}
	for _, p := range pools {
		qs, err := c.srv.cfg.Store.WorkQueueList(c.ctx, c.ws, p.Name, model.WorkQueueQuery{WorkQueues: f, Limit: maxLimit})
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			if offset > 0 {
				offset--
				continue
			}
			if len(out) == limit {
				return out, nil
			}
			out = append(out, q)
		}
	}
	return out, nil
}

// createQueue validates and creates a queue in a pool.
func (c *call) createQueue(pool string, b *model.WorkQueueCreate) (model.WorkQueue, error) {
	if err := validPoolName("name", b.Name); err != nil {
		return model.WorkQueue{}, err
	}
	if b.Priority != nil && *b.Priority < 1 {
		return model.WorkQueue{}, errorf(http.StatusUnprocessableEntity, "field \"priority\" must be >= 1")
	}
	if b.ConcurrencyLimit != nil && *b.ConcurrencyLimit < 0 {
		return model.WorkQueue{}, errorf(http.StatusUnprocessableEntity, "field \"concurrency_limit\" must be >= 0")
	}
	q := model.WorkQueue{Name: b.Name, Description: b.Description, IsPaused: b.IsPaused, ConcurrencyLimit: b.ConcurrencyLimit, Filter: b.Filter}
	if b.Priority != nil {
		q.Priority = *b.Priority
	}
	q, err := c.srv.cfg.Store.WorkQueueCreate(c.ctx, c.ws, pool, q)
	if err == nil {
		c.emit(c.workQueueEvent("created", q, nil))
	}
	return q, notFoundAs(err, "work pool", pool)
}
