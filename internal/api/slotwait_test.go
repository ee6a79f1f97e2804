package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/services"
)

// slotWaiter acquires one slot of limit like the Prefect client does:
// 423 → sleep Retry-After → again. It reports when the granting request
// was sent and when its answer came.
type slotGrant struct {
	sent, got time.Time
	requests  int
	err       error
}

func waitForSlot(ctx context.Context, url, limit string) slotGrant {
	body, _ := json.Marshal(map[string]any{"names": []string{limit}, "slots": 1, "lease_duration": 60})
	var g slotGrant
	for ctx.Err() == nil {
		g.requests++
		g.sent = time.Now()
		req, _ := http.NewRequestWithContext(ctx, "POST", url+"/api/v2/concurrency_limits/increment-with-lease", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			g.err = err
			return g
		}
		resp.Body.Close()
		g.got = time.Now()
		switch resp.StatusCode {
		case http.StatusOK:
			return g
		case http.StatusLocked:
			ra, err := strconv.ParseFloat(resp.Header.Get("Retry-After"), 64)
			if err != nil {
				g.err = err
				return g
			}
			select {
			case <-time.After(time.Duration(ra * float64(time.Second))):
			case <-ctx.Done():
			}
		default:
			g.err = &Error{Status: resp.StatusCode, Detail: "unexpected status"}
			return g
		}
	}
	g.err = ctx.Err()
	return g
}

// TestSlotWaiterWokenByRelease: a client waiting for a busy slot is served
// by the request it has in flight when the holder releases, not by one sent
// a Retry-After later (before: every attempt was answered 423 at once with
// Retry-After: 1, so a release was seen up to a second late).
func TestSlotWaiterWokenByRelease(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.must("POST", "/api/v2/concurrency_limits/", map[string]any{"name": "db", "limit": 1}, 201)
	first := s.must("POST", "/api/v2/concurrency_limits/increment-with-lease", map[string]any{"names": []string{"db"}, "slots": 1, "lease_duration": 60}, 200)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan slotGrant, 1)
	go func() { done <- waitForSlot(ctx, s.URL, "db") }()
	time.Sleep(300 * time.Millisecond) // the waiter is held (or between two holds)
	released := time.Now()
	s.must("POST", "/api/v2/concurrency_limits/decrement-with-lease", map[string]any{"lease_id": first["lease_id"]}, 204)
	g := <-done
	if g.err != nil {
		t.Fatal(g.err)
	}
	if !g.sent.Before(released) {
		t.Fatalf("the slot went to a request sent %v after the release: the waiter was not woken by it", g.sent.Sub(released))
	}
	t.Logf("release sent → grant: %v (%d requests)", g.got.Sub(released), g.requests)
}

// TestSlotOfKilledHolderFreedAtLeaseExpiry: a holder that dies (it never
// renews nor releases its lease) loses its slot when the lease lapses; the
// reaper's release wakes the held waiter, which is served by the request it
// has in flight.
func TestSlotOfKilledHolderFreedAtLeaseExpiry(t *testing.T) {
	t.Parallel()
	srv := newTestAPI(t, nil)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	s := &testServer{Server: hs, t: t}
	s.must("POST", "/api/v2/concurrency_limits/", map[string]any{"name": "db", "limit": 1}, 201)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The holder: a lease of 1.5 s, taken as the API does, then never renewed.
	lease, _, err := srv.cfg.Store.ConcurrencyAcquire(ctx, srv.defWS.ID, []string{"db"}, 1, 1500*time.Millisecond, &model.LeaseHolder{Type: "flow_run", ID: model.NewID()})
	if err != nil || lease == nil {
		t.Fatalf("holder's lease: %v %v", lease, err)
	}
	reaper := services.NewLeaseReaper(srv.cfg.Store, slog.New(slog.DiscardHandler), 100*time.Millisecond, srv.SlotsFreed)
	if err := reaper.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reaper.Stop(context.Background()) })
	g := waitForSlot(ctx, s.URL, "db")
	if g.err != nil {
		t.Fatal(g.err)
	}
	expired := lease.Expiration.Time
	if g.got.Before(expired) {
		t.Fatalf("slot granted %v before the holder's lease expired", expired.Sub(g.got))
	}
	if g.sent.After(expired.Add(100 * time.Millisecond)) {
		// Only when the machine stalled: the request in flight at expiry
		// must be the one served.
		t.Logf("granting request sent %v after expiry", g.sent.Sub(expired))
	}
	t.Logf("lease expiry → grant: %v (%d requests, reaper every 100 ms)", g.got.Sub(expired), g.requests)
}
