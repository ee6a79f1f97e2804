package orchestration

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// fuzzNames are the state names that steer rules.
var fuzzNames = []string{"", "Late", "Suspended", "Resuming", "AwaitingRetry", "Submitting", "Pending", "Cached", "Retrying"}

// fuzzCase turns fuzz bytes into a run, its current state and a proposal.
type fuzzCase struct {
	from, to            model.StateType
	fromName, toName    string
	force               bool
	flags               uint32
	skewMicros, schedMS int64
}

func (f fuzzCase) bit(i int) bool { return f.flags&(1<<i) != 0 }

func (f fuzzCase) states() (*model.State, model.StateCreate) {
	var cur *model.State
	if f.from != noState {
		cur = &model.State{ID: model.NewID(), Type: f.from, Name: f.fromName, Timestamp: model.NewTime(testNow.Add(time.Duration(f.skewMicros) * time.Microsecond))}
		if cur.Name == "" {
			cur.Name = f.from.DefaultName()
		}
		sd := &cur.StateDetails
		if f.bit(0) {
			sd.ScheduledTime = model.TimePtr(testNow.Add(time.Duration(f.schedMS) * time.Millisecond))
		}
		if f.bit(1) {
			cur.Data = persisted()
		}
		sd.PauseReschedule = f.bit(2)
		if f.bit(3) {
			sd.PauseTimeout = model.TimePtr(testNow.Add(-time.Second))
		}
		if f.bit(4) {
			id := model.NewID()
			sd.DeploymentConcurrencyLeaseID = &id
		}
	}
	p := model.StateCreate{Type: f.to}
	if f.toName != "" {
		p.Name = &f.toName
	}
	if f.bit(5) && cur != nil {
		id := model.NewID()
		cur.StateDetails.TransitionID, p.StateDetails.TransitionID = &id, &id
	}
	if f.bit(6) {
		p.Data = json.RawMessage(`{"type":"unpersisted"}`)
	}
	p.StateDetails.PauseReschedule = f.bit(7)
	if f.bit(8) {
		p.StateDetails.PauseKey = strPtr("k")
	}
	if f.bit(9) {
		p.StateDetails.CacheKey = strPtr("key")
	}
	if f.bit(10) {
		p.StateDetails.Retriable = boolPtr(false)
	}
	return cur, p
}

func decodeFuzz(from, to, fromName, toName uint8, force bool, flags uint32, skew, sched int64) fuzzCase {
	pick := func(i uint8) model.StateType { return allFroms[int(i)%len(allFroms)] }
	t := pick(to)
	if t == noState {
		t = model.StateRunning
	}
	return fuzzCase{
		from: pick(from), to: t, force: force, flags: flags,
		fromName: fuzzNames[int(fromName)%len(fuzzNames)], toName: fuzzNames[int(toName)%len(fuzzNames)],
		skewMicros: skew % int64(time.Hour/time.Microsecond), schedMS: sched % int64(10*24*time.Hour/time.Millisecond),
	}
}

func addSeeds(f *testing.F) {
	for from := range uint8(len(allFroms)) {
		for to := range uint8(len(allFroms)) {
			f.Add(from, to, uint8(0), uint8(0), false, uint32(0), int64(-60_000_000), int64(5000))
			f.Add(from, to, uint8(from), uint8(to), true, uint32(from)*0x9e3779b1^uint32(to), int64(1), int64(-5000))
		}
	}
}

// FuzzProposeFlowRunState: any (from, proposal) pair decides without
// panicking, with a valid status and a consistent outcome.
func FuzzProposeFlowRunState(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, from, to, fromName, toName uint8, force bool, flags uint32, skew, sched int64) {
		fc := decodeFuzz(from, to, fromName, toName, force, flags, skew, sched)
		cur, p := fc.states()
		in := FlowRunInput{Run: model.FlowRun{ID: model.NewID(), FlowID: model.NewID(), State: cur, RunCount: int(flags>>16) % 4}, Proposed: p, Force: fc.force, Now: testNow}
		if fc.bit(11) {
			dep := model.NewID()
			in.Run.DeploymentID = &dep
		}
		if fc.bit(12) {
			parent := model.NewID()
			in.Run.ParentTaskRunID = &parent
		}
		if fc.bit(13) {
			in.Run.InfrastructurePID = strPtr("h:1")
		}
		if fc.bit(14) {
			n, d := 1, 2.5
			in.Run.EmpiricalPolicy.Retries, in.Run.EmpiricalPolicy.RetryDelay = &n, &d
		}
		if fc.bit(15) {
			in.Run.EmpiricalPolicy.PauseKeys = []string{"k"}
		}
		o := ProposeFlowRunState(in)
		checkInvariants(t, o, cur, p.Type)
		if cur != nil && o.Result.State == nil {
			t.Fatal("nil result state for a run that has one")
		}
		if o.State != nil {
			if len(o.Events) != 1 || o.Events[0].ID != o.State.ID {
				t.Fatalf("written state without its event: %+v", o.Events)
			}
			if (in.Run.ParentTaskRunID != nil) != (o.ParentTaskState != nil) {
				t.Fatal("parent mirroring mismatch")
			}
			if o.Run.RunCount < in.Run.RunCount {
				t.Fatalf("run_count went down: %d → %d", in.Run.RunCount, o.Run.RunCount)
			}
		} else if len(o.Events) != 0 || o.ParentTaskState != nil {
			t.Fatal("nothing written but events or mirroring produced")
		}
	})
}

// FuzzProposeTaskRunState is the task-run counterpart.
func FuzzProposeTaskRunState(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, from, to, fromName, toName uint8, force bool, flags uint32, skew, sched int64) {
		fc := decodeFuzz(from, to, fromName, toName, force, flags, skew, sched)
		cur, p := fc.states()
		in := taskFixture(noState)
		in.Run.State, in.Proposed, in.Force, in.EmitEvents = cur, p, fc.force, true
		in.Run.RunCount = int(flags>>16) % 4
		if fc.bit(11) {
			in.FlowRun = nil
		} else if fc.bit(12) {
			in.FlowRun.State = currentState(allFroms[int(flags>>20)%len(allFroms)])
		}
		if fc.bit(13) {
			in.CachedState = &model.State{ID: model.NewID(), Type: model.StateCompleted, Name: "Completed"}
		}
		if fc.bit(14) {
			n := 2
			in.Run.EmpiricalPolicy.Retries = &n
			in.Run.EmpiricalPolicy.RetryDelay = json.RawMessage(`[1, 2]`)
			in.Run.EmpiricalPolicy.RetryJitterFactor = new(float64)
			*in.Run.EmpiricalPolicy.RetryJitterFactor = 0.5
		}
		o := ProposeTaskRunState(in)
		checkInvariants(t, o, cur, p.Type)
		if cur != nil && o.Result.State == nil {
			t.Fatal("nil result state for a run that has one")
		}
		if (o.State != nil) != (len(o.Events) == 1) {
			t.Fatalf("written %v but %d events", o.State != nil, len(o.Events))
		}
	})
}
