// Package api is Baton's HTTP layer: the Prefect 3 REST contract (and
// Baton's own endpoints in the same style) over the store, the orchestration
// core and the events subsystem.
//
// Handlers are thin: decode and validate, call, encode. Every operation is a
// declared route (see route.go) from which the OpenAPI document is generated.
// Errors are mapped to HTTP in one place (errors.go).
package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/internal/api/eventsocket"
	"github.com/batonhq/baton/internal/automations"
	"github.com/batonhq/baton/internal/blocks"
	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/tenancy"
)

// Config holds what the API needs; every field is required unless noted.
type Config struct {
	// Store is the system of record (reads, and writes other than runs').
	Store store.Store
	// Runs owns every run write (creation, state changes).
	Runs *runs.Service
	// Automations owns automation definitions (the engine runs as a
	// background service).
	Automations *automations.Service
	// Ingest persists client events and records task runs from them.
	Ingest *events.Ingest
	// Bus fans events out to /events/out subscribers.
	Bus events.Broker
	// Sockets serves the event websockets.
	Sockets *eventsocket.Sockets
	// Logger receives request and error logs.
	Logger *slog.Logger
	// Now is the clock (defaults to time.Now).
	Now func() time.Time
	// Version is Baton's own version, reported by /api/openapi.json.
	Version string
	// UI serves everything outside /api (optional).
	UI http.Handler
	// Keys seals and opens block document data (required: secrets are
	// never stored in clear).
	Keys *blocks.Keyring
	// Tenancy authenticates and authorizes every request and serves the
	// cloud endpoints. Required: server mode's open access is a tenancy
	// service too (ModeServer: everyone is the server principal, and with a
	// server key callers from other machines must present it), so no
	// wiring mistake can leave a server without an authorizer.
	Tenancy *tenancy.Service
	// Limits bounds connections, timeouts and body decoding (zero fields:
	// DefaultLimits).
	Limits Limits
	// CORS is the cross-origin policy (optional: the zero value is
	// Prefect's default, any origin, method and header).
	CORS CORS
	// Retention is the server's retention, reported by /admin/retention
	// (zero: nothing configured, every resource kept for ever).
	Retention RetentionDefaults
	// Metrics are background components that add their figures to
	// GET /metrics (retention, the run gauges).
	Metrics []MetricsSource
}

// MetricsSource adds its own figures to GET /metrics, in the Prometheus
// text format. WriteMetrics must be cheap: it runs on every scrape.
type MetricsSource interface {
	WriteMetrics(w io.Writer)
}

// PrefectVersion is the Prefect release whose API Baton implements; the
// client's compatibility check compares it with its own version (same major
// required, and a lower one would make every run log a warning).
const PrefectVersion = "3.9.1"

// APIVersion is Prefect's API version string (X-PREFECT-API-VERSION).
const APIVersion = "0.8.4"

// Server is the HTTP API.
type Server struct {
	cfg    Config
	log    *slog.Logger
	mux    *http.ServeMux
	routes []route
	// byPattern finds a matched route's declaration (its access level).
	byPattern map[string]*route
	now       func() time.Time
	defWS     model.Workspace
	wsMu      sync.RWMutex
	wsCache   map[[2]model.ID]model.Workspace
	spec      []byte
	// metrics counts requests for GET /metrics.
	metrics *metrics
	// wsRate and keyRate are the optional per-workspace and per-key rate
	// limits (nil: none).
	wsRate, keyRate *rateLimiter
	// blocks implements the block routes.
	blocks *blocks.Service
	// logHub feeds /logs/out subscribers.
	logHub *logHub
	// tasks hands background task runs to task workers.
	tasks *taskDispatch
	// limits, budget, conns and bodyRefused enforce and count Limits.
	limits      Limits
	budget      *decodeBudget
	conns       atomic.Int64
	bodyRefused atomic.Uint64
	// cors answers preflights and labels cross-origin responses.
	cors *corsPolicy
	// slots wakes slot acquisitions held for a release.
	slots slotSignal
}

