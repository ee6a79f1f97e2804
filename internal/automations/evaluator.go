package automations

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// The evaluator is Prefect's trigger algorithm (prefect/server/events/
// triggers.py) over in-memory state that mirrors the store: one bucket per
// event trigger and bucketing key counting matching events in a window,
// the latest firing of each child of a composite trigger, and a metric
// trigger's breach. It does no I/O: every change it makes is also recorded
// in a pending step (see step) that the engine commits atomically with its
// position in the event stream, together with the actions and events the
// step's firings produced. It is used by one goroutine at a time.

// precedingEventLookback is how far before its first event a trigger's
// first bucket starts, so events arriving out of order around it still
// count (Prefect's PRECEDING_EVENT_LOOKBACK).
const precedingEventLookback = 15 * time.Minute

type bucketID struct {
	automation, trigger model.ID
	key                 string
}

type bucket struct {
	ws         model.ID
	id         bucketID
	start, end time.Time
	count      int
	lastEvent  *model.Event
}

type childKey struct {
	automation, parent, child model.ID
}

type childFiring struct {
	ws     model.ID
	firing Firing
}

// loadedAutomation is an enabled automation the evaluator watches.
type loadedAutomation struct {
	ws model.ID
	a  model.Automation
	// parents maps each trigger id to its parent trigger (nil for the root).
	parents map[model.ID]*model.Trigger
}

// triggerRef is an event or metric trigger of a loaded automation.
type triggerRef struct {
	la *loadedAutomation
	t  *model.Trigger
}

// wsIndex finds the event triggers of one workspace interested in an event
// name: exact patterns by map lookup, wildcard ones by matching.
type wsIndex struct {
	exact map[string][]*triggerRef
	wild  []wildEntry
	any   []*triggerRef
}

type wildEntry struct {
	pattern string
	ref     *triggerRef
}

// metricState is a metric trigger's persisted state.
type metricState struct {
	// Breaching is whether the last evaluation breached the threshold.
	Breaching bool `json:"breaching"`
	// Since is when the current breaching (or not) condition began.
	Since model.Time `json:"since"`
	// Triggered is whether the trigger is in its Triggered state.
	Triggered bool `json:"triggered"`
	// Value is the last evaluated value (nil when there was no data).
	Value *float64 `json:"value"`
}

// step collects one evaluation step's writes.
type step struct {
	buckets      map[bucketID]*bucket // nil value: deleted
	bucketWS     map[bucketID]model.ID
	children     map[childKey]*childFiring // nil value: deleted
	childWS      map[childKey]model.ID
	metricStates map[bucketID]*metricState
	metricWS     map[bucketID]model.ID
	actions      []store.AutomationAction
	events       []store.WorkspaceEvent
	dropped      []store.TriggerStateKey
	// hold and release are the events held back for the event they
	// follow, and those let go (by position).
	hold, release []int64
}

func newStep() *step {
	return &step{buckets: map[bucketID]*bucket{}, bucketWS: map[bucketID]model.ID{}, children: map[childKey]*childFiring{},
		childWS: map[childKey]model.ID{}, metricStates: map[bucketID]*metricState{}, metricWS: map[bucketID]model.ID{}}
}

func (s *step) empty() bool {
	return len(s.buckets) == 0 && len(s.children) == 0 && len(s.metricStates) == 0 && len(s.actions) == 0 && len(s.events) == 0 && len(s.dropped) == 0 &&
		len(s.hold) == 0 && len(s.release) == 0
}

