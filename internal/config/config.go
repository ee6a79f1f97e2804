// Package config resolves Baton's settings: flags override environment
// (BATON_*), which overrides defaults. Validate names the bad field.
package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Server is the configuration of `baton server start`.
type Server struct {
	// Home is the directory holding the SQLite database and other state
	// (BATON_HOME, default ~/.baton).
	Home string
	// Host is the listen address (BATON_HOST, default 127.0.0.1).
	Host string
	// Port is the listen port (BATON_PORT, default 4200).
	Port int
	// DatabasePath is the SQLite file (BATON_DATABASE_PATH, default
	// Home/baton.db).
	DatabasePath string
	// DatabaseURL picks the engine by its scheme (BATON_DATABASE_URL):
	// postgres:// or postgresql:// for PostgreSQL (any number of replicas
	// may share it), sqlite:PATH for an SQLite file (the same as
	// DatabasePath). Empty: SQLite at DatabasePath.
	DatabaseURL string
	// Postgres tunes the PostgreSQL engine (ignored on SQLite).
	Postgres Postgres
	// LogLevel is debug, info, warn or error (BATON_LOG_LEVEL, default info).
	LogLevel string
	// LogFormat is text or json (BATON_LOG_FORMAT, default text).
	LogFormat string
	// Mode is server (one open workspace) or cloud (accounts, sign-in, API
	// keys on every request) (BATON_MODE, default server).
	Mode string
	// SecretsKey is a base64 32-byte key that seals block data at rest
	// (BATON_SECRETS_KEY); SecretsKeyFile a file holding one
	// (BATON_SECRETS_KEY_FILE). Neither set: Home/secrets.key, created with
	// mode 0600 on first start.
	SecretsKey     string
	SecretsKeyFile string
	// APIKey, in server mode, is required from non-loopback clients
	// (BATON_API_KEY, default none: open).
	APIKey string
	// PublicURL is the address people reach the server at
	// (BATON_PUBLIC_URL, e.g. https://baton.example.com; default
	// http://HOST:PORT): links in e-mails point there.
	PublicURL string
	// WALMaxMB bounds SQLite's write-ahead log, in MiB: past it the writer
	// truncates the log between two group commits (BATON_WAL_MAX_MB,
	// default 128; 0 disables the bound).
	WALMaxMB int
	// MemoryMB is the server's memory budget in MiB (BATON_MEMORY_LIMIT_MB,
	// default 256): SQLite's memory map and page caches are sized from it
	// (sqlite.Config.MemoryBytes) and Go's soft memory limit is set to
	// three eighths of it (unless GOMEMLIMIT is set), so the resident size
	// is bounded by configuration rather than by the workload.
	MemoryMB int
	// HTTP bounds connections and requests (BATON_HTTP_READ_TIMEOUT,
	// BATON_HTTP_WRITE_TIMEOUT, BATON_HTTP_IDLE_TIMEOUT as durations,
	// BATON_MAX_CONNECTIONS, BATON_DECODE_BUDGET_MB; zero values take the
	// API's defaults: 60 s, 60 s, 60 s, 4096 connections, 32 MiB).
	HTTP HTTP
	// CORSAllowedOrigins, CORSAllowedMethods and CORSAllowedHeaders are the
	// cross-origin policy, each a comma-separated list or "*"
	// (BATON_CORS_ALLOWED_ORIGINS, BATON_CORS_ALLOWED_METHODS,
	// BATON_CORS_ALLOWED_HEADERS; default "*", as the Prefect server's
	// PREFECT_SERVER_CORS_ALLOWED_*).
	CORSAllowedOrigins string
	CORSAllowedMethods string
	CORSAllowedHeaders string
	// Retention is how long finished runs, logs, events and artifacts are
	// kept before the retention service deletes them (see Retention).
	Retention Retention
}

