package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton/internal/api"
	"github.com/batonhq/baton/internal/api/eventsocket"
	"github.com/batonhq/baton/internal/automations"
	"github.com/batonhq/baton/internal/blocks"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/lifecycle"
	"github.com/batonhq/baton/internal/mail"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/replica"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/services"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/store/postgres"
	"github.com/batonhq/baton/internal/store/sqlite"
	"github.com/batonhq/baton/internal/tenancy"
	"github.com/batonhq/baton/internal/ui"
)

func newLogger(env Env, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(env.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(env.Stderr, opts))
}

func (a *app) serverCmd() *cobra.Command {
	var host, home, level, mode, dbURL string
	var port int
	start := &cobra.Command{
		Use:   "start",
		Short: "Start the API, the web UI and the background services",
		Long: "Start the server: the Prefect-compatible API under /api, the web UI at /, and the scheduler and\n" +
			"other background services, with an embedded SQLite database in BATON_HOME, or a PostgreSQL\n" +
			"database (--database-url) that any number of replicas share: one of them runs the background\n" +
			"services at a time, and another takes over within seconds when it dies.",
		Example: "  baton server start\n  baton server start --host 0.0.0.0 --port 4200\n  baton server start --mode cloud\n" +
			"  baton server start --database-url postgres://baton:secret@db:5432/baton",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.ServerFromEnv()
			if err != nil {
				return usageError(err.Error())
			}
			f := cmd.Flags()
			if f.Changed("host") {
				cfg.Host = host
			}
			if f.Changed("port") {
				cfg.Port = port
			}
			if f.Changed("home") {
				cfg.Home = home
			}
			if f.Changed("log-level") {
				cfg.LogLevel = level
			}
			if f.Changed("mode") {
				cfg.Mode = mode
			}
			if f.Changed("database-url") {
				cfg.DatabaseURL = dbURL
			}
			if err := cfg.Validate(); err != nil {
				return usageError("invalid configuration: " + err.Error())
			}
			log := newLogger(a.env, cfg.LogLevel, cfg.LogFormat)
			if err := runServer(cmd.Context(), cfg, log, a.env.Stdout); err != nil {
				log.Error("server stopped", "err", err)
				return exitError{code: 1}
			}
			return nil
		},
	}
	f := start.Flags()
	f.StringVar(&host, "host", "127.0.0.1", "address to listen on (BATON_HOST)")
	f.IntVar(&port, "port", 4200, "port to listen on (BATON_PORT)")
	f.StringVar(&home, "home", "~/.baton", "state directory (BATON_HOME)")
	f.StringVar(&level, "log-level", "info", "debug, info, warn or error (BATON_LOG_LEVEL)")
	f.StringVar(&dbURL, "database-url", "", "postgres://user:password@host:5432/db (any number of replicas may share it) or sqlite:PATH; default SQLite in BATON_HOME (BATON_DATABASE_URL)")
	f.StringVar(&mode, "mode", "server", "server (one open workspace) or cloud (accounts, sign-in, API keys) (BATON_MODE)")
	_ = start.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{"server", "cloud"}, cobra.ShellCompDirectiveNoFileComp))
	_ = start.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	return group("server", "Run the Baton server", start)
}

func (a *app) migrateCmd() *cobra.Command {
	up := &cobra.Command{
		Use:   "up",
		Short: "Apply pending migrations (the server does this on start)",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return migrateUp(cmd.Context(), a.env) },
	}
	validate := &cobra.Command{
		Use:   "validate",
		Short: "Check applied migrations and the database's integrity",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return migrateValidate(cmd.Context(), a.env) },
	}
	var from, to string
	cp := &cobra.Command{
		Use:   "copy",
		Short: "Copy an SQLite installation into a new PostgreSQL database",
		Long: "Copy every row of an SQLite database (runs, states, logs, events, deployments, blocks, automations,\n" +
			"accounts…) into a PostgreSQL database that has just been created and is still empty, in one\n" +
			"transaction: the row counts of every table are compared before it commits, so the target holds\n" +
			"exactly the source's rows or nothing. Stop the server first. Use the same BATON_SECRETS_KEY (or\n" +
			"copy secrets.key) with the new database: block secrets stay sealed with it.",
		Example: "  baton migrate copy --from sqlite:$HOME/.baton/baton.db --to postgres://baton:secret@db:5432/baton",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return migrateCopy(cmd.Context(), a.env, from, to)
		},
	}
	cp.Flags().StringVar(&from, "from", "", "the SQLite database: sqlite:PATH (default: BATON_DATABASE_PATH or BATON_HOME/baton.db)")
	cp.Flags().StringVar(&to, "to", "", "the PostgreSQL database: postgres://… (default: BATON_DATABASE_URL)")
	return group("migrate", "Manage the database schema", up, validate, cp)
}

