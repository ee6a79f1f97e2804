package events

import (
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

func TestBusDeliversMatchingEventsOfItsWorkspace(t *testing.T) {
	t.Parallel()
	b := NewBus()
	sub := b.Subscribe(testWS, mustFilter(t, `{"event":{"prefix":["prefect.flow-run."]}}`))
	defer sub.Close()

	hit := plainEvent("prefect.flow-run.Running", "prefect.flow-run.x", t0)
	b.Publish(otherWS, []model.Event{plainEvent("prefect.flow-run.Running", "prefect.flow-run.y", t0)})
	b.Publish(testWS, []model.Event{plainEvent("prefect.worker.started", "prefect.worker.process.w", t0), hit})

	select {
	case got := <-sub.C():
		if got.ID != hit.ID {
			t.Fatalf("got event %s (%s), want %s", got.ID, got.Event, hit.ID)
		}
	case <-time.After(time.Second):
		t.Fatal("no event delivered")
	}
	select {
	case got := <-sub.C():
		t.Fatalf("unexpected extra event %s", got.Event)
	default:
	}
}

func TestBusSlowSubscriberIsDroppedNotBlocking(t *testing.T) {
	t.Parallel()
	b := NewBus()
	b.buffer = 2
	slow := b.Subscribe(testWS, model.EventFilter{})
	fast := b.Subscribe(testWS, model.EventFilter{})
	defer fast.Close()
	defer slow.Close()

	received := make(chan int)
	go func() {
		n := 0
		for range fast.C() {
			n++
		}
		received <- n
	}()
	done := make(chan struct{})
	go func() {
		for i := 0; i < 10; i++ {
			b.Publish(testWS, []model.Event{plainEvent("e", "r", t0)})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Publish blocked on a slow subscriber")
	}
	if !slow.Lagged() {
		t.Error("slow subscriber not marked lagged")
	}
	n := 0
	for range slow.C() {
		n++
	}
	if n != 2 {
		t.Errorf("slow subscriber got %d buffered events before close, want 2", n)
	}
	if got := b.Subscribers(); got > 1 {
		t.Errorf("lagged subscriber still registered: %d subscribers", got)
	}
	fast.Close()
	if n := <-received; n == 0 {
		t.Error("fast subscriber received nothing")
	}
}

func TestBusConcurrentPublishAndClose(t *testing.T) {
	t.Parallel()
	b := NewBus()
	b.buffer = 8
	var wg sync.WaitGroup
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				b.Publish(testWS, []model.Event{plainEvent("e", "r", t0)})
			}
		}()
	}
	for s := 0; s < 20; s++ {
		sub := b.Subscribe(testWS, model.EventFilter{})
		go func() {
			for range sub.C() {
			}
		}()
		time.Sleep(time.Millisecond)
		sub.Close()
		sub.Close() // idempotent
	}
	wg.Wait()
	if n := b.Subscribers(); n != 0 {
		t.Errorf("%d subscribers left after Close", n)
	}
}
