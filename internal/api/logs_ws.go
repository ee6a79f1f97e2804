package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/batonhq/baton/internal/model"
)

// The /logs/out websocket, which `prefect flow-run watch` and `prefect
// deployment run --watch` read next to /events/out. Its protocol is the
// Prefect server's: with the "prefect" subprotocol the client first sends
// {"type": "auth", "token": ...} and gets {"type": "auth_success"}; then it
// sends {"type": "filter", "filter": <LogFilter>} and receives
// {"type": "log", "log": <Log>} for every matching log. Prefect streams
// only live logs; Baton first replays the stored logs that match (the
// client asks for the last minute and drops ids it has seen), so a watcher
// that connects a moment after the run started misses nothing.

// logSubscriberBuffer is how many logs may wait for one slow subscriber
// before it is disconnected (the client reconnects and is replayed).
const logSubscriberBuffer = 4096

// logBackfillLimit caps the replay on connect.
const logBackfillLimit = 1000

// logHub fans stored logs out to the /logs/out subscribers of their
// workspace. It lives in one process: each replica serves the logs POSTed
// to it.
type logHub struct {
	mu   sync.Mutex
	subs map[*logSub]struct{}
}

// logSub is one /logs/out connection's subscription.
type logSub struct {
	ws     model.ID
	filter model.LogFilter
	c      chan model.Log
}

func newLogHub() *logHub { return &logHub{subs: map[*logSub]struct{}{}} }

func (h *logHub) subscribe(ws model.ID, f model.LogFilter) *logSub {
	s := &logSub{ws: ws, filter: f, c: make(chan model.Log, logSubscriberBuffer)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *logHub) unsubscribe(s *logSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.c)
	}
}

// count is the number of live subscriptions (for /metrics and tests).
func (h *logHub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// publish hands logs to every matching subscriber without blocking; a
// subscriber whose buffer is full is dropped (its connection closes with
// "try again later" and the client reconnects).
func (h *logHub) publish(ws model.ID, logs []model.Log) {
	h.mu.Lock()
	defer h.mu.Unlock()
next:
	for s := range h.subs {
		if s.ws != ws {
			continue
		}
		for _, l := range logs {
			if !logMatches(l, s.filter) {
				continue
			}
			select {
			case s.c <- l:
			default:
				delete(h.subs, s)
				close(s.c)
				continue next
			}
		}
	}
}

// logMatches applies a LogFilter to one log, as Prefect's log stream does
// (level, timestamp, flow run and task run; text as a case-insensitive
// substring).
func logMatches(l model.Log, f model.LogFilter) bool {
	if lv := f.Level; lv != nil {
		if lv.GE != nil && l.Level < *lv.GE {
			return false
		}
		if lv.LE != nil && l.Level > *lv.LE {
			return false
		}
	}
	if ts := f.Timestamp; ts != nil {
		if ts.Before != nil && l.Timestamp.After(ts.Before.Time) {
			return false
		}
		if ts.After != nil && l.Timestamp.Before(ts.After.Time) {
			return false
		}
	}
	if !optionalIDMatches(l.FlowRunID, f.FlowRunID) || !optionalIDMatches(l.TaskRunID, f.TaskRunID) {
		return false
	}
	if f.Text != nil && f.Text.Query != "" && !strings.Contains(strings.ToLower(l.Message), strings.ToLower(f.Text.Query)) {
		return false
	}
	return true
}

func optionalIDMatches(id *model.ID, f *model.OptionalIDFilter) bool {
	if f == nil {
		return true
	}
	if f.IsNull != nil && *f.IsNull != (id == nil) {
		return false
	}
	if f.Any != nil {
		if id == nil {
			return false
		}
		for _, x := range f.Any {
			if x == *id {
				return true
			}
		}
		return false
	}
	return true
}

// logSocketUpgrader accepts the "prefect" subprotocol; the origin check is
// gorilla's same-origin rule (non-browser clients send no Origin).
var logSocketUpgrader = websocket.Upgrader{Subprotocols: []string{"prefect"}, ReadBufferSize: 4 << 10, WriteBufferSize: 16 << 10}

// Timeouts of the log socket.
const (
	logSocketHandshake = 30 * time.Second
	logSocketWrite     = 10 * time.Second
)

// socketMessage is the auth or filter message a client sends first.
type socketMessage struct {
	Type   string          `json:"type"`
	Token  *string         `json:"token"`
	Filter json.RawMessage `json:"filter"`
}

func closeSocket(conn *websocket.Conn, code int, reason string) {
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(logSocketWrite))
	_ = conn.Close()
}

