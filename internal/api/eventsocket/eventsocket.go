// Package eventsocket serves Prefect's event websockets, /api/events/in
// (clients stream events in; a pong acknowledges what was committed) and
// /api/events/out (subscribers get a backfill, then live events). It is
// the transport half of the event path: the events package holds the
// domain half (validation, the ingest, the bus, filters) and knows nothing
// of HTTP.
package eventsocket

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Authenticator checks a websocket's credential: the token of the auth
// message when the client uses the "prefect" subprotocol, otherwise the one
// of the upgrade's Authorization header (the bearer key, or the decoded Basic
// credential; "" when absent). ServeIn and ServeOut require one: the API
// passes the server's authorizer, so no socket is open by omission.
type Authenticator func(r *http.Request, token string) error

// Subprotocol is the websocket subprotocol of Prefect's event sockets. When
// the client offers it, the server echoes it and expects an auth message.
const Subprotocol = "prefect"

// EventLister is the store method /events/out needs for its backfill.
type EventLister interface {
	EventList(ctx context.Context, ws model.ID, f model.EventFilter, limit, offset int) (store.EventPage, error)
}

// SocketsConfig configures NewSockets. Zero values pick the defaults noted
// on each field.
type SocketsConfig struct {
	// Ingest commits what /events/in reads. Required for ServeIn.
	Ingest *events.Ingest
	// Bus feeds /events/out live events. Required for ServeOut.
	Bus events.Broker
	// Store serves the /events/out backfill. Optional (no backfill).
	Store EventLister
	// CheckOrigin is passed to the websocket upgrader; nil keeps gorilla's
	// same-origin check (non-browser clients send no Origin and pass).
	CheckOrigin func(r *http.Request) bool
	// Logger receives skipped events and connection errors. Default: discard.
	Logger *slog.Logger
	// Now is the clock for the backfill window. Default time.Now.
	Now func() time.Time
	// BackfillWindow clamps how far back /events/out replays. Default 15
	// minutes (PREFECT_EVENTS_MAXIMUM_WEBSOCKET_BACKFILL).
	BackfillWindow time.Duration
	// BackfillLimit caps the number of replayed events. Default 1000.
	BackfillLimit int
	// HandshakeTimeout bounds the wait for the auth and filter messages.
	// Default 30s.
	HandshakeTimeout time.Duration
	// WriteTimeout bounds each write to a client. Default 10s.
	WriteTimeout time.Duration
	// MaxPending is how many read but uncommitted events one /events/in
	// connection may hold before reading pauses. Default 10000.
	MaxPending int
}

// Sockets serves Prefect's event websockets. One value serves every
// workspace; the caller resolves the workspace and authorisation context
// from the URL and passes it in.
//
// Sockets follows the lifecycle contract: Stop closes every open connection
// gracefully (an /events/in connection stops reading, commits what it read,
// then closes with 1001 so the client reconnects and resends what was not
// acknowledged) and waits for the handlers, so a server stops its sockets
// before the ingest they commit through.
type Sockets struct {
	cfg      SocketsConfig
	log      *slog.Logger
	upgrader websocket.Upgrader

	mu       sync.Mutex
	stopping chan struct{} // closed by Stop
	stopped  bool
	handlers sync.WaitGroup
}

// NewSockets builds the websocket handlers.
func NewSockets(cfg SocketsConfig) *Sockets {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BackfillWindow <= 0 {
		cfg.BackfillWindow = 15 * time.Minute
	}
	if cfg.BackfillLimit <= 0 {
		cfg.BackfillLimit = 1000
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 30 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 10000
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sockets{
		cfg:      cfg,
		log:      log,
		stopping: make(chan struct{}),
		upgrader: websocket.Upgrader{
			Subprotocols:    []string{Subprotocol},
			CheckOrigin:     cfg.CheckOrigin,
			ReadBufferSize:  16 << 10,
			WriteBufferSize: 16 << 10,
		},
	}
}

// Name implements lifecycle.Service.
func (s *Sockets) Name() string { return "events-sockets" }

// Start (re)opens the sockets for connections after a Stop.
func (s *Sockets) Start(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		s.stopping, s.stopped = make(chan struct{}), false
	}
	return nil
}

// Stop closes every open connection gracefully and waits for their
// handlers (until ctx expires). Connections attempted meanwhile are
// refused with 1001.
func (s *Sockets) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopped {
		close(s.stopping)
		s.stopped = true
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.handlers.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("events: sockets still open: %w", ctx.Err())
	}
}

