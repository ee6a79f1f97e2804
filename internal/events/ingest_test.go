package events

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

func TestIngestRecordsAndPublishes(t *testing.T) {
	t.Parallel()
	st := newFakeStore()
	bus := NewBus()
	now := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC)
	in := startIngest(t, IngestConfig{Store: st, Bus: bus, Now: func() time.Time { return now }})
	sub := bus.Subscribe(testWS, model.EventFilter{})
	defer sub.Close()

	run := model.NewID()
	evs := []model.Event{
		taskRunEvent(run, model.StatePending, "Pending", t0),
		plainEvent("prefect.flow-run.heartbeat", "prefect.flow-run."+flowRun1.String(), t0),
	}
	if err := in.Accept(context.Background(), testWS, evs); err != nil {
		t.Fatal(err)
	}
	if n := st.eventCount(testWS); n != 2 {
		t.Fatalf("%d events stored, want 2", n)
	}
	r, ok := st.run(run)
	if !ok || r.StateName == nil || *r.StateName != "Pending" {
		t.Fatalf("task run not recorded: %+v", r)
	}
	for i := 0; i < 2; i++ {
		select {
		case e := <-sub.C():
			if !e.Received.Equal(now) {
				t.Errorf("received %v, want %v", e.Received, now)
			}
		case <-time.After(time.Second):
			t.Fatal("event not published")
		}
	}
}

func TestIngestDeduplicates(t *testing.T) {
	t.Parallel()
	st := newFakeStore()
	bus := NewBus()
	in := startIngest(t, IngestConfig{Store: st, Bus: bus})
	sub := bus.Subscribe(testWS, model.EventFilter{})
	defer sub.Close()

	e := plainEvent("prefect.worker.started", "prefect.worker.process.w", t0)
	// Twice in one call, then again in a later call (a client resend).
	if err := in.Accept(context.Background(), testWS, []model.Event{e, e}); err != nil {
		t.Fatal(err)
	}
	if err := in.Accept(context.Background(), testWS, []model.Event{e}); err != nil {
		t.Fatal(err)
	}
	if n := st.eventCount(testWS); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
	<-sub.C()
	select {
	case d := <-sub.C():
		t.Errorf("duplicate %s published", d.ID)
	case <-time.After(20 * time.Millisecond):
	}
	if s := in.Stats(); s.Duplicates != 1 || s.Fresh != 1 {
		t.Errorf("stats %+v, want 1 fresh and 1 duplicate", s)
	}
}

func TestIngestOutOfOrderStatesConverge(t *testing.T) {
	t.Parallel()
	st := newFakeStore()
	in := startIngest(t, IngestConfig{Store: st})
	run := model.NewID()
	pending := taskRunEvent(run, model.StatePending, "Pending", t0)
	running := taskRunEvent(run, model.StateRunning, "Running", model.NewTime(t0.Add(time.Second)))
	completed := taskRunEvent(run, model.StateCompleted, "Completed", model.NewTime(t0.Add(2*time.Second)))
	for _, batch := range [][]model.Event{{completed}, {pending}, {running, completed}} {
		if err := in.Accept(context.Background(), testWS, batch); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := st.run(run)
	if r.StateType == nil || *r.StateType != model.StateCompleted {
		t.Errorf("run converged to %v, want COMPLETED", r.StateType)
	}
	if n := st.stateCount(run); n != 3 {
		t.Errorf("%d states in history, want 3", n)
	}
}

func TestIngestBatchesConcurrentCallers(t *testing.T) {
	t.Parallel()
	st := newFakeStore()
	st.gate = make(chan struct{})
	in := startIngest(t, IngestConfig{Store: st, MaxBatch: 1000})

	const callers = 50
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- in.Accept(context.Background(), testWS, []model.Event{taskRunEvent(model.NewID(), model.StatePending, "Pending", t0)})
		}()
	}
	// The first batch is held at the gate while the others queue up.
	eventually(t, "callers to queue", func() bool { return queued(in, st) == callers })
	close(st.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st.inserts > 3 {
		t.Errorf("%d inserts for %d concurrent callers, want them batched", st.inserts, callers)
	}
	if n := st.eventCount(testWS); n != callers {
		t.Errorf("%d events stored, want %d", n, callers)
	}
}

