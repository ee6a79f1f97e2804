package services

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// TestCrashDetectedWithinWindowAtAnyKillPhase simulates, on a fake clock,
// thousands of runs whose machine dies at a random moment, and sweeps them
// the way the crash detector does (its own cadence, at a random phase). Every
// run must be CRASHED within the window of its death, and none before it.
// The kinds of run are the ones a Baton installation sees: claimed by
// Baton's worker (10 s heartbeats, its own run heartbeats, the engine's at
// Prefect's default 180 s), claimed by a Prefect worker (30 s, engine only),
// and started outside any worker with a 30 s engine heartbeat (which can only
// be held to the window once its cadence is known, from its second
// heartbeat; before that, Prefect's default cadence is assumed and the bound
// is two of them). Before the
// fix, a kill just after the run's first heartbeat took one heartbeat as
// proof of a 180 s cadence (544 s to CRASHED), and the 15 s sweep added to
// the window.
func TestCrashDetectedWithinWindowAtAnyKillPhase(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(16, 90))
	window := DefaultCrashWindow
	det := NewCrashDetector(RunDeps{}, window)
	every := det.Every()
	type kind struct {
		name           string
		workerInterval time.Duration // 0: no worker
		workerRunHB    bool          // the worker sends heartbeats for the run
		engineHB       time.Duration // 0: the engine sends none
	}
	kinds := []kind{
		{"baton worker", 10 * time.Second, true, 180 * time.Second},
		{"prefect worker", 30 * time.Second, false, 180 * time.Second},
		{"prefect worker, no engine heartbeats", 30 * time.Second, false, 0},
		{"no worker, 30 s engine heartbeat", 0, false, 30 * time.Second},
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	worst := map[string]time.Duration{}
	const trials = 4000
	for i := range trials {
		k := kinds[i%len(kinds)]
		start := t0.Add(time.Duration(rng.Int64N(int64(time.Minute))))
		// Half the trials die right after one of the run's heartbeats (the
		// first, most often), the rest at any moment of the first ten minutes.
		kill := start.Add(time.Duration(rng.Int64N(int64(10 * time.Minute))))
		workerPhase := time.Duration(rng.Int64N(int64(max(k.workerInterval, time.Second))))
		var runHB []time.Time
		if k.engineHB > 0 {
			for at := start; at.Before(start.Add(time.Hour)); at = at.Add(k.engineHB) {
				runHB = append(runHB, at)
			}
		}
		if k.workerRunHB {
			for at := start.Add(workerPhase); at.Before(start.Add(time.Hour)); at = at.Add(k.workerInterval) {
				runHB = append(runHB, at)
			}
		}
		slices.SortFunc(runHB, func(a, b time.Time) int { return a.Compare(b) })
		if i%2 == 0 && len(runHB) > 0 {
			n := 0
			if rng.IntN(2) == 0 {
				n = rng.IntN(min(len(runHB), 20))
			}
			kill = runHB[n].Add(time.Duration(rng.Int64N(int64(500 * time.Millisecond))))
		}
		// Without a worker, the cadence is only known from the second
		// heartbeat on; before it the bound is two default cadences.
		bound := window
		if k.workerInterval == 0 && len(runHB) > 1 && kill.Before(runHB[1]) {
			bound = 2*DefaultEngineHeartbeat + every
		}
		var workerHB []time.Time
		if k.workerInterval > 0 {
			for at := start.Add(-workerPhase); at.Before(start.Add(time.Hour)); at = at.Add(k.workerInterval) {
				workerHB = append(workerHB, at)
			}
		}
		// What the store would show at instant now.
		swept := func(now time.Time) store.SweptRun {
			alive := now
			if kill.Before(now) {
				alive = kill
			}
			sr := store.SweptRun{Workspace: store.DefaultWorkspaceID}
			sr.Run.State = &model.State{Type: model.StateRunning, Timestamp: model.NewTime(start)}
			for _, hb := range runHB {
				if hb.After(alive) {
					break
				}
				if sr.LastRunHeartbeat != nil {
					prev := *sr.LastRunHeartbeat
					sr.PrevRunHeartbeat = &prev
				}
				v := hb
				sr.LastRunHeartbeat = &v
			}
			if k.workerInterval > 0 {
				secs := int(k.workerInterval / time.Second)
				w := &model.Worker{Name: "w", HeartbeatIntervalSeconds: &secs}
				for _, hb := range workerHB {
					if hb.After(alive) {
						break
					}
					w.LastHeartbeatTime = model.TimePtr(hb)
				}
				sr.Worker = w
			}
			return sr
		}
		sweepPhase := time.Duration(rng.Int64N(int64(every)))
		detected := time.Time{}
		for now := start.Add(sweepPhase); now.Before(kill.Add(2 * time.Hour)); now = now.Add(every) {
			if v := det.Judge(swept(now), now); v.Crash {
				detected = now
				break
			}
		}
		switch {
		case detected.IsZero():
			t.Fatalf("%s: killed at +%v, never detected", k.name, kill.Sub(start))
		case detected.Before(kill):
			t.Fatalf("%s: judged crashed at +%v although alive until +%v", k.name, detected.Sub(start), kill.Sub(start))
		case detected.Sub(kill) > bound:
			t.Fatalf("%s: killed at +%v, CRASHED %v later (bound %v)", k.name, kill.Sub(start), detected.Sub(kill).Round(time.Second), bound)
		}
		name := k.name
		if bound != window {
			name += ", before its 2nd heartbeat"
		}
		worst[name] = max(worst[name], detected.Sub(kill))
	}
	for name, d := range worst {
		t.Logf("%-40s worst detection %v after the kill (window %v, sweep every %v)", name, d.Round(time.Second), window, every)
	}
}

