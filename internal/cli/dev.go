package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/store"
)

func (a *app) devCmd() *cobra.Command {
	var o seedOptions
	seed := &cobra.Command{
		Use:   "seed",
		Short: "Fill the server's database with realistic flows, flow runs and task runs (for measuring at scale)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return devSeed(cmd.Context(), a.env, o)
		},
	}
	f := seed.Flags()
	f.IntVar(&o.flowRuns, "flow-runs", 100_000, "number of flow runs to create")
	f.IntVar(&o.taskRuns, "task-runs", 1_000_000, "number of task runs to create (spread over the flow runs that started)")
	f.IntVar(&o.flows, "flows", 20, "number of flows the runs belong to")
	f.IntVar(&o.workers, "workers", 32, "concurrent writers (the store group-commits them)")
	f.IntVar(&o.days, "days", 7, "spread the runs over this many past days")
	f.Uint64Var(&o.seed, "seed", 1, "random seed (same seed, same data shape)")
	return group("dev", "Developer tools (seed the database with realistic data at scale)", seed)
}

// seedOptions sizes one seeding.
type seedOptions struct {
	flows, flowRuns, taskRuns, workers int
	days                               int
	seed                               uint64
	now                                time.Time
}

// seedFlowNames are the names the seeded flows take (suffixed when more are
// asked for), so the UI shows something that reads like a real install.
var seedFlowNames = []string{
	"etl-orders", "etl-customers", "nightly-report", "sync-inventory", "train-model", "score-leads",
	"backup-warehouse", "refresh-dashboards", "ingest-clickstream", "reconcile-payments",
	"send-digests", "rebuild-search-index", "export-invoices", "clean-tmp", "geo-enrich",
	"fx-rates", "churn-features", "load-crm", "audit-access", "compact-logs",
}

var seedTaskNames = []string{"extract", "validate", "transform", "enrich", "dedupe", "aggregate", "load", "publish", "notify", "cleanup"}

// plannedRun is one flow run decided before any write, so the task runs can
// be spread exactly over the runs that started.
type plannedRun struct {
	flow     int
	state    model.StateType
	name     string
	expected time.Time
	tasks    int
}

// devSeed writes --flow-runs flow runs and --task-runs task runs into the
// server's database through the store (the same code path and row shapes as
// the API), for measuring the UI and the API at scale. It writes from many
// goroutines so the store's writer can group-commit them.
func devSeed(ctx context.Context, env Env, o seedOptions) error {
	if o.flows < 1 || o.flowRuns < 0 || o.taskRuns < 0 || o.workers < 1 || o.days < 1 {
		return usageError("--flows, --workers and --days must be at least 1; --flow-runs and --task-runs at least 0")
	}
	if o.flowRuns == 0 && o.taskRuns > 0 {
		return usageError("task runs need at least one flow run")
	}
	cfg, err := config.ServerFromEnv()
	if err == nil {
		cfg.Home = batonHome(env)
		cfg.DatabasePath = env.Getenv("BATON_DATABASE_PATH")
		cfg.DatabaseURL = env.Getenv("BATON_DATABASE_URL")
		err = cfg.Validate()
	}
	if err != nil {
		return usageError(err.Error())
	}
	if err := os.MkdirAll(cfg.Home, 0o700); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, newLogger(env, "warn", cfg.LogFormat))
	if err != nil {
		return err
	}
	o.now = time.Now().UTC()
	err = seedStore(ctx, env, st, o)
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close database: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

// planRuns decides every flow run's flow, state, time and task count. The
// state mix is mostly Completed with some failures, late and scheduled runs
// and a few running ones, as a busy install shows.
func planRuns(o seedOptions) ([]plannedRun, int) {
	r := rand.New(rand.NewPCG(o.seed, 0x5eed))
	span := time.Duration(o.days) * 24 * time.Hour
	runs := make([]plannedRun, o.flowRuns)
	started := 0
	for i := range runs {
		p := plannedRun{flow: zipf(r, o.flows)}
		x := r.Float64()
		switch {
		case x < 0.80:
			p.state = model.StateCompleted
		case x < 0.88:
			p.state = model.StateFailed
		case x < 0.90:
			p.state = model.StateCrashed
		case x < 0.91:
			p.state = model.StateCancelled
		case x < 0.94:
			p.state, p.name = model.StateScheduled, "Late"
		case x < 0.98:
			p.state, p.name = model.StateScheduled, "Scheduled"
		default:
			p.state = model.StateRunning
		}
		switch {
		case p.name == "Scheduled": // due within the next day
			p.expected = o.now.Add(time.Duration(r.Int64N(int64(24 * time.Hour))))
		case p.name == "Late": // overdue by up to an hour
			p.expected = o.now.Add(-time.Duration(r.Int64N(int64(time.Hour))) - time.Minute)
		case p.state == model.StateRunning: // started within the last half hour
			p.expected = o.now.Add(-time.Duration(r.Int64N(int64(30 * time.Minute))))
		default:
			p.expected = o.now.Add(-time.Duration(r.Int64N(int64(span))))
		}
		if p.state != model.StateScheduled {
			started++
		}
		runs[i] = p
	}
	// Spread the task runs evenly over the runs that started.
	total := 0
	if started > 0 {
		per, extra := o.taskRuns/started, o.taskRuns%started
		for i := range runs {
			if runs[i].state == model.StateScheduled {
				continue
			}
			runs[i].tasks = per
			if extra > 0 {
				runs[i].tasks++
				extra--
			}
			total += runs[i].tasks
		}
	}
	return runs, total
}