// New builds the API and resolves the default workspace.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Runs == nil || cfg.Automations == nil || cfg.Ingest == nil || cfg.Bus == nil || cfg.Sockets == nil || cfg.Keys == nil || cfg.Tenancy == nil {
		return nil, errors.New("api: Store, Runs, Automations, Ingest, Bus, Sockets, Keys and Tenancy are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	def, err := cfg.Store.WorkspaceDefault(ctx)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), now: cfg.Now, defWS: def, wsCache: map[[2]model.ID]model.Workspace{}, metrics: newMetrics(),
		blocks: blocks.NewService(cfg.Store, cfg.Keys), logHub: newLogHub(), tasks: newTaskDispatch(cfg.Store), limits: cfg.Limits.withDefaults(),
		cors: newCORSPolicy(cfg.CORS)}
	s.budget = newDecodeBudget(s.limits)
	s.wsRate = newRateLimiter(s.limits.WorkspaceRate, "workspace")
	s.keyRate = newRateLimiter(s.limits.KeyRate, "API key")
	s.routes = s.allRoutes()
	s.byPattern = make(map[string]*route, len(s.routes))
	shared := map[string][]*route{}
	for i, rt := range s.routes {
		if rt.muxVia != "" {
			shared[rt.muxVia] = append(shared[rt.muxVia], &s.routes[i])
			continue
		}
		s.mux.Handle(rt.muxPattern(), s.adapt(rt))
		s.byPattern[rt.muxPattern()] = &s.routes[i]
	}
	for pattern, rts := range shared {
		for _, rt := range rts[1:] {
			if rt.access != rts[0].access {
				return nil, errors.New("api: routes served via " + pattern + " must declare the same access")
			}
		}
		s.mux.Handle(pattern, s.dispatchShared(rts))
		s.byPattern[pattern] = rts[0]
	}
	spec, err := json.Marshal(openAPI(s.routes, cfg.Version))
	if err != nil {
		return nil, err
	}
	s.spec = spec
	return s, nil
}

// allRoutes lists every operation, grouped by resource.
func (s *Server) allRoutes() []route {
	var rs []route
	rs = append(rs, rootRoutes()...)
	rs = append(rs, flowRoutes()...)
	rs = append(rs, flowRunRoutes()...)
	rs = append(rs, historyRoutes()...)
	rs = append(rs, runViewRoutes()...)
	rs = append(rs, bulkRoutes()...)
	rs = append(rs, uiRoutes()...)
	rs = append(rs, concurrencyV1Routes()...)
	rs = append(rs, workQueueRoutes()...)
	rs = append(rs, flowRunInputRoutes()...)
	rs = append(rs, collectionRoutes()...)
	rs = append(rs, taskWorkerRoutes()...)
	rs = append(rs, automationRoutes()...)
	rs = append(rs, webhookRoutes()...)
	rs = append(rs, taskRunRoutes()...)
	rs = append(rs, logRoutes()...)
	rs = append(rs, eventRoutes()...)
	rs = append(rs, concurrencyRoutes()...)
	rs = append(rs, deploymentRoutes()...)
	rs = append(rs, workPoolRoutes()...)
	rs = append(rs, variableRoutes()...)
	rs = append(rs, artifactRoutes()...)
	rs = append(rs, blockRoutes()...)
	rs = append(rs, cloudRoutes()...)
	rs = append(rs, ssoRoutes()...)
	rs = append(rs, retentionRoutes()...)
	return rs
}

// OpenAPI returns the generated OpenAPI document.
func (s *Server) OpenAPI() []byte { return s.spec }

type ctxKey int

const (
	wsKey ctxKey = iota
	prefixKey
	// wsAccountKey is the routed workspace's account (for the audit log).
	wsAccountKey
)

// baseURL is the absolute URL of the API root the request came in on
// ("http://host/api" or ".../api/accounts/{a}/workspaces/{w}").
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	prefix, _ := r.Context().Value(prefixKey).(string)
	return scheme + "://" + r.Host + prefix
}

