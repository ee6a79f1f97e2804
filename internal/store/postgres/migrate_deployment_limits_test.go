package postgres

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// TestMigrationDeploymentLimits: migration 0004 gives every deployment that
// had a concurrency_limit before its global limit deployment:<id> (id: the
// deployment's), with its PENDING, RUNNING and CANCELLING runs counted as
// taken slots, so those runs give a slot back when they stop.
func TestMigrationDeploymentLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t)
	ws := store.DefaultWorkspaceID
	f, _, err := s.FlowUpsert(ctx, ws, model.FlowCreate{Name: "old"})
	if err != nil {
		t.Fatal(err)
	}
	limited, _, err := s.DeploymentUpsert(ctx, ws, model.Deployment{Name: "limited", FlowID: f.ID, ConcurrencyLimit: ptrInt(3)})
	if err != nil {
		t.Fatal(err)
	}
	free, _, err := s.DeploymentUpsert(ctx, ws, model.Deployment{Name: "free", FlowID: f.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []model.StateType{model.StateRunning, model.StatePending, model.StateCompleted, model.StateScheduled} {
		st := &model.State{ID: model.NewID(), Type: typ, Name: typ.DefaultName(), Timestamp: model.NewTime(s.now().Time)}
		for _, d := range []model.ID{limited.ID, free.ID} {
			if _, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{ID: model.NewID(), FlowID: f.ID, Name: "r", DeploymentID: &d,
				State: st, Parameters: json.RawMessage("{}")}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// As a database from before the migration: the limit row does not exist.
	if err := s.ConcurrencyLimitDelete(ctx, ws, limited.ID.String()); err != nil {
		t.Fatal(err)
	}
	sqlText, err := migrationFS.ReadFile("migrations/0004_deployment_concurrency_limits.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.write(ctx, func(tx *wtx) error { _, err := tx.tx.Exec(tx.ctx, string(sqlText)); return err }); err != nil {
		t.Fatal(err)
	}
	l, err := s.ConcurrencyLimitGet(ctx, ws, model.DeploymentLimitName(limited.ID))
	if err != nil {
		t.Fatal(err)
	}
	if l.ID != limited.ID || l.Limit != 3 || l.ActiveSlots != 2 || !l.Active {
		t.Fatalf("migrated limit: %+v", l)
	}
	if _, err := s.ConcurrencyLimitGet(ctx, ws, model.DeploymentLimitName(free.ID)); err == nil {
		t.Fatal("a deployment without a limit got one")
	}
	got, err := s.DeploymentGet(ctx, ws, limited.ID)
	if err != nil || got.GlobalConcurrencyLimit == nil || got.GlobalConcurrencyLimit.ActiveSlots != 2 {
		t.Fatalf("deployment after the migration: %+v %v", got.GlobalConcurrencyLimit, err)
	}
}

func ptrInt(n int) *int { return &n }