// zipf picks a flow so that a few flows have most runs, as in real installs.
func zipf(r *rand.Rand, n int) int {
	if n == 1 {
		return 0
	}
	for {
		k := int(float64(n) * r.Float64() * r.Float64())
		if k < n {
			return k
		}
	}
}

// seedStore writes the planned data into st (runs through the runs layer's
// import, which writes history as given) and reports progress.
func seedStore(ctx context.Context, env Env, st store.Store, o seedOptions) error {
	rs, err := runs.New(runs.Config{Store: st, Publisher: events.NewBus()})
	if err != nil {
		return err
	}
	w, err := st.WorkspaceDefault(ctx)
	if err != nil {
		return fmt.Errorf("default workspace: %w", err)
	}
	ws := w.ID
	flows := make([]model.Flow, o.flows)
	for i := range flows {
		name := seedFlowNames[i%len(seedFlowNames)]
		if i >= len(seedFlowNames) {
			name = fmt.Sprintf("%s-%d", name, i/len(seedFlowNames)+1)
		}
		tags := []string{"seed", []string{"team-data", "team-ml", "team-ops"}[i%3]}
		f, _, err := st.FlowUpsert(ctx, ws, model.FlowCreate{Name: name, Tags: tags})
		if err != nil {
			return fmt.Errorf("flow %s: %w", name, err)
		}
		flows[i] = f
	}
	plan, wantTasks := planRuns(o)
	fmt.Fprintf(env.Stdout, "Seeding %d flows, %d flow runs, %d task runs with %d writers\n", o.flows, len(plan), wantTasks, o.workers)

	var doneRuns, doneTasks atomic.Int64
	start := time.Now()
	stop := make(chan struct{})
	var pwg sync.WaitGroup
	pwg.Add(1)
	go func() {
		defer pwg.Done()
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				el := time.Since(start).Seconds()
				fr, tr := doneRuns.Load(), doneTasks.Load()
				fmt.Fprintf(env.Stdout, "  %5.0fs  flow runs %d/%d (%.0f/s)  task runs %d/%d (%.0f/s)\n",
					el, fr, len(plan), float64(fr)/el, tr, wantTasks, float64(tr)/el)
			}
		}
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int, o.workers*4)
	errs := make(chan error, o.workers)
	var wg sync.WaitGroup
	for range o.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []store.TaskRunRecord
			flush := func() error {
				if len(buf) == 0 {
					return nil
				}
				if err := rs.RecordTaskRuns(ctx, ws, buf); err != nil {
					return err
				}
				doneTasks.Add(int64(len(buf)))
				buf = buf[:0]
				return nil
			}
			for i := range jobs {
				r := rand.New(rand.NewPCG(o.seed, uint64(i)+1))
				run, recs := seedRun(r, flows[plan[i].flow], plan[i], i)
				if err := rs.ImportFlowRun(ctx, ws, run); err != nil {
					errs <- fmt.Errorf("flow run %d: %w", i, err)
					cancel()
					return
				}
				doneRuns.Add(1)
				buf = append(buf, recs...)
				if len(buf) >= 200 {
					if err := flush(); err != nil {
						errs <- err
						cancel()
						return
					}
				}
			}
			if err := flush(); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
feed:
	for i := range plan {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(stop)
	pwg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	el := time.Since(start).Seconds()
	fmt.Fprintf(env.Stdout, "Done in %.1fs: %d flow runs (%.0f/s), %d task runs (%.0f/s)\n",
		el, doneRuns.Load(), float64(doneRuns.Load())/el, doneTasks.Load(), float64(doneTasks.Load())/el)
	return nil
}