// enter registers a connection's handler (the caller must call
// s.handlers.Done when it returns) and returns the channel closed when the
// sockets stop; false when they are stopped.
func (s *Sockets) enter() (<-chan struct{}, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, false
	}
	s.handlers.Add(1)
	return s.stopping, true
}

// Close codes used by the handshake.
const (
	closePolicyViolation = websocket.ClosePolicyViolation // 1008: auth failed
	closeProtocolError   = websocket.CloseProtocolError   // 1002: not a filter
	closeInternal        = websocket.CloseInternalServerErr
	closeTryAgainLater   = websocket.CloseTryAgainLater
)

// handshakeMessage is the auth or filter message a client sends first.
type handshakeMessage struct {
	Type     string            `json:"type"`
	Token    *string           `json:"token"`
	Filter   model.EventFilter `json:"filter"`
	Backfill *bool             `json:"backfill"`
}

// open upgrades the connection and authenticates it: with the subprotocol
// through the auth message (failure closes with 1008), without it through
// the Authorization header before upgrading (failure is a 401, which the
// Prefect client does not retry). It returns nil when the connection is
// already answered.
func (s *Sockets) open(w http.ResponseWriter, r *http.Request, auth Authenticator) *websocket.Conn {
	if auth == nil {
		panic("events: a socket served without an Authenticator")
	}
	withProto := false
	for _, p := range websocket.Subprotocols(r) {
		if p == Subprotocol {
			withProto = true
		}
	}
	if !withProto {
		if err := auth(r, HeaderToken(r)); err != nil {
			s.log.InfoContext(r.Context(), "event socket rejected", slog.String("path", r.URL.Path), slog.Any("error", err))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"exception_message":"Unauthorized"}`))
			return nil
		}
	}
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has answered with an HTTP error.
		s.log.InfoContext(r.Context(), "event socket upgrade failed", slog.String("path", r.URL.Path), slog.Any("error", err))
		return nil
	}
	if conn.Subprotocol() != Subprotocol {
		return conn
	}
	_ = conn.SetReadDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	var msg handshakeMessage
	if err := readJSON(conn, &msg); err != nil || msg.Type != "auth" {
		s.closeWith(conn, closePolicyViolation, "Expected 'auth' message")
		return nil
	}
	token := ""
	if msg.Token != nil {
		token = *msg.Token
	}
	if err := auth(r, token); err != nil {
		s.log.InfoContext(r.Context(), "event socket auth failed", slog.String("path", r.URL.Path), slog.Any("error", err))
		s.closeWith(conn, closePolicyViolation, "Authentication failed")
		return nil
	}
	_ = conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"auth_success"}`)); err != nil {
		_ = conn.Close()
		return nil
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn
}

// HeaderToken extracts the credential of the upgrade request: a bearer key,
// or the decoded user:password of Basic auth (Prefect's auth string).
func HeaderToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok {
		return ""
	}
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "bearer":
		return cred
	case "basic":
		if b, err := base64.StdEncoding.DecodeString(cred); err == nil {
			return string(b)
		}
	}
	return ""
}

func readJSON(conn *websocket.Conn, v any) error {
	_, data, err := conn.ReadMessage()
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// closeWith sends a close frame with code and reason and closes the
// connection.
func (s *Sockets) closeWith(conn *websocket.Conn, code int, reason string) {
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(s.cfg.WriteTimeout))
	_ = conn.Close()
}

