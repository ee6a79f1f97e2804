package automations

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

var testWS = model.MustID("00000000-0000-4000-8000-00000000b001")

// clock is a settable clock for the evaluator.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// automation parses a JSON automation definition as the API would.
func automation(t *testing.T, def string) model.Automation {
	t.Helper()
	var in Input
	if err := json.Unmarshal([]byte(def), &in); err != nil {
		t.Fatal(err)
	}
	spec, err := in.Spec()
	if err != nil {
		t.Fatalf("spec: %v", err)
	}
	return model.Automation{ID: model.NewID(), Created: model.NewTime(t0), Updated: model.NewTime(t0), AutomationSpec: spec}
}

func newTestEvaluator(t *testing.T, c *clock, defs ...string) (*evaluator, []model.Automation) {
	t.Helper()
	ev := newEvaluator(c.now)
	var all []store.WorkspaceAutomation
	var as []model.Automation
	for _, d := range defs {
		a := automation(t, d)
		as = append(as, a)
		all = append(all, store.WorkspaceAutomation{Workspace: testWS, Automation: a})
	}
	ev.load(all)
	ev.takeStep()
	return ev, as
}

// event builds an event that occurred at t0+at.
func event(name, resource string, at time.Duration, related ...map[string]string) *model.Event {
	return &model.Event{ID: model.NewID(), Occurred: model.NewTime(t0.Add(at)), Event: name,
		Resource: map[string]string{"prefect.resource.id": resource}, Related: related}
}

// firings returns the actions queued since the last call, as
// "automation-name:action-index[labels]".
func firings(t *testing.T, ev *evaluator) []TriggeredAction {
	t.Helper()
	s := ev.takeStep()
	var out []TriggeredAction
	for _, a := range s.actions {
		var ta TriggeredAction
		if err := json.Unmarshal(a.Body, &ta); err != nil {
			t.Fatal(err)
		}
		out = append(out, ta)
	}
	return out
}

