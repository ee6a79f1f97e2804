package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/batonhq/baton/internal/api"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/services"
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

func serverStart(ctx context.Context, env Env, args []string) int {
	cfg, err := config.ServerFromEnv()
	if err != nil {
		fmt.Fprintln(env.Stderr, "baton:", err)
		return 2
	}
	fs := flag.NewFlagSet("baton server start", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.StringVar(&cfg.Host, "host", cfg.Host, "address to listen on (BATON_HOST)")
	fs.IntVar(&cfg.Port, "port", cfg.Port, "port to listen on (BATON_PORT)")
	fs.StringVar(&cfg.Home, "home", cfg.Home, "state directory (BATON_HOME)")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error (BATON_LOG_LEVEL)")
	fs.StringVar(&cfg.Mode, "mode", cfg.Mode, "server (one open workspace) or cloud (accounts, sign-in, API keys) (BATON_MODE)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(env.Stderr, "baton: invalid configuration:", err)
		return 2
	}
	log := newLogger(env, cfg.LogLevel, cfg.LogFormat)
	if err := runServer(ctx, cfg, log); err != nil {
		log.Error("server stopped", "err", err)
		return 1
	}
	return 0
}

// runServer wires the store, the event path, the API and the services, and
// serves until ctx is cancelled; then it shuts down in reverse order.
func runServer(ctx context.Context, cfg config.Server, log *slog.Logger) error {
	start := time.Now()
	if err := os.MkdirAll(cfg.Home, 0o700); err != nil {
		return fmt.Errorf("create home %s: %w", cfg.Home, err)
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: cfg.DatabasePath, Logger: log, WALMaxBytes: cfg.WALMaxBytes()})
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()

	bus := events.NewBus()
	ingest := events.NewIngest(events.IngestConfig{Store: st, Bus: bus, Logger: log})
	var group services.Group
	if err := group.Start(ctx, services.Named("events-ingest", ingest), services.NewLeaseReaper(st, log, 15*time.Second)); err != nil {
		return err
	}
	runSvcs, err := services.RunServices(services.RunDeps{Store: st, Bus: bus, Logger: log}, os.Getenv)
	if err != nil {
		return err
	}
	if err := group.Start(ctx, runSvcs...); err != nil {
		return err
	}
	ten, err := tenancy.New(tenancy.Config{Store: st, Mode: tenancy.Mode(cfg.Mode), ServerKey: cfg.APIKey, Logger: log})
	if err != nil {
		return err
	}
	var srv *api.Server // the socket hook needs the server, built below
	sockets := events.NewSockets(events.SocketsConfig{Ingest: ingest, Bus: bus, Store: st, Logger: log,
		Authenticate: func(r *http.Request, token string) error { return srv.AuthenticateSocket(r, token) }})
	srv, err = api.New(ctx, api.Config{Store: st, Ingest: ingest, Bus: bus, Sockets: sockets, Logger: log, Version: Version, UI: ui.Handler(), Tenancy: ten})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("baton server started", "version", Version, "url", "http://"+ln.Addr().String(), "api", "http://"+ln.Addr().String()+"/api",
		"database", cfg.DatabasePath, "mode", cfg.Mode, "startup", time.Since(start).Round(time.Millisecond))

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	return group.Stop(sctx)
}

func migrateUp(ctx context.Context, env Env, args []string) int {
	cfg, err := config.ServerFromEnv()
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "baton:", err)
		return 2
	}
	if err := os.MkdirAll(cfg.Home, 0o700); err != nil {
		fmt.Fprintln(env.Stderr, "baton:", err)
		return 1
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: cfg.DatabasePath, Logger: newLogger(env, cfg.LogLevel, cfg.LogFormat)})
	if err != nil {
		fmt.Fprintln(env.Stderr, "baton: migrate:", err)
		return 1
	}
	if err := st.Close(); err != nil {
		fmt.Fprintln(env.Stderr, "baton: migrate:", err)
		return 1
	}
	fmt.Fprintln(env.Stdout, "database is up to date:", cfg.DatabasePath)
	return 0
}

func migrateValidate(ctx context.Context, env Env, args []string) int {
	cfg, err := config.ServerFromEnv()
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "baton:", err)
		return 2
	}
	if err := sqlite.Validate(ctx, cfg.DatabasePath); err != nil {
		fmt.Fprintln(env.Stderr, "baton: database is not valid:", err)
		return 1
	}
	fmt.Fprintln(env.Stdout, "database is valid:", cfg.DatabasePath)
	return 0
}
