package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/worker"
)

// Client-side verbs for deployments, work pools and flow runs. Each talks to
// the server over the public REST API.

func deploymentCommands() map[string]command {
	return map[string]command{
		"ls":      {summary: "List deployments", run: deploymentLs},
		"inspect": {summary: "Show a deployment (FLOW/DEPLOYMENT or id) as JSON", run: deploymentInspect},
		"run":     {summary: "Create a flow run of a deployment", run: deploymentRun},
		"pause":   {summary: "Pause a deployment's schedules", run: func(ctx context.Context, env Env, args []string) int { return deploymentPause(ctx, env, args, true) }},
		"resume":  {summary: "Resume a paused deployment", run: func(ctx context.Context, env Env, args []string) int { return deploymentPause(ctx, env, args, false) }},
		"create":  {summary: "Create (or update) a deployment that runs a shell command on a process pool", run: deploymentCreate},
	}
}

func workPoolCommands() map[string]command {
	return map[string]command{
		"create":  {summary: "Create a work pool", run: workPoolCreate},
		"ls":      {summary: "List work pools", run: workPoolLs},
		"inspect": {summary: "Show a work pool as JSON", run: workPoolInspect},
		"pause":   {summary: "Pause a work pool (its runs wait)", run: func(ctx context.Context, env Env, args []string) int { return workPoolPause(ctx, env, args, true) }},
		"resume":  {summary: "Resume a paused work pool", run: func(ctx context.Context, env Env, args []string) int { return workPoolPause(ctx, env, args, false) }},
	}
}

func flowRunCommands() map[string]command {
	return map[string]command{
		"ls":      {summary: "List flow runs (--upcoming for scheduled ones)", run: flowRunLs},
		"inspect": {summary: "Show a flow run as JSON", run: flowRunInspect},
		"cancel":  {summary: "Cancel a flow run", run: flowRunCancel},
		"logs":    {summary: "Print a flow run's logs", run: flowRunLogs},
	}
}

// clientCmd parses flags, builds the API client and runs fn, turning errors
// into exit codes (2 for usage, 1 otherwise).
func clientCmd(env Env, name string, args []string, setup func(fs *flag.FlagSet), fn func(c *worker.Client, fs *flag.FlagSet) error) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	if setup != nil {
		setup(fs)
	}
	if err := parseInterspersed(fs, args); err != nil {
		return 2
	}
	c, err := apiClient(env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "baton:", err)
		return 1
	}
	if err := fn(c, fs); err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
		if _, ok := err.(usageError); ok {
			return 2
		}
		return 1
	}
	return 0
}

// parseInterspersed parses flags that may follow positional arguments
// ("baton deployment run flow/dep --watch"); positionals end up in fs.Args().
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func table(w io.Writer, header string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush()
}

func deref[T any](p *T, def string) string {
	if p == nil {
		return def
	}
	return fmt.Sprint(*p)
}

// findDeployment accepts FLOW/DEPLOYMENT or an id.
func findDeployment(ctx context.Context, c *worker.Client, ref string) (model.Deployment, error) {
	var d model.Deployment
	if id, err := model.ParseID(ref); err == nil {
		return d, c.Do(ctx, "GET", "/deployments/"+id.String(), nil, &d)
	}
	flow, dep, ok := strings.Cut(ref, "/")
	if !ok {
		return d, usageError(fmt.Sprintf("%q is not FLOW/DEPLOYMENT or a deployment id", ref))
	}
	return d, c.Do(ctx, "GET", "/deployments/name/"+flow+"/"+dep, nil, &d)
}

