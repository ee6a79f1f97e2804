package api

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// Read-only views of runs that Prefect's UI and client ask for: task-run
// history, average lateness, single states, the run graphs and the log
// download.

// runFilters is the body of POST /flow_runs/lateness: every filter a
// flow-run listing accepts, without sort or window.
type runFilters struct {
	model.RunQuery
}

// dependencyResult is Prefect's DependencyResult: one task run of a flow
// run with the task runs it consumed (GET /flow_runs/{id}/graph).
type dependencyResult struct {
	ID                   model.ID             `json:"id"`
	Name                 string               `json:"name"`
	UpstreamDependencies []model.TaskRunInput `json:"upstream_dependencies"`
	State                *model.State         `json:"state"`
	ExpectedStartTime    *model.Time          `json:"expected_start_time"`
	StartTime            *model.Time          `json:"start_time"`
	EndTime              *model.Time          `json:"end_time"`
	TotalRunTime         *model.Duration      `json:"total_run_time"`
	EstimatedRunTime     *model.Duration      `json:"estimated_run_time"`
	UntrackableResult    bool                 `json:"untrackable_result"`
}

// graphEdge points at another node of a run graph.
type graphEdge struct {
	ID model.ID `json:"id"`
}

// graphArtifact is an artifact shown on a run graph (Baton's artifacts are
// not linked to graphs yet, so lists of them are empty).
type graphArtifact struct {
	ID       model.ID   `json:"id"`
	Created  model.Time `json:"created"`
	Key      *string    `json:"key"`
	Type     *string    `json:"type"`
	IsLatest bool       `json:"is_latest"`
	Data     any        `json:"data"`
}

// graphNode is one task run, or the subflow run it tracks, on a run graph.
type graphNode struct {
	Kind          string          `json:"kind"` // "task-run" or "flow-run"
	ID            model.ID        `json:"id"`
	Label         string          `json:"label"`
	StateType     model.StateType `json:"state_type"`
	StartTime     model.Time      `json:"start_time"`
	EndTime       *model.Time     `json:"end_time"`
	Parents       []graphEdge     `json:"parents"`
	Children      []graphEdge     `json:"children"`
	Encapsulating []graphEdge     `json:"encapsulating"`
	Artifacts     []graphArtifact `json:"artifacts"`
}

// graphState is one state of the graphed flow run.
type graphState struct {
	ID        model.ID        `json:"id"`
	Timestamp model.Time      `json:"timestamp"`
	Type      model.StateType `json:"type"`
	Name      string          `json:"name"`
}

// runGraph is Prefect's Graph (GET /flow_runs/{id}/graph-v2). Nodes are
// [id, node] pairs, as Prefect encodes its list of tuples.
type runGraph struct {
	StartTime   *model.Time     `json:"start_time"`
	EndTime     *model.Time     `json:"end_time"`
	RootNodeIDs []model.ID      `json:"root_node_ids"`
	Nodes       [][2]any        `json:"nodes"`
	Artifacts   []graphArtifact `json:"artifacts"`
	States      []graphState    `json:"states"`
}

// maxGraphNodes is Prefect's default PREFECT_SERVER_API_MAX_FLOW_RUN_GRAPH_NODES.
const maxGraphNodes = 10000

