package orchestration

import (
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// depLimit is a deployment's global limit with the given size and taken
// slots.
func depLimit(dep model.ID, limit, slots int) *model.DeploymentConcurrencyLimit {
	return &model.DeploymentConcurrencyLimit{ID: dep, Name: model.DeploymentLimitName(dep), Active: true, Limit: limit, ActiveSlots: slots}
}

// TestSecureFlowConcurrencySlots: a deployment run moving to PENDING takes
// a slot of its deployment's limit under a lease named in the PENDING
// state; a full limit reschedules it as AwaitingConcurrencySlot 30 s ahead
// (ENQUEUE, also when no options are set) or cancels it (CANCEL_NEW); a
// limit of 0 or a deleted deployment aborts; runs without a limit, without
// a deployment, or proposed by a 3.0.0-3.0.3 worker take nothing.
func TestSecureFlowConcurrencySlots(t *testing.T) {
	t.Parallel()
	dep := model.NewID()
	cancelNew := &model.ConcurrencyOptions{CollisionStrategy: "CANCEL_NEW"}
	grace := 90
	for _, c := range []struct {
		name     string
		from     model.StateType
		dc       *DeploymentConcurrency
		noDep    bool
		client   string
		verdict  string
		acquired bool
		ttl      time.Duration
	}{
		{"room", model.StateScheduled, &DeploymentConcurrency{Limit: depLimit(dep, 2, 1)}, false, "", "ACCEPT", true, DeploymentLeaseTTL},
		{"room from no state", noState, &DeploymentConcurrency{Limit: depLimit(dep, 1, 0)}, false, "", "ACCEPT", true, DeploymentLeaseTTL},
		{"grace period sets the lease", model.StateScheduled, &DeploymentConcurrency{Limit: depLimit(dep, 2, 0),
			Options: &model.ConcurrencyOptions{CollisionStrategy: "ENQUEUE", GracePeriodSeconds: &grace}}, false, "", "ACCEPT", true, 90 * time.Second},
		{"full, no options: enqueue", model.StateScheduled, &DeploymentConcurrency{Limit: depLimit(dep, 2, 2)}, false, "", "REJECT:AwaitingConcurrencySlot", false, 0},
		{"full, enqueue", model.StateScheduled, &DeploymentConcurrency{Limit: depLimit(dep, 2, 2), Options: &model.ConcurrencyOptions{CollisionStrategy: "ENQUEUE"}}, false, "", "REJECT:AwaitingConcurrencySlot", false, 0},
		{"full, cancel new", model.StateScheduled, &DeploymentConcurrency{Limit: depLimit(dep, 2, 2), Options: cancelNew}, false, "", "REJECT:Cancelled", false, 0},
		{"inactive limit grants nothing", model.StateScheduled, &DeploymentConcurrency{Limit: &model.DeploymentConcurrencyLimit{ID: dep, Limit: 5}}, false, "", "REJECT:AwaitingConcurrencySlot", false, 0},
		{"limit 0", model.StateScheduled, &DeploymentConcurrency{Limit: depLimit(dep, 0, 0)}, false, "", "ABORT", false, 0},
		{"deployment gone", model.StateScheduled, &DeploymentConcurrency{Missing: true}, false, "", "ABORT", false, 0},
		{"no limit", model.StateScheduled, &DeploymentConcurrency{}, false, "", "ACCEPT", false, 0},
		{"no deployment", model.StateScheduled, nil, true, "", "ACCEPT", false, 0},
		{"worker-managed client", model.StateScheduled, &DeploymentConcurrency{Limit: depLimit(dep, 1, 1)}, false, "3.0.3", "ACCEPT", false, 0},
		{"rerun from completed", model.StateCompleted, &DeploymentConcurrency{Limit: depLimit(dep, 1, 0)}, false, "", "ACCEPT", true, DeploymentLeaseTTL},
	} {
		in := flowFixture(c.from)
		if !c.noDep {
			in.Run.DeploymentID = &dep
		}
		in.Deployment, in.ClientVersion = c.dc, c.client
		in.Proposed = model.StateCreate{Type: model.StatePending}
		o := ProposeFlowRunState(in)
		if got := verdict(o); got != c.verdict {
			t.Fatalf("%s: verdict %s (%s), want %s", c.name, got, o.Result.Details.Reason, c.verdict)
		}
		g := o.Slots.Acquire
		if (g != nil) != c.acquired {
			t.Fatalf("%s: acquire %+v, want acquired=%v", c.name, g, c.acquired)
		}
		if g != nil {
			lease := o.State.StateDetails.DeploymentConcurrencyLeaseID
			if lease == nil || *lease != g.LeaseID || len(g.LimitIDs) != 1 || g.LimitIDs[0] != dep || g.TTL != c.ttl || g.Holder != nil {
				t.Fatalf("%s: grant %+v, state lease %v", c.name, g, lease)
			}
		}
		switch c.verdict {
		case "REJECT:AwaitingConcurrencySlot":
			st := o.State
			if st.Type != model.StateScheduled || st.StateDetails.ScheduledTime == nil || !st.StateDetails.ScheduledTime.Equal(testNow.Add(DeploymentSlotWait)) ||
				o.Result.Details.Reason != "Deployment concurrency limit reached." {
				t.Fatalf("%s: %+v %q", c.name, st, o.Result.Details.Reason)
			}
		case "REJECT:Cancelled":
			if m := o.State.Message; m == nil || *m != "Deployment concurrency limit reached." {
				t.Fatalf("%s: message %v", c.name, m)
			}
		}
		if len(o.Slots.Release) > 0 || o.Slots.Revoke != nil || o.Slots.Renew != nil {
			t.Fatalf("%s: unexpected slot change %+v", c.name, o.Slots)
		}
	}
	// A transition that holds its slot already takes none: PENDING to
	// PENDING (a named sub-state) and RUNNING to PENDING are not secured.
	in := flowFixture(model.StatePending)
	in.Run.DeploymentID = &dep
	in.Deployment = &DeploymentConcurrency{Limit: depLimit(dep, 1, 1)}
	in.Proposed = model.StateCreate{Type: model.StatePending, Name: strPtr("Submitting")}
	if o := ProposeFlowRunState(in); verdict(o) != "ACCEPT" || o.Slots.Acquire != nil {
		t.Fatalf("PENDING→Submitting: %s %+v", verdict(o), o.Slots)
	}
}

// TestDeploymentLeaseAtRunning: at PENDING → RUNNING a client from 3.4.11
// on renews the run's lease; if it was reaped the run takes a slot again
// under a new lease (held by the flow run) or, with none free, is
// cancelled; an older client (or an unknown one) has its lease revoked,
// keeping the slot taken without a lease that could lapse.
func TestDeploymentLeaseAtRunning(t *testing.T) {
	t.Parallel()
	dep, lease := model.NewID(), model.NewID()
	pending := func(dc *DeploymentConcurrency, client string) FlowRunInput {
		in := flowFixture(model.StatePending)
		in.Run.DeploymentID = &dep
		in.Run.State.StateDetails.DeploymentConcurrencyLeaseID = &lease
		in.Deployment, in.ClientVersion = dc, client
		in.Proposed = model.StateCreate{Type: model.StateRunning}
		return in
	}
	// Renewed.
	o := ProposeFlowRunState(pending(&DeploymentConcurrency{Limit: depLimit(dep, 1, 1), LeaseID: &lease, LeaseAlive: true}, "3.9.1"))
	if verdict(o) != "ACCEPT" || o.Slots.Renew == nil || o.Slots.Renew.LeaseID != lease || o.Slots.Renew.TTL != DeploymentLeaseTTL ||
		o.Slots.Acquire != nil || o.Slots.Revoke != nil || *o.State.StateDetails.DeploymentConcurrencyLeaseID != lease {
		t.Fatalf("renew: %s %+v", verdict(o), o.Slots)
	}
	// Reaped, a slot is free: a new lease.
	o = ProposeFlowRunState(pending(&DeploymentConcurrency{Limit: depLimit(dep, 2, 1), LeaseID: &lease}, "3.4.11"))
	g := o.Slots.Acquire
	if verdict(o) != "ACCEPT" || g == nil || g.Holder == nil || g.Holder.Type != "flow_run" || g.LeaseID == lease ||
		*o.State.StateDetails.DeploymentConcurrencyLeaseID != g.LeaseID {
		t.Fatalf("re-acquire: %s %+v", verdict(o), o.Slots)
	}
	// Reaped, none free: cancelled, and nothing to give back (no slot held).
	o = ProposeFlowRunState(pending(&DeploymentConcurrency{Limit: depLimit(dep, 1, 1), LeaseID: &lease}, "3.9.1"))
	if verdict(o) != "REJECT:Cancelled" || o.Result.Details.Reason != "Deployment concurrency limit reached after lease expiry." {
		t.Fatalf("lost: %s %q", verdict(o), o.Result.Details.Reason)
	}
	if len(o.Slots.Release) != 1 || *o.Slots.Release[0].LeaseID != lease {
		// Prefect's ReleaseFlowConcurrencySlots then releases the (gone)
		// lease, falling back to the deployment's limit.
		t.Fatalf("lost: slots %+v", o.Slots)
	}
	// Old and unknown clients: the lease is revoked, nothing renewed.
	for _, client := range []string{"3.4.10", "3.1.15", "3.4.11rc1", ""} {
		o = ProposeFlowRunState(pending(&DeploymentConcurrency{Limit: depLimit(dep, 1, 1), LeaseID: &lease, LeaseAlive: true}, client))
		if verdict(o) != "ACCEPT" || o.Slots.Revoke == nil || *o.Slots.Revoke != lease || o.Slots.Renew != nil || o.Slots.Acquire != nil {
			t.Fatalf("client %q: %s %+v", client, verdict(o), o.Slots)
		}
	}
	// PENDING → CANCELLING revokes too (old client) and releases nothing.
	in := pending(&DeploymentConcurrency{Limit: depLimit(dep, 1, 1)}, "3.1.15")
	in.Proposed = model.StateCreate{Type: model.StateCancelling}
	if o = ProposeFlowRunState(in); o.Slots.Revoke == nil || len(o.Slots.Release) != 0 {
		t.Fatalf("cancelling: %+v", o.Slots)
	}
}

// TestReleaseFlowConcurrencySlots: a deployment run leaving PENDING,
// RUNNING or CANCELLING for any other state gives back its lease (falling
// back to one slot of the deployment's limit when the lease is gone) or,
// without a lease, one slot of the limit; forced proposals release too; an
// in-process retry (rejected into AwaitingRetry) keeps its slot.
func TestReleaseFlowConcurrencySlots(t *testing.T) {
	t.Parallel()
	dep, lease := model.NewID(), model.NewID()
	dc := &DeploymentConcurrency{Limit: depLimit(dep, 2, 2)}
	for _, from := range allFroms {
		for _, to := range model.StateTypes {
			for _, withLease := range []bool{true, false} {
				for _, force := range []bool{false, true} {
					in := flowFixture(from)
					in.Run.DeploymentID = &dep
					in.Deployment, in.Force = dc, force
					if withLease && in.Run.State != nil {
						in.Run.State.StateDetails.DeploymentConcurrencyLeaseID = &lease
					}
					in.Proposed = model.StateCreate{Type: to}
					if to == model.StateScheduled {
						in.Proposed.StateDetails.ScheduledTime = model.TimePtr(testNow)
					}
					o := ProposeFlowRunState(in)
					written := o.State != nil
					want := written && leaseHolding.has(from) && !leaseHolding.has(o.State.Type)
					if got := len(o.Slots.Release) == 1; got != want {
						t.Fatalf("%s→%s lease=%v force=%v: release %+v (written %v), want %v", from, to, withLease, force, o.Slots.Release, written, want)
					}
					if !want {
						continue
					}
					r := o.Slots.Release[0]
					if len(r.Fallback) != 1 || r.Fallback[0] != dep || (r.LeaseID != nil) != withLease {
						t.Fatalf("%s→%s: release %+v", from, to, r)
					}
				}
			}
		}
	}
	// In-process retry: RUNNING → FAILED rejected into AwaitingRetry keeps the slot.
	in := flowFixture(model.StateRunning)
	in.Run.DeploymentID = &dep
	in.Run.State.StateDetails.DeploymentConcurrencyLeaseID = &lease
	in.Run.RunCount, in.Run.EmpiricalPolicy.Retries = 1, intPtr(2)
	in.Deployment = dc
	in.Proposed = model.StateCreate{Type: model.StateFailed}
	o := ProposeFlowRunState(in)
	if verdict(o) != "REJECT:AwaitingRetry" || len(o.Slots.Release) != 0 {
		t.Fatalf("retry: %s %+v", verdict(o), o.Slots)
	}
	// A run without a deployment has no slot to give back.
	in = flowFixture(model.StateRunning)
	in.Proposed = model.StateCreate{Type: model.StateCompleted}
	if o := ProposeFlowRunState(in); !o.Slots.IsZero() {
		t.Fatalf("no deployment: %+v", o.Slots)
	}
}

// TestEnforceDeploymentConcurrencyOnLate: a run about to be marked Late is
// cancelled instead when its deployment uses CANCEL_NEW and is at its
// limit; otherwise it is marked Late.
func TestEnforceDeploymentConcurrencyOnLate(t *testing.T) {
	t.Parallel()
	dep := model.NewID()
	for _, c := range []struct {
		opts    string
		slots   int
		verdict string
	}{{"CANCEL_NEW", 1, "REJECT:Cancelled"}, {"CANCEL_NEW", 0, "ACCEPT"}, {"ENQUEUE", 1, "ACCEPT"}} {
		in := flowFixture(model.StateScheduled)
		in.Run.DeploymentID = &dep
		in.Deployment = &DeploymentConcurrency{Limit: depLimit(dep, 1, c.slots), Options: &model.ConcurrencyOptions{CollisionStrategy: c.opts}}
		in.Proposed = model.StateCreate{Type: model.StateScheduled, Name: strPtr("Late")}
		if o := ProposeFlowRunState(in); verdict(o) != c.verdict {
			t.Fatalf("%+v: %s", c, verdict(o))
		}
	}
}

func tagLimit(tag string, limit, slots int, active bool) model.ConcurrencyLimit {
	return model.ConcurrencyLimit{ID: model.NewID(), Name: model.TagLimitPrefix + tag, Limit: limit, ActiveSlots: slots, Active: active}
}

// TestSecureTaskConcurrencySlots: a task run proposing RUNNING takes one
// slot of every active limit of its tags under one lease it holds (for as
// long as Prefect's v1 leases last); a full limit makes it WAIT a jittered
// delay of at most 13 s around 10 s (or the busiest limit's average
// occupancy, if shorter); a limit of 0 aborts; inactive limits are
// ignored; a cached state is retrieved even when the slots are full, and a
// run that must first wait for its scheduled time takes nothing.
func TestSecureTaskConcurrencySlots(t *testing.T) {
	t.Parallel()
	running := func(limits ...model.ConcurrencyLimit) TaskRunInput {
		in := taskFixture(model.StatePending)
		in.TagLimits = limits
		in.Proposed = model.StateCreate{Type: model.StateRunning}
		return in
	}
	a, b := tagLimit("a", 2, 1, true), tagLimit("b", 1, 0, true)
	in := running(a, b, tagLimit("off", 1, 1, false))
	o := ProposeTaskRunState(in)
	g := o.Slots.Acquire
	if verdict(o) != "ACCEPT" || g == nil || len(g.LimitIDs) != 2 || g.LimitIDs[0] != a.ID || g.LimitIDs[1] != b.ID ||
		g.Holder == nil || g.Holder.Type != "task_run" || g.Holder.ID != in.Run.ID || g.TTL != TagLeaseTTL {
		t.Fatalf("room: %s %+v", verdict(o), g)
	}
	// Full.
	for _, u := range []float64{0, 0.5, 0.999} {
		in = running(a, tagLimit("db", 1, 1, true))
		in.Rand = func() float64 { return u }
		o = ProposeTaskRunState(in)
		d := o.Result.Details.DelaySeconds
		if verdict(o) != "WAIT" || d == nil || *d < 1 || *d > 13 || !o.Slots.IsZero() || o.Result.Details.Reason != "Concurrency limit reached for tags: a, db" {
			t.Fatalf("full (u=%v): %s %v %+v %q", u, verdict(o), d, o.Slots, o.Result.Details.Reason)
		}
	}
	// The busiest limit's average occupancy, when shorter, sets the delay.
	quick := tagLimit("quick", 1, 1, true)
	quick.AvgSlotOccupancySeconds = 2
	in = running(quick)
	o = ProposeTaskRunState(in)
	if d := o.Result.Details.DelaySeconds; d == nil || *d > 3 {
		t.Fatalf("occupancy 2 s: delay %v", d)
	}
	// Zero.
	o = ProposeTaskRunState(running(a, tagLimit("never", 0, 0, true)))
	if verdict(o) != "ABORT" || !strings.Contains(o.Result.Details.Reason, `"never" is 0 and will deadlock`) || !o.Slots.IsZero() {
		t.Fatalf("zero: %s %q", verdict(o), o.Result.Details.Reason)
	}
	// Only inactive limits, or none: nothing taken.
	for _, in := range []TaskRunInput{running(tagLimit("off", 0, 0, false)), running()} {
		if o := ProposeTaskRunState(in); verdict(o) != "ACCEPT" || !o.Slots.IsZero() {
			t.Fatalf("inactive/none: %s %+v", verdict(o), o.Slots)
		}
	}
	// A cached state wins over full slots.
	in = running(tagLimit("db", 1, 1, true))
	key := "k"
	in.Proposed.StateDetails.CacheKey = &key
	in.CachedState = &model.State{Type: model.StateCompleted, Name: "Completed", Timestamp: model.NewTime(testNow.Add(-time.Hour))}
	if o := ProposeTaskRunState(in); verdict(o) != "REJECT:Cached" || o.Slots.Acquire != nil {
		t.Fatalf("cached: %s %+v", verdict(o), o.Slots)
	}
	// Scheduled in the future: WAIT for the time, no slot taken.
	in = running(a)
	in.Run.State = &model.State{ID: model.NewID(), Type: model.StateScheduled, Name: "Scheduled", Timestamp: model.NewTime(testNow.Add(-time.Minute)),
		StateDetails: model.StateDetails{ScheduledTime: model.TimePtr(testNow.Add(time.Minute))}}
	if o := ProposeTaskRunState(in); verdict(o) != "WAIT" || !o.Slots.IsZero() {
		t.Fatalf("scheduled later: %s %+v", verdict(o), o.Slots)
	}
}

// TestReleaseTaskConcurrencySlots: every written state other than RUNNING
// and CANCELLING (forced ones too, any path: completion, failure, crash,
// cancellation, retry) gives back the slots the task run holds on its tags'
// limits, inactive ones included.
func TestReleaseTaskConcurrencySlots(t *testing.T) {
	t.Parallel()
	limits := []model.ConcurrencyLimit{tagLimit("a", 1, 1, true), tagLimit("b", 1, 1, false)}
	for _, from := range allFroms {
		for _, to := range model.StateTypes {
			for _, force := range []bool{false, true} {
				in := taskFixture(from)
				in.TagLimits, in.Force = limits, force
				in.Proposed = model.StateCreate{Type: to}
				o := ProposeTaskRunState(in)
				want := o.State != nil && o.State.Type != model.StateRunning && o.State.Type != model.StateCancelling
				h := o.Slots.ReleaseHeld
				if (h != nil) != want {
					t.Fatalf("%s→%s force=%v: release %+v (written %v)", from, to, force, h, o.State)
				}
				if h != nil && (h.Holder.ID != in.Run.ID || h.Holder.Type != "task_run" || len(h.LimitIDs) != 2) {
					t.Fatalf("%s→%s: %+v", from, to, h)
				}
			}
		}
	}
	// A retry (RUNNING → FAILED rejected into AwaitingRetry) gives the slot back too.
	in := taskFixture(model.StateRunning)
	in.TagLimits = limits
	in.Run.RunCount, in.Run.EmpiricalPolicy.Retries = 1, intPtr(1)
	in.Proposed = model.StateCreate{Type: model.StateFailed}
	if o := ProposeTaskRunState(in); verdict(o) != "REJECT:AwaitingRetry" || o.Slots.ReleaseHeld == nil {
		t.Fatalf("retry: %s %+v", verdict(o), o.Slots)
	}
}

func TestParseClientVersion(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"3.4.11": true, "3.9.1": true, "4.0.0": true, "3.4.11.post1": true, "3.4.12rc1": true,
		"3.4.10": false, "3.4.11rc2": false, "3.1.15": false, "2.20.0": false, "": false, "dev": false, "3.4": false} {
		if got := leasingClient(v); got != want {
			t.Fatalf("leasingClient(%q) = %v, want %v", v, got, want)
		}
	}
}
func intPtr(n int) *int { return &n }

// TestTaskRuleOrder pins the core task policy's order (Prefect's
// CoreTaskPolicy): SecureTaskConcurrencySlots comes after the cache and
// stopped-flow checks, so a cached state is retrieved even when slots are
// full.
func TestTaskRuleOrder(t *testing.T) {
	t.Parallel()
	var names []string
	for _, r := range coreTaskPolicy {
		names = append(names, r.name)
	}
	want := "CacheRetrieval HandleTaskTerminalStateTransitions PreventRunningTasksFromStoppedFlows SecureTaskConcurrencySlots " +
		"CopyScheduledTime WaitForScheduledTime RetryFailedTasks RenameReruns UpdateFlowRunTrackerOnTasks CacheInsertion"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("core task policy order = %s, want %s", got, want)
	}
}