func TestIngestSeparatesWorkspacesAndIsolatesFailures(t *testing.T) {
	t.Parallel()
	st := newFakeStore()
	st.gate = make(chan struct{})
	st.insertErr = "poison"
	in := startIngest(t, IngestConfig{Store: st})

	type result struct {
		name string
		err  error
	}
	calls := []struct {
		name string
		ws   model.ID
		ev   model.Event
	}{
		{"first", testWS, plainEvent("ok", "r", t0)},
		{"good", testWS, plainEvent("ok", "r", t0)},
		{"bad", testWS, plainEvent("poison", "r", t0)},
		{"other", otherWS, plainEvent("ok", "r", t0)},
	}
	res := make(chan result, len(calls))
	for _, c := range calls {
		go func() {
			res <- result{c.name, in.Accept(context.Background(), c.ws, []model.Event{c.ev})}
		}()
		if c.name == "first" {
			eventually(t, "first batch to reach the store", func() bool { return st.held.Load() == 1 })
		}
	}
	eventually(t, "calls to queue", func() bool { return queued(in, st) == len(calls) })
	close(st.gate)
	for range calls {
		r := <-res
		if (r.err != nil) != (r.name == "bad") {
			t.Errorf("%s: err = %v", r.name, r.err)
		}
	}
	if st.eventCount(testWS) != 2 || st.eventCount(otherWS) != 1 {
		t.Errorf("stored %d in ws1, %d in ws2; want 2 and 1", st.eventCount(testWS), st.eventCount(otherWS))
	}
}

func TestIngestRetriesRecordAndRepairsOnResend(t *testing.T) {
	t.Parallel()
	st := newFakeStore()
	st.recordFailures = 2
	in := startIngest(t, IngestConfig{Store: st, RecordRetries: 3})
	run := model.NewID()
	if err := in.Accept(context.Background(), testWS, []model.Event{taskRunEvent(run, model.StatePending, "Pending", t0)}); err != nil {
		t.Fatalf("retried record still failed: %v", err)
	}
	if _, ok := st.run(run); !ok {
		t.Fatal("run not recorded after retries")
	}

	// Exhausted retries fail the call; the client's resend is a duplicate
	// event but still records the run.
	st.mu.Lock()
	st.recordFailures = 10
	st.mu.Unlock()
	run2 := model.NewID()
	ev := taskRunEvent(run2, model.StatePending, "Pending", t0)
	in2 := startIngest(t, IngestConfig{Store: st, RecordRetries: 1})
	if err := in2.Accept(context.Background(), testWS, []model.Event{ev}); err == nil {
		t.Fatal("Accept succeeded although the record write failed")
	}
	st.mu.Lock()
	st.recordFailures = 0
	st.mu.Unlock()
	if err := in2.Accept(context.Background(), testWS, []model.Event{ev}); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.run(run2); !ok {
		t.Error("resent duplicate did not repair the missing task run")
	}
}