// TestCrashSweepPagesPastHealthyRuns keeps more healthy long-running runs
// than one sweep query returns, all older than a dead one: the dead run must
// still be found (a fixed first page of the oldest runs hid it).
func TestCrashSweepPagesPastHealthyRuns(t *testing.T) {
	t.Parallel()
	st, ws := openStore(t)
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Second)
	pool, err := st.WorkPoolCreate(ctx, ws, model.WorkPool{Name: "P", Type: "process"})
	if err != nil {
		t.Fatal(err)
	}
	f, _, _ := st.FlowUpsert(ctx, ws, model.FlowCreate{Name: "f"})
	create := func(at time.Time, worker string) model.ID {
		state := &model.State{ID: model.NewID(), Type: model.StateRunning, Name: "Running", Timestamp: model.NewTime(at)}
		r, _, err := st.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "r", State: state, StateID: &state.ID, StateType: &state.Type, StateName: &state.Name,
			Labels: model.Labels{"prefect.worker.name": worker, "prefect.work-pool.id": pool.ID.String()}, Parameters: json.RawMessage("{}")}})
		if err != nil {
			t.Error(err)
		}
		return r.ID
	}
	var wg sync.WaitGroup
	for i := range sweepPage + 20 {
		wg.Add(1)
		go func() { defer wg.Done(); create(t0.Add(time.Duration(i)*time.Millisecond), "alive") }()
	}
	wg.Wait()
	dead := create(t0.Add(time.Minute), "ghost")
	now := t0.Add(time.Hour)
	if _, err := st.WorkerHeartbeat(ctx, ws, "P", "alive", ptr(10), now.Add(-5*time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := NewCrashDetector(depsOf(t, st), 0).Run(ctx, now)
	if err != nil || n != 1 {
		t.Fatalf("ended %d runs (err %v), want the dead one only", n, err)
	}
	if r, _ := st.FlowRunGet(ctx, ws, dead); r.State.Type != model.StateCrashed {
		t.Fatalf("dead run behind %d healthy ones is %s", sweepPage+20, r.State.Type)
	}
}

// TestPendingTimeout: a run claimed (PENDING) and never started within the
// timeout is CRASHED with the reason in its state message; younger PENDING
// runs and running ones are left alone.
func TestPendingTimeout(t *testing.T) {
	t.Parallel()
	st, ws := openStore(t)
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Second)
	f, _, _ := st.FlowUpsert(ctx, ws, model.FlowCreate{Name: "f"})
	mk := func(at time.Time, typ model.StateType) model.ID {
		r, _, err := st.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "r", Parameters: json.RawMessage("{}"),
			Labels: model.Labels{"prefect.worker.name": "w1"}}})
		if err != nil {
			t.Fatal(err)
		}
		setState(t, st, ws, r.ID, model.StatePending, at)
		if typ != model.StatePending {
			setState(t, st, ws, r.ID, typ, at)
		}
		return r.ID
	}
	stuck := mk(t0, model.StatePending)
	young := mk(t0.Add(20*time.Minute), model.StatePending)
	running := mk(t0, model.StateRunning)
	n, err := NewPendingTimeout(depsOf(t, st), 30*time.Minute).Run(ctx, t0.Add(31*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("ended %d (err %v), want 1", n, err)
	}
	get := func(id model.ID) model.FlowRun { r, _ := st.FlowRunGet(ctx, ws, id); return r }
	if r := get(stuck); r.State.Type != model.StateCrashed || r.State.Message == nil || !strings.Contains(*r.State.Message, `worker "w1"`) {
		t.Fatalf("stuck run: %s %v", r.State.Type, r.State.Message)
	}
	if get(young).State.Type != model.StatePending || get(running).State.Type != model.StateRunning {
		t.Fatal("a run that was not stuck was touched")
	}
}