func TestEventTriggerSemantics(t *testing.T) {
	type step struct {
		// at is when the event occurred (and the evaluation time for a
		// proactive step).
		at time.Duration
		// name and resource of the event; name "" runs a proactive
		// evaluation at `at` instead.
		name, resource string
		// fires is how many firings this step must produce.
		fires int
		// labels are the expected triggering labels of the firings.
		labels map[string]string
	}
	cases := []struct {
		name    string
		trigger string
		steps   []step
	}{
		{
			name:    "reactive immediate fires on every matching event",
			trigger: `{"type":"event","posture":"Reactive","expect":["a.b"],"threshold":1,"within":0}`,
			steps: []step{
				{at: 0, name: "a.b", resource: "r.1", fires: 1},
				{at: time.Second, name: "a.c", resource: "r.1", fires: 0},
				{at: 2 * time.Second, name: "a.b", resource: "r.2", fires: 1},
			},
		},
		{
			name:    "match filters the primary resource with wildcards",
			trigger: `{"type":"event","posture":"Reactive","expect":["a.b"],"match":{"prefect.resource.id":["r.*","s.1"]},"within":0}`,
			steps: []step{
				{at: 0, name: "a.b", resource: "r.1", fires: 1},
				{at: time.Second, name: "a.b", resource: "s.1", fires: 1},
				{at: 2 * time.Second, name: "a.b", resource: "x.1", fires: 0},
			},
		},
		{
			// A label's patterns are alternatives, so a negation only
			// excludes when it is the label's one pattern (as in Prefect).
			name:    "match negation",
			trigger: `{"type":"event","posture":"Reactive","expect":["a.b"],"match":{"prefect.resource.id":"!r.bad"},"within":0}`,
			steps: []step{
				{at: 0, name: "a.b", resource: "r.1", fires: 1},
				{at: time.Second, name: "a.b", resource: "r.bad", fires: 0},
			},
		},
		{
			name:    "expect wildcard",
			trigger: `{"type":"event","posture":"Reactive","expect":["prefect.flow-run.*"],"within":0}`,
			steps: []step{
				{at: 0, name: "prefect.flow-run.Failed", resource: "prefect.flow-run.1", fires: 1},
				{at: time.Second, name: "prefect.task-run.Failed", resource: "prefect.task-run.1", fires: 0},
			},
		},
		{
			name:    "threshold within a window fires once it is reached, then waits for the next window",
			trigger: `{"type":"event","posture":"Reactive","expect":["a.b"],"threshold":3,"within":60}`,
			steps: []step{
				{at: 0, name: "a.b", resource: "r.1", fires: 0},
				{at: 10 * time.Second, name: "a.b", resource: "r.1", fires: 0},
				{at: 20 * time.Second, name: "a.b", resource: "r.1", fires: 1},
				// Having fired, the trigger waits for the end of its window
				// (60 s): events before then are not counted.
				{at: 30 * time.Second, name: "a.b", resource: "r.1", fires: 0},
				{at: 40 * time.Second, name: "a.b", resource: "r.1", fires: 0},
				{at: 50 * time.Second, name: "a.b", resource: "r.1", fires: 0},
				{at: 60 * time.Second, name: "a.b", resource: "r.1", fires: 0},
				{at: 70 * time.Second, name: "a.b", resource: "r.1", fires: 0},
				{at: 80 * time.Second, name: "a.b", resource: "r.1", fires: 1},
			},
		},
		{
			name:    "events spread over more than the window do not reach the threshold",
			trigger: `{"type":"event","posture":"Reactive","expect":["a.b"],"threshold":2,"within":10}`,
			steps: []step{
				{at: 0, name: "a.b", resource: "r.1", fires: 0},
				{at: 30 * time.Second, name: "a.b", resource: "r.1", fires: 0},
				{at: 60 * time.Second, name: "a.b", resource: "r.1", fires: 0},
				{at: 65 * time.Second, name: "a.b", resource: "r.1", fires: 1},
			},
		},
		{
			name:    "for_each keeps a count per resource",
			trigger: `{"type":"event","posture":"Reactive","expect":["a.b"],"threshold":2,"within":60,"for_each":["prefect.resource.id"]}`,
			steps: []step{
				{at: 0, name: "a.b", resource: "r.1", fires: 0},
				{at: time.Second, name: "a.b", resource: "r.2", fires: 0},
				{at: 2 * time.Second, name: "a.b", resource: "r.1", fires: 1, labels: map[string]string{"prefect.resource.id": "r.1"}},
				{at: 3 * time.Second, name: "a.b", resource: "r.2", fires: 1, labels: map[string]string{"prefect.resource.id": "r.2"}},
			},
		},
		{
			name:    "after opens the window that expect events are counted in",
			trigger: `{"type":"event","posture":"Reactive","after":["a.start"],"expect":["a.b"],"threshold":1,"within":30,"for_each":["prefect.resource.id"]}`,
			steps: []step{
				{at: 0, name: "a.b", resource: "r.1", fires: 0},
				{at: time.Second, name: "a.start", resource: "r.1", fires: 0},
				{at: 2 * time.Second, name: "a.b", resource: "r.1", fires: 1},
				// Fired: the next window waits for another a.start.
				{at: 3 * time.Second, name: "a.b", resource: "r.1", fires: 0},
			},
		},
		{
			name:    "proactive: nothing happened within the window",
			trigger: `{"type":"event","posture":"Proactive","expect":["a.heartbeat"],"threshold":1,"within":30}`,
			steps: []step{
				{at: 0, fires: 0},                // opens the window [0, 30s)
				{at: 29 * time.Second, fires: 0}, // not over yet
				{at: 30 * time.Second, fires: 1}, // over, no heartbeat
				{at: 40 * time.Second, name: "a.heartbeat", resource: "r.1", fires: 0},
				// The window [30s, 60s) saw one; as in Prefect, the next
				// window opens at the next evaluation that finds none.
				{at: 60 * time.Second, fires: 0},
				{at: 90 * time.Second, fires: 0},
				{at: 119 * time.Second, fires: 0},
				{at: 120 * time.Second, fires: 1},
			},
		},
		{
			name:    "proactive with after: a run that did not start in time",
			trigger: `{"type":"event","posture":"Proactive","after":["prefect.flow-run.Scheduled"],"expect":["prefect.flow-run.Running"],"threshold":1,"within":60,"for_each":["prefect.resource.id"]}`,
			steps: []step{
				{at: 0, name: "prefect.flow-run.Scheduled", resource: "prefect.flow-run.a", fires: 0},
				{at: time.Second, name: "prefect.flow-run.Scheduled", resource: "prefect.flow-run.b", fires: 0},
				{at: 30 * time.Second, name: "prefect.flow-run.Running", resource: "prefect.flow-run.a", fires: 0},
				{at: 59 * time.Second, fires: 0},
				{at: 62 * time.Second, fires: 1, labels: map[string]string{"prefect.resource.id": "prefect.flow-run.b"}},
				{at: 200 * time.Second, fires: 0},
			},
		},
		{
			name:    "proactive event in both after and expect restarts the window (heartbeats)",
			trigger: `{"type":"event","posture":"Proactive","after":["hb"],"expect":["hb"],"threshold":1,"within":30,"for_each":["prefect.resource.id"]}`,
			steps: []step{
				{at: 0, name: "hb", resource: "r.1", fires: 0},
				{at: 20 * time.Second, name: "hb", resource: "r.1", fires: 0},
				{at: 40 * time.Second, name: "hb", resource: "r.1", fires: 0},
				{at: 65 * time.Second, fires: 0}, // last beat at 40 s: window ends at 70 s
				{at: 71 * time.Second, fires: 1, labels: map[string]string{"prefect.resource.id": "r.1"}},
			},
		},
		{
			name:    "match_related requires a related resource",
			trigger: `{"type":"event","posture":"Reactive","expect":["a.b"],"match_related":{"prefect.resource.role":"deployment","prefect.resource.id":"prefect.deployment.d1"},"within":0}`,
			steps: []step{
				{at: 0, name: "a.b", resource: "r.1", fires: 0},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: t0}
			ev, _ := newTestEvaluator(t, c, `{"name":"x","trigger":`+tc.trigger+`,"actions":[{"type":"do-nothing"}]}`)
			for i, s := range tc.steps {
				c.t = t0.Add(s.at)
				if s.name == "" {
					ev.nextProactive = map[model.ID]time.Time{}
					ev.proactiveDue(c.t, c.t)
				} else {
					ev.reactive(testWS, event(s.name, s.resource, s.at))
				}
				got := firings(t, ev)
				if len(got) != s.fires {
					t.Fatalf("step %d (%+v): %d firings, want %d", i, s, len(got), s.fires)
				}
				for _, f := range got {
					if s.labels != nil && fmt.Sprint(f.TriggeringLabels) != fmt.Sprint(s.labels) {
						t.Fatalf("step %d: labels %v, want %v", i, f.TriggeringLabels, s.labels)
					}
				}
			}
		})
	}
}