func runViewRoutes() []route {
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	return []route{
		op(wsRead, "POST", "/task_runs/history", "Task Runs", "Counts of task runs by state in consecutive intervals (by expected start time)", 200,
			func(c *call, b *historyQuery) ([]model.HistoryInterval, error) {
				start, end, every, err := b.window()
				if err != nil || !end.After(start) {
					return []model.HistoryInterval{}, err
				}
				return c.srv.cfg.Store.TaskRunHistory(c.ctx, c.ws, b.query(), start, end, every)
			}),
		optionalBody(op(wsRead, "POST", "/flow_runs/lateness", "Flow Runs", "Average lateness of the matching flow runs in seconds (null when none match)", 200,
			func(c *call, b *runFilters) (*float64, error) {
				return c.srv.cfg.Store.FlowRunLateness(c.ctx, c.ws, b.RunQuery, c.srv.now())
			})),
		op(wsRead, "GET", "/flow_run_states/{id}", "Flow Run States", "Read one flow-run state by its id", 200, func(c *call, _ *noBody) (model.State, error) {
			sid := c.id("id")
			st, err := c.srv.cfg.Store.FlowRunStateGet(c.ctx, c.ws, sid)
			return st, notFoundAs(err, "flow run state", sid)
		}, id),
		op(wsRead, "GET", "/task_run_states/{id}", "Task Run States", "Read one task-run state by its id", 200, func(c *call, _ *noBody) (model.State, error) {
			sid := c.id("id")
			st, err := c.srv.cfg.Store.TaskRunStateGet(c.ctx, c.ws, sid)
			return st, notFoundAs(err, "task run state", sid)
		}, id),
		op(wsRead, "GET", "/flow_runs/{id}/graph", "Flow Run Graph", "A flow run's task runs with their upstream dependencies", 200, flowRunGraphV1, id),
		op(wsRead, "GET", "/flow_runs/{id}/graph-v2", "Flow Run Graph", "A flow run's graph: task runs and subflow runs with their edges, the run's states", 200, flowRunGraphV2, id,
			param{name: "since", in: "query", typ: "string", doc: "only nodes that end after this time (ISO 8601)"}),
		{access: wsRead, method: "GET", path: "/flow_runs/{id}/logs/download", tag: "Flow Runs", summary: "A flow run's logs as CSV (timestamp, level, flow_run_id, task_run_id, message)",
			raw: downloadFlowRunLogs, params: []param{id}},
	}
}

// taskRunsOfFlowRun reads up to limit task runs of a flow run, oldest first.
func taskRunsOfFlowRun(c *call, rid model.ID, limit int) ([]model.TaskRun, error) {
	return c.srv.cfg.Store.TaskRunList(c.ctx, c.ws, model.RunQuery{
		TaskRuns: &model.TaskRunFilter{FlowRunID: &model.OptionalIDFilter{Any: []model.ID{rid}}},
		Sort:     "EXPECTED_START_TIME_ASC", Limit: limit,
	})
}