// ServeHTTP routes /api/accounts/{a}/workspaces/{w}/... to that workspace,
// /api/... to the default one, and everything else to the UI.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := &statusWriter{ResponseWriter: w, status: 200}
	reqID := r.Header.Get("X-Request-Id")
	if reqID == "" || len(reqID) > 128 {
		reqID = model.NewIDv7().String()
	}
	rw.Header().Set("X-Request-Id", reqID)
	pattern := "unmatched"
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			if !rw.wrote {
				writeError(rw, &Error{Status: 500, Detail: "Internal Server Error"})
			}
		}
		d := time.Since(start)
		if rw.status < 300 && freesSlots(r.Method, pattern) {
			s.slots.broadcast()
		}
		s.metrics.observe(pattern, rw.status, d)
		s.log.Debug("request", "request_id", reqID, "method", r.Method, "path", r.URL.Path, "status", rw.status, "duration", d)
	}()
	// CORS comes first, for every path: a preflight carries no credentials
	// and must be answered before routing and authorization, whatever the
	// route (Prefect's middleware wraps the whole app the same way).
	if isPreflight(r) {
		pattern = "preflight"
		s.cors.preflight(rw, r)
		return
	}
	s.cors.simple(rw, r)
	path := r.URL.Path
	if path == "/metrics" && r.Method == http.MethodGet {
		pattern = "GET /metrics"
		s.serveMetrics(rw, r)
		return
	}
	if strings.HasPrefix(path, "/hooks/") {
		// Inbound webhooks: the slug is the credential (anyone may call).
		pattern = "hooks"
		s.serveHook(rw, r)
		return
	}
	if path != "/api" && !strings.HasPrefix(path, "/api/") {
		pattern = "ui"
		if s.cfg.UI != nil {
			s.cfg.UI.ServeHTTP(rw, r)
			return
		}
		writeError(rw, errorf(http.StatusNotFound, "Not Found"))
		return
	}
	rest := strings.TrimPrefix(path, "/api")
	prefix := "/api"
	ws := s.defWS
	if strings.HasPrefix(rest, "/accounts/") && !accountLevel(rest) {
		parts := strings.SplitN(strings.TrimPrefix(rest, "/accounts/"), "/", 4)
		if len(parts) < 3 || parts[1] != "workspaces" {
			writeError(rw, errorf(http.StatusNotFound, "Not Found: expected /api/accounts/{account_id}/workspaces/{workspace_id}/..."))
			return
		}
		acc, err1 := model.ParseID(parts[0])
		wid, err2 := model.ParseID(parts[2])
		if err1 != nil || err2 != nil {
			writeError(rw, errorf(http.StatusNotFound, "workspace %s/%s not found", parts[0], parts[2]))
			return
		}
		found, err := s.workspace(r.Context(), acc, wid)
		if err != nil {
			writeError(rw, toAPIError(err))
			return
		}
		ws = found
		prefix = "/api/accounts/" + parts[0] + "/workspaces/" + parts[2]
		rest = "/"
		if len(parts) == 4 {
			rest += parts[3]
		}
	}
	if v := r.Header.Get("X-Prefect-Api-Version"); v != "" && !validAPIVersion(v) {
		writeError(rw, errorf(http.StatusBadRequest, "X-PREFECT-API-VERSION %q is not a supported API version (need x.y.z >= 0.8.0)", v))
		return
	}
	if len(rest) > 1 {
		rest = strings.TrimSuffix(rest, "/")
	}
	if rest == "" {
		rest = "/"
	}
	ctx := context.WithValue(context.WithValue(context.WithValue(r.Context(), wsKey, ws.ID), wsAccountKey, ws.AccountID), srvKey{}, s)
	r2 := r.WithContext(context.WithValue(ctx, prefixKey, prefix))
	u := *r.URL
	u.Path = rest
	u.RawPath = ""
	r2.URL = &u
	_, pattern = s.mux.Handler(r2)
	if pattern == "" {
		pattern = "unmatched"
		// Distinguish an unknown path from a known path with the wrong method.
		for _, m := range []string{"GET", "POST", "PATCH", "PUT", "DELETE"} {
			probe := r2.Clone(r2.Context())
			probe.Method = m
			if _, p := s.mux.Handler(probe); p != "" {
				writeError(rw, errorf(http.StatusMethodNotAllowed, "method %s is not allowed on %s", r.Method, path))
				return
			}
		}
		writeError(rw, errorf(http.StatusNotFound, "Not Found: %s %s", r.Method, path))
		return
	}
	rt := s.byPattern[pattern]
	r2, aerr := s.authorize(r2, rt)
	if aerr != nil {
		s.auditDenied(r2, rt, aerr)
		writeError(rw, aerr)
		return
	}
	s.applyLifetime(rw, rt)
	s.mux.ServeHTTP(rw, r2)
}

