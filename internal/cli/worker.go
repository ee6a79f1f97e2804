package cli

import (
	"context"
	"flag"
	"fmt"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/worker"
)

// apiClient resolves the API URL and key the client-side verbs use
// (BATON_API_URL, else the profile, else PREFECT_API_URL, else the local
// default).
func apiClient(env Env) (*worker.Client, error) {
	ps, err := loadProfiles(env)
	if err != nil {
		return nil, err
	}
	s := resolveClient(env, ps)
	return &worker.Client{BaseURL: strings.TrimRight(s.APIURL, "/"), APIKey: s.APIKey}, nil
}

func workerCommands() map[string]command {
	return map[string]command{
		"start": {summary: "Poll a work pool and run its flow runs as processes", run: workerStart},
	}
}

func workerStart(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("baton worker start", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	pool := fs.String("pool", "", "work pool to serve (created as a process pool if missing)")
	queues := fs.String("queue", "", "comma-separated work queues to poll (default: all)")
	name := fs.String("name", "", "worker name (default: BatonWorker <host>-<pid>)")
	limit := fs.Int("limit", 5, "how many flow runs may execute at once")
	hb := fs.Duration("heartbeat", 10*time.Second, "heartbeat interval")
	grace := fs.Duration("kill-grace", 30*time.Second, "time between SIGTERM and SIGKILL when a run is cancelled")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *pool == "" {
		fmt.Fprintln(env.Stderr, "baton worker start: --pool is required")
		return 2
	}
	c, err := apiClient(env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "baton:", err)
		return 1
	}
	var qs []string
	for _, q := range strings.Split(*queues, ",") {
		if q = strings.TrimSpace(q); q != "" {
			qs = append(qs, q)
		}
	}
	w, err := worker.New(worker.Config{Client: c, Pool: *pool, Queues: qs, Name: *name, Limit: *limit, Heartbeat: *hb, KillGrace: *grace,
		Logger: newLogger(env, *level, "text")})
	if err != nil {
		fmt.Fprintln(env.Stderr, "baton:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := w.Run(ctx); err != nil {
		fmt.Fprintln(env.Stderr, "baton worker:", err)
		return 1
	}
	return 0
}
