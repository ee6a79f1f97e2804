package eventsocket

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/model"
)

// testServer serves /in and /out for testWS on a real HTTP server.
type testServer struct {
	*httptest.Server
	st      *fakeStore
	bus     events.Broker
	ingest  *events.Ingest
	sockets *Sockets
	// auth authenticates the sockets (allowAll unless a test replaces it
	// before dialling).
	auth Authenticator
}

// allowAll accepts every credential.
func allowAll(*http.Request, string) error { return nil }

func newTestServer(t *testing.T, st *fakeStore, mod func(*SocketsConfig)) *testServer {
	t.Helper()
	bus := events.NewBus()
	in := startIngest(t, events.IngestConfig{Store: st, Bus: bus})
	cfg := SocketsConfig{Ingest: in, Bus: bus, Store: st}
	if mod != nil {
		mod(&cfg)
	}
	s := NewSockets(cfg)
	ts := &testServer{st: st, bus: cfg.Bus, ingest: in, sockets: s, auth: allowAll}
	mux := http.NewServeMux()
	mux.HandleFunc("/in", func(w http.ResponseWriter, r *http.Request) { s.ServeIn(w, r, testWS, ts.auth) })
	mux.HandleFunc("/out", func(w http.ResponseWriter, r *http.Request) { s.ServeOut(w, r, testWS, ts.auth) })
	ts.Server = httptest.NewServer(mux)
	t.Cleanup(ts.Server.Close)
	return ts
}

// client is a gorilla client with a background reader that collects
// pongs, messages and the close error.
type client struct {
	conn   *websocket.Conn
	pongs  chan string
	msgs   chan []byte
	closed chan error
}

func dial(t *testing.T, srv *testServer, path string, proto bool, header http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	if proto {
		d.Subprotocols = []string{Subprotocol}
	}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+path, header)
	if err == nil {
		t.Cleanup(func() { conn.Close() })
	}
	return conn, resp, err
}

// auth sends the auth message and returns the server's reply.
func auth(t *testing.T, conn *websocket.Conn, token any) map[string]any {
	t.Helper()
	if err := conn.WriteJSON(map[string]any{"type": "auth", "token": token}); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var reply map[string]any
	if err := conn.ReadJSON(&reply); err != nil {
		t.Fatalf("reading auth reply: %v", err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	return reply
}

func startReader(conn *websocket.Conn) *client {
	c := &client{conn: conn, pongs: make(chan string, 100), msgs: make(chan []byte, 10000), closed: make(chan error, 1)}
	conn.SetPongHandler(func(data string) error { c.pongs <- data; return nil })
	go func() {
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				c.closed <- err
				return
			}
			c.msgs <- data
		}
	}()
	return c
}

func (c *client) sendEvent(t *testing.T, e model.Event) {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatal(err)
	}
}