// seedRun builds flow run number i of plan p, with its task runs.
func seedRun(r *rand.Rand, f model.Flow, p plannedRun, i int) (model.FlowRun, []store.TaskRunRecord) {
	id := model.NewIDv7()
	created := p.expected.Add(-time.Duration(r.Int64N(int64(10*time.Minute))) - time.Second)
	run := model.FlowRun{
		ID:                id,
		Name:              fmt.Sprintf("seed-run-%06d", i),
		FlowID:            f.ID,
		Parameters:        []byte(fmt.Sprintf(`{"batch":%d}`, i%97)),
		Context:           []byte(`{}`),
		Tags:              append([]string{"seed"}, f.Tags[1:]...),
		ExpectedStartTime: model.TimePtr(p.expected),
		Created:           model.NewTime(created),
		Updated:           model.NewTime(created),
		AutoScheduled:     p.state == model.StateScheduled,
	}
	if r.IntN(4) == 0 {
		run.Tags = append(run.Tags, "priority")
	}
	var stateTime, runStart time.Time
	duration := time.Duration(5+r.IntN(600)) * time.Second
	if p.state != model.StateScheduled {
		runStart = p.expected.Add(time.Duration(r.IntN(20_000)) * time.Millisecond)
		run.StartTime = model.TimePtr(runStart)
		run.RunCount = 1
		stateTime = runStart
		if p.state == model.StateRunning {
			run.TotalRunTime = model.Duration(time.Since(runStart).Seconds())
		} else {
			end := runStart.Add(duration)
			run.EndTime = model.TimePtr(end)
			run.TotalRunTime = model.Duration(duration.Seconds())
			stateTime = end
		}
	} else {
		run.NextScheduledStartTime = model.TimePtr(p.expected)
		stateTime = created
	}
	name := p.name
	if name == "" {
		name = stateName(p.state)
	}
	fid := id
	st := model.State{ID: model.NewIDv7(), Type: p.state, Name: name, Timestamp: model.NewTime(stateTime),
		StateDetails: model.StateDetails{FlowRunID: &fid}}
	if p.state == model.StateScheduled {
		st.StateDetails.ScheduledTime = model.TimePtr(p.expected)
	}
	if p.state == model.StateFailed || p.state == model.StateCrashed {
		msg := "Flow run encountered an exception: ValueError('bad input')"
		if p.state == model.StateCrashed {
			msg = "Execution was interrupted by an unexpected exception: process exited with code 137"
		}
		st.Message = &msg
	}
	run.State = &st

	recs := make([]store.TaskRunRecord, p.tasks)
	var prev model.ID
	step := duration / time.Duration(max(p.tasks, 1))
	for j := range recs {
		tname := seedTaskNames[j%len(seedTaskNames)]
		tid := model.NewIDv7()
		tstart := runStart.Add(time.Duration(j) * step)
		tend := tstart.Add(step * 9 / 10)
		ttype := model.StateCompleted
		last := j == len(recs)-1
		switch {
		case last && p.state == model.StateRunning:
			ttype = model.StateRunning
		case last && (p.state == model.StateFailed || p.state == model.StateCrashed):
			ttype = model.StateFailed
		case last && p.state == model.StateCancelled:
			ttype = model.StateCancelled
		}
		tr := model.TaskRun{
			ID:                tid,
			Name:              fmt.Sprintf("%s-%03d", tname, j),
			FlowRunID:         &fid,
			TaskKey:           fmt.Sprintf("%s-%s", tname, f.Name),
			DynamicKey:        fmt.Sprint(j / len(seedTaskNames)),
			Tags:              []string{},
			TaskInputs:        map[string][]model.TaskRunInput{},
			RunCount:          1,
			FlowRunRunCount:   1,
			ExpectedStartTime: model.TimePtr(tstart),
			StartTime:         model.TimePtr(tstart),
			Created:           model.NewTime(tstart),
		}
		tts := tstart
		if ttype != model.StateRunning {
			tr.EndTime = model.TimePtr(tend)
			tr.TotalRunTime = model.Duration((step * 9 / 10).Seconds())
			tts = tend
		}
		// About half the tasks consume the previous task's result.
		if j > 0 && r.IntN(2) == 0 {
			p := prev
			tr.TaskInputs["data"] = []model.TaskRunInput{{InputType: "task_run", ID: &p}}
		}
		tidc := tid
		recs[j] = store.TaskRunRecord{Run: tr, State: model.State{ID: model.NewIDv7(), Type: ttype, Name: stateName(ttype),
			Timestamp: model.NewTime(tts), StateDetails: model.StateDetails{FlowRunID: &fid, TaskRunID: &tidc}}}
		prev = tid
	}
	return run, recs
}

// stateName is the default display name of a state type ("COMPLETED" ->
// "Completed").
func stateName(t model.StateType) string {
	s := string(t)
	if s == "" {
		return s
	}
	b := []byte(s)
	for i := 1; i < len(b); i++ {
		if b[i] >= 'A' && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}
