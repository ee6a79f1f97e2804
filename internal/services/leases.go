package services

import (
	"context"
	"log/slog"
	"time"

	"github.com/batonhq/baton/internal/store"
)

// NewLeaseReaper returns the service that releases expired concurrency
// leases and those of task runs whose flow run ended, so slots held by a
// crashed task come back: a client's renewed lease lapses, and a slot that
// orchestration took for an old client (which cannot renew) is released
// once the run's flow run is over, e.g. crashed. released (may be nil) is
// called after a round that freed slots, so waiters can try again at once.
// Rounds that find nothing due cost one read, so every can be short: a
// slot comes back at most every after its lease lapsed.
func NewLeaseReaper(st store.Concurrency, logger *slog.Logger, every time.Duration, released func()) *Periodic {
	return &Periodic{
		ServiceName: "lease-reaper",
		Interval:    every,
		Logger:      logger,
		Tick: func(ctx context.Context, now time.Time) error {
			n, err := st.ConcurrencyExpire(ctx, now)
			if n > 0 {
				if released != nil {
					released()
				}
				logger.Info("released concurrency leases (expired, or held by task runs of ended flow runs)", "count", n)
			}
			return err
		},
	}
}