func deploymentLs(ctx context.Context, env Env, args []string) int {
	return clientCmd(env, "baton deployment ls", args, nil, func(c *worker.Client, fs *flag.FlagSet) error {
		var deps []model.Deployment
		if err := c.Do(ctx, "POST", "/deployments/filter", map[string]any{"sort": "NAME_ASC"}, &deps); err != nil {
			return err
		}
		var rows [][]string
		for _, d := range deps {
			scheds := make([]string, 0, len(d.Schedules))
			for _, s := range d.Schedules {
				scheds = append(scheds, describeSchedule(s))
			}
			rows = append(rows, []string{d.FlowName + "/" + d.Name, d.ID.String(), deref(d.WorkPoolName, "-"), strconv.FormatBool(d.Paused), d.Status, strings.Join(scheds, "; ")})
		}
		table(env.Stdout, "NAME\tID\tPOOL\tPAUSED\tSTATUS\tSCHEDULES", rows)
		return nil
	})
}

func describeSchedule(s model.DeploymentSchedule) string {
	var d string
	switch s.Schedule.Kind() {
	case "interval":
		d = "every " + (time.Duration(*s.Schedule.Interval * float64(time.Second))).String()
	case "cron":
		d = "cron " + *s.Schedule.Cron
	case "rrule":
		d = "rrule " + *s.Schedule.RRule
	}
	if tz := deref(s.Schedule.Timezone, ""); tz != "" {
		d += " (" + tz + ")"
	}
	if !s.Active {
		d += " [inactive]"
	}
	return d
}

func deploymentInspect(ctx context.Context, env Env, args []string) int {
	return clientCmd(env, "baton deployment inspect", args, nil, func(c *worker.Client, fs *flag.FlagSet) error {
		ref, err := args1(fs.Args(), "FLOW/DEPLOYMENT")
		if err != nil {
			return err
		}
		d, err := findDeployment(ctx, c, ref)
		if err != nil {
			return err
		}
		return printJSON(env.Stdout, d)
	})
}

func deploymentPause(ctx context.Context, env Env, args []string, pause bool) int {
	verb := map[bool]string{true: "pause", false: "resume"}[pause]
	return clientCmd(env, "baton deployment "+verb, args, nil, func(c *worker.Client, fs *flag.FlagSet) error {
		ref, err := args1(fs.Args(), "FLOW/DEPLOYMENT")
		if err != nil {
			return err
		}
		d, err := findDeployment(ctx, c, ref)
		if err != nil {
			return err
		}
		if err := c.Do(ctx, "POST", "/deployments/"+d.ID.String()+"/"+verb+"_deployment", nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%sd deployment %s/%s\n", verb, d.FlowName, d.Name)
		return nil
	})
}

// paramFlags collects repeated --param key=value flags (values parsed as
// JSON when they are valid JSON, else taken as strings).
type paramFlags map[string]any

func (p paramFlags) String() string { return "" }

func (p paramFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not key=value", s)
	}
	var parsed any
	if json.Unmarshal([]byte(v), &parsed) == nil {
		p[k] = parsed
	} else {
		p[k] = v
	}
	return nil
}

func deploymentRun(ctx context.Context, env Env, args []string) int {
	params := paramFlags{}
	var watch *bool
	var timeout *time.Duration
	var key *string
	return clientCmd(env, "baton deployment run", args, func(fs *flag.FlagSet) {
		fs.Var(params, "param", "a parameter as key=value (repeatable; JSON values allowed)")
		watch = fs.Bool("watch", false, "wait until the run ends; exit 1 unless it COMPLETED")
		timeout = fs.Duration("timeout", 0, "with --watch, give up after this long")
		key = fs.String("idempotency-key", "", "create the run only once per key")
	}, func(c *worker.Client, fs *flag.FlagSet) error {
		ref, err := args1(fs.Args(), "FLOW/DEPLOYMENT")
		if err != nil {
			return err
		}
		d, err := findDeployment(ctx, c, ref)
		if err != nil {
			return err
		}
		body := map[string]any{"parameters": map[string]any(params)}
		if *key != "" {
			body["idempotency_key"] = *key
		}
		var run model.FlowRun
		if err := c.Do(ctx, "POST", "/deployments/"+d.ID.String()+"/create_flow_run", body, &run); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "created flow run %s (%s)\n", run.Name, run.ID)
		if !*watch {
			return nil
		}
		return watchRun(ctx, env, c, run.ID, *timeout)
	})
}