// shutdownTimeout bounds each half of a shutdown: the HTTP server's, then
// the background components' (which drain what they hold).
const shutdownTimeout = 15 * time.Second

// runServer wires the store, the event path, the API and the services, and
// serves until ctx is cancelled. Whatever it started is stopped, in reverse
// order and under its own deadline (not ctx, which is cancelled by then),
// when it returns: after a shutdown, and after a failed start-up alike.
func runServer(ctx context.Context, cfg config.Server, log *slog.Logger, out io.Writer) (err error) {
	start := time.Now()
	if err := os.MkdirAll(cfg.Home, 0o700); err != nil {
		return fmt.Errorf("create home %s: %w", cfg.Home, err)
	}
	keySrc := blocks.KeySource{Key: cfg.SecretsKey, KeyFile: cfg.SecretsKeyFile, Home: cfg.Home}
	keys, err := blocks.LoadKeyring(keySrc)
	if err != nil {
		return fmt.Errorf("secrets key: %w", err)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.GoMemoryLimit())
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.release()
	st := db.Store
	if db.pg != nil && cfg.SecretsKey == "" && cfg.SecretsKeyFile == "" {
		log.Warn("on PostgreSQL every replica must seal block secrets with the same key: set BATON_SECRETS_KEY or BATON_SECRETS_KEY_FILE on each (this one uses " + keySrc.Describe() + ")")
	}
	defer func() {
		if cerr := st.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
		}
	}()
	// The block types every Prefect server offers and Baton's smtp-email,
	// in the default workspace (and in each workspace created later: see
	// installBlockTypes in the tenancy config).
	blockSvc := blocks.NewService(st, keys)
	if err := blockSvc.InstallSystemBlockTypes(ctx, store.DefaultWorkspaceID, false); err != nil {
		return err
	}

	// On PostgreSQL the bus also relays the events other replicas commit.
	var bus serverBus = events.NewBus()
	var broker *replica.Broker
	if db.pg != nil {
		broker = replica.NewBroker(events.NewBus(), db.pg, log, 0)
		bus = broker
	}
	runSvc, err := runs.New(runs.Config{Store: st, Publisher: bus, Logger: log})
	if err != nil {
		return err
	}
	ingest := events.NewIngest(events.IngestConfig{Store: st, Recorder: runSvc, Bus: bus, Logger: log})
	rounds := &services.SchedulerRounds{}
	runSvcs, err := services.RunServices(services.RunDeps{Store: st, Runs: runSvc, Events: ingest, Logger: log, Rounds: rounds}, os.Getenv)
	if err != nil {
		return err
	}
	sso, err := ssoProviders(os.Getenv, cfg, keys)
	if err != nil {
		return err
	}
	mailCfg, err := mail.FromEnv()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}
	defer ln.Close()
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = "http://" + ln.Addr().String()
	}
	ten, err := tenancy.New(tenancy.Config{Store: st, Mode: tenancy.Mode(cfg.Mode), ServerKey: cfg.APIKey, Logger: log,
		WorkspaceCreated: installBlockTypes(st), OIDC: sso, Mail: mailCfg, PublicURL: publicURL, Sealer: keys})
	if err != nil {
		return err
	}
	sockets := eventsocket.NewSockets(eventsocket.SocketsConfig{Ingest: ingest, Bus: bus, Store: st, Logger: log})
	limits := api.Limits{ReadTimeout: cfg.HTTP.ReadTimeout, WriteTimeout: cfg.HTTP.WriteTimeout, IdleTimeout: cfg.HTTP.IdleTimeout,
		MaxConnections: cfg.HTTP.MaxConnections, DecodeBudget: int64(cfg.HTTP.DecodeBudgetMB) << 20,
		WorkspaceRate: api.RateLimit(cfg.HTTP.WorkspaceRate), KeyRate: api.RateLimit(cfg.HTTP.KeyRate)}
	auto, err := automations.New(automations.Config{Store: st, Runs: runSvc, Publisher: bus, Waker: bus, Logger: log,
		Blocks: automationBlocks{blockSvc}, UIURL: "http://" + ln.Addr().String()})
	if err != nil {
		return err
	}
	rc := cfg.Retention
	periods := map[store.RetentionResource]time.Duration{store.RetainFlowRuns: rc.FlowRuns, store.RetainTaskRuns: rc.TaskRuns,
		store.RetainLogs: rc.Logs, store.RetainEvents: rc.Events, store.RetainArtifacts: rc.Artifacts}
	retention, err := services.NewRetention(services.RetentionConfig{Store: st, Policy: periods, AuditLog: rc.AuditLog, Interval: rc.Interval, Batch: rc.Batch, Logger: log})
	if err != nil {
		return err
	}
	var metricSources []api.MetricsSource
	var gauges *services.Gauges
	if gr, ok := st.(store.GaugeReporter); ok {
		gauges = services.NewGauges(gr, rounds, log)
		metricSources = append(metricSources, gauges)
	}
	if !rc.Off {
		metricSources = append(metricSources, retention)
	}
	srv, err := api.New(ctx, api.Config{Store: st, Runs: runSvc, Automations: auto, Ingest: ingest, Bus: bus, Sockets: sockets, Logger: log, Version: Version,
		UI: ui.Handler(), Tenancy: ten, Keys: keys, Limits: limits, Retention: api.RetentionDefaults{Off: rc.Off, Periods: periods}, Metrics: metricSources,
		CORS: api.CORS{AllowedOrigins: config.CORSList(cfg.CORSAllowedOrigins), AllowedMethods: config.CORSList(cfg.CORSAllowedMethods), AllowedHeaders: config.CORSList(cfg.CORSAllowedHeaders)}})
	if err != nil {
		return err
	}

	// Stopped in reverse: the run services first, then the sockets (they
	// stop reading and commit what they read), then the ingest (it drains).
	var group lifecycle.Group
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		if serr := group.Stop(sctx); serr != nil {
			err = errors.Join(err, serr)
		}
	}()
	// The background services: on SQLite this server runs them; on
	// PostgreSQL exactly one replica does (the elected leader).
	background := []lifecycle.Service{services.NewLeaseReaper(st, log, time.Second, srv.SlotsFreed)}
	background = append(background, runSvcs...)
	background = append(background, auto)
	// The operator gauges are reads: every replica takes its own, a first
	// reading before the first scrape, then one every 15 s.
	if gauges != nil {
		if err := gauges.Refresh(ctx); err != nil {
			log.Warn("operator gauges", "err", err)
		}
		if err := group.Start(ctx, gauges.Service(15*time.Second)); err != nil {
			return err
		}
	}
	if !rc.Off {
		background = append(background, retention.Service())
	}
	if err := group.Start(ctx, services.Named("events-ingest", ingest), sockets); err != nil {
		return err
	}
	if db.pg != nil {
		elector := replica.NewElector(replica.ElectorConfig{Store: db.pg, Services: background, Logger: log})
		if err := group.Start(ctx, broker, elector); err != nil {
			return err
		}
	} else if err := group.Start(ctx, background...); err != nil {
		return err
	}

	hs := srv.HTTPServer(slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(srv.Listener(ln)) }()
	log.Info("baton server started", "version", Version, "url", "http://"+ln.Addr().String(), "api", "http://"+ln.Addr().String()+"/api",
		"database", db.describe, "secrets_key", keySrc.Describe(), "mode", cfg.Mode, "startup", time.Since(start).Round(time.Millisecond))
	printBanner(out, cfg, ln.Addr())

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	log.Info("shutting down")
	// Stop accepting and let plain requests finish; the websockets, which
	// the HTTP server no longer tracks, are closed by the sockets' Stop.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("http server shutdown", "err", err)
	}
	return nil
}