// commit turns the step into the store's commit.
func (s *step) commit() (store.AutomationCommit, error) {
	var c store.AutomationCommit
	for id, b := range s.buckets {
		key := store.BucketKey{Workspace: s.bucketWS[id], Automation: id.automation, Trigger: id.trigger, Key: id.key}
		if b == nil {
			c.BucketDeletes = append(c.BucketDeletes, key)
			continue
		}
		row := store.AutomationBucket{BucketKey: key, Start: b.start, End: b.end, Count: b.count}
		if b.lastEvent != nil {
			raw, err := json.Marshal(b.lastEvent)
			if err != nil {
				return c, err
			}
			row.LastEvent = raw
		}
		c.Buckets = append(c.Buckets, row)
	}
	for k, f := range s.children {
		key := store.ChildFiringKey{Workspace: s.childWS[k], Automation: k.automation, Parent: k.parent, Child: k.child}
		if f == nil {
			c.ChildFiringDeletes = append(c.ChildFiringDeletes, key)
			continue
		}
		raw, err := json.Marshal(f.firing)
		if err != nil {
			return c, err
		}
		c.ChildFirings = append(c.ChildFirings, store.AutomationChildFiring{ChildFiringKey: key, FiringID: f.firing.ID, FiredAt: f.firing.Triggered.Time, Firing: raw})
	}
	for id, m := range s.metricStates {
		key := store.TriggerStateKey{Workspace: s.metricWS[id], Automation: id.automation, Trigger: id.trigger}
		raw, err := json.Marshal(m)
		if err != nil {
			return c, err
		}
		c.TriggerStates = append(c.TriggerStates, store.AutomationTriggerState{TriggerStateKey: key, State: raw})
	}
	c.BucketsDropped = s.dropped
	c.Hold, c.Release = s.hold, s.release
	c.Actions = s.actions
	c.Events = s.events
	return c, nil
}

// evaluator holds the loaded automations and trigger state.
type evaluator struct {
	automations map[model.ID]*loadedAutomation
	// disabled keeps the trigger ids of disabled automations, whose state
	// is kept (as Prefect keeps their buckets) but not evaluated.
	known     map[model.ID]bool
	index     map[model.ID]*wsIndex
	proactive []*triggerRef
	metrics   []*triggerRef
	// nextProactive is when each proactive trigger is next evaluated.
	nextProactive map[model.ID]time.Time

	buckets  map[bucketID]*bucket
	children map[childKey]*childFiring
	metricSt map[bucketID]*metricState

	cur *step
	// clock is the wall clock stamped on firings (Prefect stamps now()).
	clock func() time.Time
	newID func() model.ID
}

func newEvaluator(clock func() time.Time) *evaluator {
	return &evaluator{
		automations: map[model.ID]*loadedAutomation{}, known: map[model.ID]bool{}, index: map[model.ID]*wsIndex{},
		nextProactive: map[model.ID]time.Time{}, buckets: map[bucketID]*bucket{}, children: map[childKey]*childFiring{},
		metricSt: map[bucketID]*metricState{}, cur: newStep(), clock: clock, newID: model.NewIDv7,
	}
}

// takeStep returns the writes made since the last call and starts a new
// step.
func (ev *evaluator) takeStep() *step {
	s := ev.cur
	ev.cur = newStep()
	return s
}

// load replaces the watched automations. State of triggers that no longer
// exist in any automation is dropped (the store drops it with them).
func (ev *evaluator) load(all []store.WorkspaceAutomation) {
	ev.automations = map[model.ID]*loadedAutomation{}
	ev.index = map[model.ID]*wsIndex{}
	ev.proactive, ev.metrics = nil, nil
	known := map[model.ID]bool{}
	for i := range all {
		wa := all[i]
		for _, t := range wa.Automation.Trigger.AllTriggers() {
			known[t.ID] = true
		}
		if !wa.Automation.Enabled {
			continue
		}
		la := &loadedAutomation{ws: wa.Workspace, a: wa.Automation, parents: map[model.ID]*model.Trigger{}}
		var walk func(t, parent *model.Trigger)
		walk = func(t, parent *model.Trigger) {
			la.parents[t.ID] = parent
			for i := range t.Triggers {
				walk(&t.Triggers[i], t)
			}
		}
		walk(&la.a.Trigger, nil)
		ev.automations[la.a.ID] = la
		for _, t := range la.a.Trigger.AllTriggers() {
			ref := &triggerRef{la: la, t: t}
			switch t.Type {
			case model.TriggerEvent:
				ev.indexTrigger(la.ws, ref)
				if t.Posture == model.PostureProactive {
					ev.proactive = append(ev.proactive, ref)
				}
			case model.TriggerMetric:
				ev.metrics = append(ev.metrics, ref)
			}
		}
	}
	for id, b := range ev.buckets {
		if !known[id.trigger] {
			delete(ev.buckets, id)
			ev.dropTrigger(b.ws, id.automation, id.trigger)
		}
	}
	for k, f := range ev.children {
		if !known[k.parent] || !known[k.child] {
			delete(ev.children, k)
			ev.cur.children[k] = nil
			ev.cur.childWS[k] = f.ws
		}
	}
	for id := range ev.metricSt {
		if !known[id.trigger] {
			delete(ev.metricSt, id)
		}
	}
	for id := range ev.nextProactive {
		if !known[id] {
			delete(ev.nextProactive, id)
		}
	}
	ev.known = known
}