// watchRun polls a run until it ends.
func watchRun(ctx context.Context, env Env, c *worker.Client, id model.ID, timeout time.Duration) error {
	var deadline <-chan time.Time
	if timeout > 0 {
		deadline = time.After(timeout)
	}
	last := ""
	for {
		var run model.FlowRun
		if err := c.Do(ctx, "GET", "/flow_runs/"+id.String(), nil, &run); err != nil {
			return err
		}
		if run.State != nil && run.State.Name != last {
			last = run.State.Name
			fmt.Fprintf(env.Stdout, "%s  %s\n", time.Now().Format("15:04:05"), last)
		}
		if run.StateType != nil && run.StateType.Terminal() {
			if *run.StateType != model.StateCompleted {
				return fmt.Errorf("flow run ended %s", *run.StateType)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("flow run still %s after %s", last, timeout)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func deploymentCreate(ctx context.Context, env Env, args []string) int {
	params := paramFlags{}
	var flowName, pool, queue, command, dir, cron, tz *string
	var interval *time.Duration
	return clientCmd(env, "baton deployment create", args, func(fs *flag.FlagSet) {
		flowName = fs.String("flow", "", "flow name (created if missing; default: the deployment name)")
		pool = fs.String("pool", "", "work pool (required)")
		queue = fs.String("queue", "", "work queue (default: the pool's default queue)")
		command = fs.String("command", "", "shell command the worker runs (required)")
		dir = fs.String("dir", "", "working directory of the command")
		cron = fs.String("cron", "", "cron schedule")
		tz = fs.String("timezone", "", "time zone of the schedule")
		interval = fs.Duration("interval", 0, "interval schedule")
		fs.Var(params, "param", "a default parameter as key=value (repeatable)")
	}, func(c *worker.Client, fs *flag.FlagSet) error {
		name, err := args1(fs.Args(), "NAME")
		if err != nil {
			return err
		}
		if *pool == "" || *command == "" {
			return usageError("--pool and --command are required")
		}
		if *flowName == "" {
			*flowName = name
		}
		var flow model.Flow
		if err := c.Do(ctx, "POST", "/flows/", map[string]any{"name": *flowName}, &flow); err != nil {
			return err
		}
		jv := map[string]any{"command": *command}
		if *dir != "" {
			jv["working_dir"] = *dir
		}
		body := map[string]any{"name": name, "flow_id": flow.ID, "work_pool_name": *pool, "job_variables": jv,
			"parameters": map[string]any(params), "enforce_parameter_schema": false}
		if *queue != "" {
			body["work_queue_name"] = *queue
		}
		var sched map[string]any
		switch {
		case *cron != "":
			sched = map[string]any{"cron": *cron}
		case *interval > 0:
			sched = map[string]any{"interval": interval.Seconds()}
		}
		if sched != nil {
			if *tz != "" {
				sched["timezone"] = *tz
			}
			body["schedules"] = []any{map[string]any{"schedule": sched, "active": true}}
		}
		var d model.Deployment
		if err := c.Do(ctx, "POST", "/deployments/", body, &d); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "deployment %s/%s (%s)\n", *flowName, d.Name, d.ID)
		return nil
	})
}

func workPoolCreate(ctx context.Context, env Env, args []string) int {
	var typ *string
	var limit *int
	var paused *bool
	return clientCmd(env, "baton work-pool create", args, func(fs *flag.FlagSet) {
		typ = fs.String("type", "process", "worker type")
		limit = fs.Int("concurrency-limit", -1, "most runs in PENDING/RUNNING at once (-1: none)")
		paused = fs.Bool("paused", false, "create it paused")
	}, func(c *worker.Client, fs *flag.FlagSet) error {
		name, err := args1(fs.Args(), "NAME")
		if err != nil {
			return err
		}
		body := map[string]any{"name": name, "type": *typ, "is_paused": *paused}
		if *limit >= 0 {
			body["concurrency_limit"] = *limit
		}
		var p model.WorkPool
		if err := c.Do(ctx, "POST", "/work_pools/", body, &p); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "created work pool %s (%s)\n", p.Name, p.ID)
		return nil
	})
}

func workPoolLs(ctx context.Context, env Env, args []string) int {
	return clientCmd(env, "baton work-pool ls", args, nil, func(c *worker.Client, fs *flag.FlagSet) error {
		var pools []model.WorkPool
		if err := c.Do(ctx, "POST", "/work_pools/filter", map[string]any{}, &pools); err != nil {
			return err
		}
		var rows [][]string
		for _, p := range pools {
			rows = append(rows, []string{p.Name, p.Type, p.Status, strconv.FormatBool(p.IsPaused), deref(p.ConcurrencyLimit, "-"), p.ID.String()})
		}
		table(env.Stdout, "NAME\tTYPE\tSTATUS\tPAUSED\tLIMIT\tID", rows)
		return nil
	})
}

func workPoolInspect(ctx context.Context, env Env, args []string) int {
	return clientCmd(env, "baton work-pool inspect", args, nil, func(c *worker.Client, fs *flag.FlagSet) error {
		name, err := args1(fs.Args(), "NAME")
		if err != nil {
			return err
		}
		var out struct {
			Pool    model.WorkPool    `json:"pool"`
			Queues  []model.WorkQueue `json:"queues"`
			Workers []model.Worker    `json:"workers"`
		}
		if err := c.Do(ctx, "GET", "/work_pools/"+name, nil, &out.Pool); err != nil {
			return err
		}
		if err := c.Do(ctx, "POST", "/work_pools/"+name+"/queues/filter", map[string]any{}, &out.Queues); err != nil {
			return err
		}
		if err := c.Do(ctx, "POST", "/work_pools/"+name+"/workers/filter", map[string]any{}, &out.Workers); err != nil {
			return err
		}
		return printJSON(env.Stdout, out)
	})
}

func workPoolPause(ctx context.Context, env Env, args []string, pause bool) int {
	verb := map[bool]string{true: "pause", false: "resume"}[pause]
	return clientCmd(env, "baton work-pool "+verb, args, nil, func(c *worker.Client, fs *flag.FlagSet) error {
		name, err := args1(fs.Args(), "NAME")
		if err != nil {
			return err
		}
		if err := c.Do(ctx, "PATCH", "/work_pools/"+name, map[string]any{"is_paused": pause}, nil); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%sd work pool %s\n", verb, name)
		return nil
	})
}

func flowRunLs(ctx context.Context, env Env, args []string) int {
	var upcoming *bool
	var limit *int
	var dep, state *string
	return clientCmd(env, "baton flow-run ls", args, func(fs *flag.FlagSet) {
		upcoming = fs.Bool("upcoming", false, "only scheduled runs, soonest first")
		limit = fs.Int("limit", 20, "how many runs")
		dep = fs.String("deployment", "", "only runs of this deployment (FLOW/DEPLOYMENT or id)")
		state = fs.String("state", "", "only runs in these state types (comma-separated, e.g. RUNNING,FAILED)")
	}, func(c *worker.Client, fs *flag.FlagSet) error {
		f := map[string]any{}
		body := map[string]any{"limit": *limit, "sort": "EXPECTED_START_TIME_DESC", "flow_runs": f}
		if *upcoming {
			f["state"] = map[string]any{"type": map[string]any{"any_": []string{"SCHEDULED"}}}
			body["sort"] = "NEXT_SCHEDULED_START_TIME_ASC"
		} else if *state != "" {
			f["state"] = map[string]any{"type": map[string]any{"any_": strings.Split(strings.ToUpper(*state), ",")}}
		}
		if *dep != "" {
			d, err := findDeployment(ctx, c, *dep)
			if err != nil {
				return err
			}
			f["deployment_id"] = map[string]any{"any_": []model.ID{d.ID}}
		}
		var runs []model.FlowRun
		if err := c.Do(ctx, "POST", "/flow_runs/filter", body, &runs); err != nil {
			return err
		}
		var rows [][]string
		for _, r := range runs {
			when := "-"
			switch {
			case r.NextScheduledStartTime != nil:
				when = r.NextScheduledStartTime.Local().Format("2006-01-02 15:04:05")
			case r.StartTime != nil:
				when = r.StartTime.Local().Format("2006-01-02 15:04:05")
			case r.ExpectedStartTime != nil:
				when = r.ExpectedStartTime.Local().Format("2006-01-02 15:04:05")
			}
			st := "-"
			if r.State != nil {
				st = r.State.Name
			}
			rows = append(rows, []string{r.ID.String(), r.Name, st, when})
		}
		table(env.Stdout, "ID\tNAME\tSTATE\tWHEN", rows)
		return nil
	})
}

func flowRunInspect(ctx context.Context, env Env, args []string) int {
	return clientCmd(env, "baton flow-run inspect", args, nil, func(c *worker.Client, fs *flag.FlagSet) error {
		id, err := args1(fs.Args(), "ID")
		if err != nil {
			return err
		}
		var run json.RawMessage
		if err := c.Do(ctx, "GET", "/flow_runs/"+id, nil, &run); err != nil {
			return err
		}
		return printJSON(env.Stdout, run)
	})
}

func flowRunCancel(ctx context.Context, env Env, args []string) int {
	return clientCmd(env, "baton flow-run cancel", args, nil, func(c *worker.Client, fs *flag.FlagSet) error {
		id, err := args1(fs.Args(), "ID")
		if err != nil {
			return err
		}
		var res model.OrchestrationResult
		if err := c.Do(ctx, "POST", "/flow_runs/"+id+"/set_state", map[string]any{"state": map[string]any{"type": "CANCELLING"}}, &res); err != nil {
			return err
		}
		if res.Status == model.StatusAbort || res.State == nil {
			return fmt.Errorf("not cancelled: %s", res.Details.Reason)
		}
		fmt.Fprintf(env.Stdout, "flow run %s is %s\n", id, res.State.Name)
		return nil
	})
}

func flowRunLogs(ctx context.Context, env Env, args []string) int {
	return clientCmd(env, "baton flow-run logs", args, nil, func(c *worker.Client, fs *flag.FlagSet) error {
		id, err := args1(fs.Args(), "ID")
		if err != nil {
			return err
		}
		rid, err := model.ParseID(id)
		if err != nil {
			return usageError(fmt.Sprintf("%q is not a flow run id", id))
		}
		for offset := 0; ; {
			var logs []model.Log
			body := map[string]any{"logs": map[string]any{"flow_run_id": map[string]any{"any_": []model.ID{rid}}}, "sort": "TIMESTAMP_ASC", "limit": 200, "offset": offset}
			if err := c.Do(ctx, "POST", "/logs/filter", body, &logs); err != nil {
				return err
			}
			for _, l := range logs {
				fmt.Fprintf(env.Stdout, "%s  %-8s %s\n", l.Timestamp.Local().Format("2006-01-02 15:04:05.000"), levelName(l.Level), l.Message)
			}
			if len(logs) < 200 {
				return nil
			}
			offset += len(logs)
		}
	})
}

func levelName(l int) string {
	switch {
	case l >= 50:
		return "CRITICAL"
	case l >= 40:
		return "ERROR"
	case l >= 30:
		return "WARNING"
	case l >= 20:
		return "INFO"
	}
	return "DEBUG"
}
