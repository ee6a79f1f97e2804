package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/batonhq/baton/internal/model"
)

// Background tasks: `task.delay()` creates a SCHEDULED task run without a
// flow run (its parameters stay in the client's result storage), and
// `prefect task serve` workers subscribe on the /task_runs/subscriptions/
// scheduled websocket for the task keys they serve. Baton hands each such
// run to exactly one subscriber: the protocol is Prefect's (auth, then
// {"type": "subscribe", "keys": [...], "client_id": ...}; each task run is
// sent as JSON and the worker answers {"type": "ack"}). The runs are read
// from the store, so they survive a restart; a claim table in the process
// keeps two subscribers from getting the same run, and on a store that
// several replicas share (PostgreSQL: taskRunClaimer) a claim row in the
// database keeps two replicas from handing out the same run.

// taskDispatch tracks the claimed background task runs and the connected
// task workers of this process.
type taskDispatch struct {
	mu      sync.Mutex
	claimed map[model.ID]bool
	wake    chan struct{}
	workers map[*taskWorkerConn]struct{}
	// shared, when set, holds the claims every replica sees; holder names
	// this process in them.
	shared taskRunClaimer
	holder string
}

// taskRunClaimer is implemented by stores that replicas share: a claim
// succeeds in one replica only. An unacknowledged claim older than the
// staleBefore time given is taken over (its replica died).
type taskRunClaimer interface {
	ClaimTaskRun(ctx context.Context, id model.ID, holder string, staleBefore time.Time) (bool, error)
	AckTaskRunClaim(ctx context.Context, id model.ID, holder string) error
	ReleaseTaskRunClaim(ctx context.Context, id model.ID, holder string) error
}

// taskWorkerConn is one subscribed task worker.
type taskWorkerConn struct {
	ws       model.ID
	clientID string
	keys     []string
	since    time.Time
}

// taskWorkerInfo is Prefect's TaskWorkerResponse.
type taskWorkerInfo struct {
	Identifier string     `json:"identifier"`
	TaskKeys   []string   `json:"task_keys"`
	Timestamp  model.Time `json:"timestamp"`
}

// taskWorkerQuery is the body of POST /task_workers/filter.
type taskWorkerQuery struct {
	TaskWorkerFilter *struct {
		TaskKeys []string `json:"task_keys" required:"true"`
	} `json:"task_worker_filter"`
}

func newTaskDispatch(st any) *taskDispatch {
	d := &taskDispatch{claimed: map[model.ID]bool{}, wake: make(chan struct{}), workers: map[*taskWorkerConn]struct{}{}, holder: model.NewID().String()}
	if c, ok := st.(taskRunClaimer); ok {
		d.shared = c
	}
	return d
}

// notify wakes every waiting subscriber (a background task run was created).
func (d *taskDispatch) notify() {
	d.mu.Lock()
	close(d.wake)
	d.wake = make(chan struct{})
	d.mu.Unlock()
}

func (d *taskDispatch) waiter() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.wake
}

// claim marks a run as delivered; false if another subscriber (of this or,
// with a shared store, another replica) has it.
func (d *taskDispatch) claim(ctx context.Context, log *slog.Logger, id model.ID, now time.Time) bool {
	d.mu.Lock()
	if d.claimed[id] {
		d.mu.Unlock()
		return false
	}
	d.claimed[id] = true
	d.mu.Unlock()
	if d.shared == nil {
		return true
	}
	ok, err := d.shared.ClaimTaskRun(ctx, id, d.holder, now.Add(-taskClaimStale))
	if err != nil {
		log.Warn("task subscription: claiming a task run failed", "task_run_id", id.String(), "err", err)
	}
	if !ok || err != nil {
		// Another replica has it (it is looked at again at the next poll:
		// a claim of a replica that died is taken over once stale), or the
		// claim could not be recorded.
		d.mu.Lock()
		delete(d.claimed, id)
		d.mu.Unlock()
		return false
	}
	return true
}