// ServeIn serves /api/events/in for workspace ws: each text frame is one
// event. Events that fail to parse or validate are logged and skipped while
// the connection stays open: closing it would make the client resend the
// same bad event after reconnecting, forever. Frames larger than twice
// events.MaxEventBytes end the connection (1009).
//
// Reading and committing are pipelined: the read loop queues events while a
// committer goroutine hands them to the Ingest in groups. A ping is answered
// only once every event read before it is committed, because the client
// takes the pong as the acknowledgement of everything it sent before the
// ping. If a commit fails the connection is closed with 1011 and no pong is
// sent, so the client resends.
func (s *Sockets) ServeIn(w http.ResponseWriter, r *http.Request, ws model.ID, auth Authenticator) {
	if s.cfg.Ingest == nil {
		http.Error(w, "events ingest not configured", http.StatusServiceUnavailable)
		return
	}
	stopping, ok := s.enter()
	if !ok {
		http.Error(w, "the server is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.handlers.Done()
	conn := s.open(w, r, auth)
	if conn == nil {
		return
	}
	defer conn.Close()
	conn.SetReadLimit(2 * events.MaxEventBytes)
	// On Stop, the read loop ends at once; what was read is committed below.
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-stopping:
			_ = conn.SetReadDeadline(time.Now())
		case <-finished:
		}
	}()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	p := newPipeline(s.cfg.MaxPending)
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		p.commitLoop(func(evs []model.Event) error { return s.cfg.Ingest.Accept(ctx, ws, evs) })
	}()

	conn.SetPingHandler(func(data string) error {
		if err := p.waitCommitted(ctx, p.readCount()); err != nil {
			return err
		}
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(s.cfg.WriteTimeout))
		if err == nil || errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})

	var readErr error
	warns := newLogLimiter(s.log)
	defer warns.flush(ctx)
	for {
		mt, data, err := conn.ReadMessage()
		if err != nil {
			readErr = err
			break
		}
		if mt != websocket.TextMessage && mt != websocket.BinaryMessage {
			continue
		}
		ev, err := events.DecodeEvent(data)
		if err != nil {
			warns.warn(ctx, "event skipped", err, slog.String("workspace", ws.String()))
			continue
		}
		if err := p.push(ctx, ev); err != nil {
			readErr = err
			break
		}
	}
	// Commit whatever was read before the connection ended: the client may
	// not resend it.
	p.close()
	<-committed
	if err := p.failure(); err != nil {
		if errors.Is(err, store.ErrBusy) {
			// Backpressure, not a fault: the client reconnects and resends
			// what was not acknowledged.
			s.log.WarnContext(ctx, "events not committed: the server is busy; closing socket with 1013", slog.String("workspace", ws.String()), slog.Any("error", err))
			s.closeWith(conn, closeTryAgainLater, "the server is busy; reconnect and resend")
			return
		}
		s.log.ErrorContext(ctx, "events not committed; closing socket", slog.String("workspace", ws.String()), slog.Any("error", err))
		s.closeWith(conn, closeInternal, "events could not be stored")
		return
	}
	select {
	case <-stopping:
		// Committed, but not acknowledged: the client reconnects and
		// resends what it sent since its last pong (duplicates are dropped).
		s.closeWith(conn, websocket.CloseGoingAway, "server shutting down")
		return
	default:
	}
	var ce *websocket.CloseError
	if !errors.As(readErr, &ce) {
		// A normal close has already been answered by gorilla; anything
		// else (network error, read limit) is worth a debug line.
		s.log.DebugContext(ctx, "events/in connection ended", slog.String("workspace", ws.String()), slog.Any("error", readErr))
	}
}

// pipeline holds one /events/in connection's read-but-uncommitted events
// and the progress counters the ping handler waits on.
type pipeline struct {
	max     int
	mu      sync.Mutex
	pending []model.Event
	read    uint64 // events queued so far
	done    uint64 // events whose commit has finished
	err     error  // first commit failure
	closed  bool
	wake    chan struct{} // closed and replaced on every change
}

func newPipeline(maxPending int) *pipeline {
	return &pipeline{max: maxPending, wake: make(chan struct{})}
}

// changed wakes every waiter; mu must be held.
func (p *pipeline) changed() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// push queues one event, waiting while too many are uncommitted.
func (p *pipeline) push(ctx context.Context, ev model.Event) error {
	p.mu.Lock()
	for len(p.pending) >= p.max && p.err == nil {
		w := p.wake
		p.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
	}
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.pending = append(p.pending, ev)
	p.read++
	p.changed()
	return nil
}

func (p *pipeline) readCount() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.read
}

