package orchestration

import (
	"math"
	"slices"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// noState stands for "the run has no state yet" in a rule's from-set, and
// for "nothing will be written" as the type of a nullified proposal.
const noState model.StateType = ""

// typeSet is the set of state types a rule is written against.
type typeSet []model.StateType

func (s typeSet) has(t model.StateType) bool { return slices.Contains(s, t) }

// anyType is every state type plus "no state" (Prefect's
// ALL_ORCHESTRATION_STATES).
var anyType = append(typeSet{noState}, model.StateTypes...)

// terminalTypes are the final state types (a run with no state is not
// terminal).
var terminalTypes = typeSet{model.StateCompleted, model.StateFailed, model.StateCancelled, model.StateCrashed}

// only builds a set from a few types.
func only(types ...model.StateType) typeSet { return typeSet(types) }

// anyExcept is every type (including "no state") but the given ones.
func anyExcept(types ...model.StateType) typeSet {
	var out typeSet
	for _, t := range anyType {
		if !slices.Contains(types, t) {
			out = append(out, t)
		}
	}
	return out
}

func typeOf(s *model.State) model.StateType {
	if s == nil {
		return noState
	}
	return s.Type
}

// ruleTrace records, for one rule that ran, which proposal type it left
// behind and what it wants done once the outcome is known: after effects
// run when a state of that type is written, cleanups when a later rule
// changed the proposal under it (the rule "fizzled").
type ruleTrace struct {
	name     string
	to       model.StateType
	after    []func()
	cleanups []func()
}

// decision is the part of an orchestration context shared by flow and task
// decisions: the states involved and the verdict so far.
type decision struct {
	now time.Time
	// initial is the run's current state (nil if none). Never mutated.
	initial *model.State
	// proposed is the working proposal; rules may edit it or replace it.
	// nil once a rule nullified the transition (ABORT, WAIT, or a REJECT
	// that keeps the current state).
	proposed *model.State
	// intendedTo is the type the client proposed; rules are selected by it.
	intendedTo model.StateType
	status     model.SetStateStatus
	reason     string
	delay      *int
	cur        *ruleTrace
	traces     []*ruleTrace
}

func newDecision(now time.Time, initial *model.State, proposed model.State) *decision {
	return &decision{now: now, initial: initial, proposed: &proposed, intendedTo: proposed.Type, status: model.StatusAccept}
}

func (d *decision) from() model.StateType { return typeOf(d.initial) }

// proposedType is the type of the working proposal (noState if nullified).
func (d *decision) proposedType() model.StateType { return typeOf(d.proposed) }

// reject refuses the proposal. With a state, that state is written instead
// (AwaitingRetry, Cancelled, Cached...); with nil, nothing is written and the
// client gets the current state back.
func (d *decision) reject(s *model.State, reason string) {
	d.status, d.reason, d.delay = model.StatusReject, reason, nil
	d.proposed = s
	if d.cur != nil {
		// A rule that substitutes a state does not fizzle itself.
		d.cur.to = typeOf(s)
	}
}

// abort tells the client to stop trying: nothing is written.
func (d *decision) abort(reason string) {
	d.status, d.reason, d.delay = model.StatusAbort, reason, nil
	d.proposed = nil
}

// wait tells the client to propose the same state again after seconds.
func (d *decision) wait(seconds int, reason string) {
	d.status, d.reason = model.StatusWait, reason
	d.delay = &seconds
	d.proposed = nil
}

// rename changes the proposal's name (a rename never changes the type, so
// later rules still apply).
func (d *decision) rename(name string) {
	if d.proposed != nil {
		d.proposed.Name = name
	}
}

// afterWrite registers fn to run if a state of the type the current rule
// left behind is written.
func (d *decision) afterWrite(fn func()) { d.cur.after = append(d.cur.after, fn) }

// onFizzle registers fn to undo the current rule's edits to the run when
// the transition ends differently than the rule saw it.
func (d *decision) onFizzle(fn func()) { d.cur.cleanups = append(d.cur.cleanups, fn) }

// rule is one named orchestration rule. It is considered only when the
// current state's type is in from and the proposed type is in to, and only
// while no earlier rule has changed the proposal's type.
type rule[C any] struct {
	name     string
	from, to typeSet
	apply    func(C)
}

// runRules applies rules in order to c (whose decision is d).
func runRules[C any](d *decision, c C, rules []rule[C]) {
	from := d.from()
	for _, r := range rules {
		if !r.from.has(from) || !r.to.has(d.intendedTo) {
			continue
		}
		if d.proposedType() != d.intendedTo {
			// An earlier rule replaced or nullified the proposal; the
			// transition this rule is written for no longer exists.
			continue
		}
		d.cur = &ruleTrace{name: r.name, to: d.intendedTo}
		r.apply(c)
		d.traces = append(d.traces, d.cur)
		d.cur = nil
	}
}

// finish runs, innermost first, the after effects of the rules whose
// transition happened and the cleanups of those that fizzled.
func (d *decision) finish() {
	written := d.proposed != nil
	for i := len(d.traces) - 1; i >= 0; i-- {
		t := d.traces[i]
		if written && t.to == d.proposed.Type {
			for _, fn := range t.after {
				fn()
			}
			continue
		}
		for _, fn := range t.cleanups {
			fn()
		}
	}
}

// result builds the response body; current is returned when nothing is
// written.
func (d *decision) result() model.OrchestrationResult {
	r := model.OrchestrationResult{Status: d.status, State: d.proposed}
	if d.proposed == nil && d.initial != nil {
		cur := *d.initial
		r.State = &cur
	}
	switch d.status {
	case model.StatusAccept:
		r.Details = model.OrchestrationDetails{Type: "accept_details"}
	case model.StatusReject:
		r.Details = model.OrchestrationDetails{Type: "reject_details", Reason: d.reason}
	case model.StatusAbort:
		r.Details = model.OrchestrationDetails{Type: "abort_details", Reason: d.reason}
	case model.StatusWait:
		r.Details = model.OrchestrationDetails{Type: "wait_details", Reason: d.reason, DelaySeconds: d.delay}
	}
	return r
}

// ensureUniqueTimestamp keeps the history strictly ordered: a new state is
// never stamped at or before the state it follows.
func (d *decision) ensureUniqueTimestamp() {
	if d.initial == nil || d.proposed == nil {
		return
	}
	if !d.proposed.Timestamp.After(d.initial.Timestamp.Time) {
		d.proposed.Timestamp = model.NewTime(d.initial.Timestamp.Add(time.Microsecond))
	}
}

// Shared rules, written once for flow and task runs.

// copyScheduledTime carries scheduled_time from a SCHEDULED state into the
// PENDING state that follows, unless the proposal brings its own.
func copyScheduledTime(d *decision) {
	if d.initial == nil || d.proposed.StateDetails.ScheduledTime != nil {
		return
	}
	d.proposed.StateDetails.ScheduledTime = d.initial.StateDetails.ScheduledTime
}

// waitForScheduledTime makes a run that is scheduled in the future wait.
func waitForScheduledTime(d *decision) {
	if d.initial == nil || d.initial.StateDetails.ScheduledTime == nil {
		return
	}
	if s := delaySeconds(d.initial.StateDetails.ScheduledTime.Time, d.now); s > 0 {
		d.wait(s, "Scheduled time is in the future")
	}
}

// delaySeconds is the whole number of seconds from now until at, rounded up
// so that the client never wakes up early.
func delaySeconds(at, now time.Time) int {
	sec := at.Sub(now).Seconds()
	if sec <= 0 {
		return 0
	}
	if sec > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(math.Ceil(sec))
}

// awaitingRetry is the SCHEDULED state a failed run is rescheduled with.
func awaitingRetry(at time.Time, failed *model.State) *model.State {
	return &model.State{
		ID:           model.NewIDv7(),
		Type:         model.StateScheduled,
		Name:         "AwaitingRetry",
		Timestamp:    failed.Timestamp,
		Message:      failed.Message,
		Data:         failed.Data,
		StateDetails: model.StateDetails{ScheduledTime: model.TimePtr(at)},
	}
}

// newState is a state the server substitutes for a proposal.
func newState(t model.StateType, name string, ts model.Time) *model.State {
	if name == "" {
		name = t.DefaultName()
	}
	return &model.State{ID: model.NewIDv7(), Type: t, Name: name, Timestamp: ts}
}

func strPtr(s string) *string { return &s }
func boolPtr(b bool) *bool    { return &b }

// leaseHolding are the states in which a deployment run holds its
// concurrency slot.
var leaseHolding = typeSet{model.StatePending, model.StateRunning, model.StateCancelling}
