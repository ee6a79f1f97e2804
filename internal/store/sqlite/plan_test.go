package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// planCase is one listing the UI or the Prefect client sends, as its JSON body.
type planCase struct {
	name, body string
}

var flowRunPlanCases = []planCase{
	{"default sort", `{}`},
	{"START_TIME_DESC", `{"sort":"START_TIME_DESC"}`},
	{"START_TIME_ASC", `{"sort":"START_TIME_ASC"}`},
	{"EXPECTED_START_TIME_DESC", `{"sort":"EXPECTED_START_TIME_DESC"}`},
	{"EXPECTED_START_TIME_ASC", `{"sort":"EXPECTED_START_TIME_ASC"}`},
	{"NAME_ASC", `{"sort":"NAME_ASC"}`},
	{"NAME_DESC", `{"sort":"NAME_DESC"}`},
	{"NEXT_SCHEDULED_START_TIME_ASC", `{"sort":"NEXT_SCHEDULED_START_TIME_ASC"}`},
	{"END_TIME_DESC", `{"sort":"END_TIME_DESC"}`},
	{"tag all_, ID_DESC", `{"flow_runs":{"tags":{"all_":["team-ml"]}},"sort":"ID_DESC"}`},
	{"rare tag, ID_DESC", `{"flow_runs":{"tags":{"any_":["nope"]}},"sort":"ID_DESC"}`},
	{"tag any_, START_TIME_DESC", `{"flow_runs":{"tags":{"any_":["priority","nope"]}},"sort":"START_TIME_DESC"}`},
	{"state, EXPECTED_START_TIME_DESC", `{"flow_runs":{"state":{"type":{"any_":["FAILED"]}}},"sort":"EXPECTED_START_TIME_DESC"}`},
	{"state, START_TIME_DESC", `{"flow_runs":{"state":{"type":{"any_":["FAILED","CRASHED"]}}},"sort":"START_TIME_DESC"}`},
	{"state name, EXPECTED_START_TIME_ASC", `{"flow_runs":{"state":{"name":{"any_":["Late"]}}},"sort":"EXPECTED_START_TIME_ASC"}`},
	{"flow, START_TIME_DESC", `{"flows":{"id":{"any_":["00000000-0000-4000-8000-000000000001"]}},"sort":"START_TIME_DESC"}`},
	{"deployment, START_TIME_DESC", `{"flow_runs":{"deployment_id":{"any_":["00000000-0000-4000-8000-000000000001"]}},"sort":"START_TIME_DESC"}`},
	{"work pool, START_TIME_DESC", `{"work_pools":{"name":{"any_":["pool"]}},"sort":"START_TIME_DESC"}`},
	{"time range, START_TIME_DESC", `{"flow_runs":{"expected_start_time":{"after_":"2026-01-01T00:00:00Z","before_":"2026-01-02T00:00:00Z"}},"sort":"START_TIME_DESC"}`},
	{"parent task run", `{"flow_runs":{"parent_task_run_id":{"any_":["00000000-0000-4000-8000-000000000001"]}}}`},
}

// explain returns SQLite's query plan for q, one line per step.
func explain(t *testing.T, db *sql.DB, q string, args []any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "; ")
}