func TestMatchRelatedMatches(t *testing.T) {
	c := &clock{t: t0}
	ev, _ := newTestEvaluator(t, c, `{"name":"x","trigger":{"type":"event","posture":"Reactive","expect":["a.b"],"match_related":{"prefect.resource.role":"deployment","prefect.resource.id":"prefect.deployment.d1"},"within":0},"actions":[{"type":"do-nothing"}]}`)
	ev.reactive(testWS, event("a.b", "r.1", 0, map[string]string{"prefect.resource.id": "prefect.deployment.d2", "prefect.resource.role": "deployment"}))
	if n := len(firings(t, ev)); n != 0 {
		t.Fatalf("another deployment fired it (%d)", n)
	}
	ev.reactive(testWS, event("a.b", "r.1", 0, map[string]string{"prefect.resource.id": "prefect.deployment.d1", "prefect.resource.role": "deployment"}))
	if n := len(firings(t, ev)); n != 1 {
		t.Fatalf("its deployment did not fire it (%d)", n)
	}
}

func TestCompositeTriggers(t *testing.T) {
	child := func(name string) string {
		return `{"type":"event","posture":"Reactive","expect":["` + name + `"],"within":0}`
	}
	type step struct {
		name  string
		fires int
	}
	cases := []struct {
		name    string
		trigger string
		steps   []step
	}{
		{"compound all", `{"type":"compound","require":"all","within":60,"triggers":[` + child("a") + `,` + child("b") + `]}`,
			[]step{{"a", 0}, {"a", 0}, {"b", 1}, {"b", 0}, {"a", 1}}},
		{"compound any", `{"type":"compound","require":"any","triggers":[` + child("a") + `,` + child("b") + `]}`,
			[]step{{"a", 1}, {"b", 1}, {"c", 0}}},
		{"compound at least 2 of 3", `{"type":"compound","require":2,"triggers":[` + child("a") + `,` + child("b") + `,` + child("c") + `]}`,
			[]step{{"a", 0}, {"c", 1}, {"b", 0}}},
		{"sequence in order", `{"type":"sequence","triggers":[` + child("a") + `,` + child("b") + `]}`,
			[]step{{"a", 0}, {"b", 1}}},
		{"sequence out of order waits", `{"type":"sequence","triggers":[` + child("a") + `,` + child("b") + `]}`,
			// b then a: the latest firing of each child is kept, b's is
			// older than a's, so the order is wrong until b fires again.
			[]step{{"b", 0}, {"a", 0}, {"b", 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: t0}
			ev, _ := newTestEvaluator(t, c, `{"name":"x","trigger":`+tc.trigger+`,"actions":[{"type":"do-nothing"}]}`)
			for i, s := range tc.steps {
				c.t = c.t.Add(time.Second)
				ev.reactive(testWS, event(s.name, "r.1", c.t.Sub(t0)))
				if got := len(firings(t, ev)); got != s.fires {
					t.Fatalf("step %d (%s): %d firings, want %d", i, s.name, got, s.fires)
				}
			}
		})
	}
}

