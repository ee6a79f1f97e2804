package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/batonhq/baton/internal/model"
)

// dialLogs opens /api/logs/out as the Prefect client does (subprotocol
// "prefect", auth message, then the filter) and returns the connection.
func dialLogs(t *testing.T, s *testServer, filter any) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"prefect"}, HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/api/logs/out", nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.WriteJSON(map[string]any{"type": "auth", "token": nil}); err != nil {
		t.Fatal(err)
	}
	var ok map[string]any
	if err := conn.ReadJSON(&ok); err != nil || ok["type"] != "auth_success" {
		t.Fatalf("auth: %v %v", ok, err)
	}
	if err := conn.WriteJSON(map[string]any{"type": "filter", "filter": filter}); err != nil {
		t.Fatal(err)
	}
	return conn
}

func readLog(t *testing.T, conn *websocket.Conn) model.Log {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var msg struct {
		Type string    `json:"type"`
		Log  model.Log `json:"log"`
	}
	if err := conn.ReadJSON(&msg); err != nil || msg.Type != "log" {
		t.Fatalf("read: %+v %v", msg, err)
	}
	return msg.Log
}

func TestLogsOutStreamsMatchingLogs(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	run, other := model.NewID(), model.NewID()
	now := time.Now().UTC()
	line := func(id model.ID, level int, msg string, at time.Time) map[string]any {
		return map[string]any{"name": "prefect.flow_runs", "level": level, "message": msg, "timestamp": at.Format(time.RFC3339Nano), "flow_run_id": id}
	}
	// Logged before the watcher connects: replayed.
	s.must("POST", "/api/logs/", []any{line(run, 20, "early", now.Add(-10*time.Second))}, 201)
	filter := map[string]any{"flow_run_id": map[string]any{"any_": []model.ID{run}}, "level": map[string]any{"ge_": 20},
		"timestamp": map[string]any{"after_": now.Add(-time.Minute).Format(time.RFC3339Nano)}}
	conn := dialLogs(t, s, filter)
	if l := readLog(t, conn); l.Message != "early" {
		t.Fatalf("replay: %+v", l)
	}
	// Live: only this run's logs at INFO and above.
	s.must("POST", "/api/logs/", []any{line(other, 20, "other run", now), line(run, 10, "debug", now), line(run, 40, "live error", now)}, 201)
	if l := readLog(t, conn); l.Message != "live error" || l.Level != 40 || l.FlowRunID == nil || *l.FlowRunID != run {
		t.Fatalf("live: %+v", l)
	}
	s.must("POST", "/api/logs/", []any{line(run, 20, "second", now)}, 201)
	if l := readLog(t, conn); l.Message != "second" {
		t.Fatalf("live order: %+v", l)
	}
	// Closing ends the subscription.
	conn.Close()
	srv := s.Config.Handler.(*Server)
	deadline := time.Now().Add(5 * time.Second)
	for srv.logHub.count() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := srv.logHub.count(); n != 0 {
		t.Fatalf("%d subscriptions left after the client left", n)
	}
}

func TestLogsOutHandshakeMistakes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/logs/out"
	closeCode := func(conn *websocket.Conn) int {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				if ce, ok := err.(*websocket.CloseError); ok {
					return ce.Code
				}
				return -1
			}
		}
	}
	d := websocket.Dialer{Subprotocols: []string{"prefect"}}
	// A filter before the auth message.
	conn, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.WriteJSON(map[string]any{"type": "filter", "filter": map[string]any{}})
	if code := closeCode(conn); code != websocket.ClosePolicyViolation {
		t.Errorf("filter first: close %d, want 1008", code)
	}
	// A filter that is not a LogFilter.
	conn = dialLogs(t, s, map[string]any{"level": map[string]any{"ge_": "loud"}})
	if code := closeCode(conn); code != websocket.CloseProtocolError {
		t.Errorf("bad filter: close %d, want 1002", code)
	}
	// Something other than a filter after auth.
	conn, _, err = d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.WriteJSON(map[string]any{"type": "auth"})
	var ok map[string]any
	_ = conn.ReadJSON(&ok)
	raw, _ := json.Marshal(map[string]any{"type": "hello"})
	_ = conn.WriteMessage(websocket.TextMessage, raw)
	if code := closeCode(conn); code != websocket.CloseProtocolError {
		t.Errorf("no filter: close %d, want 1002", code)
	}
	// Without the subprotocol (older clients): no auth message, filter first.
	conn, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("legacy dial: %v", err)
	}
	_ = conn.WriteJSON(map[string]any{"type": "filter", "filter": map[string]any{}})
	s.must("POST", "/api/logs/", []any{map[string]any{"name": "x", "level": 20, "message": "legacy", "timestamp": time.Now().UTC().Format(time.RFC3339Nano)}}, 201)
	if l := readLog(t, conn); l.Message != "legacy" {
		t.Fatalf("legacy stream: %+v", l)
	}
}

func TestLogMatches(t *testing.T) {
	t.Parallel()
	run, task := model.NewID(), model.NewID()
	ge, le := 20, 30
	yes, no := true, false
	l := model.Log{Level: 20, Message: "Hello World", Timestamp: model.NewTime(time.Unix(100, 0)), FlowRunID: &run, TaskRunID: &task}
	for _, tc := range []struct {
		name string
		f    model.LogFilter
		want bool
	}{
		{"empty", model.LogFilter{}, true},
		{"level in range", model.LogFilter{Level: &model.LevelFilter{GE: &ge, LE: &le}}, true},
		{"level too low", model.LogFilter{Level: &model.LevelFilter{GE: &le}}, false},
		{"after", model.LogFilter{Timestamp: &model.TimeFilter{After: model.TimePtr(time.Unix(101, 0))}}, false},
		{"before", model.LogFilter{Timestamp: &model.TimeFilter{Before: model.TimePtr(time.Unix(99, 0))}}, false},
		{"other run", model.LogFilter{FlowRunID: &model.OptionalIDFilter{Any: []model.ID{model.NewID()}}}, false},
		{"this run", model.LogFilter{FlowRunID: &model.OptionalIDFilter{Any: []model.ID{run}}}, true},
		{"task is null", model.LogFilter{TaskRunID: &model.OptionalIDFilter{IsNull: &yes}}, false},
		{"task not null", model.LogFilter{TaskRunID: &model.OptionalIDFilter{IsNull: &no}}, true},
		{"text", model.LogFilter{Text: &model.TextFilter{Query: "world"}}, true},
		{"text missing", model.LogFilter{Text: &model.TextFilter{Query: "mars"}}, false},
	} {
		if got := logMatches(l, tc.f); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
