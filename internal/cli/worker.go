package cli

import (
	"fmt"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton/internal/worker"
)

func (a *app) workerCmd() *cobra.Command {
	var pool, queues, name, level string
	var limit int
	var hb, grace time.Duration
	start := &cobra.Command{
		Use:   "start",
		Short: "Poll a work pool and run its flow runs as local processes",
		Long: "Poll the work pool --pool (created as a process pool when missing) and run each due flow run as\n" +
			"a subprocess: the deployment's command, or Prefect's engine for deployments made with\n" +
			"`prefect deploy` / `flow.deploy`. A command that runs a Prefect flow script (python flow.py)\n" +
			"runs that flow as the deployment's own run. Output lines become the run's logs, at the level\n" +
			"Prefect's log format names (else INFO for stdout, ERROR for stderr).",
		Example: "  baton worker start --pool local\n  baton worker start --pool gpu --queue high,default --limit 2",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if pool == "" {
				return usageError("--pool is required")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var qs []string
			for _, q := range strings.Split(queues, ",") {
				if q = strings.TrimSpace(q); q != "" {
					qs = append(qs, q)
				}
			}
			w, err := worker.New(worker.Config{Client: c, Pool: pool, Queues: qs, Name: name, Limit: limit, Heartbeat: hb, KillGrace: grace,
				Logger: newLogger(a.env, level, "text")})
			if err != nil {
				return usageError(err.Error())
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			fmt.Fprintf(a.env.Stderr, "Worker polling pool %q at %s (from %s).\n", pool, a.used.APIURL.Value, a.used.APIURL.Source)
			return w.Run(ctx)
		},
	}
	f := start.Flags()
	f.StringVar(&pool, "pool", "", "work pool to serve (created as a process pool if missing)")
	f.StringVar(&queues, "queue", "", "comma-separated work queues to poll (default: all)")
	f.StringVar(&name, "name", "", "worker name (default: BatonWorker <host>-<pid>)")
	f.IntVar(&limit, "limit", 5, "how many flow runs may execute at once")
	f.DurationVar(&hb, "heartbeat", 10*time.Second, "heartbeat interval")
	f.DurationVar(&grace, "kill-grace", 30*time.Second, "time between SIGTERM and SIGKILL when a run is cancelled")
	f.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	_ = start.RegisterFlagCompletionFunc("pool", a.completeWorkPools)
	_ = start.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	return group("worker", "Run flow runs of a work pool as local processes", start)
}
