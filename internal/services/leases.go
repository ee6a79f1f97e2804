package services

import (
	"context"
	"log/slog"
	"time"

	"github.com/batonhq/baton/internal/store"
)

// NewLeaseReaper returns the service that revokes expired concurrency
// leases, so slots held by a crashed task come back.
func NewLeaseReaper(st store.Concurrency, logger *slog.Logger, every time.Duration) *Periodic {
	return &Periodic{
		ServiceName: "lease-reaper",
		Interval:    every,
		Logger:      logger,
		Tick: func(ctx context.Context, now time.Time) error {
			n, err := st.ConcurrencyExpire(ctx, now)
			if n > 0 {
				logger.Info("revoked expired concurrency leases", "count", n)
			}
			return err
		},
	}
}
