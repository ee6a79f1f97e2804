package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// jammedStore is an event store that stops taking writes until released.
type jammedStore struct {
	release chan struct{}
}

func (j *jammedStore) EventInsert(ctx context.Context, ws model.ID, evs []model.Event) ([]model.Event, error) {
	select {
	case <-j.release:
		return evs, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (j *jammedStore) RecordTaskRuns(ctx context.Context, ws model.ID, recs []store.TaskRunRecord) error {
	return nil
}

// TestEventIngestBackpressure: when the event write path cannot keep up,
// POST /events is answered 503 with Retry-After once the ingest queue
// stayed full for its bounded wait (the Prefect client retries it), rather
// than the request waiting for ever; the refusal is counted on /metrics and
// the queued events commit once the store catches up.
func TestEventIngestBackpressure(t *testing.T) {
	t.Parallel()
	jam := &jammedStore{release: make(chan struct{})}
	ing := events.NewIngest(events.IngestConfig{Store: jam, Recorder: jam, QueueDepth: 1, QueueWait: 100 * time.Millisecond})
	if err := ing.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ing.Stop(context.Background()) })
	srv := newTestAPI(t, func(c *Config) { c.Ingest = ing })
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	post := func() (int, http.Header) {
		ev := `[{"id":"` + model.NewID().String() + `","occurred":"2026-01-01T00:00:00Z","event":"x.y","resource":{"prefect.resource.id":"r"}}]`
		resp, err := http.Post(hs.URL+"/api/events", "application/json", strings.NewReader(ev))
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	// One request at a time: the first must be in the jammed batch before
	// the second arrives, or the batcher takes both into that batch and the
	// queue never fills (CI saw Batches:1 Events:2 Queued:0).
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	send := func() {
		wg.Add(1)
		go func() { defer wg.Done(); c, _ := post(); codes <- c }()
	}
	waitFor := func(what string, ok func(events.IngestStats) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok(ing.Stats()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v", what, ing.Stats())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	send() // taken into the jammed batch
	waitFor("the first batch never reached the store", func(s events.IngestStats) bool { return s.Batches >= 1 })
	send() // waits in the queue
	waitFor("the queue never filled", func(s events.IngestStats) bool { return s.Queued >= 1 })
	code, h := post()
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Fatalf("past a full ingest queue: %d (Retry-After %q), want 503 with Retry-After", code, h.Get("Retry-After"))
	}
	close(jam.release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusNoContent {
			t.Fatalf("a queued POST /events answered %d once the store caught up, want 204", c)
		}
	}
	resp, err := http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = io.Copy(&b, resp.Body)
	for _, want := range []string{"baton_events_rejected_total 1", "baton_event_ingest_queue_depth 0", "baton_event_ingest_lag_seconds_count 2"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