func (ev *evaluator) dropTrigger(ws, automation, trigger model.ID) {
	k := store.TriggerStateKey{Workspace: ws, Automation: automation, Trigger: trigger}
	for _, d := range ev.cur.dropped {
		if d == k {
			return
		}
	}
	ev.cur.dropped = append(ev.cur.dropped, k)
}

func (ev *evaluator) indexTrigger(ws model.ID, ref *triggerRef) {
	idx := ev.index[ws]
	if idx == nil {
		idx = &wsIndex{exact: map[string][]*triggerRef{}}
		ev.index[ws] = idx
	}
	t := ref.t
	if len(t.Expect) == 0 {
		idx.any = append(idx.any, ref)
		return
	}
	seen := map[string]bool{}
	for _, list := range [][]string{t.Expect, t.After} {
		for _, p := range list {
			if seen[p] {
				continue
			}
			seen[p] = true
			if strings.ContainsAny(p, "*?[") {
				idx.wild = append(idx.wild, wildEntry{pattern: p, ref: ref})
			} else {
				idx.exact[p] = append(idx.exact[p], ref)
			}
		}
	}
}

// interested reports whether any trigger of ws could care about an event
// of this name (checked before the event is decoded).
func (ev *evaluator) interested(ws model.ID, name string) bool {
	idx := ev.index[ws]
	if idx == nil || name == "prefect.log.write" {
		return false
	}
	if len(idx.any) > 0 || len(idx.exact[name]) > 0 {
		return true
	}
	for _, w := range idx.wild {
		if fnmatch(w.pattern, name) {
			return true
		}
	}
	return false
}

// candidates returns the triggers of ws covering e, without duplicates.
func (ev *evaluator) candidates(ws model.ID, e *model.Event) []*triggerRef {
	idx := ev.index[ws]
	if idx == nil {
		return nil
	}
	var out []*triggerRef
	seen := map[*triggerRef]bool{}
	add := func(r *triggerRef) {
		if !seen[r] && covers(r.t, e) {
			seen[r] = true
			out = append(out, r)
		}
	}
	for _, r := range idx.any {
		add(r)
	}
	for _, r := range idx.exact[e.Event] {
		add(r)
	}
	for _, w := range idx.wild {
		if fnmatch(w.pattern, e.Event) {
			add(w.ref)
		}
	}
	// Evaluate in a stable order (automation, then trigger).
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.la.a.ID != b.la.a.ID {
			return a.la.a.ID.String() < b.la.a.ID.String()
		}
		return a.t.ID.String() < b.t.ID.String()
	})
	return out
}

// ---- buckets -----------------------------------------------------------

func (ev *evaluator) bid(ref *triggerRef, key []string) bucketID {
	return bucketID{automation: ref.la.a.ID, trigger: ref.t.ID, key: encodeKey(key)}
}

func (ev *evaluator) saveBucket(b *bucket) {
	ev.buckets[b.id] = b
	cp := *b
	ev.cur.buckets[b.id] = &cp
	ev.cur.bucketWS[b.id] = b.ws
}

func (ev *evaluator) removeBucket(b *bucket) {
	delete(ev.buckets, b.id)
	ev.cur.buckets[b.id] = nil
	ev.cur.bucketWS[b.id] = b.ws
}

// ensureBucket returns the trigger's bucket for key, creating it with the
// given window and count when there is none.
func (ev *evaluator) ensureBucket(ref *triggerRef, key []string, start, end time.Time, last *model.Event, initial int) *bucket {
	id := ev.bid(ref, key)
	if b, ok := ev.buckets[id]; ok {
		return b
	}
	b := &bucket{ws: ref.la.ws, id: id, start: start, end: end, count: initial, lastEvent: last}
	ev.saveBucket(b)
	return b
}

func (ev *evaluator) startNewBucket(ref *triggerRef, id bucketID, start, end time.Time, count int, last *model.Event) *bucket {
	b := &bucket{ws: ref.la.ws, id: id, start: start, end: end, count: count, lastEvent: last}
	ev.saveBucket(b)
	return b
}

func meetsThreshold(t *model.Trigger, count int) bool {
	if t.Posture == model.PostureReactive && count >= t.Threshold {
		return true
	}
	return t.Posture == model.PostureProactive && count < t.Threshold
}