// acked makes the claim permanent once the worker has acknowledged the run.
func (d *taskDispatch) acked(log *slog.Logger, id model.ID) {
	if d.shared == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.shared.AckTaskRunClaim(ctx, id, d.holder); err != nil {
		log.Warn("task subscription: recording an acknowledged task run failed", "task_run_id", id.String(), "err", err)
	}
}

func (d *taskDispatch) unclaim(log *slog.Logger, id model.ID) {
	if d.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := d.shared.ReleaseTaskRunClaim(ctx, id, d.holder); err != nil {
			log.Warn("task subscription: releasing a task run claim failed", "task_run_id", id.String(), "err", err)
		}
		cancel()
	}
	d.mu.Lock()
	delete(d.claimed, id)
	d.mu.Unlock()
	d.notify()
}

// taskSocketWait bounds how long a worker may take to acknowledge a run
// before it is offered to another.
const taskSocketWait = 30 * time.Second

// taskClaimStale is how old an unacknowledged claim of another replica must
// be before this one takes the run over: longer than a worker may take to
// acknowledge.
const taskClaimStale = taskSocketWait + 30*time.Second

// taskSocketPoll is how often a waiting subscriber looks at the store even
// without a wake-up (runs created through another replica).
const taskSocketPoll = 2 * time.Second

func taskWorkerRoutes() []route {
	return []route{
		{access: wsWrite, lifetime: socket, method: "GET", path: "/task_runs/subscriptions/scheduled", tag: "Task Runs",
			summary: "Websocket: task workers receive the scheduled background task runs of their task keys, each run once",
			raw: func(w http.ResponseWriter, r *http.Request) {
				r.Context().Value(srvKey{}).(*Server).serveTaskSubscription(w, r)
			}},
		optionalBody(op(wsRead, "POST", "/task_workers/filter", "Task Workers", "The connected task workers (optionally those serving some task keys)", 200,
			func(c *call, b *taskWorkerQuery) ([]taskWorkerInfo, error) {
				d := c.srv.tasks
				d.mu.Lock()
				defer d.mu.Unlock()
				out := []taskWorkerInfo{}
				for w := range d.workers {
					if w.ws != c.ws {
						continue
					}
					if b.TaskWorkerFilter != nil && len(b.TaskWorkerFilter.TaskKeys) > 0 &&
						!slices.ContainsFunc(w.keys, func(k string) bool { return slices.Contains(b.TaskWorkerFilter.TaskKeys, k) }) {
						continue
					}
					out = append(out, taskWorkerInfo{Identifier: w.clientID, TaskKeys: slices.Clone(w.keys), Timestamp: model.NewTime(w.since)})
				}
				slices.SortFunc(out, func(a, b taskWorkerInfo) int { return a.Timestamp.Compare(b.Timestamp.Time) })
				return out, nil
			})),
	}
}

// subscribeMessage is what a task worker sends after authenticating.
type subscribeMessage struct {
	Type     string   `json:"type"`
	Token    *string  `json:"token"`
	Keys     []string `json:"keys"`
	ClientID string   `json:"client_id"`
}