func (c *client) ping(t *testing.T, data string) {
	t.Helper()
	if err := c.conn.WriteControl(websocket.PingMessage, []byte(data), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
}

func (c *client) awaitPong(t *testing.T, data string) {
	t.Helper()
	select {
	case got := <-c.pongs:
		if got != data {
			t.Fatalf("pong %q, want %q", got, data)
		}
	case err := <-c.closed:
		t.Fatalf("connection closed while waiting for pong: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}
}

func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

func TestEventsInHandshakes(t *testing.T) {
	t.Parallel()
	basic := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("admin:pass"))}}
	tests := []struct {
		name       string
		proto      bool
		header     http.Header
		token      any // sent in the auth message when proto
		wantStatus int // non-zero: the upgrade must fail with it
		wantClose  int // non-zero: the handshake must close with it
	}{
		{name: "subprotocol with auth message", proto: true, token: "admin:pass"},
		{name: "subprotocol, wrong token", proto: true, token: "nope", wantClose: websocket.ClosePolicyViolation},
		{name: "subprotocol, null token", proto: true, token: nil, wantClose: websocket.ClosePolicyViolation},
		{name: "legacy with Basic header", header: basic},
		{name: "cloud variant: bearer header, no subprotocol", header: http.Header{"Authorization": {"bearer admin:pass"}}},
		{name: "legacy without credentials", wantStatus: http.StatusUnauthorized},
		{name: "legacy with a wrong key", header: http.Header{"Authorization": {"Bearer wrong"}}, wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, newFakeStore(), nil)
			srv.auth = func(r *http.Request, token string) error {
				if token != "admin:pass" {
					return errors.New("bad token")
				}
				return nil
			}
			conn, resp, err := dial(t, srv, "/in", tt.proto, tt.header)
			if tt.wantStatus != 0 {
				if err == nil || resp == nil || resp.StatusCode != tt.wantStatus {
					t.Fatalf("dial: err %v, resp %v; want status %d", err, resp, tt.wantStatus)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if tt.proto {
				want = Subprotocol
			}
			if conn.Subprotocol() != want {
				t.Fatalf("subprotocol %q, want %q", conn.Subprotocol(), want)
			}
			if tt.proto {
				if err := conn.WriteJSON(map[string]any{"type": "auth", "token": tt.token}); err != nil {
					t.Fatal(err)
				}
				_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				var reply map[string]any
				err := conn.ReadJSON(&reply)
				if tt.wantClose != 0 {
					if closeCode(err) != tt.wantClose {
						t.Fatalf("read after bad auth: %v, want close %d", err, tt.wantClose)
					}
					return
				}
				if err != nil || reply["type"] != "auth_success" {
					t.Fatalf("auth reply %v, err %v", reply, err)
				}
				_ = conn.SetReadDeadline(time.Time{})
			}
			c := startReader(conn)
			c.sendEvent(t, plainEvent("prefect.flow-run.heartbeat", "prefect.flow-run.x", t0))
			c.ping(t, "p1")
			c.awaitPong(t, "p1")
			if n := srv.st.eventCount(testWS); n != 1 {
				t.Errorf("%d events stored, want 1", n)
			}
		})
	}
}

func TestEventsInNoAuthConfigured(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, newFakeStore(), nil)
	for _, proto := range []bool{true, false} {
		conn, _, err := dial(t, srv, "/in", proto, nil)
		if err != nil {
			t.Fatal(err)
		}
		if proto {
			// The Prefect client pings, waits for the pong, then
			// authenticates.
			ponged := false
			conn.SetPongHandler(func(string) error { ponged = true; return nil })
			if err := conn.WriteControl(websocket.PingMessage, []byte("hello"), time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			if reply := auth(t, conn, nil); reply["type"] != "auth_success" {
				t.Fatalf("auth reply %v", reply)
			}
			if !ponged {
				t.Error("no pong to the ping sent before authenticating")
			}
		}
		c := startReader(conn)
		c.sendEvent(t, plainEvent("x", "r", t0))
		c.ping(t, "p")
		c.awaitPong(t, "p")
	}
	if n := srv.st.eventCount(testWS); n != 2 {
		t.Errorf("%d events stored, want 2", n)
	}
}

func TestEventsInAuthMessageRequired(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, newFakeStore(), nil)
	conn, _, err := dial(t, srv, "/in", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.WriteJSON(map[string]any{"type": "filter"}); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn.ReadMessage()
	if closeCode(err) != websocket.ClosePolicyViolation {
		t.Fatalf("got %v, want close 1008", err)
	}
}

