package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/worker"
)

// Client-side verbs for deployments, work pools and flow runs. Each talks to
// the server over the public REST API, like any Prefect client.

// uiURL is the web UI address that serves the API at apiURL, the way
// Prefect derives PREFECT_UI_URL: drop /api, and a workspace's
// /api/accounts/A/workspaces/W becomes /account/A/workspace/W.
func uiURL(apiURL string) string {
	u := strings.TrimRight(apiURL, "/")
	if i := strings.Index(u, "/api/accounts/"); i >= 0 {
		rest := strings.Replace(u[i+len("/api/"):], "accounts/", "account/", 1)
		rest = strings.Replace(rest, "/workspaces/", "/workspace/", 1)
		return u[:i] + "/" + rest
	}
	return strings.TrimSuffix(u, "/api")
}

// link is the UI address of a page, for "view it at" lines.
func (a *app) link(path string) string {
	if a.used == nil {
		return ""
	}
	return uiURL(a.used.APIURL.Value) + path
}

func deref[T any](p *T, def string) string {
	if p == nil {
		return def
	}
	return fmt.Sprint(*p)
}

func localTime(t *model.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// findDeployment accepts FLOW/DEPLOYMENT or an id.
func findDeployment(ctx context.Context, c *worker.Client, ref string) (model.Deployment, error) {
	var d model.Deployment
	if id, err := model.ParseID(ref); err == nil {
		err := c.Do(ctx, "GET", "/deployments/"+id.String(), nil, &d)
		if worker.IsStatus(err, 404) {
			return d, fmt.Errorf("no deployment has the id %s (baton deployment ls)", id)
		}
		return d, err
	}
	flow, dep, ok := strings.Cut(ref, "/")
	if !ok || flow == "" || dep == "" {
		return d, usageError(fmt.Sprintf("%q is not FLOW/DEPLOYMENT or a deployment id (baton deployment ls shows both)", ref))
	}
	err := c.Do(ctx, "GET", "/deployments/name/"+url.PathEscape(flow)+"/"+url.PathEscape(dep), nil, &d)
	if worker.IsStatus(err, 404) {
		return d, fmt.Errorf("no deployment %q (baton deployment ls)", ref)
	}
	return d, err
}

// completeDeployments offers FLOW/DEPLOYMENT names from the server.
func (a *app) completeDeployments(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := a.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
	defer cancel()
	var deps []model.Deployment
	if err := c.Do(ctx, "POST", "/deployments/filter", map[string]any{"sort": "NAME_ASC", "limit": 200}, &deps); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	out := make([]string, 0, len(deps))
	for _, d := range deps {
		out = append(out, d.FlowName+"/"+d.Name)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeWorkPools offers work pool names from the server.
func (a *app) completeWorkPools(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := a.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
	defer cancel()
	var pools []model.WorkPool
	if err := c.Do(ctx, "POST", "/work_pools/filter", map[string]any{}, &pools); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	out := make([]string, 0, len(pools))
	for _, p := range pools {
		out = append(out, p.Name)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// --- deployments

func (a *app) deploymentCmd() *cobra.Command {
	ls := &cobra.Command{Use: "ls", Short: "List deployments", Args: noArgs}
	lsOut := outputFlag(ls)
	ls.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		var deps []model.Deployment
		if err := c.Do(cmd.Context(), "POST", "/deployments/filter", map[string]any{"sort": "NAME_ASC"}, &deps); err != nil {
			return err
		}
		return a.emit(*lsOut, nonNilSlice(deps), func(w io.Writer, pal palette) {
			if len(deps) == 0 {
				fmt.Fprintln(w, "No deployments yet. Create one with `prefect deploy`, `flow.serve(...)` or `baton deployment create`.")
				return
			}
			t := newTable("NAME", "ID", "POOL", "STATUS", "SCHEDULES")
			t.keep[1] = true
			t.color[3] = func(row int, s string) string {
				switch {
				case deps[row].Paused:
					return pal.yellow(s)
				case deps[row].Status == "READY":
					return pal.green(s)
				}
				return pal.dim(s)
			}
			for _, d := range deps {
				scheds := make([]string, 0, len(d.Schedules))
				for _, s := range d.Schedules {
					scheds = append(scheds, describeSchedule(s))
				}
				status := d.Status
				if d.Paused {
					status = "PAUSED"
				}
				sched := strings.Join(scheds, "; ")
				if sched == "" {
					sched = "-"
				}
				t.add(d.FlowName+"/"+d.Name, d.ID.String(), deref(d.WorkPoolName, "-"), status, sched)
			}
			a.renderTable(w, pal, t)
		})
	}

	inspect := &cobra.Command{
		Use:               "inspect FLOW/DEPLOYMENT|ID",
		Short:             "Show a deployment",
		Long:              "Show the deployment named FLOW/DEPLOYMENT (or with that id). --output json|yaml prints every field.",
		Args:              exactArgs("FLOW/DEPLOYMENT|ID"),
		ValidArgsFunction: a.completeDeployments,
	}
	inspOut := outputFlag(inspect)
	inspect.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		d, err := findDeployment(cmd.Context(), c, args[0])
		if err != nil {
			return err
		}
		return a.emit(*inspOut, d, func(w io.Writer, pal palette) {
			var scheds []string
			for _, s := range d.Schedules {
				scheds = append(scheds, describeSchedule(s))
			}
			params, _ := json.Marshal(d.Parameters)
			jv, _ := json.Marshal(d.JobVariables)
			a.fields(w, pal, [][2]string{
				{"name", d.FlowName + "/" + d.Name},
				{"id", d.ID.String()},
				{"status", d.Status},
				{"paused", strconv.FormatBool(d.Paused)},
				{"work pool", deref(d.WorkPoolName, "-")},
				{"work queue", deref(d.WorkQueueName, "-")},
				{"entrypoint", deref(d.Entrypoint, "-")},
				{"schedules", strings.Join(scheds, "; ")},
				{"parameters", string(params)},
				{"job variables", string(jv)},
				{"tags", strings.Join(d.Tags, ", ")},
				{"web UI", a.link("/deployments/deployment/" + d.ID.String())},
			})
		})
	}

	params := paramFlags{}
	var watch bool
	var timeout time.Duration
	var key string
	run := &cobra.Command{
		Use:   "run FLOW/DEPLOYMENT|ID",
		Short: "Create a flow run of a deployment",
		Long: "Create a flow run of the deployment named FLOW/DEPLOYMENT (or with that id). With --watch, wait\n" +
			"until the run ends and exit 1 unless it Completed.",
		Example:           "  baton deployment run etl/nightly --param day=2026-01-31 --watch",
		Args:              exactArgs("FLOW/DEPLOYMENT|ID"),
		ValidArgsFunction: a.completeDeployments,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			d, err := findDeployment(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			body := map[string]any{"parameters": map[string]any(params)}
			if key != "" {
				body["idempotency_key"] = key
			}
			var run model.FlowRun
			if err := c.Do(cmd.Context(), "POST", "/deployments/"+d.ID.String()+"/create_flow_run", body, &run); err != nil {
				return err
			}
			pal := a.palette(a.env.Stdout)
			fmt.Fprintf(a.env.Stdout, "Created flow run %s (%s).\n", pal.bold(run.Name), run.ID)
			fmt.Fprintf(a.env.Stdout, "View it at %s\n", a.link("/runs/flow-run/"+run.ID.String()))
			if !watch {
				return nil
			}
			return a.watchRun(cmd.Context(), c, run.ID, timeout)
		},
	}
	run.Flags().Var(params, "param", "a parameter as key=value (repeatable; JSON values allowed)")
	run.Flags().BoolVar(&watch, "watch", false, "wait until the run ends; exit 1 unless it Completed")
	run.Flags().DurationVar(&timeout, "timeout", 0, "with --watch, give up after this long (e.g. 10m)")
	run.Flags().StringVar(&key, "idempotency-key", "", "create the run only once per key")

	pause := func(p bool) *cobra.Command {
		verb, short := "pause", "Pause a deployment's schedules"
		if !p {
			verb, short = "resume", "Resume a paused deployment"
		}
		return &cobra.Command{
			Use:               verb + " FLOW/DEPLOYMENT|ID",
			Short:             short,
			Args:              exactArgs("FLOW/DEPLOYMENT|ID"),
			ValidArgsFunction: a.completeDeployments,
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := a.client()
				if err != nil {
					return err
				}
				d, err := findDeployment(cmd.Context(), c, args[0])
				if err != nil {
					return err
				}
				if err := c.Do(cmd.Context(), "POST", "/deployments/"+d.ID.String()+"/"+verb+"_deployment", nil, nil); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "%sd deployment %s/%s.\n", strings.ToUpper(verb[:1])+verb[1:], d.FlowName, d.Name)
				return nil
			},
		}
	}
	return group("deployment", "List, inspect, run, pause and resume deployments",
		ls, inspect, run, pause(true), pause(false), a.deploymentCreateCmd())
}

// nonNilSlice keeps an empty listing "[]" in JSON, never "null".
func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func describeSchedule(s model.DeploymentSchedule) string {
	var d string
	switch s.Schedule.Kind() {
	case "interval":
		d = "every " + (time.Duration(*s.Schedule.Interval * float64(time.Second))).String()
	case "cron":
		d = "cron " + *s.Schedule.Cron
	case "rrule":
		d = "rrule " + oneLine(*s.Schedule.RRule)
	}
	if tz := deref(s.Schedule.Timezone, ""); tz != "" {
		d += " (" + tz + ")"
	}
	if !s.Active {
		d += " [inactive]"
	}
	return d
}

// paramFlags collects repeated --param key=value flags (values parsed as
// JSON when they are valid JSON, else taken as strings).
type paramFlags map[string]any

func (p paramFlags) String() string { return "" }
func (p paramFlags) Type() string   { return "key=value" }

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

// watchRun polls a run until it ends, printing each state it enters from
// the state it is in now on, with the time the server recorded it. States a
// run passes through between two polls (a quick flow is Running for a few
// milliseconds) are read from its state history, so none is skipped.
func (a *app) watchRun(ctx context.Context, c *worker.Client, id model.ID, timeout time.Duration) error {
	var deadline <-chan time.Time
	if timeout > 0 {
		deadline = time.After(timeout)
	}
	tick := a.watchTick
	if tick == nil {
		tick = func() <-chan time.Time { return time.After(500 * time.Millisecond) }
	}
	pal := a.palette(a.env.Stdout)
	show := func(st model.State) {
		fmt.Fprintf(a.env.Stdout, "%s  %s\n", st.Timestamp.Local().Format("15:04:05"), pal.state(string(st.Type), st.Name))
	}
	var seen map[model.ID]bool // the states printed (or before the watch began), once the first is printed
	last, lastID := "", model.ID{}
	for {
		var run model.FlowRun
		if err := c.Do(ctx, "GET", "/flow_runs/"+id.String(), nil, &run); err != nil {
			return err
		}
		if run.State != nil && run.State.ID != lastID {
			if seen == nil {
				// The first poll: the run's current state, and what came before
				// it counts as seen.
				seen = map[model.ID]bool{}
				var history []model.State
				if err := c.Do(ctx, "GET", "/flow_run_states?flow_run_id="+id.String(), nil, &history); err != nil {
					return err
				}
				for _, st := range history {
					seen[st.ID] = true
				}
				show(*run.State)
				seen[run.State.ID] = true
			} else {
				var history []model.State
				if err := c.Do(ctx, "GET", "/flow_run_states?flow_run_id="+id.String(), nil, &history); err != nil {
					return err
				}
				for _, st := range history {
					if !seen[st.ID] {
						seen[st.ID] = true
						show(st)
					}
				}
				if !seen[run.State.ID] { // the history is read after the run: it holds the run's state unless a retention sweep intervened
					seen[run.State.ID] = true
					show(*run.State)
				}
			}
			last, lastID = run.State.Name, run.State.ID
		}
		if run.StateType != nil && run.StateType.Terminal() {
			if *run.StateType != model.StateCompleted {
				return exitError{code: 1, msg: fmt.Sprintf("flow run %s ended %s; see its logs with `baton flow-run logs %s`", run.Name, last, run.ID)}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return exitError{code: 1, msg: fmt.Sprintf("flow run %s is still %s after %s", run.Name, last, timeout)}
		case <-tick():
		}
	}
}

func (a *app) deploymentCreateCmd() *cobra.Command {
	params := paramFlags{}
	var flowName, pool, queue, command, dir, cron, tz, entrypoint string
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create (or update) a deployment that runs a command on a process pool",
		Long: "Create or update the deployment NAME of flow --flow, run by Baton's worker on --pool.\n\n" +
			"--command is a shell command. When it runs a Prefect flow script (python flow.py), the worker\n" +
			"runs that flow as the deployment's own run, as Prefect's workers do; --entrypoint FILE:FUNCTION\n" +
			"names the flow function when the script holds several.",
		Example: "  baton deployment create nightly --flow etl --pool local --command 'python etl.py' --cron '0 3 * * *'\n" +
			"  baton deployment create backup --pool local --command './backup.sh' --interval 1h",
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if pool == "" || (command == "" && entrypoint == "") {
				return usageError("--pool and --command (or --entrypoint) are required")
			}
			if cron != "" && interval > 0 {
				return usageError("give --cron or --interval, not both")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if flowName == "" {
				flowName = name
			}
			var flow model.Flow
			if err := c.Do(cmd.Context(), "POST", "/flows/", map[string]any{"name": flowName}, &flow); err != nil {
				return err
			}
			jv := map[string]any{}
			if command != "" {
				jv["command"] = command
			}
			if dir != "" {
				jv["working_dir"] = dir
			}
			body := map[string]any{"name": name, "flow_id": flow.ID, "work_pool_name": pool, "job_variables": jv,
				"parameters": map[string]any(params), "enforce_parameter_schema": false}
			if entrypoint != "" {
				body["entrypoint"] = entrypoint
			}
			if dir != "" {
				body["path"] = dir
			}
			if queue != "" {
				body["work_queue_name"] = queue
			}
			var sched map[string]any
			switch {
			case cron != "":
				sched = map[string]any{"cron": cron}
			case interval > 0:
				sched = map[string]any{"interval": interval.Seconds()}
			}
			if sched != nil {
				if tz != "" {
					sched["timezone"] = tz
				}
				body["schedules"] = []any{map[string]any{"schedule": sched, "active": true}}
			}
			var d model.Deployment
			err = c.Do(cmd.Context(), "POST", "/deployments/", body, &d)
			if worker.IsStatus(err, 404) && strings.Contains(strings.ToLower(err.(*worker.APIError).Detail), "work pool") {
				return fmt.Errorf("no work pool %q: create it with `baton work-pool create %s` (baton work-pool ls lists them)", pool, pool)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "Deployment %s/%s (%s).\nRun it with: baton deployment run %s/%s\n", flowName, d.Name, d.ID, flowName, d.Name)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&flowName, "flow", "", "flow name (created if missing; default: the deployment name)")
	f.StringVar(&pool, "pool", "", "work pool (required)")
	f.StringVar(&queue, "queue", "", "work queue (default: the pool's default queue)")
	f.StringVar(&command, "command", "", "shell command the worker runs")
	f.StringVar(&entrypoint, "entrypoint", "", "the flow function a Prefect script holds, as FILE:FUNCTION (e.g. flows.py:etl)")
	f.StringVar(&dir, "dir", "", "working directory of the command")
	f.StringVar(&cron, "cron", "", "cron schedule, e.g. '0 3 * * *'")
	f.StringVar(&tz, "timezone", "", "time zone of the schedule, e.g. Europe/Paris")
	f.DurationVar(&interval, "interval", 0, "interval schedule, e.g. 15m")
	f.Var(params, "param", "a default parameter as key=value (repeatable; JSON values allowed)")
	_ = cmd.RegisterFlagCompletionFunc("pool", a.completeWorkPools)
	return cmd
}

// --- work pools

func (a *app) workPoolCmd() *cobra.Command {
	var typ string
	var limit int
	var paused bool
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a work pool",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			body := map[string]any{"name": args[0], "type": typ, "is_paused": paused}
			if limit >= 0 {
				body["concurrency_limit"] = limit
			}
			var p model.WorkPool
			if err := c.Do(cmd.Context(), "POST", "/work_pools/", body, &p); err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "Created work pool %s (%s).\nServe it with: baton worker start --pool %s\n", p.Name, p.ID, p.Name)
			return nil
		},
	}
	create.Flags().StringVar(&typ, "type", "process", "worker type")
	create.Flags().IntVar(&limit, "concurrency-limit", -1, "most runs in Pending/Running at once (-1: no limit)")
	create.Flags().BoolVar(&paused, "paused", false, "create it paused")

	ls := &cobra.Command{Use: "ls", Short: "List work pools", Args: noArgs}
	lsOut := outputFlag(ls)
	ls.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		var pools []model.WorkPool
		if err := c.Do(cmd.Context(), "POST", "/work_pools/filter", map[string]any{}, &pools); err != nil {
			return err
		}
		return a.emit(*lsOut, nonNilSlice(pools), func(w io.Writer, pal palette) {
			if len(pools) == 0 {
				fmt.Fprintln(w, "No work pools yet. Create one with `baton work-pool create NAME`.")
				return
			}
			t := newTable("NAME", "TYPE", "STATUS", "LIMIT", "ID")
			t.keep[4] = true
			t.color[2] = func(row int, s string) string {
				switch {
				case pools[row].IsPaused:
					return pal.yellow(s)
				case pools[row].Status == "READY":
					return pal.green(s)
				}
				return pal.dim(s)
			}
			for _, p := range pools {
				status := p.Status
				if p.IsPaused {
					status = "PAUSED"
				}
				t.add(p.Name, p.Type, status, deref(p.ConcurrencyLimit, "-"), p.ID.String())
			}
			a.renderTable(w, pal, t)
		})
	}

	inspect := &cobra.Command{
		Use:               "inspect NAME",
		Short:             "Show a work pool with its queues and workers",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeWorkPools,
	}
	inspOut := outputFlag(inspect)
	inspect.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		name := url.PathEscape(args[0])
		var out struct {
			Pool    model.WorkPool    `json:"pool"`
			Queues  []model.WorkQueue `json:"queues"`
			Workers []model.Worker    `json:"workers"`
		}
		err = c.Do(cmd.Context(), "GET", "/work_pools/"+name, nil, &out.Pool)
		if worker.IsStatus(err, 404) {
			return fmt.Errorf("no work pool %q (baton work-pool ls)", args[0])
		}
		if err != nil {
			return err
		}
		if err := c.Do(cmd.Context(), "POST", "/work_pools/"+name+"/queues/filter", map[string]any{}, &out.Queues); err != nil {
			return err
		}
		if err := c.Do(cmd.Context(), "POST", "/work_pools/"+name+"/workers/filter", map[string]any{}, &out.Workers); err != nil {
			return err
		}
		out.Queues, out.Workers = nonNilSlice(out.Queues), nonNilSlice(out.Workers)
		return a.emit(*inspOut, out, func(w io.Writer, pal palette) {
			p := out.Pool
			a.fields(w, pal, [][2]string{
				{"name", p.Name}, {"id", p.ID.String()}, {"type", p.Type}, {"status", p.Status},
				{"paused", strconv.FormatBool(p.IsPaused)}, {"concurrency limit", deref(p.ConcurrencyLimit, "none")},
				{"web UI", a.link("/work-pools/work-pool/" + url.PathEscape(p.Name))},
			})
			fmt.Fprintln(w)
			qt := newTable("QUEUE", "PRIORITY", "PAUSED", "LIMIT")
			for _, q := range out.Queues {
				qt.add(q.Name, strconv.Itoa(q.Priority), strconv.FormatBool(q.IsPaused), deref(q.ConcurrencyLimit, "-"))
			}
			a.renderTable(w, pal, qt)
			fmt.Fprintln(w)
			if len(out.Workers) == 0 {
				fmt.Fprintf(w, "No workers. Start one with: baton worker start --pool %s\n", p.Name)
				return
			}
			wt := newTable("WORKER", "STATUS", "LAST HEARTBEAT")
			for _, wk := range out.Workers {
				wt.add(wk.Name, wk.Status, localTime(wk.LastHeartbeatTime))
			}
			a.renderTable(w, pal, wt)
		})
	}

	pause := func(p bool) *cobra.Command {
		verb, short := "pause", "Pause a work pool (its runs wait)"
		if !p {
			verb, short = "resume", "Resume a paused work pool"
		}
		return &cobra.Command{
			Use:               verb + " NAME",
			Short:             short,
			Args:              exactArgs("NAME"),
			ValidArgsFunction: a.completeWorkPools,
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := a.client()
				if err != nil {
					return err
				}
				err = c.Do(cmd.Context(), "PATCH", "/work_pools/"+url.PathEscape(args[0]), map[string]any{"is_paused": p}, nil)
				if worker.IsStatus(err, 404) {
					return fmt.Errorf("no work pool %q (baton work-pool ls)", args[0])
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "%sd work pool %s.\n", strings.ToUpper(verb[:1])+verb[1:], args[0])
				return nil
			},
		}
	}
	return group("work-pool", "Create, list, inspect, pause and resume work pools", create, ls, inspect, pause(true), pause(false))
}