func immediate(t *model.Trigger) bool {
	return t.Posture == model.PostureReactive && durationOf(t.Within) == 0
}

// evaluate is Prefect's evaluate(): it spends the triggering event (if any)
// in the bucket, fires when the bucket meets its threshold (reactive: at
// once; proactive: once the window has ended), and opens the next window.
// It returns the bucket now open for this key (nil when none).
func (ev *evaluator) evaluate(ref *triggerRef, b *bucket, now time.Time, e *model.Event) *bucket {
	t := ref.t
	count := 0
	if e != nil {
		count = 1
	}
	if now.Before(b.start) {
		// A late event, or a redundant one for a trigger that already
		// fired: it does not touch the current window.
		return b
	}
	prevLast := b.lastEvent
	if count > 0 && (immediate(t) || (!now.Before(b.start) && now.Before(b.end))) {
		b.count += count
		if e != nil {
			b.lastEvent = e
		}
		ev.saveBucket(b)
		count = 0
	}
	ready := t.Posture == model.PostureReactive || !now.Before(b.end)
	meets := meetsThreshold(t, b.count)
	within := durationOf(t.Within)
	if ready && meets {
		trig := e
		if trig == nil {
			trig = b.lastEvent
		}
		labels := map[string]string{}
		forEach := sortedForEach(t)
		key := decodeKey(b.id.key)
		for i, l := range forEach {
			if i < len(key) {
				labels[l] = key[i]
			}
		}
		ev.fire(ref.la, Firing{ID: ev.newID(), Trigger: *t, TriggerStates: []string{StateTriggered},
			Triggered: model.NewTime(ev.clock()), TriggeringLabels: labels, TriggeringEvent: trig, TriggeringFirings: []Firing{}})
		ev.removeBucket(b)
	} else if now.Before(b.end) {
		// More time left in this window. A proactive trigger whose event is
		// both an `after` and an `expect` restarts its window at each such
		// event once the threshold is out of reach in this one.
		if e != nil && t.Posture == model.PostureProactive && !meets && startsAfter(t, e.Event) && expects(t, e.Event) {
			ev.removeBucket(b)
			last := e
			if prevLast != nil && expects(t, prevLast.Event) && !startsAfter(t, prevLast.Event) && !prevLast.Occurred.Before(e.Occurred.Time) {
				last = prevLast
			}
			return ev.startNewBucket(ref, b.id, e.Occurred.Time, e.Occurred.Add(within), 0, last)
		}
		return b
	}
	// The window is over (or the trigger fired): open the next one, unless
	// the trigger waits for an `after` event to start.
	if len(t.After) > 0 {
		if _, ok := ev.buckets[b.id]; ok {
			ev.removeBucket(b)
		}
		return nil
	}
	if within == 0 {
		return nil
	}
	start := b.end
	if now.After(start) {
		start = now
	}
	end := start.Add(within)
	if t.Posture == model.PostureReactive && count > 0 {
		// The event belongs to a later window; it may fire that one.
		nb := ev.startNewBucket(ref, b.id, start, end, 0, nil)
		return ev.evaluate(ref, nb, now, e)
	}
	return ev.startNewBucket(ref, b.id, start, end, count, nil)
}

// reactive evaluates every trigger interested in e (Prefect's
// reactive_evaluation).
func (ev *evaluator) reactive(ws model.ID, e *model.Event) {
	for _, ref := range ev.candidates(ws, e) {
		t := ref.t
		key := bucketingKey(t, e)
		within := durationOf(t.Within)
		occurred := e.Occurred.Time
		var b *bucket
		if len(t.After) > 0 && startsAfter(t, e.Event) {
			// An event in both `after` and `expect` starts a window and is
			// counted by the evaluation below: start at -1 so it nets 0.
			initial := 0
			if expects(t, e.Event) {
				initial = -1
			}
			b = ev.ensureBucket(ref, key, occurred, occurred.Add(within), e, initial)
		}
		if b == nil && len(t.After) == 0 && expects(t, e.Event) {
			b = ev.ensureBucket(ref, key, occurred.Add(-precedingEventLookback), occurred.Add(within), e, 0)
		}
		if !expects(t, e.Event) {
			continue
		}
		if b == nil {
			b = ev.buckets[ev.bid(ref, key)]
			if b == nil {
				continue
			}
		}
		ev.evaluate(ref, b, occurred, e)
	}
}

