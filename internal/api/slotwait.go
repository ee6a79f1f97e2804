package api

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// slotHold is how long increment-with-lease holds a request whose slots
// are busy, waiting for a release, before answering 423. It is the
// Retry-After Baton sends, so a client that gives up after N retries waits
// about as long as before; the 423 that ends a hold says Retry-After: 0 and
// the client comes straight back.
const slotHold = time.Second

// slotSignal wakes every held acquisition when slots may have been freed:
// a lease released or expired, a limit raised or deleted, a run's state
// changed (which can release its slots).
type slotSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next broadcast.
func (s *slotSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// broadcast wakes the current waiters; it costs nothing without any.
func (s *slotSignal) broadcast() {
	s.mu.Lock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
	s.mu.Unlock()
}

// SlotsFreed tells held slot acquisitions to try again: the lease reaper
// calls it after releasing expired leases.
func (s *Server) SlotsFreed() { s.slots.broadcast() }

// freesSlots reports whether a successful write to the route pattern may
// have freed concurrency slots.
func freesSlots(method, pattern string) bool {
	switch {
	case method == "GET" || method == "HEAD":
		return false
	case strings.Contains(pattern, "concurrency_limits"):
		return !strings.Contains(pattern, "increment") && !strings.Contains(pattern, "/filter") && !strings.Contains(pattern, "/renew")
	case strings.Contains(pattern, "set_state"):
		return true
	case method == "DELETE" && (strings.Contains(pattern, "/flow_runs/") || strings.Contains(pattern, "/task_runs/") || strings.Contains(pattern, "/deployments/")):
		return true
	case method == "PATCH" && strings.Contains(pattern, "/deployments/"):
		return true
	}
	return false
}

// acquireHeld takes slots under a lease like ConcurrencyAcquire, but when
// they are busy it holds the request up to slotHold and tries again each
// time slots may have been freed, so a waiter is served as soon as a holder
// releases (or its lease lapses) instead of after a blind Retry-After. A
// grant the client no longer waits for is given back at once.
func (c *call) acquireHeld(names []string, slots int, ttl time.Duration, holder *model.LeaseHolder) (*model.ConcurrencyLease, []model.MinimalConcurrencyLimit, error) {
	deadline := time.NewTimer(slotHold)
	defer deadline.Stop()
	for {
		woken := c.srv.slots.wait()
		lease, limits, err := c.srv.cfg.Store.ConcurrencyAcquire(c.ctx, c.ws, names, slots, ttl, holder)
		if !errors.Is(err, store.ErrSlotsBusy) {
			if err == nil && lease != nil && c.r.Context().Err() != nil {
				// The client left while the grant was committed.
				rctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*time.Second)
				defer cancel()
				_ = c.srv.cfg.Store.ConcurrencyRelease(rctx, c.ws, lease.ID)
				c.srv.slots.broadcast()
				return nil, nil, c.r.Context().Err()
			}
			return lease, limits, err
		}
		select {
		case <-woken:
		case <-deadline.C:
			c.w.Header().Set("Retry-After", "0")
			return nil, limits, &Error{Status: 423, Detail: "concurrency slots are busy, retry later", cause: err}
		case <-c.r.Context().Done():
			return nil, limits, err
		}
	}
}
