package lifecycle

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBaseStartIsIdempotentAndStopDrains(t *testing.T) {
	t.Parallel()
	var b Base
	var runs atomic.Int32
	drained := make(chan error, 1)
	startCtx, cancelStart := context.WithCancel(context.Background())
	fn := func(ctx context.Context, stopping <-chan struct{}) {
		runs.Add(1)
		<-stopping
		// Draining after Stop: the work context is still alive although the
		// context Start was given has ended.
		time.Sleep(20 * time.Millisecond)
		drained <- ctx.Err()
	}
	if !b.Start(startCtx, fn) {
		t.Fatal("first Start did not start")
	}
	if b.Start(startCtx, fn) {
		t.Fatal("second Start started a second run")
	}
	cancelStart()
	if err := b.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-drained; err != nil {
		t.Fatalf("the work context was cancelled while draining: %v", err)
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("%d runs", n)
	}
	if err := b.Stop(context.Background()); err != nil {
		t.Fatalf("Stop when stopped: %v", err)
	}
	// A stopped component starts again.
	if !b.Start(context.Background(), fn) {
		t.Fatal("restart did not start")
	}
	if err := b.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-drained
}

func TestBaseStopDeadlineCancelsTheWork(t *testing.T) {
	t.Parallel()
	var b Base
	exited := make(chan error, 1)
	b.Start(context.Background(), func(ctx context.Context, stopping <-chan struct{}) {
		<-ctx.Done() // ignores stopping: a drain that never ends
		exited <- ctx.Err()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want the deadline", err)
	}
	if err := <-exited; !errors.Is(err, context.Canceled) {
		t.Fatalf("work context after the deadline: %v", err)
	}
	if s, d := b.State(); s != nil || d != nil {
		t.Fatal("still running after Stop")
	}
}

// fake is a Service that records its calls.
type fake struct {
	name    string
	failing bool
	log     *[]string
	mu      *sync.Mutex
}

func (f fake) Name() string { return f.name }
func (f fake) Start(context.Context) error {
	if f.failing {
		return errors.New("boom")
	}
	f.mu.Lock()
	*f.log = append(*f.log, "start "+f.name)
	f.mu.Unlock()
	return nil
}
func (f fake) Stop(context.Context) error {
	f.mu.Lock()
	*f.log = append(*f.log, "stop "+f.name)
	f.mu.Unlock()
	return nil
}

func TestGroupStopsInReverseAndAfterAFailedStart(t *testing.T) {
	t.Parallel()
	var log []string
	var mu sync.Mutex
	mk := func(name string, failing bool) Service { return fake{name: name, failing: failing, log: &log, mu: &mu} }
	var g Group
	err := g.Start(context.Background(), mk("a", false), mk("b", false), mk("c", true), mk("d", false))
	if err == nil || err.Error() != "start c: boom" {
		t.Fatalf("Start = %v", err)
	}
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"start a", "start b", "stop b", "stop a"}
	if !slices.Equal(log, want) {
		t.Fatalf("calls %v, want %v", log, want)
	}
}