func (s *Server) serveTaskSubscription(w http.ResponseWriter, r *http.Request) {
	ws := workspaceOf(r)
	withProto := slices.Contains(websocket.Subprotocols(r), "prefect")
	if !withProto {
		if err := s.AuthenticateSocket(r, ""); err != nil {
			writeError(w, errorf(http.StatusUnauthorized, "Unauthorized"))
			return
		}
	}
	conn, err := logSocketUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetReadLimit(1 << 20)
	_ = conn.SetReadDeadline(time.Now().Add(logSocketHandshake))
	var msg subscribeMessage
	if withProto {
		if err := conn.ReadJSON(&msg); err != nil || msg.Type != "auth" {
			closeSocket(conn, websocket.ClosePolicyViolation, "Expected 'auth' message")
			return
		}
		token := ""
		if msg.Token != nil {
			token = *msg.Token
		}
		if err := s.AuthenticateSocket(r, token); err != nil {
			s.log.InfoContext(r.Context(), "task socket auth failed", slog.Any("error", err))
			closeSocket(conn, websocket.ClosePolicyViolation, "Authentication failed")
			return
		}
		_ = conn.SetWriteDeadline(time.Now().Add(logSocketWrite))
		if err := conn.WriteJSON(map[string]string{"type": "auth_success"}); err != nil {
			return
		}
	}
	msg = subscribeMessage{}
	if err := conn.ReadJSON(&msg); err != nil || msg.Type != "subscribe" || len(msg.Keys) == 0 {
		closeSocket(conn, websocket.CloseProtocolError, "Expected 'subscribe' message with task keys")
		return
	}
	_ = conn.SetReadDeadline(time.Time{})

	me := &taskWorkerConn{ws: ws, clientID: msg.ClientID, keys: msg.Keys, since: s.now()}
	if me.clientID == "" {
		me.clientID = model.NewID().String()
	}
	d := s.tasks
	d.mu.Lock()
	d.workers[me] = struct{}{}
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.workers, me)
		d.mu.Unlock()
	}()

	acks := make(chan struct{}, 1)
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			var m struct {
				Type string `json:"type"`
			}
			if err := conn.ReadJSON(&m); err != nil {
				return
			}
			if m.Type == "ack" {
				select {
				case acks <- struct{}{}:
				default:
				}
			}
		}
	}()
	ctx := r.Context()
	for {
		wake := d.waiter()
		run, ok := s.nextBackgroundRun(r, ws, msg.Keys)
		if !ok {
			select {
			case <-wake:
			case <-time.After(taskSocketPoll):
			case <-gone:
				return
			case <-ctx.Done():
				return
			}
			continue
		}
		body, err := json.Marshal(run)
		if err != nil {
			d.unclaim(s.log, run.ID)
			return
		}
		_ = conn.SetWriteDeadline(time.Now().Add(logSocketWrite))
		if err := conn.WriteMessage(websocket.TextMessage, body); err != nil {
			d.unclaim(s.log, run.ID)
			return
		}
		select {
		case <-acks:
			d.acked(s.log, run.ID)
		case <-gone:
			// Not acknowledged: offer it to another worker.
			d.unclaim(s.log, run.ID)
			return
		case <-time.After(taskSocketWait):
			d.unclaim(s.log, run.ID)
			closeSocket(conn, websocket.CloseGoingAway, "task run not acknowledged in time")
			return
		}
	}
}

// nextBackgroundRun claims the oldest due SCHEDULED task run without a flow
// run whose task key the worker serves.
func (s *Server) nextBackgroundRun(r *http.Request, ws model.ID, keys []string) (model.TaskRun, bool) {
	yes := true
	runs, err := s.cfg.Store.TaskRunList(r.Context(), ws, model.RunQuery{
		TaskRuns: &model.TaskRunFilter{
			FlowRunID: &model.OptionalIDFilter{IsNull: &yes},
			State:     &model.StateFilter{Type: &model.StateTypeFilter{Any: []model.StateType{model.StateScheduled}}},
		},
		Sort: "EXPECTED_START_TIME_ASC", Limit: 500,
	})
	if err != nil {
		s.log.Warn("task subscription: reading scheduled task runs failed", "err", err)
		return model.TaskRun{}, false
	}
	now := s.now()
	for _, tr := range runs {
		if !slices.Contains(keys, tr.TaskKey) {
			continue
		}
		if tr.State != nil && tr.State.StateDetails.ScheduledTime != nil && tr.State.StateDetails.ScheduledTime.After(now) {
			continue
		}
		if s.tasks.claim(r.Context(), s.log, tr.ID, now) {
			return tr, true
		}
	}
	return model.TaskRun{}, false
}