// proactiveDue evaluates the proactive triggers whose time has come, as of
// asOf (Prefect's evaluate_proactive_triggers). now is the wall clock that
// schedules the next evaluation.
func (ev *evaluator) proactiveDue(now, asOf time.Time) {
	for _, ref := range ev.proactive {
		if next, ok := ev.nextProactive[ref.t.ID]; ok && next.After(now) {
			continue
		}
		t := ref.t
		within := durationOf(t.Within)
		runAgain := asOf.Add(within)
		if len(t.ForEach) == 0 {
			ev.ensureBucket(ref, []string{}, asOf, asOf.Add(within), nil, 0)
		}
		var mine []*bucket
		for id, b := range ev.buckets {
			if id.automation == ref.la.a.ID && id.trigger == t.ID {
				if b.count >= t.Threshold {
					ev.removeBucket(b)
					continue
				}
				mine = append(mine, b)
			}
		}
		sort.Slice(mine, func(i, j int) bool { return mine[i].start.Before(mine[j].start) })
		for _, b := range mine {
			if _, ok := ev.buckets[b.id]; !ok {
				continue
			}
			next := ev.evaluate(ref, b, asOf, nil)
			if next != nil && asOf.Before(next.end) && next.end.Before(runAgain) {
				runAgain = next.end
			}
		}
		// asOf may lag the wall clock (events are processed behind real
		// time); schedule on the wall clock's scale.
		ev.nextProactive[t.ID] = now.Add(runAgain.Sub(asOf))
	}
}

// nextProactiveAt is when the earliest proactive evaluation is due (zero
// when there is no proactive trigger).
func (ev *evaluator) nextProactiveAt() time.Time {
	var min time.Time
	for _, ref := range ev.proactive {
		n, ok := ev.nextProactive[ref.t.ID]
		if !ok {
			return time.Time{}.Add(1) // due now
		}
		if min.IsZero() || n.Before(min) {
			min = n
		}
	}
	return min
}

// sweepBuckets drops buckets whose window ended before olderThan.
func (ev *evaluator) sweepBuckets(olderThan time.Time) {
	for _, b := range ev.buckets {
		if !b.end.After(olderThan) {
			ev.removeBucket(b)
		}
	}
}

// ---- firing ------------------------------------------------------------

// fire hands a firing to its trigger's parent: the automation acts, a
// composite trigger counts it.
func (ev *evaluator) fire(la *loadedAutomation, f Firing) {
	parent := la.parents[f.Trigger.ID]
	if parent == nil {
		ev.act(la, f)
		return
	}
	ev.evaluateComposite(la, parent, f)
}

func numExpected(t *model.Trigger) int {
	if t.Type == model.TriggerSequence || t.Require == nil {
		return len(t.Triggers)
	}
	switch t.Require.Word {
	case "any":
		return 1
	case "all":
		return len(t.Triggers)
	}
	return t.Require.N
}

func readyToFire(t *model.Trigger, firings []Firing) bool {
	if t.Type == model.TriggerCompound {
		return len(firings) >= numExpected(t)
	}
	sorted := append([]Firing(nil), firings...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Triggered.Before(sorted[j].Triggered.Time) })
	if len(sorted) != len(t.Triggers) {
		return false
	}
	for i := range sorted {
		if sorted[i].Trigger.ID != t.Triggers[i].ID {
			return false
		}
	}
	return true
}

// evaluateComposite is Prefect's evaluate_composite_trigger.
func (ev *evaluator) evaluateComposite(la *loadedAutomation, parent *model.Trigger, f Firing) {
	if numExpected(parent) == 1 {
		ev.fire(la, Firing{ID: ev.newID(), Trigger: *parent, TriggerStates: []string{StateTriggered}, Triggered: model.NewTime(ev.clock()),
			TriggeringLabels: map[string]string{}, TriggeringFirings: []Firing{f}, TriggeringEvent: f.TriggeringEvent})
		return
	}
	if parent.Within != nil {
		horizon := f.Triggered.Add(-parent.Within.Std())
		for k, cf := range ev.children {
			if k.automation == la.a.ID && k.parent == parent.ID && cf.firing.Triggered.Before(horizon) {
				ev.deleteChild(k, cf.ws)
			}
		}
	}
	k := childKey{automation: la.a.ID, parent: parent.ID, child: f.Trigger.ID}
	cf := &childFiring{ws: la.ws, firing: f}
	ev.children[k] = cf
	ev.cur.children[k] = cf
	ev.cur.childWS[k] = la.ws
	var firings []Firing
	var keys []childKey
	for ck, c := range ev.children {
		if ck.automation == la.a.ID && ck.parent == parent.ID {
			firings = append(firings, c.firing)
			keys = append(keys, ck)
		}
	}
	sort.Slice(firings, func(i, j int) bool { return firings[i].Triggered.Before(firings[j].Triggered.Time) })
	if !readyToFire(parent, firings) {
		return
	}
	for _, ck := range keys {
		ev.deleteChild(ck, la.ws)
	}
	ev.fire(la, Firing{ID: ev.newID(), Trigger: *parent, TriggerStates: []string{StateTriggered}, Triggered: model.NewTime(ev.clock()),
		TriggeringLabels: map[string]string{}, TriggeringFirings: firings, TriggeringEvent: f.TriggeringEvent})
}