// --- flow runs

// stateNames maps the upper-cased official Prefect state names to their
// spelling, as `prefect flow-run ls --state` accepts them.
var stateNames = map[string]string{
	"SCHEDULED": "Scheduled", "PENDING": "Pending", "RUNNING": "Running", "COMPLETED": "Completed",
	"FAILED": "Failed", "CANCELLED": "Cancelled", "CRASHED": "Crashed", "PAUSED": "Paused",
	"CANCELLING": "Cancelling", "SUSPENDED": "Suspended", "AWAITINGRETRY": "AwaitingRetry",
	"RETRYING": "Retrying", "LATE": "Late",
}

var stateTypes = []string{"SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED", "PAUSED", "CANCELLING"}

// splitList splits repeated, comma-separated flag values.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func (a *app) flowRunCmd() *cobra.Command {
	var upcoming bool
	var limit int
	var dep string
	var states, types, flows []string
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List flow runs, newest first (--upcoming for scheduled ones)",
		Example: "  baton flow-run ls --state Late\n  baton flow-run ls --state running,failed --limit 50\n" +
			"  baton flow-run ls --state-type CRASHED -o json",
		Args: noArgs,
	}
	lsOut := outputFlag(ls)
	f := ls.Flags()
	f.BoolVar(&upcoming, "upcoming", false, "only scheduled runs, soonest first")
	f.IntVar(&limit, "limit", 15, "how many runs")
	f.StringVar(&dep, "deployment", "", "only runs of this deployment (FLOW/DEPLOYMENT or id)")
	f.StringSliceVar(&states, "state", nil, "only runs whose state has one of these names, case-insensitive (Late, Running, AwaitingRetry, …; repeatable or comma-separated)")
	f.StringSliceVar(&types, "state-type", nil, "only runs whose state has one of these types (RUNNING, FAILED, …)")
	f.StringSliceVar(&flows, "flow-name", nil, "only runs of these flows")
	names := make([]string, 0, len(stateNames))
	for _, n := range stateNames {
		names = append(names, n)
	}
	_ = ls.RegisterFlagCompletionFunc("state", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
	_ = ls.RegisterFlagCompletionFunc("state-type", cobra.FixedCompletions(stateTypes, cobra.ShellCompDirectiveNoFileComp))
	_ = ls.RegisterFlagCompletionFunc("deployment", a.completeDeployments)
	ls.RunE = func(cmd *cobra.Command, args []string) error {
		if limit < 1 {
			return usageError("--limit must be at least 1")
		}
		stateFilter := map[string]any{}
		if ss := splitList(states); len(ss) > 0 {
			var want []string
			for _, s := range ss {
				if n, ok := stateNames[strings.ToUpper(s)]; ok {
					want = append(want, n)
				} else {
					fmt.Fprintf(a.env.Stderr, "Warning: %q is not one of Prefect's state names (%s); listing runs whose state is named exactly that.\n", s, strings.Join(sortedValues(stateNames), ", "))
					want = append(want, s)
				}
			}
			stateFilter["name"] = map[string]any{"any_": want}
		}
		if ts := splitList(types); len(ts) > 0 {
			var want []string
			for _, s := range ts {
				u := strings.ToUpper(s)
				if !contains(stateTypes, u) {
					return usageError(fmt.Sprintf("--state-type %q is not one of %s", s, strings.Join(stateTypes, ", ")))
				}
				want = append(want, u)
			}
			stateFilter["type"] = map[string]any{"any_": want}
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		runFilter := map[string]any{}
		body := map[string]any{"limit": limit, "sort": "EXPECTED_START_TIME_DESC", "flow_runs": runFilter}
		switch {
		case upcoming:
			runFilter["state"] = map[string]any{"type": map[string]any{"any_": []string{"SCHEDULED"}}}
			body["sort"] = "NEXT_SCHEDULED_START_TIME_ASC"
		case len(stateFilter) > 0:
			runFilter["state"] = stateFilter
		}
		if fs := splitList(flows); len(fs) > 0 {
			body["flows"] = map[string]any{"name": map[string]any{"any_": fs}}
		}
		if dep != "" {
			d, err := findDeployment(cmd.Context(), c, dep)
			if err != nil {
				return err
			}
			runFilter["deployment_id"] = map[string]any{"any_": []model.ID{d.ID}}
		}
		var runs []model.FlowRun
		if err := c.Do(cmd.Context(), "POST", "/flow_runs/filter", body, &runs); err != nil {
			return err
		}
		flowNames := map[model.ID]string{}
		if len(runs) > 0 {
			ids := make([]model.ID, 0, len(runs))
			for _, r := range runs {
				ids = append(ids, r.FlowID)
			}
			var fl []model.Flow
			if err := c.Do(cmd.Context(), "POST", "/flows/filter", map[string]any{"flows": map[string]any{"id": map[string]any{"any_": ids}}}, &fl); err == nil {
				for _, x := range fl {
					flowNames[x.ID] = x.Name
				}
			}
		}
		return a.emit(*lsOut, nonNilSlice(runs), func(w io.Writer, pal palette) {
			if len(runs) == 0 {
				fmt.Fprintln(w, "No flow runs found.")
				return
			}
			t := newTable("ID", "FLOW", "NAME", "STATE", "WHEN")
			t.keep[0] = true
			t.color[3] = func(row int, s string) string {
				if st := runs[row].State; st != nil {
					return pal.state(string(st.Type), s)
				}
				return s
			}
			for _, r := range runs {
				when := "-"
				switch {
				case r.NextScheduledStartTime != nil && (r.StateType == nil || *r.StateType == model.StateScheduled):
					when = localTime(r.NextScheduledStartTime)
				case r.StartTime != nil:
					when = localTime(r.StartTime)
				case r.ExpectedStartTime != nil:
					when = localTime(r.ExpectedStartTime)
				}
				st := "-"
				if r.State != nil {
					st = r.State.Name
				}
				t.add(r.ID.String(), deref(ptrIf(flowNames[r.FlowID]), "-"), r.Name, st, when)
			}
			a.renderTable(w, pal, t)
		})
	}

	inspect := &cobra.Command{
		Use:   "inspect ID",
		Short: "Show a flow run",
		Long:  "Show the flow run with id ID. --output json|yaml prints every field.",
		Args:  exactArgs("ID"),
	}
	inspOut := outputFlag(inspect)
	inspect.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := parseRunID(args[0])
		if err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		var raw json.RawMessage
		err = c.Do(cmd.Context(), "GET", "/flow_runs/"+id.String(), nil, &raw)
		if worker.IsStatus(err, 404) {
			return fmt.Errorf("no flow run has the id %s (baton flow-run ls)", id)
		}
		if err != nil {
			return err
		}
		var r model.FlowRun
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("unexpected answer from the server: %w", err)
		}
		return a.emit(*inspOut, raw, func(w io.Writer, pal palette) {
			st, msg := "-", ""
			if r.State != nil {
				st = pal.state(string(r.State.Type), r.State.Name)
				msg = deref(r.State.Message, "")
			}
			params, _ := json.Marshal(r.Parameters)
			a.fields(w, pal, [][2]string{
				{"name", r.Name}, {"id", r.ID.String()}, {"state", st}, {"message", msg},
				{"flow id", r.FlowID.String()}, {"deployment id", deref(r.DeploymentID, "-")},
				{"expected start", localTime(r.ExpectedStartTime)}, {"start", localTime(r.StartTime)}, {"end", localTime(r.EndTime)},
				{"run count", strconv.Itoa(r.RunCount)}, {"parameters", string(params)}, {"tags", strings.Join(r.Tags, ", ")},
				{"web UI", a.link("/runs/flow-run/" + r.ID.String())},
			})
		})
	}

	cancel := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a flow run (its worker stops the process)",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseRunID(args[0])
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var res model.OrchestrationResult
			err = c.Do(cmd.Context(), "POST", "/flow_runs/"+id.String()+"/set_state", map[string]any{"state": map[string]any{"type": "CANCELLING"}}, &res)
			if worker.IsStatus(err, 404) {
				return fmt.Errorf("no flow run has the id %s (baton flow-run ls)", id)
			}
			if err != nil {
				return err
			}
			if res.Status == model.StatusAbort || res.State == nil {
				return fmt.Errorf("the run was not cancelled: %s", res.Details.Reason)
			}
			if res.Status == model.StatusReject && res.State.Type != model.StateCancelling {
				return fmt.Errorf("the run was not cancelled: it is %s (%s)", res.State.Name, res.Details.Reason)
			}
			fmt.Fprintf(a.env.Stdout, "Flow run %s is %s.\n", id, res.State.Name)
			return nil
		},
	}

	logs := &cobra.Command{
		Use:   "logs ID",
		Short: "Print a flow run's logs",
		Args:  exactArgs("ID"),
	}
	logsOut := outputFlag(logs)
	logs.RunE = func(cmd *cobra.Command, args []string) error {
		rid, err := parseRunID(args[0])
		if err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		if err := c.Do(cmd.Context(), "GET", "/flow_runs/"+rid.String(), nil, nil); worker.IsStatus(err, 404) {
			return fmt.Errorf("no flow run has the id %s (baton flow-run ls)", rid)
		} else if err != nil {
			return err
		}
		var all []model.Log
		pal := a.palette(a.env.Stdout)
		for offset := 0; ; {
			var page []model.Log
			body := map[string]any{"logs": map[string]any{"flow_run_id": map[string]any{"any_": []model.ID{rid}}}, "sort": "TIMESTAMP_ASC", "limit": 200, "offset": offset}
			if err := c.Do(cmd.Context(), "POST", "/logs/filter", body, &page); err != nil {
				return err
			}
			if *logsOut == formatTable {
				for _, l := range page {
					fmt.Fprintf(a.env.Stdout, "%s  %s %s\n", pal.dim(l.Timestamp.Local().Format("2006-01-02 15:04:05.000")), levelColor(pal, l.Level), l.Message)
				}
			} else {
				all = append(all, page...)
			}
			if len(page) < 200 {
				break
			}
			offset += len(page)
		}
		if *logsOut == formatTable {
			return nil
		}
		return a.emit(*logsOut, nonNilSlice(all), nil)
	}
	return group("flow-run", "List, inspect, cancel, retry and delete flow runs, and print their logs", ls, inspect, cancel, a.flowRunRetryCmd(), a.flowRunDeleteCmd(), logs)
}

func parseRunID(s string) (model.ID, error) {
	id, err := model.ParseID(s)
	if err != nil {
		return id, usageError(fmt.Sprintf("%q is not a flow run id (a UUID, as baton flow-run ls shows)", s))
	}
	return id, nil
}

func ptrIf(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
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

// levelColor pads and colours a log level.
func levelColor(pal palette, l int) string {
	s := fmt.Sprintf("%-8s", levelName(l))
	switch {
	case l >= 40:
		return pal.red(s)
	case l >= 30:
		return pal.yellow(s)
	case l >= 20:
		return pal.blue(s)
	}
	return pal.dim(s)
}