func TestFilterPlansDump(t *testing.T) {
	path := os.Getenv("BATON_PLAN_DB")
	if path == "" {
		t.Skip()
	}
	s, err := Open(context.Background(), Config{Path: path, SkipStartupCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ws := store.DefaultWorkspaceID
	for _, c := range flowRunPlanCases {
		var q model.RunQuery
		if err := json.Unmarshal([]byte(c.body), &q); err != nil {
			t.Fatal(err)
		}
		for _, scan := range []bool{false, true} {
			w := flowRunsWhereTags(ws, q, scan)
			win, wargs := window(50, 0)
			ord := orderBy(flowRunOrders, q.Sort, "ID_DESC")
			if !scan && c.body != "{}" && !strings.HasPrefix(c.body, `{"sort"`) {
				ord = sortedOrder(ord)
			}
			inner := "SELECT fr.rowid FROM flow_runs fr WHERE " + w.sql + " ORDER BY " + ord + win
			q.Limit = 50
			start := time.Now()
			var n int
			for i := 0; i < 3; i++ {
				order := orderBy(flowRunOrders, q.Sort, "ID_DESC")
				rs, err := listBodies[model.FlowRun](context.Background(), s.rdb, "SELECT fr.body FROM flow_runs fr WHERE fr.rowid IN ("+inner+") ORDER BY "+order, append(w.args, wargs...))
				if err != nil {
					t.Fatal(err)
				}
				n = len(rs)
			}
			t.Logf("%-40s scan=%v %d runs %v/query: %s", c.name, scan, n, time.Since(start)/3, explain(t, s.rdb, inner, append(w.args, wargs...)))
			if c.body == "{}" || strings.HasPrefix(c.body, `{"sort"`) {
				break
			}
		}
	}
}

// TestFilterPlans holds every flow-run listing the UI and the client send to
// an index: each sort is read in order from an index (no temporary sort tree,
// no scan of the table), and each filter, when its runs are few, is read
// through its own index (tags through flow_run_tags). SQLite's plans do not
// depend on the table's size here (no ANALYZE statistics), so a small
// database gives the plans a large one gets; the figures at 100,000 runs are
// in bench/FINDINGS.md.
func TestFilterPlans(t *testing.T) {
	s, _ := openTemp(t)
	ws := store.DefaultWorkspaceID
	for sort := range flowRunOrders {
		w := flowRunsWhere(ws, model.RunQuery{})
		plan := explain(t, s.rdb, "SELECT fr.rowid FROM flow_runs fr WHERE "+w.sql+" ORDER BY "+flowRunOrders[sort]+" LIMIT 50", w.args)
		if strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "SCAN fr") {
			t.Errorf("sort %s: plan %q sorts or scans the table", sort, plan)
		}
	}
	// Each filter case, when driven by its own index, names that index's
	// column in its first step.
	want := map[string]string{
		"tag all_, ID_DESC":                   "SEARCH t USING PRIMARY KEY (workspace_id=? AND tag=?)",
		"rare tag, ID_DESC":                   "SEARCH t USING PRIMARY KEY (workspace_id=? AND tag=?)",
		"tag any_, START_TIME_DESC":           "SEARCH t USING PRIMARY KEY (workspace_id=? AND tag=?)",
		"state, EXPECTED_START_TIME_DESC":     "state_type=?",
		"state, START_TIME_DESC":              "state_type=?",
		"state name, EXPECTED_START_TIME_ASC": "state_name=?",
		"flow, START_TIME_DESC":               "flow_id=?",
		"deployment, START_TIME_DESC":         "deployment_id=?",
		"work pool, START_TIME_DESC":          "work_queue_ref=?",
		"time range, START_TIME_DESC":         "expected_start_time>?",
		"parent task run":                     "parent_task_run_id=?",
	}
	for _, c := range flowRunPlanCases {
		frag, ok := want[c.name]
		if !ok {
			continue
		}
		var q model.RunQuery
		if err := json.Unmarshal([]byte(c.body), &q); err != nil {
			t.Fatal(err)
		}
		w := flowRunsWhere(ws, q)
		order := sortedOrder(orderBy(flowRunOrders, q.Sort, "ID_DESC"))
		plan := explain(t, s.rdb, "SELECT fr.rowid FROM flow_runs fr WHERE "+w.sql+" ORDER BY "+order+" LIMIT 50", w.args)
		if !strings.Contains(plan, frag) || strings.Contains(plan, "SCAN fr") {
			t.Errorf("%s: plan %q does not read the matches through %q", c.name, plan, frag)
		}
	}
}

// TestRunPlanChoice: a listing whose filter matches few runs sorts them (the
// order loses its indexes), one matching many walks the sort index and
// matches tags row by row, and both return the same runs.
func TestRunPlanChoice(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	ws := store.DefaultWorkspaceID
	defer func(n int) { fewRuns = n }(fewRuns)
	fewRuns = 5
	f, _, err := s.FlowUpsert(ctx, ws, model.FlowCreate{Name: "plans"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		tags := []string{"common"}
		if i%6 == 0 {
			tags = append(tags, "rare")
		}
		if _, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: fmt.Sprintf("r%02d", i), Tags: tags,
			State: benchState(model.StateCompleted)}}); err != nil {
			t.Fatal(err)
		}
	}
	order := orderBy(flowRunOrders, "NAME_ASC", "ID_DESC")
	for tag, wantScan := range map[string]bool{"rare": false, "common": true} {
		q := model.RunQuery{FlowRuns: &model.FlowRunFilter{Tags: &model.TagsFilter{All: []string{tag}}}, Sort: "NAME_ASC", Limit: 3}
		inner, scan := s.runPlan(ctx, "flow_runs fr", flowRunsWhere(ws, q), false, order, pageEnd(q))
		if scan != wantScan || (inner == order) == !wantScan {
			t.Errorf("tag %s: scan=%v order %q, want scan=%v", tag, scan, inner, wantScan)
		}
		got, err := s.FlowRunList(ctx, ws, q)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range got {
			names = append(names, r.Name)
		}
		want := map[string]string{"rare": "r00 r06", "common": "r00 r01 r02"}[tag]
		if strings.Join(names, " ") != want {
			t.Errorf("tag %s: got %v, want %s", tag, names, want)
		}
	}
}

