package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/model"
)

// The UI's flow-run listings read their page from an index in the sort's
// order: under the LIMIT there is no Sort of all the workspace's runs. (With
// the ascending indexes only, START_TIME_DESC - the runs page - sorted every
// run of the workspace: a sequential scan per request, 2 s at a million runs.)
// Sequential scans are disabled so that the plan does not depend on the
// empty tables' statistics: without a matching index the planner must then
// read an index and sort.
func TestFlowRunListingsReadTheirOrderFromAnIndex(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	ws := model.NewID()
	failed := &model.FlowRunFilter{State: &model.StateFilter{Type: &model.StateTypeFilter{Any: []model.StateType{model.StateFailed}}}}
	cases := []struct {
		name string
		q    model.RunQuery
	}{
		{"runs page, newest first", model.RunQuery{Sort: "START_TIME_DESC", Limit: 50}},
		{"by expected start, newest first", model.RunQuery{Sort: "EXPECTED_START_TIME_DESC", Limit: 50}},
		{"failed runs by expected start", model.RunQuery{FlowRuns: failed, Sort: "EXPECTED_START_TIME_DESC", Limit: 50}},
		{"by end time, newest first", model.RunQuery{Sort: "END_TIME_DESC", Limit: 50}},
		{"by id, newest first", model.RunQuery{Sort: "ID_DESC", Limit: 50}},
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = conn.Exec(ctx, "RESET enable_seqscan") }()
	for _, c := range cases {
		q, args := flowRunListSQL(ws, c.q)
		rows, err := conn.Query(ctx, "EXPLAIN "+rebind(q), args...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		// The node under the inner Limit must not be a Sort.
		for i, line := range plan {
			if strings.Contains(line, "->  Limit") && i+1 < len(plan) && strings.Contains(plan[i+1], "->  Sort") {
				t.Errorf("%s: the page is sorted, not read from an index:\n%s", c.name, strings.Join(plan, "\n"))
			}
		}
	}
}