func flowRunGraphV1(c *call, _ *noBody) ([]dependencyResult, error) {
	rid := c.id("id")
	if _, err := c.getFlowRun(rid); err != nil {
		return nil, err
	}
	trs, err := taskRunsOfFlowRun(c, rid, maxGraphNodes)
	if err != nil {
		return nil, err
	}
	out := make([]dependencyResult, 0, len(trs))
	for _, tr := range trs {
		d := dependencyResult{ID: tr.ID, Name: tr.Name, State: tr.State, ExpectedStartTime: tr.ExpectedStartTime,
			StartTime: tr.StartTime, EndTime: tr.EndTime, UpstreamDependencies: []model.TaskRunInput{}}
		trt, ert := tr.TotalRunTime, tr.EstimatedRunTime
		d.TotalRunTime, d.EstimatedRunTime = &trt, &ert
		if tr.State != nil && tr.State.StateDetails.UntrackableResult {
			d.UntrackableResult = true
		}
		seen := map[string]bool{}
		for _, inputs := range tr.TaskInputs {
			for _, in := range inputs {
				k := in.InputType + "/"
				if in.ID != nil {
					k += in.ID.String()
				}
				if in.Name != nil {
					k += "/" + *in.Name
				}
				if !seen[k] {
					seen[k] = true
					d.UpstreamDependencies = append(d.UpstreamDependencies, in)
				}
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func flowRunGraphV2(c *call, _ *noBody) (runGraph, error) {
	rid := c.id("id")
	var since time.Time
	if v := c.r.URL.Query().Get("since"); v != "" {
		t, err := model.ParseTime(v)
		if err != nil {
			return runGraph{}, errorf(http.StatusUnprocessableEntity, "query parameter \"since\": %q is not an ISO 8601 datetime", v)
		}
		since = t.Time
	}
	run, err := c.getFlowRun(rid)
	if err != nil {
		return runGraph{}, err
	}
	trs, err := c.srv.cfg.Store.TaskRunGraph(c.ctx, c.ws, rid, maxGraphNodes+1)
	if err != nil {
		return runGraph{}, err
	}
	subs, err := c.srv.cfg.Store.FlowRunList(c.ctx, c.ws, model.RunQuery{
		FlowRuns: &model.FlowRunFilter{ParentFlowRunID: &model.OptionalIDFilter{Any: []model.ID{rid}}}, Limit: maxGraphNodes + 1,
	})
	if err != nil {
		return runGraph{}, err
	}
	subOf := make(map[model.ID]model.FlowRun, len(subs))
	for _, s := range subs {
		if s.ParentTaskRunID != nil {
			subOf[*s.ParentTaskRunID] = s
		}
	}
	// A node's id is the subflow run's when the task run tracks one; edges
	// name task runs, so map them through the same lookup.
	nodeID := make(map[model.ID]model.ID, len(trs))
	for _, tr := range trs {
		nodeID[tr.ID] = tr.ID
		if s, ok := subOf[tr.ID]; ok {
			nodeID[tr.ID] = s.ID
		}
	}
	nodes := map[model.ID]*graphNode{}
	var order []*graphNode
	for _, tr := range trs {
		n := graphNode{Kind: "task-run", ID: tr.ID, Label: tr.Name, Parents: []graphEdge{}, Children: []graphEdge{}, Encapsulating: []graphEdge{}, Artifacts: []graphArtifact{}}
		if tr.StateType != nil {
			n.StateType = *tr.StateType
		}
		start := firstTime(tr.StartTime, tr.ExpectedStartTime)
		end := tr.EndTime
		if end == nil && tr.StateType != nil && *tr.StateType == model.StateCompleted {
			end = tr.ExpectedStartTime
		}
		if s, ok := subOf[tr.ID]; ok {
			n.Kind, n.ID = "flow-run", s.ID
			n.Label = c.srv.flowName(c.ctx, c.ws, s.FlowID) + " / " + s.Name
			if s.StateType != nil {
				n.StateType = *s.StateType
			}
			start = firstTime(s.StartTime, s.ExpectedStartTime, tr.StartTime, tr.ExpectedStartTime)
			if s.EndTime != nil {
				end = s.EndTime
			}
		}
		if start == nil {
			continue
		}
		n.StartTime = *start
		n.EndTime = end
		nodes[n.ID] = &n
		order = append(order, &n)
	}
	for _, tr := range trs {
		child, ok := nodes[nodeID[tr.ID]]
		if !ok {
			continue
		}
		for key, inputs := range tr.TaskInputs {
			for _, in := range inputs {
				if in.ID == nil {
					continue
				}
				pid, known := nodeID[*in.ID]
				if !known {
					pid = *in.ID
				}
				parent, ok := nodes[pid]
				if !ok {
					continue
				}
				if key == "__parents__" {
					if !hasEdge(child.Encapsulating, pid) {
						child.Encapsulating = append(child.Encapsulating, graphEdge{ID: pid})
					}
					continue
				}
				if !hasEdge(child.Parents, pid) {
					child.Parents = append(child.Parents, graphEdge{ID: pid})
				}
				if !hasEdge(parent.Children, child.ID) {
					parent.Children = append(parent.Children, graphEdge{ID: child.ID})
				}
			}
		}
	}
	slices.SortStableFunc(order, func(a, b *graphNode) int {
		if c := a.StartTime.Compare(b.StartTime.Time); c != 0 {
			return c
		}
		switch {
		case a.EndTime == nil && b.EndTime == nil:
			return 0
		case a.EndTime == nil:
			return 1
		case b.EndTime == nil:
			return -1
		}
		return cmp.Compare(a.EndTime.UnixMicro(), b.EndTime.UnixMicro())
	})
	g := runGraph{StartTime: firstTime(run.StartTime, run.ExpectedStartTime), EndTime: run.EndTime,
		RootNodeIDs: []model.ID{}, Nodes: [][2]any{}, Artifacts: []graphArtifact{}, States: []graphState{}}
	for _, n := range order {
		if n.EndTime != nil && !since.IsZero() && n.EndTime.Before(since) {
			continue
		}
		if len(g.Nodes) >= maxGraphNodes {
			return runGraph{}, errorf(http.StatusBadRequest, "The graph of flow run %s has more than %d nodes.", rid, maxGraphNodes)
		}
		if len(n.Parents) == 0 {
			g.RootNodeIDs = append(g.RootNodeIDs, n.ID)
		}
		g.Nodes = append(g.Nodes, [2]any{n.ID, n})
	}
	states, err := c.srv.cfg.Store.FlowRunStates(c.ctx, c.ws, rid)
	if err != nil {
		return runGraph{}, err
	}
	for _, s := range states {
		g.States = append(g.States, graphState{ID: s.ID, Timestamp: s.Timestamp, Type: s.Type, Name: s.Name})
	}
	return g, nil
}

func hasEdge(es []graphEdge, id model.ID) bool {
	return slices.ContainsFunc(es, func(e graphEdge) bool { return e.ID == id })
}

// firstTime returns the first non-nil time.
func firstTime(ts ...*model.Time) *model.Time {
	for _, t := range ts {
		if t != nil {
			return t
		}
	}
	return nil
}

// logDownloadPage is how many logs one read of the CSV download fetches.
const logDownloadPage = 1000

// downloadFlowRunLogs streams a flow run's logs as CSV, oldest first, page
// by page, as Prefect's GET /flow_runs/{id}/logs/download does.
func downloadFlowRunLogs(w http.ResponseWriter, r *http.Request) {
	s := r.Context().Value(srvKey{}).(*Server)
	ws := workspaceOf(r)
	c := &call{ctx: r.Context(), w: w, r: r, ws: ws, srv: s}
	rid, err := parsePathID(r, "id")
	if err != nil {
		writeError(w, toAPIError(err))
		return
	}
	run, err := c.getFlowRun(rid)
	if err != nil {
		writeError(w, toAPIError(err))
		return
	}
	name := url.PathEscape(run.Name + "-logs.csv")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="flow-run-logs.csv"; filename*=UTF-8''%s`, name))
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"timestamp", "level", "flow_run_id", "task_run_id", "message"})
	for offset := 0; ; offset += logDownloadPage {
		logs, err := s.cfg.Store.LogList(r.Context(), ws, model.LogQuery{
			Logs: &model.LogFilter{FlowRunID: &model.OptionalIDFilter{Any: []model.ID{rid}}},
			Sort: "TIMESTAMP_ASC", Offset: offset, Limit: logDownloadPage,
		})
		if err != nil {
			s.log.Error("log download failed mid-stream", "flow_run_id", rid, "err", err)
			break
		}
		for _, l := range logs {
			task := ""
			if l.TaskRunID != nil {
				task = l.TaskRunID.String()
			}
			_ = cw.Write([]string{pythonTime(l.Timestamp.Time), strconv.Itoa(l.Level), rid.String(), task, l.Message})
		}
		cw.Flush()
		if len(logs) < logDownloadPage {
			break
		}
	}
	cw.Flush()
}

// pythonTime formats t as Python's str(datetime) does (microseconds only
// when non-zero), which is what Prefect's CSV download writes.
func pythonTime(t time.Time) string {
	if t.Nanosecond()/1000 != 0 {
		return t.Format("2006-01-02 15:04:05.000000-07:00")
	}
	return t.Format("2006-01-02 15:04:05-07:00")
}

// flowName returns a flow's name for a label ("" when the flow is gone).
func (s *Server) flowName(ctx context.Context, ws, flowID model.ID) string {
	f, err := s.cfg.Store.FlowGet(ctx, ws, flowID)
	if err != nil {
		return ""
	}
	return f.Name
}