// serverBus is what the server's parts need of the event bus: events.Bus,
// or on PostgreSQL the replica broker around one.
type serverBus interface {
	events.Broker
	Watch() (<-chan struct{}, func())
}

// installBlockTypes is the tenancy hook that gives every new workspace the
// block types the default one has.
func installBlockTypes(st store.Blocks) func(ctx context.Context, ws model.ID) error {
	return func(ctx context.Context, ws model.ID) error { return blocks.InstallBlockTypes(ctx, st, ws, false) }
}

// automationBlocks lets the automations engine read notification and
// webhook blocks with their secrets.
type automationBlocks struct{ svc *blocks.Service }

func (b automationBlocks) BlockDocument(ctx context.Context, ws, id model.ID) (automations.BlockDocument, error) {
	d, err := b.svc.Document(ctx, ws, id, true)
	if err != nil {
		return automations.BlockDocument{}, err
	}
	out := automations.BlockDocument{ID: d.ID, Data: d.Data}
	if d.Name != nil {
		out.Name = *d.Name
	}
	if d.BlockType != nil {
		out.TypeSlug = d.BlockType.Slug
	}
	if d.BlockSchema != nil {
		out.Capabilities = d.BlockSchema.Capabilities
	}
	return out, nil
}

func migrateUp(ctx context.Context, env Env) error {
	cfg, err := config.ServerFromEnv()
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return usageError(err.Error())
	}
	log := newLogger(env, cfg.LogLevel, cfg.LogFormat)
	db := cfg.Database()
	if db.Engine == config.EnginePostgres {
		st, err := postgres.Open(ctx, pgConfig(cfg, db.URL, log))
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		st.Close()
		fmt.Fprintln(env.Stdout, "database is up to date:", postgres.Redact(db.URL))
		return nil
	}
	if err := os.MkdirAll(cfg.Home, 0o700); err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: db.Path, Logger: log})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintln(env.Stdout, "database is up to date:", db.Path)
	return nil
}