func TestEventsInRecordsTaskRuns(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, newFakeStore(), nil)
	conn, _, err := dial(t, srv, "/in", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := startReader(conn)
	run := model.NewID()
	pending := taskRunEvent(run, model.StatePending, "Pending", t0)
	running := taskRunEvent(run, model.StateRunning, "Running", model.NewTime(t0.Add(time.Second)))
	completed := taskRunEvent(run, model.StateCompleted, "Completed", model.NewTime(t0.Add(2*time.Second)))
	// Out of order, with a resend of the first two and garbage in between.
	for _, e := range []model.Event{completed, pending} {
		c.sendEvent(t, e)
	}
	for _, bad := range []string{`not json`, `{"id":"66666666-6666-4666-8666-666666666666"}`, `[]`} {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(bad)); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []model.Event{running, completed, pending} {
		c.sendEvent(t, e)
	}
	c.ping(t, "ack")
	c.awaitPong(t, "ack")

	if n := srv.st.eventCount(testWS); n != 3 {
		t.Errorf("%d events stored, want 3", n)
	}
	r, ok := srv.st.run(run)
	if !ok {
		t.Fatal("task run not recorded")
	}
	if r.StateType == nil || *r.StateType != model.StateCompleted || r.StateID == nil || *r.StateID != completed.ID {
		t.Errorf("task run state %v/%v, want COMPLETED %s", r.StateType, r.StateID, completed.ID)
	}
	if r.FlowRunID == nil || *r.FlowRunID != flowRun1 || r.TaskKey != "b-abc123" {
		t.Errorf("task run columns %+v", r)
	}
	if n := srv.st.stateCount(run); n != 3 {
		t.Errorf("%d states, want 3", n)
	}
}