func TestCompoundWithinForgetsOldFirings(t *testing.T) {
	c := &clock{t: t0}
	ev, _ := newTestEvaluator(t, c, `{"name":"x","trigger":{"type":"compound","require":"all","within":10,"triggers":[
		{"type":"event","posture":"Reactive","expect":["a"],"within":0},{"type":"event","posture":"Reactive","expect":["b"],"within":0}]},"actions":[{"type":"do-nothing"}]}`)
	ev.reactive(testWS, event("a", "r", 0))
	c.t = t0.Add(30 * time.Second)
	ev.reactive(testWS, event("b", "r", 30*time.Second))
	if n := len(firings(t, ev)); n != 0 {
		t.Fatalf("a firing 30 s old counted within 10 s (%d firings)", n)
	}
	c.t = t0.Add(35 * time.Second)
	ev.reactive(testWS, event("a", "r", 35*time.Second))
	if n := len(firings(t, ev)); n != 1 {
		t.Fatalf("want 1 firing, got %d", n)
	}
}

func TestFiringQueuesEveryActionWithItsEvent(t *testing.T) {
	c := &clock{t: t0}
	ev, as := newTestEvaluator(t, c, `{"name":"x","trigger":{"type":"event","posture":"Reactive","expect":["a"],"within":0},
		"actions":[{"type":"do-nothing"},{"type":"cancel-flow-run"}],"actions_on_trigger":[{"type":"do-nothing"}]}`)
	e := event("a", "r", 0)
	ev.reactive(testWS, e)
	s := ev.takeStep()
	if len(s.actions) != 3 {
		t.Fatalf("%d actions queued, want 3", len(s.actions))
	}
	if len(s.events) != 1 || s.events[0].Event.Event != "prefect.automation.triggered" {
		t.Fatalf("events: %+v", s.events)
	}
	trig := s.events[0].Event
	if trig.Resource["prefect.resource.id"] != "prefect.automation."+as[0].ID.String() || trig.Resource["prefect.posture"] != "Reactive" {
		t.Fatalf("triggered event resource: %v", trig.Resource)
	}
	if len(trig.Related) != 1 || trig.Related[0]["prefect.resource.id"] != "prefect.event."+e.ID.String() {
		t.Fatalf("triggered event related: %v", trig.Related)
	}
	for i, a := range s.actions {
		var ta TriggeredAction
		if err := json.Unmarshal(a.Body, &ta); err != nil {
			t.Fatal(err)
		}
		if ta.ActionIndex != i || ta.AutomationTriggeredEventID == nil || *ta.AutomationTriggeredEventID != trig.ID {
			t.Fatalf("action %d: index %d, triggered event %v", i, ta.ActionIndex, ta.AutomationTriggeredEventID)
		}
		wantEvent := e.ID
		if i == 2 {
			wantEvent = trig.ID // actions_on_trigger see the triggered event
		}
		if ta.TriggeringEvent == nil || ta.TriggeringEvent.ID != wantEvent {
			t.Fatalf("action %d triggering event %v, want %v", i, ta.TriggeringEvent, wantEvent)
		}
	}
}

