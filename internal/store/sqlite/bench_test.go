package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

func benchState(typ model.StateType) *model.State {
	return &model.State{ID: model.NewID(), Type: typ, Name: typ.DefaultName(), Timestamp: model.NewTime(time.Now())}
}

// BenchmarkFlowRunLifecycle measures create → Running → Completed with
// concurrent clients (one op = one whole lifecycle, three committed writes).
func BenchmarkFlowRunLifecycle(b *testing.B) {
	s, _ := openTemp(b)
	ctx := context.Background()
	ws := store.DefaultWorkspaceID
	f, _, err := s.FlowUpsert(ctx, ws, model.FlowCreate{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "run", Tags: []string{"bench"},
				Parameters: []byte(`{"x": 1}`), State: benchState(model.StatePending)}})
			if err != nil {
				b.Error(err)
				return
			}
			for _, typ := range []model.StateType{model.StateRunning, model.StateCompleted} {
				next := benchState(typ)
				if _, err := s.FlowRunSetState(ctx, ws, r.ID, func(cur model.FlowRun) (store.FlowRunChange, error) {
					cur.State = next
					cur.StateID, cur.StateType, cur.StateName = &next.ID, &next.Type, &next.Name
					ev := model.Event{ID: next.ID, Occurred: next.Timestamp, Event: "prefect.flow-run." + next.Name,
						Resource: map[string]string{"prefect.resource.id": "prefect.flow-run." + cur.ID.String()},
						Related:  []map[string]string{{"prefect.resource.id": "prefect.flow." + f.ID.String(), "prefect.resource.role": "flow"}}}
					return store.FlowRunChange{Run: &cur, State: next, Events: []model.Event{ev}}, nil
				}); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lifecycles/s")
	reportBatch(b, s)
}

// BenchmarkTaskRunRecord measures task-run state events as the recorder
// writes them: small batches from many concurrent connections.
func BenchmarkTaskRunRecord(b *testing.B) {
	s, _ := openTemp(b)
	ctx := context.Background()
	ws := store.DefaultWorkspaceID
	f, _, err := s.FlowUpsert(ctx, ws, model.FlowCreate{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	fr, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "run"}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		id := model.NewID()
		i := 0
		for pb.Next() {
			// Each task run goes Pending → Running → Completed.
			if i%3 == 0 {
				id = model.NewID()
			}
			typ := []model.StateType{model.StatePending, model.StateRunning, model.StateCompleted}[i%3]
			i++
			rec := store.TaskRunRecord{
				Run: model.TaskRun{ID: id, FlowRunID: &fr.ID, Name: "task-" + id.String()[:4], TaskKey: "task-" + id.String(),
					DynamicKey: "0", Tags: []string{"a"}, RunCount: 1},
				State: *benchState(typ),
			}
			if err := s.TaskRunRecord(ctx, ws, []store.TaskRunRecord{rec}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	reportBatch(b, s)
}

// reportBatch reports the mean group-commit size.
func reportBatch(b *testing.B, s *Store) {
	if n := s.batches.Load(); n > 0 {
		b.ReportMetric(float64(s.batchOps.Load())/float64(n), "ops/commit")
	}
}
