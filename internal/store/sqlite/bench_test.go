package sqlite

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

func benchState(typ model.StateType) *model.State {
	return &model.State{ID: model.NewIDv7(), Type: typ, Name: typ.DefaultName(), Timestamp: model.NewTime(time.Now())}
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
	if p := os.Getenv("BATON_BENCH_PARALLELISM"); p != "" {
		n, _ := strconv.Atoi(p)
		b.SetParallelism(n)
	}
	w0, c0 := procIO()
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
	reportIO(b, w0, c0)
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
	w0, c0 := procIO()
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
	reportIO(b, w0, c0)
}

// reportBatch reports the mean group-commit size.
func reportBatch(b *testing.B, s *Store) {
	if n := s.batches.Load(); n > 0 {
		b.ReportMetric(float64(s.batchOps.Load())/float64(n), "ops/commit")
	}
}

// procIO reads the process's write system calls and bytes written from
// /proc/self/io (zeros where it is not available). Every WAL frame is two
// pwrite calls (header, page), so writes per operation count the pages a
// write dirties: a figure the machine's other load does not move.
func procIO() (syscw, wchar float64) {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		n, _ := strconv.ParseFloat(v, 64)
		switch k {
		case "syscw":
			syscw = n
		case "wchar":
			wchar = n
		}
	}
	return syscw, wchar
}

// reportIO reports write syscalls and KB written per operation since
// (syscw0, wchar0), taken with procIO after the benchmark's setup.
func reportIO(b *testing.B, syscw0, wchar0 float64) {
	syscw, wchar := procIO()
	if syscw == 0 || b.N == 0 {
		return
	}
	b.ReportMetric((syscw-syscw0)/float64(b.N), "pwrites/op")
	b.ReportMetric((wchar-wchar0)/1024/float64(b.N), "wKB/op")
}

// BenchmarkEventInsert measures the event store insert as the ingest calls
// it: batches of 500 events (one primary resource, relatedN related ones),
// reported as CPU-bound µs per event (b.N counts events).
func BenchmarkEventInsert(b *testing.B) {
	for _, related := range []int{0, 3} {
		b.Run("related="+strconv.Itoa(related), func(b *testing.B) {
			s, _ := openTemp(b)
			ctx := context.Background()
			ws := store.DefaultWorkspaceID
			batch := 500
			if v, _ := strconv.Atoi(os.Getenv("BENCH_EVENT_BATCH")); v > 0 {
				batch = v
			}
			evs := make([]model.Event, 0, batch)
			w0, c0 := procIO()
			b.ResetTimer()
			cpu0 := procCPU()
			for done := 0; done < b.N; done += batch {
				evs = evs[:0]
				now := model.NewTime(time.Now())
				for i := 0; i < min(batch, b.N-done); i++ {
					e := model.Event{ID: model.NewIDv7(), Occurred: now, Event: "bench.noise",
						Resource: map[string]string{"prefect.resource.id": "bench.thing." + strconv.Itoa(i%1000)}, Related: []map[string]string{}}
					for r := 0; r < related; r++ {
						e.Related = append(e.Related, map[string]string{"prefect.resource.id": "bench.rel." + strconv.Itoa(r), "prefect.resource.role": "role" + strconv.Itoa(r)})
					}
					evs = append(evs, e)
				}
				if _, err := s.EventInsert(ctx, ws, evs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64((procCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
			reportIO(b, w0, c0)
		})
	}
}

// procCPU is the process's CPU time so far (user + system): a cost the
// machine's other load does not inflate, unlike wall time.
func procCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
