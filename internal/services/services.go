// Package services holds Baton's background services. Each follows one
// lifecycle contract (Start, then Stop under a deadline) and one periodic
// loop template with an injected clock, so tests can drive them directly.
package services

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Service is a background loop owned by the server.
type Service interface {
	// Name identifies the service in logs.
	Name() string
	// Start launches the service; it returns once the service is running.
	Start(ctx context.Context) error
	// Stop asks the service to finish and waits until it has, or until ctx
	// expires.
	Stop(ctx context.Context) error
}

// Periodic runs Tick every Interval until stopped. Errors are logged (the
// next tick retries), never fatal.
type Periodic struct {
	// ServiceName is returned by Name.
	ServiceName string
	// Interval between ticks.
	Interval time.Duration
	// Tick does one round of work.
	Tick func(ctx context.Context, now time.Time) error
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives tick failures.
	Logger *slog.Logger

	cancel context.CancelFunc
	done   chan struct{}
}

// Name implements Service.
func (p *Periodic) Name() string { return p.ServiceName }

// Start implements Service.
func (p *Periodic) Start(ctx context.Context) error {
	if p.Interval <= 0 || p.Tick == nil {
		return errors.New(p.ServiceName + ": Interval and Tick are required")
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	ctx, p.cancel = context.WithCancel(context.WithoutCancel(ctx))
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(p.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := p.Tick(ctx, p.Now()); err != nil && ctx.Err() == nil {
					p.Logger.Warn("service tick failed", "service", p.ServiceName, "err", err)
				}
			}
		}
	}()
	return nil
}

// Stop implements Service.
func (p *Periodic) Stop(ctx context.Context) error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Group starts services in order and stops them in reverse order.
type Group struct {
	mu      sync.Mutex
	started []Service
}

// Start starts each service; on failure it stops those already started.
func (g *Group) Start(ctx context.Context, svcs ...Service) error {
	for _, s := range svcs {
		if err := s.Start(ctx); err != nil {
			_ = g.Stop(ctx)
			return err
		}
		g.mu.Lock()
		g.started = append(g.started, s)
		g.mu.Unlock()
	}
	return nil
}

// Stop stops every started service in reverse order under ctx's deadline.
func (g *Group) Stop(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	var errs []error
	for i := len(g.started) - 1; i >= 0; i-- {
		if err := g.started[i].Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	g.started = nil
	return errors.Join(errs...)
}

// Named adapts a value with Start/Stop methods (such as events.Ingest) into
// a Service with the given name.
func Named(name string, s interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}) Service {
	return named{name: name, inner: s}
}

type named struct {
	name  string
	inner interface {
		Start(ctx context.Context) error
		Stop(ctx context.Context) error
	}
}

func (n named) Name() string                    { return n.name }
func (n named) Start(ctx context.Context) error { return n.inner.Start(ctx) }
func (n named) Stop(ctx context.Context) error  { return n.inner.Stop(ctx) }