// Postgres is the PostgreSQL engine's settings.
type Postgres struct {
	// MaxConns bounds each replica's connection pool
	// (BATON_DATABASE_MAX_CONNECTIONS, default 16).
	MaxConns int
	// StatementTimeout cancels a statement that runs longer
	// (BATON_DATABASE_STATEMENT_TIMEOUT, a duration, default 30s).
	StatementTimeout time.Duration
	// ConnectTimeout is how long start-up keeps retrying a database that
	// does not answer before it gives up with a non-zero exit
	// (BATON_DATABASE_CONNECT_TIMEOUT, a duration, default 60s).
	ConnectTimeout time.Duration
}

// Retention is the server's retention settings. Each period is a
// duration (90d, 12h, 30m, or seconds); 0 or "forever" keeps the resource
// for ever. A workspace may override each period (PUT /api/admin/retention).
type Retention struct {
	// Off turns the retention service off (BATON_RETENTION=off): nothing
	// is ever deleted.
	Off bool
	// FlowRuns: finished flow runs, with their task runs, states, logs and
	// artifacts (BATON_RETENTION_FLOW_RUNS, default 90d).
	FlowRuns time.Duration
	// TaskRuns: finished task runs with their states, logs and artifacts
	// (BATON_RETENTION_TASK_RUNS, default 90d).
	TaskRuns time.Duration
	// Logs: log lines by timestamp (BATON_RETENTION_LOGS, default 90d).
	Logs time.Duration
	// Events: events and their resources by occurrence
	// (BATON_RETENTION_EVENTS, default 7d, as Prefect).
	Events time.Duration
	// Artifacts: artifacts by creation (BATON_RETENTION_ARTIFACTS, default
	// 90d).
	Artifacts time.Duration
	// AuditLog: cloud mode's audit log entries by occurrence, server-wide
	// (BATON_RETENTION_AUDIT_LOG, default 365d).
	AuditLog time.Duration
	// Interval between two retention rounds (BATON_RETENTION_INTERVAL,
	// default 5m).
	Interval time.Duration
	// Batch is the most rows one delete takes (BATON_RETENTION_BATCH,
	// default 500).
	Batch int
}

// DefaultRetention is Retention's defaults.
var DefaultRetention = Retention{FlowRuns: 90 * day, TaskRuns: 90 * day, Logs: 90 * day, Events: 7 * day, Artifacts: 90 * day,
	AuditLog: 365 * day, Interval: 5 * time.Minute, Batch: 500}

const day = 24 * time.Hour