// TestRunTagTablesInStep: flow_run_tags and task_run_tags hold exactly the
// (run, tag) pairs of the runs' tags columns after inserts, tag changes,
// deletes and a flow's cascading delete.
func TestRunTagTablesInStep(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	ws := store.DefaultWorkspaceID
	check := func(step string) {
		t.Helper()
		for _, tb := range []struct{ tags, runs string }{{"flow_run_tags", "flow_runs"}, {"task_run_tags", "task_runs"}} {
			derived := "SELECT r.workspace_id, j.value, r.id FROM " + tb.runs + " r, json_each(r.tags) j"
			stored := "SELECT workspace_id, tag, run_id FROM " + tb.tags
			var n int
			q := "SELECT count(*) FROM (" + derived + " EXCEPT " + stored + ") UNION ALL SELECT count(*) FROM (" + stored + " EXCEPT " + derived + ")"
			rows, err := s.rdb.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("%s: %s differs from the tags of %s by %d rows", step, tb.tags, tb.runs, n)
				}
			}
			rows.Close()
		}
	}
	f, _, err := s.FlowUpsert(ctx, ws, model.FlowCreate{Name: "tags"})
	if err != nil {
		t.Fatal(err)
	}
	var runs []model.FlowRun
	for i := 0; i < 3; i++ {
		r, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "r", Tags: []string{"a", "b", "a"}}})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
		if _, _, err := s.TaskRunCreate(ctx, ws, model.TaskRun{FlowRunID: &r.ID, Name: "t", TaskKey: "k", DynamicKey: fmt.Sprint(i), Tags: []string{"x"}}); err != nil {
			t.Fatal(err)
		}
	}
	check("create")
	if _, err := s.FlowRunUpdate(ctx, ws, runs[0].ID, func(r *model.FlowRun) error { r.Tags = []string{"b", "c"}; return nil }); err != nil {
		t.Fatal(err)
	}
	check("update")
	if err := s.FlowRunDelete(ctx, ws, runs[1].ID); err != nil {
		t.Fatal(err)
	}
	check("delete")
	if err := s.FlowDelete(ctx, ws, f.ID); err != nil {
		t.Fatal(err)
	}
	check("flow delete")
	var left int
	if err := s.rdb.QueryRow("SELECT (SELECT count(*) FROM flow_run_tags) + (SELECT count(*) FROM task_run_tags)").Scan(&left); err != nil || left != 0 {
		t.Errorf("after the flow's delete %d tag rows are left (err %v)", left, err)
	}
}