func TestDisabledAutomationsAreNotEvaluated(t *testing.T) {
	c := &clock{t: t0}
	ev, _ := newTestEvaluator(t, c, `{"name":"x","enabled":false,"trigger":{"type":"event","posture":"Reactive","expect":["a"],"within":0},"actions":[{"type":"do-nothing"}]}`)
	if ev.interested(testWS, "a") {
		t.Fatal("a disabled automation is interested in events")
	}
	ev.reactive(testWS, event("a", "r", 0))
	if n := len(firings(t, ev)); n != 0 {
		t.Fatalf("disabled automation fired %d times", n)
	}
}

func TestMetricTriggerFiresAfterFiringForAndResolves(t *testing.T) {
	c := &clock{t: t0}
	ev, _ := newTestEvaluator(t, c, `{"name":"x","trigger":{"type":"metric","posture":"Metric","metric":{"name":"successes","operator":"<","threshold":0.5,"range":300,"firing_for":300}},
		"actions":[{"type":"do-nothing"}],"actions_on_resolve":[{"type":"do-nothing"}]}`)
	ref := ev.metrics[0]
	v := func(f float64) *float64 { return &f }
	steps := []struct {
		at     time.Duration
		value  *float64
		states []string
	}{
		{0, v(0.2), nil},                 // breach begins
		{200 * time.Second, v(0.1), nil}, // not held for 300 s yet
		{300 * time.Second, v(0.1), []string{StateTriggered}},
		{400 * time.Second, v(0.1), nil}, // already triggered
		{500 * time.Second, nil, nil},    // no data: no change
		{600 * time.Second, v(0.9), nil}, // recovery begins
		{900 * time.Second, v(0.9), []string{StateResolved}},
	}
	for i, s := range steps {
		c.t = t0.Add(s.at)
		ev.metricEvaluate(ref, s.value, nil, c.t)
		st := ev.takeStep()
		var got []string
		for _, e := range st.events {
			got = append(got, e.Event.Event)
		}
		want := []string{}
		for _, s := range s.states {
			want = append(want, "prefect.automation."+map[string]string{StateTriggered: "triggered", StateResolved: "resolved"}[s])
		}
		if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("step %d: events %v, want %v", i, got, want)
		}
		// actions run on every firing; actions_on_resolve on resolving.
		want1 := map[string]int{StateTriggered: 1, StateResolved: 2}
		if len(s.states) == 1 && len(st.actions) != want1[s.states[0]] {
			t.Fatalf("step %d: %d actions queued, want %d", i, len(st.actions), want1[s.states[0]])
		}
	}
}