func TestIngestLifecycle(t *testing.T) {
	t.Parallel()
	st := newFakeStore()
	in := NewIngest(IngestConfig{Store: st, Recorder: st})
	e := plainEvent("x", "r", t0)
	if err := in.Accept(context.Background(), testWS, []model.Event{e}); !errors.Is(err, ErrStopped) {
		t.Fatalf("Accept before Start: %v, want ErrStopped", err)
	}
	if err := in.Start(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Events queued before Stop are drained, not dropped.
	st.gate = make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = in.Accept(context.Background(), testWS, []model.Event{plainEvent("x", "r", t0)})
		}()
	}
	eventually(t, "queued", func() bool { return queued(in, st) == 5 })
	stopped := make(chan error)
	go func() { stopped <- in.Stop(context.Background()) }()
	time.Sleep(10 * time.Millisecond)
	close(st.gate)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if n := st.eventCount(testWS); n != 5 {
		t.Errorf("%d events stored, want 5", n)
	}
	if err := in.Accept(context.Background(), testWS, []model.Event{e}); !errors.Is(err, ErrStopped) {
		t.Errorf("Accept after Stop: %v, want ErrStopped", err)
	}
	if err := in.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestIngestStopDeadline(t *testing.T) {
	t.Parallel()
	st := newFakeStore()
	st.gate = make(chan struct{}) // never opened: the store hangs
	in := NewIngest(IngestConfig{Store: st, Recorder: st})
	if err := in.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	acc := make(chan error)
	go func() { acc <- in.Accept(context.Background(), testWS, []model.Event{plainEvent("x", "r", t0)}) }()
	eventually(t, "batch in flight", func() bool { return in.Stats().Batches == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := in.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop = %v, want deadline exceeded", err)
	}
	if err := <-acc; err == nil {
		t.Error("Accept reported success for an aborted commit")
	}
}

// BenchmarkIngestAccept measures the write path's own overhead (the fake
// store is a map) with many concurrent connections, each handing over
// groups of task-run events as the /events/in pipeline does.
func BenchmarkIngestAccept(b *testing.B) {
	for _, group := range []int{1, 50} {
		b.Run(map[int]string{1: "one-event-per-call", 50: "50-events-per-call"}[group], func(b *testing.B) {
			st := newFakeStore()
			in := startIngest(b, IngestConfig{Store: st, Bus: NewBus()})
			run := model.NewID()
			proto := taskRunEvent(run, model.StateRunning, "Running", t0)
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					evs := make([]model.Event, group)
					for i := range evs {
						evs[i] = proto
						evs[i].ID = model.NewID()
					}
					if err := in.Accept(context.Background(), testWS, evs); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*group)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// TestIngestOutlivesItsStartContext: the context Start is given is the
// server's, which is cancelled the moment shutdown begins. The batcher must
// keep committing (what the sockets read meanwhile is stored, so it can be
// acknowledged) until Stop, which drains what is queued; it used to run on
// that context, so every commit of the shutdown failed.
func TestIngestOutlivesItsStartContext(t *testing.T) {
	t.Parallel()
	st := newFakeStore()
	st.gate = make(chan struct{})
	in := NewIngest(IngestConfig{Store: st, Recorder: st})
	serverCtx, shutdown := context.WithCancel(context.Background())
	if err := in.Start(serverCtx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = in.Accept(context.Background(), testWS, []model.Event{plainEvent("x", "r", t0)})
		}()
	}
	eventually(t, "queued", func() bool { return queued(in, st) == len(errs) })
	shutdown() // the server's context ends with events in flight
	stopped := make(chan error)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- in.Stop(ctx)
	}()
	time.Sleep(10 * time.Millisecond)
	close(st.gate)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d failed after the server's context ended: %v", i, err)
		}
	}
	if n := st.eventCount(testWS); n != len(errs) {
		t.Errorf("%d events stored, want %d", n, len(errs))
	}
	// Start is idempotent, and a stopped ingest starts again.
	if err := in.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := in.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := in.Accept(context.Background(), testWS, []model.Event{plainEvent("y", "r", t0)}); err != nil {
		t.Fatalf("Accept after a restart: %v", err)
	}
	if err := in.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestIngestQueueIsBounded: when the store stops keeping up, callers wait
// a bounded time for room in the queue and are then refused with
// store.ErrBusy (the API's 503 + Retry-After; a websocket's 1013), counted
// as rejects, instead of queueing without bound; once the store catches up,
// the queued ones commit and report their lag.
func TestIngestQueueIsBounded(t *testing.T) {
	t.Parallel()
	st := newFakeStore()
	st.gate = make(chan struct{}) // the store hangs until opened
	in := startIngest(t, IngestConfig{Store: st, Recorder: st, QueueDepth: 2, QueueWait: 50 * time.Millisecond})
	accept := func(name string) chan error {
		c := make(chan error, 1)
		go func() { c <- in.Accept(context.Background(), testWS, []model.Event{plainEvent(name, "r", t0)}) }()
		return c
	}
	first := accept("in-flight")
	eventually(t, "batch in flight", func() bool { return in.Stats().Batches == 1 })
	queued := []chan error{accept("q1"), accept("q2")}
	eventually(t, "queue full", func() bool { return in.Stats().Queued == 2 })
	start := time.Now()
	if err := <-accept("refused"); !errors.Is(err, store.ErrBusy) {
		t.Fatalf("a call past the full queue = %v, want store.ErrBusy", err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("refused after %v, want about the 50 ms queue wait", waited)
	}
	if st := in.Stats(); st.Rejected != 1 || st.Queued != 2 {
		t.Fatalf("stats = %+v, want 1 rejected and 2 queued", st)
	}
	close(st.gate)
	for _, c := range append(queued, first) {
		if err := <-c; err != nil {
			t.Fatalf("a queued call failed once the store caught up: %v", err)
		}
	}
	if st := in.Stats(); st.LagCount != 3 || st.Lag[len(LagBuckets)-1] != 3 {
		t.Fatalf("lag = %d observations, %v", st.LagCount, st.Lag)
	}
}