// serveLogsOut is GET /logs/out.
func (s *Server) serveLogsOut(w http.ResponseWriter, r *http.Request) {
	ws := workspaceOf(r)
	withProto := false
	for _, p := range websocket.Subprotocols(r) {
		withProto = withProto || p == "prefect"
	}
	if !withProto {
		// Older clients authenticate with the upgrade's Authorization
		// header (checked by authorize when present).
		if err := s.AuthenticateSocket(r, ""); err != nil {
			writeError(w, errorf(http.StatusUnauthorized, "Unauthorized"))
			return
		}
	}
	conn, err := logSocketUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered with an HTTP error
	}
	defer conn.Close()
	conn.SetReadLimit(1 << 20)
	_ = conn.SetReadDeadline(time.Now().Add(logSocketHandshake))
	var msg socketMessage
	if withProto {
		if err := conn.ReadJSON(&msg); err != nil || msg.Type != "auth" {
			closeSocket(conn, websocket.ClosePolicyViolation, "Expected 'auth' message")
			return
		}
		token := ""
		if msg.Token != nil {
			token = *msg.Token
		}
		if err := s.AuthenticateSocket(r, token); err != nil {
			s.log.InfoContext(r.Context(), "log socket auth failed", slog.Any("error", err))
			closeSocket(conn, websocket.ClosePolicyViolation, "Authentication failed")
			return
		}
		_ = conn.SetWriteDeadline(time.Now().Add(logSocketWrite))
		if err := conn.WriteJSON(map[string]string{"type": "auth_success"}); err != nil {
			return
		}
	}
	msg = socketMessage{}
	if err := conn.ReadJSON(&msg); err != nil || msg.Type != "filter" {
		closeSocket(conn, websocket.CloseProtocolError, "Expected 'filter' message")
		return
	}
	var filter model.LogFilter
	if len(msg.Filter) > 0 && string(msg.Filter) != "null" {
		if err := json.Unmarshal(msg.Filter, &filter); err != nil {
			closeSocket(conn, websocket.CloseProtocolError, fmt.Sprintf("Invalid filter: %v", err))
			return
		}
	}
	_ = conn.SetReadDeadline(time.Time{})

	sub := s.logHub.subscribe(ws, filter)
	defer s.logHub.unsubscribe(sub)

	// The reader serves control frames and notices the client leaving.
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
	send := func(l *model.Log) error {
		_ = conn.SetWriteDeadline(time.Now().Add(logSocketWrite))
		return conn.WriteJSON(struct {
			Type string     `json:"type"`
			Log  *model.Log `json:"log"`
		}{"log", l})
	}

	seen := map[model.ID]struct{}{}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	past, err := s.cfg.Store.LogList(ctx, ws, model.LogQuery{Logs: &filter, Sort: "TIMESTAMP_ASC", Limit: logBackfillLimit})
	cancel()
	if err != nil {
		s.log.WarnContext(r.Context(), "log socket backfill failed", slog.Any("error", err))
	}
	for i := range past {
		seen[past[i].ID] = struct{}{}
		if err := send(&past[i]); err != nil {
			return
		}
	}
	for {
		select {
		case l, ok := <-sub.c:
			if !ok {
				closeSocket(conn, websocket.CloseTryAgainLater, "subscriber fell behind")
				return
			}
			if _, dup := seen[l.ID]; dup {
				continue
			}
			if err := send(&l); err != nil {
				return
			}
		case <-gone:
			return
		case <-r.Context().Done():
			return
		}
	}
}