// ParseRetentionPeriod reads a retention period: a Go duration, a number
// of days ("90d"), a number of seconds, or 0/"forever"/"off" (kept for
// ever, returned as 0).
func ParseRetentionPeriod(v string) (time.Duration, error) {
	v = strings.TrimSpace(strings.ToLower(v))
	switch v {
	case "0", "forever", "off", "never":
		return 0, nil
	}
	if d, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err == nil && n > 0 {
			return time.Duration(n * float64(day)), nil
		}
	}
	if t, err := time.ParseDuration(v); err == nil && t > 0 {
		return t, nil
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
		return time.Duration(secs * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("%q is not a period (e.g. 90d, 12h, 3600) or 0/forever", v)
}

func retentionFromEnv(c *Retention) error {
	*c = DefaultRetention
	if v := strings.ToLower(os.Getenv("BATON_RETENTION")); v != "" {
		switch v {
		case "off", "false", "0":
			c.Off = true
		case "on", "true", "1":
		default:
			return fmt.Errorf("BATON_RETENTION: %q is not on or off", v)
		}
	}
	for _, p := range []struct {
		env string
		dst *time.Duration
	}{{"BATON_RETENTION_FLOW_RUNS", &c.FlowRuns}, {"BATON_RETENTION_TASK_RUNS", &c.TaskRuns}, {"BATON_RETENTION_LOGS", &c.Logs},
		{"BATON_RETENTION_EVENTS", &c.Events}, {"BATON_RETENTION_ARTIFACTS", &c.Artifacts},
		{"BATON_RETENTION_AUDIT_LOG", &c.AuditLog}} {
		if v := os.Getenv(p.env); v != "" {
			d, err := ParseRetentionPeriod(v)
			if err != nil {
				return fmt.Errorf("%s: %w", p.env, err)
			}
			*p.dst = d
		}
	}
	if v := os.Getenv("BATON_RETENTION_INTERVAL"); v != "" {
		d, err := ParseRetentionPeriod(v)
		if err != nil || d == 0 {
			return fmt.Errorf("BATON_RETENTION_INTERVAL: %q is not a positive duration (e.g. 5m)", v)
		}
		c.Interval = d
	}
	if v := os.Getenv("BATON_RETENTION_BATCH"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 100000 {
			return fmt.Errorf("BATON_RETENTION_BATCH: %q is not a whole number from 1 to 100000", v)
		}
		c.Batch = n
	}
	return nil
}

// HTTP is the server's connection and request limits.
type HTTP struct {
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration
	MaxConnections int
	DecodeBudgetMB int
	// WorkspaceRate and KeyRate limit the requests of one workspace and of
	// one API key (BATON_RATE_LIMIT_WORKSPACE, BATON_RATE_LIMIT_KEY:
	// "RATE" or "RATE/BURST", requests a second; default none). Over it a
	// request is answered 429 with Retry-After.
	WorkspaceRate Rate
	KeyRate       Rate
}

// Rate is a request rate: PerSecond on average, Burst at once (0: none).
type Rate struct {
	PerSecond float64
	Burst     int
}

// ParseRate reads "RATE" or "RATE/BURST" (requests a second); the burst
// defaults to the rate rounded up.
func ParseRate(v string) (Rate, error) {
	rate, burst, hasBurst := strings.Cut(strings.TrimSpace(v), "/")
	r, err := strconv.ParseFloat(rate, 64)
	if err != nil || r <= 0 || math.IsInf(r, 0) {
		return Rate{}, fmt.Errorf("%q: the rate must be a positive number of requests a second (e.g. 50 or 50/100)", v)
	}
	out := Rate{PerSecond: r, Burst: int(math.Ceil(r))}
	if hasBurst {
		b, err := strconv.Atoi(burst)
		if err != nil || b < 1 {
			return Rate{}, fmt.Errorf("%q: the burst must be a whole number of requests, at least 1", v)
		}
		out.Burst = b
	}
	return out, nil
}

// DefaultHome returns $BATON_HOME or ~/.baton.
func DefaultHome() string {
	if h := os.Getenv("BATON_HOME"); h != "" {
		return h
	}
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".baton")
	}
	return ".baton"
}

