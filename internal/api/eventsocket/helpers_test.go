package eventsocket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// TestMain fails the package when goroutines started by the tests (socket
// handlers, batchers, readers, HTTP servers) are still alive once every test
// is done.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(5 * time.Second)
		leaked := leakedGoroutines()
		for len(leaked) > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			leaked = leakedGoroutines()
		}
		if len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "goroutine leak: %d goroutines still alive:\n%s\n", len(leaked), strings.Join(leaked, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// leakedGoroutines returns the stacks of goroutines running code of this
// package, websocket or net/http (other than the caller).
func leakedGoroutines() []string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "leakedGoroutines") {
			continue
		}
		if strings.Contains(g, "baton/internal/api/eventsocket.") || strings.Contains(g, "gorilla/websocket") || strings.Contains(g, "net/http.") {
			out = append(out, g)
		}
	}
	return out
}

// fakeStore is an in-memory IngestStore + events.TaskRunRecorder + EventLister with the store
// contract's semantics: events deduplicated by id, task runs upserted with
// columns overwritten only by a newer state timestamp, states unique by id.
type fakeStore struct {
	mu      sync.Mutex
	events  map[model.ID][]model.Event // per workspace, insertion order
	ids     map[model.ID]bool
	runs    map[model.ID]model.TaskRun
	states  map[model.ID][]model.State // per run
	stateID map[model.ID]bool

	inserts, recordCalls int
	// held counts the events of EventInsert calls waiting at the gate.
	held atomic.Int64
	// gate, when set, is received from before each EventInsert completes,
	// so a test can hold commits back.
	gate chan struct{}
	// insertErr fails inserts whose batch contains an event with this name.
	insertErr string
	// recordFailures fails that many TaskRunRecord calls first.
	recordFailures int
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		events:  map[model.ID][]model.Event{},
		ids:     map[model.ID]bool{},
		runs:    map[model.ID]model.TaskRun{},
		states:  map[model.ID][]model.State{},
		stateID: map[model.ID]bool{},
	}
}

func (s *fakeStore) EventInsert(ctx context.Context, ws model.ID, evs []model.Event) ([]model.Event, error) {
	if s.gate != nil {
		s.held.Add(int64(len(evs)))
		defer s.held.Add(-int64(len(evs)))
		select {
		case <-s.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inserts++
	if s.insertErr != "" {
		for _, e := range evs {
			if e.Event == s.insertErr {
				return nil, errors.New("injected insert failure")
			}
		}
	}
	var fresh []model.Event
	for _, e := range evs {
		if s.ids[e.ID] {
			continue
		}
		s.ids[e.ID] = true
		s.events[ws] = append(s.events[ws], e)
		fresh = append(fresh, e)
	}
	return fresh, nil
}

func (s *fakeStore) RecordTaskRuns(ctx context.Context, ws model.ID, recs []store.TaskRunRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordCalls++
	if s.recordFailures > 0 {
		s.recordFailures--
		return errors.New("injected record failure")
	}
	for _, r := range recs {
		cur, ok := s.runs[r.Run.ID]
		if !ok || cur.State == nil || r.State.Timestamp.After(cur.State.Timestamp.Time) {
			s.runs[r.Run.ID] = r.Run
		}
		if !s.stateID[r.State.ID] {
			s.stateID[r.State.ID] = true
			s.states[r.Run.ID] = append(s.states[r.Run.ID], r.State)
		}
	}
	return nil
}

func (s *fakeStore) EventList(ctx context.Context, ws model.ID, f model.EventFilter, limit, offset int) (store.EventPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []model.Event
	for _, e := range s.events[ws] {
		if events.Matches(&f, &e) {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b model.Event) int { return a.Occurred.Compare(b.Occurred.Time) })
	if strings.EqualFold(f.Order, "DESC") {
		slices.Reverse(out)
	}
	page := store.EventPage{Total: len(out)}
	out = out[min(offset, len(out)):]
	page.Events = out[:min(limit, len(out))]
	return page, nil
}

func (s *fakeStore) eventCount(ws model.ID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events[ws])
}

func (s *fakeStore) run(id model.ID) (model.TaskRun, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runs[id]
	return r, ok
}

func (s *fakeStore) stateCount(id model.ID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.states[id])
}

var (
	testWS   = model.MustID("11111111-1111-4111-8111-111111111111")
	flowRun1 = model.MustID("33333333-3333-4333-8333-333333333333")
	t0       = model.NewTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
)

// taskRunEvent builds a client task-run state event shaped like the one
// the Prefect 3 client sends (contract §2.2).
func taskRunEvent(runID model.ID, stateType model.StateType, stateName string, occurred model.Time) model.Event {
	payload := map[string]any{
		"intended":      map[string]any{"from": nil, "to": string(stateType)},
		"initial_state": nil,
		"validated_state": map[string]any{
			"type": string(stateType), "name": stateName, "message": "",
			"state_details": map[string]any{"cache_expiration": nil, "retriable": nil}, "data": nil,
		},
		"task_run": map[string]any{
			"name": "b-3fa", "task_key": "b-abc123", "dynamic_key": "3fa85f64", "task_version": nil,
			"empirical_policy": map[string]any{"max_retries": 0, "retry_delay_seconds": 0.0, "retries": 1, "retry_delay": 0, "retry_jitter_factor": nil},
			"tags":             []string{"t1"}, "labels": map[string]any{}, "task_inputs": map[string]any{"x": []any{map[string]any{"input_type": "task_run", "id": "44444444-4444-4444-8444-444444444444"}}},
			"run_count": 1, "flow_run_run_count": 1, "expected_start_time": occurred.Format(time.RFC3339Nano),
			"start_time": nil, "end_time": nil, "total_run_time": 0.0, "cache_key": nil, "cache_expiration": nil,
		},
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	return model.Event{
		ID:       model.NewID(),
		Occurred: occurred,
		Event:    "prefect.task-run." + stateName,
		Resource: map[string]string{
			"prefect.resource.id": "prefect.task-run." + runID.String(), "prefect.resource.name": "b-3fa",
			"prefect.run-count": "1", "prefect.state-name": stateName, "prefect.state-type": string(stateType),
			"prefect.orchestration": "client",
		},
		Related: []map[string]string{
			{"prefect.resource.id": "prefect.flow-run." + flowRun1.String(), "prefect.resource.role": "flow-run", "prefect.resource.name": "crimson-fox"},
			{"prefect.resource.id": "prefect.flow.55555555-5555-4555-8555-555555555555", "prefect.resource.role": "flow"},
			{"prefect.resource.id": "prefect.tag.t1", "prefect.resource.role": "tag"},
		},
		Payload: raw,
	}
}

// plainEvent builds a non-task-run event.
func plainEvent(name, resourceID string, occurred model.Time) model.Event {
	return model.Event{
		ID: model.NewID(), Occurred: occurred, Event: name,
		Resource: map[string]string{"prefect.resource.id": resourceID},
		Related:  []map[string]string{}, Payload: json.RawMessage(`{}`),
	}
}

// startIngest starts an events.Ingest on cfg.Store (also its Recorder when none is
// given) and stops it when the test ends.
func startIngest(t testing.TB, cfg events.IngestConfig) *events.Ingest {
	t.Helper()
	if r, ok := cfg.Store.(events.TaskRunRecorder); ok && cfg.Recorder == nil {
		cfg.Recorder = r
	}
	in := events.NewIngest(cfg)
	if err := in.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := in.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return in
}

// eventually polls cond until it holds or the test times out.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
