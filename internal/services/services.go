// Package services holds Baton's background services. Each follows the one
// lifecycle contract (package lifecycle: idempotent Start, Stop that drains
// under its own deadline) and one periodic loop template with an injected
// clock, so tests can drive them directly. Their run writes go through the
// runs layer.
package services

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/batonhq/baton/internal/lifecycle"
)

// Service is a background component with the one lifecycle contract
// (lifecycle.Service): idempotent Start, Stop that drains under its own
// deadline.
type Service = lifecycle.Service

// Periodic runs Tick every Interval until stopped. Errors are logged (the
// next tick retries), never fatal. A tick in progress when Stop is called
// finishes (its context is cancelled only if Stop's deadline passes first).
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

	base lifecycle.Base
}

// Name implements Service.
func (p *Periodic) Name() string { return p.ServiceName }

// Start implements Service.
func (p *Periodic) Start(ctx context.Context) error {
	if p.Interval <= 0 || p.Tick == nil {
		return errors.New(p.ServiceName + ": Interval and Tick are required")
	}
	now, log := p.Now, p.Logger
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	p.base.Start(ctx, func(ctx context.Context, stopping <-chan struct{}) {
		t := time.NewTicker(p.Interval)
		defer t.Stop()
		for {
			select {
			case <-stopping:
				return
			case <-t.C:
				if err := p.Tick(ctx, now()); err != nil && ctx.Err() == nil {
					log.Warn("service tick failed", "service", p.ServiceName, "err", err)
				}
			}
		}
	})
	return nil
}

// Stop implements Service.
func (p *Periodic) Stop(ctx context.Context) error { return p.base.Stop(ctx) }

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