// ServerFromEnv returns the defaults overlaid with BATON_* variables.
func ServerFromEnv() (Server, error) {
	c := Server{Home: DefaultHome(), Host: "127.0.0.1", Port: 4200, LogLevel: "info", LogFormat: "text", WALMaxMB: 128, MemoryMB: 256,
		CORSAllowedOrigins: "*", CORSAllowedMethods: "*", CORSAllowedHeaders: "*"}
	if v := os.Getenv("BATON_HOST"); v != "" {
		c.Host = v
	}
	if v := os.Getenv("BATON_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil {
			return c, fmt.Errorf("BATON_PORT: %q is not a number", v)
		}
		c.Port = p
	}
	if v := os.Getenv("BATON_DATABASE_PATH"); v != "" {
		c.DatabasePath = v
	}
	c.DatabaseURL = strings.TrimSpace(os.Getenv("BATON_DATABASE_URL"))
	if v := os.Getenv("BATON_DATABASE_MAX_CONNECTIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("BATON_DATABASE_MAX_CONNECTIONS: %q is not a positive whole number", v)
		}
		c.Postgres.MaxConns = n
	}
	for _, d := range []struct {
		env string
		dst *time.Duration
	}{{"BATON_DATABASE_STATEMENT_TIMEOUT", &c.Postgres.StatementTimeout}, {"BATON_DATABASE_CONNECT_TIMEOUT", &c.Postgres.ConnectTimeout}} {
		if v := os.Getenv(d.env); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil || t <= 0 {
				return c, fmt.Errorf("%s: %q is not a positive duration (e.g. 30s)", d.env, v)
			}
			*d.dst = t
		}
	}
	if v := os.Getenv("BATON_LOG_LEVEL"); v != "" {
		c.LogLevel = strings.ToLower(v)
	}
	if v := os.Getenv("BATON_LOG_FORMAT"); v != "" {
		c.LogFormat = strings.ToLower(v)
	}
	if v := os.Getenv("BATON_WAL_MAX_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return c, fmt.Errorf("BATON_WAL_MAX_MB: %q is not a whole number of MiB", v)
		}
		c.WALMaxMB = n
	}
	if v := os.Getenv("BATON_MEMORY_LIMIT_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 32 {
			return c, fmt.Errorf("BATON_MEMORY_LIMIT_MB: %q is not a whole number of MiB of at least 32", v)
		}
		c.MemoryMB = n
	}
	for _, d := range []struct {
		env string
		dst *time.Duration
	}{{"BATON_HTTP_READ_TIMEOUT", &c.HTTP.ReadTimeout}, {"BATON_HTTP_WRITE_TIMEOUT", &c.HTTP.WriteTimeout}, {"BATON_HTTP_IDLE_TIMEOUT", &c.HTTP.IdleTimeout}} {
		if v := os.Getenv(d.env); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil || t <= 0 {
				return c, fmt.Errorf("%s: %q is not a positive duration (e.g. 60s)", d.env, v)
			}
			*d.dst = t
		}
	}
	for _, n := range []struct {
		env string
		dst *int
	}{{"BATON_MAX_CONNECTIONS", &c.HTTP.MaxConnections}, {"BATON_DECODE_BUDGET_MB", &c.HTTP.DecodeBudgetMB}} {
		if v := os.Getenv(n.env); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil || i <= 0 {
				return c, fmt.Errorf("%s: %q is not a positive whole number", n.env, v)
			}
			*n.dst = i
		}
	}
	for _, v := range []struct {
		env string
		dst *string
	}{{"BATON_CORS_ALLOWED_ORIGINS", &c.CORSAllowedOrigins}, {"BATON_CORS_ALLOWED_METHODS", &c.CORSAllowedMethods}, {"BATON_CORS_ALLOWED_HEADERS", &c.CORSAllowedHeaders}} {
		if s, ok := os.LookupEnv(v.env); ok {
			*v.dst = s
		}
	}
	for _, r := range []struct {
		env string
		dst *Rate
	}{{"BATON_RATE_LIMIT_WORKSPACE", &c.HTTP.WorkspaceRate}, {"BATON_RATE_LIMIT_KEY", &c.HTTP.KeyRate}} {
		if v := os.Getenv(r.env); v != "" {
			rt, err := ParseRate(v)
			if err != nil {
				return c, fmt.Errorf("%s: %w", r.env, err)
			}
			*r.dst = rt
		}
	}
	if err := retentionFromEnv(&c.Retention); err != nil {
		return c, err
	}
	c.Mode = strings.ToLower(os.Getenv("BATON_MODE"))
	c.APIKey = os.Getenv("BATON_API_KEY")
	c.PublicURL = strings.TrimRight(os.Getenv("BATON_PUBLIC_URL"), "/")
	c.SecretsKey = os.Getenv("BATON_SECRETS_KEY")
	c.SecretsKeyFile = os.Getenv("BATON_SECRETS_KEY_FILE")
	return c, nil
}

