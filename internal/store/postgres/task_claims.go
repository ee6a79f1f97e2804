package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// Background task runs (`task.delay()`, served by `prefect task serve`) are
// handed to task workers over a websocket of whichever replica the worker is
// connected to. The claims below are what keeps two replicas from handing the
// same run to two workers: the first replica to insert the claim row has it.

// ClaimTaskRun claims the background task run id for holder (one replica's
// task dispatch). It reports false when another holder has the run: a claim
// that was acknowledged, or one made after staleBefore. An unacknowledged
// claim older than that (its replica died before the worker answered) is
// taken over.
func (s *Store) ClaimTaskRun(ctx context.Context, id model.ID, holder string, staleBefore time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO task_run_claims (task_run_id, holder, claimed, acked) VALUES ($1, $2, $3, false)
ON CONFLICT (task_run_id) DO UPDATE SET holder = excluded.holder, claimed = excluded.claimed
WHERE NOT task_run_claims.acked AND task_run_claims.claimed < $4`,
		idv(id), holder, s.clock().UnixMicro(), staleBefore.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("postgres: claim task run: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// AckTaskRunClaim records that holder's worker acknowledged the run: the
// claim is then never taken over.
func (s *Store) AckTaskRunClaim(ctx context.Context, id model.ID, holder string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE task_run_claims SET acked = true WHERE task_run_id = $1 AND holder = $2`, idv(id), holder); err != nil {
		return fmt.Errorf("postgres: acknowledge task run claim: %w", err)
	}
	return nil
}

// ReleaseTaskRunClaim gives holder's unacknowledged claim back, so that the
// run is offered again (the worker went away before acknowledging it).
func (s *Store) ReleaseTaskRunClaim(ctx context.Context, id model.ID, holder string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM task_run_claims WHERE task_run_id = $1 AND holder = $2 AND NOT acked`, idv(id), holder); err != nil {
		return fmt.Errorf("postgres: release task run claim: %w", err)
	}
	return nil
}
