package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store/sqlite"
)

func TestPlanRunsSpreadsTasksOverStartedRuns(t *testing.T) {
	t.Parallel()
	cases := []struct{ flowRuns, taskRuns, flows int }{
		{1, 0, 1},
		{50, 500, 3},
		{997, 10_001, 20},
	}
	for _, c := range cases {
		o := seedOptions{flows: c.flows, flowRuns: c.flowRuns, taskRuns: c.taskRuns, days: 7, seed: 1, now: time.Now()}
		plan, total := planRuns(o)
		if len(plan) != c.flowRuns {
			t.Fatalf("%+v: %d runs planned", c, len(plan))
		}
		started, sum := 0, 0
		for _, p := range plan {
			if p.flow < 0 || p.flow >= c.flows {
				t.Fatalf("%+v: flow index %d out of range", c, p.flow)
			}
			if p.state == model.StateScheduled && p.tasks != 0 {
				t.Fatalf("%+v: a scheduled run got %d task runs", c, p.tasks)
			}
			if p.state != model.StateScheduled {
				started++
			}
			sum += p.tasks
		}
		if started > 0 && (sum != c.taskRuns || total != c.taskRuns) {
			t.Fatalf("%+v: planned %d (reported %d) task runs, want %d", c, sum, total, c.taskRuns)
		}
	}
}

func TestDevSeedWritesRequestedRows(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	code, out, errOut := e.run("", "dev", "seed", "--flow-runs", "60", "--task-runs", "400", "--flows", "4", "--workers", "8")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Done in") {
		t.Fatalf("no summary in output: %q", out)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(e.home, "baton.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w, err := st.WorkspaceDefault(ctx)
	if err != nil {
		t.Fatal(err)
	}
	flows, err := st.FlowCount(ctx, w.ID, model.RunQuery{})
	if err != nil || flows != 4 {
		t.Fatalf("flows = %d, %v; want 4", flows, err)
	}
	runs, err := st.FlowRunCount(ctx, w.ID, model.RunQuery{})
	if err != nil || runs != 60 {
		t.Fatalf("flow runs = %d, %v; want 60", runs, err)
	}
	tasks, err := st.TaskRunCount(ctx, w.ID, model.RunQuery{})
	if err != nil || tasks != 400 {
		t.Fatalf("task runs = %d, %v; want 400", tasks, err)
	}
	completed, err := st.FlowRunCount(ctx, w.ID, model.RunQuery{FlowRuns: &model.FlowRunFilter{
		State: &model.StateFilter{Type: &model.StateTypeFilter{Any: []model.StateType{model.StateCompleted}}}}})
	if err != nil || completed == 0 || completed == runs {
		t.Fatalf("completed = %d of %d, %v; want a mix of states", completed, runs, err)
	}

	// A second seeding adds to the same flows rather than failing.
	if code, _, errOut := e.run("", "dev", "seed", "--flow-runs", "5", "--task-runs", "0", "--flows", "4"); code != 0 {
		t.Fatalf("second seed: exit %d: %s", code, errOut)
	}
	if code, _, _ := e.run("", "dev", "seed", "--flows", "0"); code != 2 {
		t.Fatalf("--flows 0: exit %d, want 2", code)
	}
}