// Validate checks every field and fills derived defaults.
func (c *Server) Validate() error {
	var errs []error
	if c.Home == "" {
		errs = append(errs, errors.New("home: must not be empty (set BATON_HOME)"))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port: %d is out of range 0-65535", c.Port))
	}
	if c.Host == "" || (net.ParseIP(c.Host) == nil && c.Host != "localhost" && strings.ContainsAny(c.Host, " /")) {
		errs = append(errs, fmt.Errorf("host: %q is not a valid address", c.Host))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level: %q is not one of debug, info, warn, error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log format: %q is not one of text, json", c.LogFormat))
	}
	switch c.Mode {
	case "":
		c.Mode = "server"
	case "server", "cloud":
	default:
		errs = append(errs, fmt.Errorf("mode: %q is not one of server, cloud", c.Mode))
	}
	if c.WALMaxMB < 0 {
		errs = append(errs, fmt.Errorf("wal max mb: %d must be 0 (no bound) or positive", c.WALMaxMB))
	}
	if c.DatabasePath == "" {
		c.DatabasePath = filepath.Join(c.Home, "baton.db")
	}
	if c.DatabaseURL != "" {
		db, err := ParseDatabaseURL(c.DatabaseURL)
		switch {
		case err != nil:
			errs = append(errs, err)
		case db.Engine == EngineSQLite:
			c.DatabasePath = db.Path
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("public url: %q is not an http(s) URL (set BATON_PUBLIC_URL like https://baton.example.com)", c.PublicURL))
		}
	}
	return errors.Join(errs...)
}

// Database engines.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// Database is a parsed database URL.
type Database struct {
	// Engine is EngineSQLite or EnginePostgres.
	Engine string
	// Path is the SQLite file; URL the PostgreSQL URL.
	Path, URL string
}

// ParseDatabaseURL reads a database URL: postgres://… or postgresql://…
// (PostgreSQL), sqlite:PATH, sqlite://PATH or sqlite:///ABSOLUTE/PATH
// (an SQLite file). Anything else is an error that names the accepted
// forms (and never echoes a password).
func ParseDatabaseURL(u string) (Database, error) {
	u = strings.TrimSpace(u)
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return Database{Engine: EnginePostgres, URL: u}, nil
	case strings.HasPrefix(u, "sqlite:"):
		p := strings.TrimPrefix(u, "sqlite:")
		p = strings.TrimPrefix(p, "//")
		if p == "" {
			return Database{}, errors.New("database url: sqlite: needs a file path (sqlite:/var/lib/baton/baton.db)")
		}
		return Database{Engine: EngineSQLite, Path: p}, nil
	}
	scheme, _, ok := strings.Cut(u, "://")
	if !ok {
		scheme, _, _ = strings.Cut(u, ":")
	}
	if len(scheme) > 20 || scheme == u {
		return Database{}, errors.New("database url: not a URL; use postgres://user:password@host:5432/db or sqlite:/path/to/baton.db")
	}
	return Database{}, fmt.Errorf("database url: scheme %q is not supported; use postgres://user:password@host:5432/db or sqlite:/path/to/baton.db", scheme)
}

// Database returns the database the server uses: DatabaseURL when set,
// else SQLite at DatabasePath. Call after Validate.
func (c *Server) Database() Database {
	if c.DatabaseURL != "" {
		if db, err := ParseDatabaseURL(c.DatabaseURL); err == nil {
			return db
		}
	}
	return Database{Engine: EngineSQLite, Path: c.DatabasePath}
}

// Addr is host:port.
func (c *Server) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// MemoryBytes is MemoryMB in bytes.
func (c *Server) MemoryBytes() int64 { return int64(c.MemoryMB) << 20 }

// GoMemoryLimit is the soft limit for Go's heap: three eighths of the
// budget (SQLite's map and caches take most of the rest).
func (c *Server) GoMemoryLimit() int64 { return c.MemoryBytes() * 3 / 8 }

// WALMaxBytes is WALMaxMB in bytes as sqlite.Config wants it (-1: no bound).
func (c *Server) WALMaxBytes() int64 {
	if c.WALMaxMB == 0 {
		return -1
	}
	return int64(c.WALMaxMB) << 20
}

// CORSList splits a comma-separated CORS setting ("" allows nothing, as in
// Prefect; never nil, which the API reads as "*").
func CORSList(v string) []string {
	out := []string{}
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