func validAPIVersion(v string) bool {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return false
	}
	nums := [3]int{}
	for i, p := range parts {
		if p == "" {
			return false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
			nums[i] = nums[i]*10 + int(c-'0')
		}
	}
	return nums[0] > 0 || nums[1] >= 8
}

func (s *Server) workspace(ctx context.Context, acc, id model.ID) (model.Workspace, error) {
	key := [2]model.ID{acc, id}
	s.wsMu.RLock()
	w, ok := s.wsCache[key]
	s.wsMu.RUnlock()
	if ok {
		return w, nil
	}
	w, err := s.cfg.Store.WorkspaceGet(ctx, acc, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return w, notFound("workspace", id)
		}
		return w, err
	}
	s.wsMu.Lock()
	s.wsCache[key] = w
	s.wsMu.Unlock()
	return w, nil
}

// dispatchShared serves routes that share one mux pattern: the route whose
// path matches the request with the most literal segments handles it, with
// its own path parameters set.
func (s *Server) dispatchShared(rts []*route) http.Handler {
	handlers := make([]http.Handler, len(rts))
	for i, rt := range rts {
		handlers[i] = s.adapt(*rt)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		best, bestN := -1, -1
		var bestVals map[string]string
		for i, rt := range rts {
			if n, vals := rt.matchLiteral(r.URL.Path); n > bestN {
				best, bestN, bestVals = i, n, vals
			}
		}
		if best < 0 {
			writeError(w, errorf(http.StatusNotFound, "Not Found: %s %s", r.Method, r.URL.Path))
			return
		}
		for k, v := range bestVals {
			r.SetPathValue(k, v)
		}
		handlers[best].ServeHTTP(w, r)
	})
}

// adapt turns a route into an http.Handler.
func (s *Server) adapt(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, _ := r.Context().Value(wsKey).(model.ID)
		if rt.raw != nil {
			if rt.lifetime == socket && !isWebsocketUpgrade(r) {
				// Credentials first, as the upgrade would check them: a
				// caller without any learns nothing more than a 401.
				if err := s.AuthenticateSocket(r, eventsocket.HeaderToken(r)); err != nil {
					writeError(w, toAPIError(err))
					return
				}
				w.Header().Set("Upgrade", "websocket")
				writeError(w, errorf(http.StatusUpgradeRequired, "%s is a websocket: connect with a websocket client (Upgrade: websocket)", r.URL.Path))
				return
			}
			rt.raw(w, r)
			return
		}
		c := &call{ctx: r.Context(), w: w, r: r, ws: ws, srv: s, optional: rt.optional, maxBody: rt.bodyLimitOrDefault()}
		for _, p := range rt.params {
			if p.in == "path" && p.typ == "uuid" {
				id, err := parsePathID(r, p.name)
				if err != nil {
					writeError(w, toAPIError(err))
					return
				}
				if c.ids == nil {
					c.ids = make(map[string]model.ID, 2)
				}
				c.ids[p.name] = id
			}
		}
		res, err := rt.serve(c)
		s.auditCall(c, &rt, res, err)
		if err != nil {
			ae := toAPIError(err)
			switch {
			case ae.Status != http.StatusInternalServerError:
			case r.Context().Err() != nil:
				// The client went away and its query was cancelled with it.
				s.log.Debug("request abandoned by the client", "method", r.Method, "path", r.URL.Path, "err", err)
			default:
				s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, ae)
			return
		}
		status := rt.status
		if c.status != 0 {
			status = c.status
			if !rt.answers(status) {
				// The document would lie about this answer: a bug to fix
				// in the route's declaration (alsoOK and friends).
				s.log.Error("route answered a status it does not declare", "route", rt.muxPattern(), "status", status)
			}
		}
		if status == 0 {
			status = http.StatusOK
		}
		if rt.response == nil || status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, res)
	})
}

// workspaceOf returns the workspace a raw handler's request was routed to.
func workspaceOf(r *http.Request) model.ID {
	ws, _ := r.Context().Value(wsKey).(model.ID)
	return ws
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status = code
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (and the websocket upgrader's
// hijacking) reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack supports websocket upgrades through the wrapper.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer cannot be hijacked")
	}
	w.wrote = true
	w.status = http.StatusSwitchingProtocols
	return h.Hijack()
}

// Flush supports streaming responses through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