func migrateCopy(ctx context.Context, env Env, from, to string) error {
	cfg, err := config.ServerFromEnv()
	if err != nil {
		return usageError(err.Error())
	}
	if err := cfg.Validate(); err != nil && from == "" {
		return usageError(err.Error())
	}
	src := config.Database{Engine: config.EngineSQLite, Path: cfg.DatabasePath}
	if from != "" {
		if src, err = config.ParseDatabaseURL(from); err != nil {
			return usageError("--from: " + err.Error())
		}
	}
	if src.Engine != config.EngineSQLite {
		return usageError("--from: copy reads an SQLite database (sqlite:PATH)")
	}
	if to == "" {
		to = cfg.DatabaseURL
	}
	if to == "" {
		return usageError("--to: name the PostgreSQL database (postgres://user:password@host:5432/db) or set BATON_DATABASE_URL")
	}
	dst, err := config.ParseDatabaseURL(to)
	if err != nil {
		return usageError("--to: " + err.Error())
	}
	if dst.Engine != config.EnginePostgres {
		return usageError("--to: copy writes a PostgreSQL database (postgres://…)")
	}
	if _, err := os.Stat(src.Path); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	log := newLogger(env, cfg.LogLevel, cfg.LogFormat)
	// The source must not change while it is read: no server may run on it.
	unlock, err := sqlite.Lock(src.Path)
	if err != nil {
		return err
	}
	defer unlock()
	// Bring the source to this binary's schema (what the copy expects).
	sst, err := sqlite.Open(ctx, sqlite.Config{Path: src.Path, Logger: log})
	if err != nil {
		return fmt.Errorf("open %s: %w", src.Path, err)
	}
	if err := sst.Close(); err != nil {
		return fmt.Errorf("close %s: %w", src.Path, err)
	}
	raw, err := sqlite.OpenRaw(src.Path)
	if err != nil {
		return err
	}
	defer raw.Close()
	pst, err := postgres.Open(ctx, pgConfig(cfg, dst.URL, log))
	if err != nil {
		return err
	}
	defer pst.Close()
	started := time.Now()
	rep, err := pst.Import(ctx, raw)
	if err != nil {
		return err
	}
	for _, t := range rep.Tables {
		if t.Rows > 0 {
			fmt.Fprintf(env.Stdout, "  %-30s %d\n", t.Name, t.Rows)
		}
	}
	fmt.Fprintf(env.Stdout, "copied %d rows from %s to %s in %s\n", rep.Rows(), src.Path, postgres.Redact(dst.URL), time.Since(started).Round(time.Millisecond))
	return nil
}

func migrateValidate(ctx context.Context, env Env) error {
	cfg, err := config.ServerFromEnv()
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return usageError(err.Error())
	}
	db := cfg.Database()
	if db.Engine == config.EnginePostgres {
		if err := postgres.Validate(ctx, pgConfig(cfg, db.URL, newLogger(env, cfg.LogLevel, cfg.LogFormat))); err != nil {
			return fmt.Errorf("database is not valid: %w", err)
		}
		fmt.Fprintln(env.Stdout, "database is valid:", postgres.Redact(db.URL))
		return nil
	}
	if err := sqlite.Validate(ctx, db.Path); err != nil {
		return fmt.Errorf("database is not valid: %w", err)
	}
	fmt.Fprintln(env.Stdout, "database is valid:", db.Path)
	return nil
}