func (p *pipeline) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// waitCommitted blocks until the first n events are committed, or returns
// the commit failure.
func (p *pipeline) waitCommitted(ctx context.Context, n uint64) error {
	for {
		p.mu.Lock()
		if p.err != nil {
			err := p.err
			p.mu.Unlock()
			return err
		}
		if p.done >= n {
			p.mu.Unlock()
			return nil
		}
		w := p.wake
		p.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// close tells the commit loop to finish what is queued and exit.
func (p *pipeline) close() {
	p.mu.Lock()
	p.closed = true
	p.changed()
	p.mu.Unlock()
}

// commitLoop hands queued events to commit, all that are queued at once,
// until closed and empty.
func (p *pipeline) commitLoop(commit func([]model.Event) error) {
	for {
		p.mu.Lock()
		for len(p.pending) == 0 && !p.closed {
			w := p.wake
			p.mu.Unlock()
			<-w
			p.mu.Lock()
		}
		if len(p.pending) == 0 {
			p.mu.Unlock()
			return
		}
		batch := p.pending
		p.pending = nil
		p.changed()
		p.mu.Unlock()

		err := commit(batch)

		p.mu.Lock()
		p.done += uint64(len(batch))
		if err != nil && p.err == nil {
			p.err = fmt.Errorf("events: commit: %w", err)
		}
		p.changed()
		p.mu.Unlock()
	}
}

// outMessage is what /events/out sends for each event.
type outMessage struct {
	Type  string       `json:"type"`
	Event *model.Event `json:"event"`
}

// ServeOut serves /api/events/out for workspace ws: after the handshake the
// client sends {"type":"filter","filter":EventFilter,"backfill":bool}; the
// server replays the matching events of the last BackfillWindow (oldest
// first, at most BackfillLimit) unless backfill is false, then streams live
// events from the bus, each as {"type":"event","event":...}. The bus
// subscription is taken before the backfill query so nothing falls between
// the two, and events seen in the backfill are not sent again. A subscriber
// that falls too far behind is closed with 1013; the client reconnects and
// backfills.
func (s *Sockets) ServeOut(w http.ResponseWriter, r *http.Request, ws model.ID, auth Authenticator) {
	if s.cfg.Bus == nil {
		http.Error(w, "events bus not configured", http.StatusServiceUnavailable)
		return
	}
	stopping, ok := s.enter()
	if !ok {
		http.Error(w, "the server is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.handlers.Done()
	conn := s.open(w, r, auth)
	if conn == nil {
		return
	}
	defer conn.Close()
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-stopping:
			_ = conn.SetReadDeadline(time.Now()) // ends a handshake in progress
		case <-finished:
		}
	}()
	conn.SetReadLimit(1 << 20)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()

	_ = conn.SetReadDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	var msg handshakeMessage
	if err := readJSON(conn, &msg); err != nil || msg.Type != "filter" {
		s.closeWith(conn, closeProtocolError, "Expected 'filter' message")
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	filter := msg.Filter

	sub := s.cfg.Bus.Subscribe(ws, filter)
	defer sub.Close()

	// The reader only serves control frames (pings, close) and notices the
	// client leaving.
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	defer func() {
		_ = conn.Close()
		<-gone
	}()

	var seen map[model.ID]struct{}
	if (msg.Backfill == nil || *msg.Backfill) && s.cfg.Store != nil {
		evs, err := s.backfill(ctx, ws, filter)
		if err != nil {
			s.log.WarnContext(ctx, "events backfill failed", slog.String("workspace", ws.String()), slog.Any("error", err))
		}
		seen = make(map[model.ID]struct{}, len(evs))
		for i := range evs {
			seen[evs[i].ID] = struct{}{}
			if err := s.send(conn, &evs[i]); err != nil {
				return
			}
		}
	}
	for {
		select {
		case e, ok := <-sub.C():
			if !ok {
				if sub.Lagged() {
					s.closeWith(conn, closeTryAgainLater, "subscriber fell behind")
				}
				return
			}
			if _, dup := seen[e.ID]; dup {
				delete(seen, e.ID)
				continue
			}
			if err := s.send(conn, &e); err != nil {
				return
			}
		case <-gone:
			select {
			case <-stopping: // the reader ended because the sockets stop
				s.closeWith(conn, websocket.CloseGoingAway, "server shutting down")
			default:
			}
			return
		case <-ctx.Done():
			return
		case <-stopping:
			s.closeWith(conn, websocket.CloseGoingAway, "server shutting down")
			return
		}
	}
}

// backfill reads the stored events matching f within the backfill window,
// oldest first.
func (s *Sockets) backfill(ctx context.Context, ws model.ID, f model.EventFilter) ([]model.Event, error) {
	floor := model.NewTime(s.cfg.Now().Add(-s.cfg.BackfillWindow))
	since := &floor
	if f.Occurred != nil && f.Occurred.Since != nil && f.Occurred.Since.After(floor.Time) {
		since = f.Occurred.Since
	}
	var until *model.Time
	if f.Occurred != nil {
		until = f.Occurred.Until
	}
	f.Occurred = &struct {
		Since *model.Time `json:"since"`
		Until *model.Time `json:"until"`
	}{Since: since, Until: until}
	f.Order = "ASC"
	page, err := s.cfg.Store.EventList(ctx, ws, f, s.cfg.BackfillLimit, 0)
	if err != nil {
		return nil, fmt.Errorf("events: backfill: %w", err)
	}
	return page.Events, nil
}

func (s *Sockets) send(conn *websocket.Conn, e *model.Event) error {
	events.Normalize(e)
	b, err := json.Marshal(outMessage{Type: "event", Event: e})
	if err != nil {
		return fmt.Errorf("events: encode: %w", err)
	}
	_ = conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	return conn.WriteMessage(websocket.TextMessage, b)
}