// TestTagCounts: a count filtered by tags alone is read from the tag tables
// (tagCount) and agrees with the general count over the runs, for any_ and
// all_ with one or several tags, repeated tags and runs whose tags changed or
// that were deleted; a count with any other condition takes the general path.
func TestTagCounts(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	ws := store.DefaultWorkspaceID
	f, _, err := s.FlowUpsert(ctx, ws, model.FlowCreate{Name: "tags"})
	if err != nil {
		t.Fatal(err)
	}
	sets := [][]string{{"a"}, {"a", "b"}, {"b"}, {"a", "b", "c"}, {}, {"c", "c"}, {"a"}}
	var runs []model.FlowRun
	for i, tags := range sets {
		r, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: fmt.Sprintf("r%d", i), Tags: tags,
			State: benchState(model.StateCompleted)}})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
		if _, _, err := s.TaskRunCreate(ctx, ws, model.TaskRun{ID: model.NewID(), FlowRunID: &r.ID, Name: "t", TaskKey: fmt.Sprintf("k%d", i),
			DynamicKey: "0", Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	// A run whose tags change and one that is deleted.
	if _, err := s.FlowRunUpdate(ctx, ws, runs[0].ID, func(r *model.FlowRun) error { r.Tags = []string{"c"}; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.FlowRunDelete(ctx, ws, runs[6].ID); err != nil {
		t.Fatal(err)
	}
	filters := []*model.TagsFilter{
		{Any: []string{"a"}}, {Any: []string{"a", "b"}}, {Any: []string{"c", "nope"}}, {Any: []string{"nope"}},
		{All: []string{"a"}}, {All: []string{"a", "b"}}, {All: []string{"b", "a", "a"}}, {All: []string{"a", "c"}}, {All: []string{"c"}},
	}
	for _, tf := range filters {
		fq := model.RunQuery{FlowRuns: &model.FlowRunFilter{Tags: tf}}
		if _, _, ok := tagCount("flow_run_tags", ws, tf); !ok {
			t.Fatalf("%+v: not served by tagCount", tf)
		}
		w := flowRunsWhere(ws, fq)
		want, err := count(ctx, s.rdb, "SELECT count(*) FROM flow_runs fr WHERE "+w.sql, w.args)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.FlowRunCount(ctx, ws, fq); err != nil || got != want {
			t.Errorf("flow runs %+v: count %d (%v), want %d", tf, got, err, want)
		}
		tq := model.RunQuery{TaskRuns: &model.TaskRunFilter{Tags: tf}}
		w = taskRunsWhere(ws, tq)
		want, err = count(ctx, s.rdb, "SELECT count(*) FROM task_runs tr WHERE "+w.sql, w.args)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.TaskRunCount(ctx, ws, tq); err != nil || got != want {
			t.Errorf("task runs %+v: count %d (%v), want %d", tf, got, err, want)
		}
	}
	// Another condition besides the tags: the general count.
	name := "r1"
	got, err := s.FlowRunCount(ctx, ws, model.RunQuery{FlowRuns: &model.FlowRunFilter{Tags: &model.TagsFilter{Any: []string{"a"}},
		Name: &model.NameFilter{Any: []string{name}}}})
	if err != nil || got != 1 {
		t.Errorf("tag and name: %d (%v), want 1", got, err)
	}
}

// TestDeploymentRunsPlans: the two listings behind a deployments list row
// (POST /ui/deployments/runs: the next scheduled run, the latest other runs)
// and the capped count that picks their plan read a deployment's runs from
// flow_runs_ws_deployment alone: state and order come from the index, the
// table is read only for the page's rows (migration 0023; before it each
// query read every run of the deployment from the table: 1.8 s per list page
// at 100,000 runs).
func TestDeploymentRunsPlans(t *testing.T) {
	s, _ := openTemp(t)
	ws := store.DefaultWorkspaceID
	dep := []model.ID{model.NewID()}
	scheduled := []model.StateType{model.StateScheduled}
	for _, q := range []model.RunQuery{
		{FlowRuns: &model.FlowRunFilter{DeploymentID: &model.OptionalIDFilter{Any: dep}, State: &model.StateFilter{Type: &model.StateTypeFilter{Any: scheduled}}}, Sort: "EXPECTED_START_TIME_ASC"},
		{FlowRuns: &model.FlowRunFilter{DeploymentID: &model.OptionalIDFilter{Any: dep}, State: &model.StateFilter{Type: &model.StateTypeFilter{NotAny: scheduled}}}, Sort: "EXPECTED_START_TIME_DESC"},
	} {
		w := flowRunsWhere(ws, q)
		order := sortedOrder(orderBy(flowRunOrders, q.Sort, "ID_DESC"))
		for what, sqlText := range map[string]string{
			"listing": "SELECT fr.rowid FROM flow_runs fr WHERE " + w.sql + " ORDER BY " + order + " LIMIT 8",
			"count":   "SELECT count(*) FROM (SELECT 1 FROM flow_runs fr WHERE " + w.sql + " LIMIT 20000)",
		} {
			plan := explain(t, s.rdb, sqlText, w.args)
			if !strings.Contains(plan, "USING COVERING INDEX flow_runs_ws_deployment") || strings.Contains(plan, "SCAN fr") {
				t.Errorf("%s %s: plan %q does not read the deployment's runs from flow_runs_ws_deployment alone", q.Sort, what, plan)
			}
		}
	}
}

// TestTaskRunGraphPlan: the run graph's read (graph-v2) finds a flow run's
// task runs through the natural-key index, not by walking the workspace's
// task runs in expected-start order (which it did: 1.8 s for a run of 10,000
// among a million task runs).
func TestTaskRunGraphPlan(t *testing.T) {
	s, _ := openTemp(t)
	plan := explain(t, s.rdb, taskRunGraphSQL, []any{idv(store.DefaultWorkspaceID), idv(model.NewID()), 10001})
	if !strings.Contains(plan, "task_runs_ws_natural_key (workspace_id=? AND flow_run_id=?)") {
		t.Errorf("task run graph: plan %q does not read the flow run's task runs through the natural key", plan)
	}
}

// TestRunPlanSelectivity: the threshold between sorting the matches and
// walking the sort index follows the page and the table's size (a match on
// a quarter of the runs walks, though it is far below fewRuns), within
// [fewRunsFloor, fewRuns]; both plans list the same runs.
func TestRunPlanSelectivity(t *testing.T) {
	if got := fewRunsFor(50, 30000); got != 1224 {
		t.Errorf("fewRunsFor(50, 30000) = %d, want 1224", got)
	}
	if got := fewRunsFor(50, 100); got != fewRunsFloor {
		t.Errorf("small table: %d, want the floor %d", got, fewRunsFloor)
	}
	if got := fewRunsFor(200, 100_000_000); got != fewRuns {
		t.Errorf("huge table: %d, want the cap %d", got, fewRuns)
	}
	if got := fewRunsFor(0, 30000); got != fewRuns {
		t.Errorf("no page end: %d, want %d", got, fewRuns)
	}
	s, _ := openTemp(t)
	ctx := context.Background()
	ws := store.DefaultWorkspaceID
	defer func(n int) { fewRunsFloor = n }(fewRunsFloor)
	fewRunsFloor = 1
	f, _, err := s.FlowUpsert(ctx, ws, model.FlowCreate{Name: "sel"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 48; i++ {
		tags := []string{}
		if i%4 == 0 {
			tags = append(tags, "quarter")
		}
		if i == 5 {
			tags = append(tags, "one")
		}
		if _, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: fmt.Sprintf("r%02d", i), Tags: tags,
			State: benchState(model.StateCompleted)}}); err != nil {
			t.Fatal(err)
		}
	}
	// 48 runs, a page of 2: threshold sqrt(2 × 48) = 9; 12 runs carry "quarter".
	order := orderBy(flowRunOrders, "NAME_DESC", "ID_DESC")
	for tag, want := range map[string]struct {
		scan  bool
		names string
	}{"quarter": {true, "r44 r40"}, "one": {false, "r05"}} {
		q := model.RunQuery{FlowRuns: &model.FlowRunFilter{Tags: &model.TagsFilter{Any: []string{tag}}}, Sort: "NAME_DESC", Limit: 2}
		if _, scan := s.runPlan(ctx, "flow_runs fr", flowRunsWhere(ws, q), false, order, pageEnd(q)); scan != want.scan {
			t.Errorf("tag %s: scan=%v, want %v", tag, scan, want.scan)
		}
		got, err := s.FlowRunList(ctx, ws, q)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range got {
			names = append(names, r.Name)
		}
		if strings.Join(names, " ") != want.names {
			t.Errorf("tag %s: %v, want %s", tag, names, want.names)
		}
	}
}