func TestEventsInPongWaitsForCommit(t *testing.T) {
	t.Parallel()
	st := newFakeStore()
	st.gate = make(chan struct{})
	srv := newTestServer(t, st, nil)
	conn, _, err := dial(t, srv, "/in", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := startReader(conn)
	c.sendEvent(t, plainEvent("x", "r", t0))
	c.ping(t, "p")
	select {
	case <-c.pongs:
		t.Fatal("pong sent before the event was committed")
	case <-time.After(100 * time.Millisecond):
	}
	if n := st.eventCount(testWS); n != 0 {
		t.Fatalf("event committed while the store was gated")
	}
	close(st.gate)
	c.awaitPong(t, "p")
	if n := st.eventCount(testWS); n != 1 {
		t.Errorf("pong arrived but %d events stored", n)
	}
}

func TestEventsInCommitFailureClosesWithoutPong(t *testing.T) {
	t.Parallel()
	st := newFakeStore()
	st.insertErr = "poison"
	srv := newTestServer(t, st, nil)
	conn, _, err := dial(t, srv, "/in", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := startReader(conn)
	c.sendEvent(t, plainEvent("poison", "r", t0))
	c.ping(t, "p")
	select {
	case err := <-c.closed:
		if closeCode(err) != websocket.CloseInternalServerErr {
			t.Errorf("closed with %v, want 1011", err)
		}
	case <-c.pongs:
		t.Fatal("pong sent although the commit failed")
	case <-time.After(5 * time.Second):
		t.Fatal("connection not closed")
	}
	select {
	case <-c.pongs:
		t.Fatal("pong sent although the commit failed")
	default:
	}
}

func TestEventsInStreamsWithPeriodicPings(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, newFakeStore(), nil)
	conn, _, err := dial(t, srv, "/in", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := startReader(conn)
	const total = 3000
	for i := 0; i < total; i++ {
		c.sendEvent(t, taskRunEvent(model.NewID(), model.StatePending, "Pending", t0))
		if i%700 == 699 {
			c.ping(t, "x")
			c.awaitPong(t, "x")
			if n := srv.st.eventCount(testWS); n < i+1 {
				t.Fatalf("pong after %d events but only %d stored", i+1, n)
			}
		}
	}
	c.ping(t, "end")
	c.awaitPong(t, "end")
	if n := srv.st.eventCount(testWS); n != total {
		t.Errorf("%d events stored, want %d", n, total)
	}
}

func TestEventsInClientDisconnectCommitsReadEvents(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, newFakeStore(), nil)
	conn, _, err := dial(t, srv, "/in", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := startReader(conn)
	for i := 0; i < 20; i++ {
		c.sendEvent(t, plainEvent("x", "r", t0))
	}
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	<-c.closed
	eventually(t, "events committed after disconnect", func() bool { return srv.st.eventCount(testWS) == 20 })
}

func readOut(t *testing.T, c *client) model.Event {
	t.Helper()
	select {
	case b := <-c.msgs:
		var m struct {
			Type  string      `json:"type"`
			Event model.Event `json:"event"`
		}
		if err := json.Unmarshal(b, &m); err != nil || m.Type != "event" {
			t.Fatalf("bad message %s: %v", b, err)
		}
		return m.Event
	case err := <-c.closed:
		t.Fatalf("closed: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return model.Event{}
}

func expectNothing(t *testing.T, c *client) {
	t.Helper()
	select {
	case b := <-c.msgs:
		t.Fatalf("unexpected message %s", b)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestEventsOutBackfillThenLive(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	st := newFakeStore()
	srv := newTestServer(t, st, func(c *SocketsConfig) { c.Now = func() time.Time { return now } })
	at := func(d time.Duration) model.Time { return model.NewTime(now.Add(d)) }
	old := plainEvent("prefect.flow-run.Cancelling", "prefect.flow-run.a", at(-20*time.Minute))
	b1 := plainEvent("prefect.flow-run.Cancelling", "prefect.flow-run.b", at(-2*time.Minute))
	b2 := plainEvent("prefect.flow-run.Cancelling", "prefect.flow-run.c", at(-time.Minute))
	other := plainEvent("prefect.flow-run.Running", "prefect.flow-run.d", at(-time.Minute))
	// Stored out of order: the backfill must come out ascending.
	if err := srv.ingest.Accept(context.Background(), testWS, []model.Event{b2, old, other, b1}); err != nil {
		t.Fatal(err)
	}

	conn, _, err := dial(t, srv, "/out", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reply := auth(t, conn, nil); reply["type"] != "auth_success" {
		t.Fatalf("auth reply %v", reply)
	}
	filter := map[string]any{
		"type": "filter",
		"filter": map[string]any{
			"occurred": map[string]any{"since": now.Add(-time.Hour), "until": now.Add(365 * 24 * time.Hour)},
			"event":    map[string]any{"name": []string{"prefect.flow-run.Cancelling"}},
		},
	}
	if err := conn.WriteJSON(filter); err != nil {
		t.Fatal(err)
	}
	c := startReader(conn)
	if got := readOut(t, c); got.ID != b1.ID {
		t.Fatalf("first backfill event %s, want %s", got.Event, b1.ID)
	}
	if got := readOut(t, c); got.ID != b2.ID {
		t.Fatalf("second backfill event %s, want %s", got.ID, b2.ID)
	}
	expectNothing(t, c) // old is outside the 15-minute window, other does not match
	eventually(t, "subscription", func() bool { return srv.bus.Subscribers() == 1 })

	// A live copy of a backfilled event (published after the subscription
	// started, before the backfill query) is not sent twice.
	srv.bus.Publish(testWS, []model.Event{b2})
	live := plainEvent("prefect.flow-run.Cancelling", "prefect.flow-run.e", at(0))
	if err := srv.ingest.Accept(context.Background(), testWS, []model.Event{live, plainEvent("prefect.flow-run.Running", "prefect.flow-run.e", at(0))}); err != nil {
		t.Fatal(err)
	}
	got := readOut(t, c)
	if got.ID != live.ID {
		t.Fatalf("live event %s (%s), want %s", got.ID, got.Event, live.ID)
	}
	if got.Received.IsZero() || string(got.Payload) != "{}" {
		t.Errorf("live event lacks received/payload: %+v", got)
	}
	expectNothing(t, c)

	// The client leaving ends the handler and its subscription.
	conn.Close()
	eventually(t, "unsubscribe", func() bool { return srv.bus.Subscribers() == 0 })
}

func TestEventsOutWithoutBackfill(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, newFakeStore(), nil)
	if err := srv.ingest.Accept(context.Background(), testWS, []model.Event{plainEvent("a", "r", model.NewTime(time.Now()))}); err != nil {
		t.Fatal(err)
	}
	conn, _, err := dial(t, srv, "/out", false, nil) // legacy: no auth message
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.WriteJSON(map[string]any{"type": "filter", "filter": map[string]any{}, "backfill": false}); err != nil {
		t.Fatal(err)
	}
	c := startReader(conn)
	eventually(t, "subscription", func() bool { return srv.bus.Subscribers() == 1 })
	expectNothing(t, c)
	live := plainEvent("b", "r", model.NewTime(time.Now()))
	if err := srv.ingest.Accept(context.Background(), testWS, []model.Event{live}); err != nil {
		t.Fatal(err)
	}
	if got := readOut(t, c); got.ID != live.ID {
		t.Fatalf("got %s, want %s", got.ID, live.ID)
	}
}

func TestEventsOutRequiresFilter(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, newFakeStore(), nil)
	for _, first := range []string{`{"type":"event"}`, `not json`, `{"type":"filter","filter":{"related":"x"}}`} {
		conn, _, err := dial(t, srv, "/out", false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.WriteMessage(websocket.TextMessage, []byte(first)); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err = conn.ReadMessage()
		if closeCode(err) != websocket.CloseProtocolError {
			t.Errorf("first message %s: got %v, want close 1002", first, err)
		}
	}
}

func TestEventsOutLaggingSubscriberIsClosed(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, newFakeStore(), func(c *SocketsConfig) { c.Bus = events.NewBufferedBus(1) })
	conn, _, err := dial(t, srv, "/out", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.WriteJSON(map[string]any{"type": "filter", "filter": map[string]any{}, "backfill": false}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "subscription", func() bool { return srv.bus.Subscribers() == 1 })
	// The client does not read; the server's socket buffers fill and the
	// subscription overflows.
	big := plainEvent("x", "r", t0)
	big.Payload = json.RawMessage(`{"pad":"` + strings.Repeat("p", 64<<10) + `"}`)
	for i := 0; i < 200 && srv.bus.Subscribers() == 1; i++ {
		e := big
		e.ID = model.NewID()
		srv.bus.Publish(testWS, []model.Event{e})
	}
	eventually(t, "lagging subscriber dropped", func() bool { return srv.bus.Subscribers() == 0 })
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var last error
	for last == nil {
		_, _, last = conn.ReadMessage()
	}
	if closeCode(last) != websocket.CloseTryAgainLater {
		t.Errorf("connection ended with %v, want close 1013", last)
	}
}

// TestSocketsStopClosesGracefully: stopping the sockets ends an /events/in
// connection after committing what it read, with 1001, ends /events/out
// with 1001, waits for both handlers, and refuses new connections until
// started again. What was acknowledged is stored; the client resends the
// rest after reconnecting, and duplicates are dropped.
func TestSocketsStopClosesGracefully(t *testing.T) {
	t.Parallel()
	st := newFakeStore()
	srv := newTestServer(t, st, nil)
	in, _, err := dial(t, srv, "/in", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	cin := startReader(in)
	out, _, err := dial(t, srv, "/out", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.WriteJSON(map[string]any{"type": "filter", "filter": map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	cout := startReader(out)
	var unacked []model.Event
	for i := range 20 {
		cin.sendEvent(t, plainEvent("x", "r"+strconv.Itoa(i), t0))
	}
	cin.ping(t, "p")
	cin.awaitPong(t, "p")
	for i := range 5 {
		e := plainEvent("y", "u"+strconv.Itoa(i), t0)
		unacked = append(unacked, e)
		cin.sendEvent(t, e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.sockets.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*client{"in": cin, "out": cout} {
		select {
		case err := <-c.closed:
			if code := closeCode(err); code != websocket.CloseGoingAway {
				t.Errorf("/%s closed with %v, want 1001", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("/%s still open after Stop", name)
		}
	}
	if n := st.eventCount(testWS); n < 20 {
		t.Errorf("%d events stored after Stop, want at least the 20 acknowledged", n)
	}
	if _, resp, err := dial(t, srv, "/in", false, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("connection while stopped: %v %v", err, resp)
	}
	if err := srv.sockets.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	again, _, err := dial(t, srv, "/in", false, nil)
	if err != nil {
		t.Fatalf("connection after a restart: %v", err)
	}
	c := startReader(again)
	for _, e := range unacked {
		c.sendEvent(t, e)
	}
	c.ping(t, "q")
	c.awaitPong(t, "q")
	if n := st.eventCount(testWS); n != 25 {
		t.Errorf("%d events stored after the resend, want 25", n)
	}
}

// lineCounter counts log lines by message.
type lineCounter struct {
	mu    sync.Mutex
	lines map[string]int
	attrs []map[string]any
}

func (c *lineCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *lineCounter) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lines == nil {
		c.lines = map[string]int{}
	}
	c.lines[r.Message]++
	a := map[string]any{}
	r.Attrs(func(at slog.Attr) bool { a[at.Key] = at.Value.Any(); return true })
	c.attrs = append(c.attrs, a)
	return nil
}
func (c *lineCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *lineCounter) WithGroup(string) slog.Handler      { return c }
func (c *lineCounter) count(msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lines[msg]
}

// TestEventsInBadMessagesLogRateLimited: one warning per undecodable message
// let a client write 20,000 lines (4 MB) in 0.09 s. Repeated causes are
// limited per connection, the rest counted in one summary line, and the
// connection keeps serving good events.
func TestEventsInBadMessagesLogRateLimited(t *testing.T) {
	t.Parallel()
	lines := &lineCounter{}
	srv := newTestServer(t, newFakeStore(), func(c *SocketsConfig) { c.Logger = slog.New(lines) })
	conn, _, err := dial(t, srv, "/in", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := startReader(conn)
	const bad = 20000
	for i := range bad {
		msg := fmt.Sprintf(`{"id": "not-a-uuid-%d"`, i) // each error text differs by its numbers
		if i%2 == 1 {
			msg = "[" + strings.Repeat("{", i%7) // another cause
		}
		if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	c.sendEvent(t, plainEvent("x", "r", t0))
	c.ping(t, "p")
	c.awaitPong(t, "p")
	if n := srv.st.eventCount(testWS); n != 1 {
		t.Fatalf("good event after the bad ones: %d stored", n)
	}
	if n := lines.count("event skipped"); n > 2*logBurst+1 {
		t.Fatalf("%d warning lines for %d bad messages; want at most %d", n, bad, 2*logBurst+1)
	}
	_ = conn.Close()
	eventually(t, "the suppressed lines summarized at close", func() bool { return lines.count("similar log lines suppressed") >= 1 })
	total := 0
	lines.mu.Lock()
	for _, a := range lines.attrs {
		if n, ok := a["suppressed"].(int64); ok {
			total += int(n)
		}
	}
	lines.mu.Unlock()
	if total+lines.count("event skipped") != bad {
		t.Fatalf("logged %d + suppressed %d, want %d bad messages accounted for", lines.count("event skipped"), total, bad)
	}
}

// TestEventsInBusyClosesWithTryAgainLater: when the event write path cannot
// keep up (the ingest queue stayed full for its bounded wait), the socket
// is closed with 1013 (try again later) and without a pong, so the client
// reconnects and resends what was not acknowledged; it is not a server
// fault (1011).
func TestEventsInBusyClosesWithTryAgainLater(t *testing.T) {
	t.Parallel()
	st := newFakeStore()
	st.gate = make(chan struct{})
	var jammed *events.Ingest
	srv := newTestServer(t, st, func(c *SocketsConfig) {
		jammed = startIngest(t, events.IngestConfig{Store: st, QueueDepth: 1, QueueWait: 50 * time.Millisecond})
		c.Ingest = jammed
	})
	send := func(name string) *client {
		conn, _, err := dial(t, srv, "/in", false, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := startReader(conn)
		c.sendEvent(t, plainEvent(name, "r", t0))
		c.ping(t, name)
		return c
	}
	first := send("in-flight")
	deadline := time.Now().Add(5 * time.Second)
	for jammed.Stats().Batches < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the first batch never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	second := send("queued")
	for jammed.Stats().Queued < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the queue never filled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	third := send("refused")
	select {
	case err := <-third.closed:
		if closeCode(err) != websocket.CloseTryAgainLater {
			t.Fatalf("closed with %v, want 1013", err)
		}
	case <-third.pongs:
		t.Fatal("pong sent for events that were not stored")
	case <-time.After(5 * time.Second):
		t.Fatal("the refused connection was not closed")
	}
	close(st.gate)
	first.awaitPong(t, "in-flight")
	second.awaitPong(t, "queued")
}
