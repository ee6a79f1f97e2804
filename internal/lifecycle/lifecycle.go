// Package lifecycle is the one start/stop contract of Baton's background
// components (the services' periodic loops, the event ingest, the event
// sockets), after River's startstop:
//
//   - Start is idempotent: starting a running component does nothing. It
//     returns once the component runs.
//   - The component's work runs on its own context, which carries the
//     values of the one Start was given but not its cancellation: the
//     server's context is cancelled the moment shutdown begins, and work
//     bound to it would fail exactly when it should be finishing.
//   - Stop asks the component to finish, lets it drain what it holds, and
//     waits until it has. Only when Stop's own context expires first is the
//     work context cancelled (then Stop waits for the exit and returns the
//     context's error). Stop on a component that is not running does
//     nothing; a stopped component may be started again.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Service is a background component with the lifecycle above. Group runs
// several of them.
type Service interface {
	// Name identifies the component in logs and errors.
	Name() string
	// Start launches the component (idempotent).
	Start(ctx context.Context) error
	// Stop drains and stops it, waiting at most until ctx expires.
	Stop(ctx context.Context) error
}

// Run is the goroutine of a component: it works until stopping is closed,
// then finishes what it holds and returns. ctx is cancelled only when a
// Stop's deadline expired before Run returned.
type Run func(ctx context.Context, stopping <-chan struct{})

// Base implements the contract's bookkeeping; components embed it and
// call Start and Stop from their own. The zero value is ready to use.
type Base struct {
	mu  sync.Mutex
	cur *run
}

type run struct {
	stopping chan struct{}
	done     chan struct{}
	cancel   context.CancelFunc
	stopOnce sync.Once
}

// Start launches fn in a goroutine unless a run is in progress; it reports
// whether it did.
func (b *Base) Start(ctx context.Context, fn Run) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur != nil {
		return false
	}
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &run{stopping: make(chan struct{}), done: make(chan struct{}), cancel: cancel}
	b.cur = r
	go func() {
		defer close(r.done)
		defer cancel()
		fn(work, r.stopping)
	}()
	return true
}

// Stop closes the current run's stopping channel and waits for fn to
// return, or until ctx expires: then it cancels fn's context, waits for the
// exit and returns ctx's error. Without a run it returns nil.
func (b *Base) Stop(ctx context.Context) error {
	b.mu.Lock()
	r := b.cur
	b.mu.Unlock()
	if r == nil {
		return nil
	}
	r.stopOnce.Do(func() { close(r.stopping) })
	var err error
	select {
	case <-r.done:
	case <-ctx.Done():
		r.cancel()
		<-r.done
		err = fmt.Errorf("stopped before draining: %w", ctx.Err())
	}
	b.mu.Lock()
	if b.cur == r {
		b.cur = nil
	}
	b.mu.Unlock()
	return err
}

// State returns the current run's stopping and done channels (both nil
// when not running), for components whose callers must refuse work once a
// stop began.
func (b *Base) State() (stopping, done <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return nil, nil
	}
	return b.cur.stopping, b.cur.done
}

// Group starts services in order and stops them in reverse order.
type Group struct {
	mu      sync.Mutex
	started []Service
}

// Start starts each service in order and stops at the first failure,
// returning its error. The services started so far stay in the group: the
// caller stops the group whatever happened (a deferred Stop), so a failed
// start-up stops what it started.
func (g *Group) Start(ctx context.Context, svcs ...Service) error {
	for _, s := range svcs {
		if err := s.Start(ctx); err != nil {
			return fmt.Errorf("start %s: %w", s.Name(), err)
		}
		g.mu.Lock()
		g.started = append(g.started, s)
		g.mu.Unlock()
	}
	return nil
}

// Stop stops every started service in reverse order under ctx's deadline
// and returns the errors joined, each naming its service.
func (g *Group) Stop(ctx context.Context) error {
	g.mu.Lock()
	started := g.started
	g.started = nil
	g.mu.Unlock()
	var errs []error
	for i := len(started) - 1; i >= 0; i-- {
		if err := started[i].Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", started[i].Name(), err))
		}
	}
	return errors.Join(errs...)
}
