package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/store/sqlite"
)

// serveHome runs runServer on a free loopback port over home and returns
// its API URL, a function that shuts it down, and the channel runServer's
// result arrives on.
func serveHome(t *testing.T, home string) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	cfg := config.Server{Home: home, Host: "127.0.0.1", Port: 0, DatabasePath: filepath.Join(home, "baton.db"),
		LogLevel: "warn", LogFormat: "text", Mode: "server", WALMaxMB: 128}
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- runServer(ctx, cfg, slog.New(slog.DiscardHandler), out) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := bannerAPI.FindStringSubmatch(out.String()); m != nil {
			return m[1], cancel, done
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("server did not start: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("server did not print its address")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// clientTaskRunEvent is what the Prefect client sends for a task run that
// completed: the server records the task run from it.
func clientTaskRunEvent(run model.ID, i int) []byte {
	occurred := time.Now().UTC().Format(time.RFC3339Nano)
	ev := map[string]any{
		"id": model.NewID(), "occurred": occurred, "event": "prefect.task-run.Completed",
		"resource": map[string]string{"prefect.resource.id": "prefect.task-run." + run.String(), "prefect.resource.name": "t-" + strconv.Itoa(i),
			"prefect.state-name": "Completed", "prefect.state-type": "COMPLETED", "prefect.orchestration": "client"},
		"related": []any{},
		"payload": map[string]any{
			"validated_state": map[string]any{"type": "COMPLETED", "name": "Completed"},
			"task_run":        map[string]any{"name": "t-" + strconv.Itoa(i), "task_key": "t", "dynamic_key": strconv.Itoa(i)},
		},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// sender streams events over /api/events/in as the Prefect client does: a
// ping after every batch, and everything sent before a ping counts as
// delivered once its pong arrives.
type sender struct {
	conn  *websocket.Conn
	mu    sync.Mutex
	acked int // events[:acked] are acknowledged
	gone  chan struct{}
}

func dialEvents(t *testing.T, api string) *sender {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(api, "http")+"/events/in", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &sender{conn: conn, gone: make(chan struct{})}
	conn.SetPongHandler(func(data string) error {
		n, _ := strconv.Atoi(data)
		s.mu.Lock()
		s.acked = max(s.acked, n)
		s.mu.Unlock()
		return nil
	})
	go func() {
		defer close(s.gone)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	return s
}

func (s *sender) ackedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked
}

// send writes events[from:to] with a ping every batch; it stops at the
// first write error (the server went away) and reports how far it got.
func (s *sender) send(events [][]byte, from, to, batch int) int {
	for i := from; i < to; i++ {
		_ = s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := s.conn.WriteMessage(websocket.TextMessage, events[i]); err != nil {
			return i
		}
		if (i+1)%batch == 0 || i+1 == to {
			if err := s.conn.WriteControl(websocket.PingMessage, []byte(strconv.Itoa(i+1)), time.Now().Add(5*time.Second)); err != nil {
				return i + 1
			}
		}
	}
	return to
}

// TestShutdownLosesNoEvents stops the server while a client streams
// task-run events over /api/events/in, with events read but not yet
// acknowledged. Every acknowledged event must be committed when the server
// has stopped; the client then resends what was not acknowledged to the
// restarted server, and in the end every event and every task run is
// stored exactly once.
func TestShutdownLosesNoEvents(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	const n = 2000
	runsOf := make([]model.ID, n)
	events := make([][]byte, n)
	for i := range events {
		runsOf[i] = model.NewID()
		events[i] = clientTaskRunEvent(runsOf[i], i)
	}

	api, shutdown, done := serveHome(t, home)
	s := dialEvents(t, api)
	sent := make(chan int, 1)
	go func() { sent <- s.send(events, 0, n, 50) }()
	// Shut down mid-stream, once some events are acknowledged.
	deadline := time.Now().Add(20 * time.Second)
	for s.ackedCount() < 300 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d events acknowledged", s.ackedCount())
		}
		time.Sleep(time.Millisecond)
	}
	shutdown()
	if err := <-done; err != nil {
		t.Fatalf("server shutdown: %v", err)
	}
	<-s.gone
	got := <-sent
	acked := s.ackedCount()
	t.Logf("sent %d events, %d acknowledged when the server stopped", got, acked)
	if acked >= n {
		t.Fatal("the server stopped after every event was acknowledged: nothing was in flight")
	}

	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(home, "baton.db")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range acked {
		if _, err := st.TaskRunGet(context.Background(), store.DefaultWorkspaceID, runsOf[i]); err != nil {
			t.Fatalf("acknowledged event %d is not committed: %v", i, err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// The client reconnects and resends everything it has no pong for.
	api, shutdown, done = serveHome(t, home)
	s = dialEvents(t, api)
	if to := s.send(events, acked, n, 50); to != n {
		t.Fatalf("resend stopped at %d", to)
	}
	for deadline := time.Now().Add(90 * time.Second); s.ackedCount() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("resend: %d of %d acknowledged", s.ackedCount(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = s.conn.Close()
	shutdown()
	if err := <-done; err != nil {
		t.Fatalf("second shutdown: %v", err)
	}

	st, err = sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(home, "baton.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	nRuns, err := st.TaskRunCount(ctx, store.DefaultWorkspaceID, model.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.EventList(ctx, store.DefaultWorkspaceID, model.EventFilter{}, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if nRuns != n || page.Total != n {
		t.Fatalf("after the resend: %d task runs and %d events stored, want %d each", nRuns, page.Total, n)
	}
	for i, id := range runsOf {
		tr, err := st.TaskRunGet(ctx, store.DefaultWorkspaceID, id)
		if err != nil || tr.StateType == nil || *tr.StateType != model.StateCompleted {
			t.Fatalf("task run %d: %v %s", i, err, fmt.Sprint(tr.StateType))
		}
	}
}