func (ev *evaluator) deleteChild(k childKey, ws model.ID) {
	delete(ev.children, k)
	ev.cur.children[k] = nil
	ev.cur.childWS[k] = ws
}

// act records an automation's firing: its triggered/resolved events and
// one queued action per action to run (Prefect's act()).
func (ev *evaluator) act(la *loadedAutomation, f Firing) {
	a := la.a
	stateEvents := map[string]*model.Event{}
	for _, st := range []string{StateTriggered, StateResolved} {
		if !containsString(f.TriggerStates, st) {
			continue
		}
		e := stateChangeEvent(&a, &f, st, ev.newID())
		stateEvents[st] = &e
		ev.cur.events = append(ev.cur.events, store.WorkspaceEvent{Workspace: la.ws, Event: e})
	}
	primary := stateEvents[StateTriggered]
	if primary == nil {
		primary = stateEvents[StateResolved]
	}
	var primaryID *model.ID
	if primary != nil {
		id := primary.ID
		primaryID = &id
	}
	type source struct {
		event   *model.Event
		action  model.Action
		eventID *model.ID
	}
	var sources []source
	for _, act := range a.Actions {
		sources = append(sources, source{f.TriggeringEvent, act, primaryID})
	}
	if e := stateEvents[StateTriggered]; e != nil {
		id := e.ID
		for _, act := range a.ActionsOnTrigger {
			sources = append(sources, source{e, act, &id})
		}
	}
	if e := stateEvents[StateResolved]; e != nil {
		id := e.ID
		for _, act := range a.ActionsOnResolve {
			sources = append(sources, source{e, act, &id})
		}
	}
	now := ev.clock()
	for i, s := range sources {
		ta := TriggeredAction{Automation: a, ID: ev.newID(), Firing: &f, Triggered: f.Triggered, TriggeringLabels: f.TriggeringLabels,
			TriggeringEvent: s.event, Action: s.action, ActionIndex: i, AutomationTriggeredEventID: s.eventID}
		body, err := json.Marshal(ta)
		if err != nil {
			continue
		}
		ev.cur.actions = append(ev.cur.actions, store.AutomationAction{Workspace: la.ws, ID: ta.ID, Automation: a.ID,
			Status: store.ActionPending, NextAttempt: now, Created: now, Body: body})
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// stateChangeEvent is prefect.automation.triggered or .resolved for a
// firing (Trigger.create_automation_state_change_event).
func stateChangeEvent(a *model.Automation, f *Firing, state string, id model.ID) model.Event {
	res := map[string]string{
		"prefect.resource.id":   "prefect.automation." + a.ID.String(),
		"prefect.resource.name": a.Name,
	}
	if f.Trigger.Type == model.TriggerEvent || f.Trigger.Type == model.TriggerMetric {
		res["prefect.posture"] = f.Trigger.Posture
	}
	related := []map[string]string{}
	if f.TriggeringEvent != nil {
		related = append(related, map[string]string{
			"prefect.resource.id":   "prefect.event." + f.TriggeringEvent.ID.String(),
			"prefect.resource.role": "triggering-event",
		})
	}
	payload, _ := json.Marshal(map[string]any{
		"triggering_labels": f.TriggeringLabels,
		"triggering_event":  f.TriggeringEvent,
	})
	return model.Event{ID: id, Occurred: f.Triggered, Event: "prefect.automation." + strings.ToLower(state),
		Resource: res, Related: related, Payload: payload}
}
