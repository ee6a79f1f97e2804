package automations

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Metric triggers (a Prefect Cloud feature) watch a measure of the flow
// runs their match and match_related select, over the last `range`:
//
//   - successes: the share (0 to 1) of runs that finished in the range
//     which finished Completed (the others Failed or Crashed);
//   - duration: the average run time, in seconds, of those runs;
//   - lateness: the average lateness, in seconds, of the runs that were
//     due in the range (start time minus expected start; a run due and not
//     started is late by now minus its expected start).
//
// The measure is compared with the threshold by the operator. Once the
// comparison has held for `firing_for` the trigger fires Triggered (and
// the automation's actions and actions_on_trigger run); once it has stopped
// holding for `firing_for` the trigger fires Resolved (actions_on_resolve
// run). With no runs in the range there is no measure and the state does
// not change.

// maxMetricRuns bounds the runs one evaluation reads.
const maxMetricRuns = 500

func (e *engine) evaluateMetrics(ctx context.Context, now time.Time) error {
	for _, ref := range e.ev.metrics {
		value, last, err := e.measure(ctx, ref, now)
		if err != nil {
			return err
		}
		e.ev.metricEvaluate(ref, value, last, now)
	}
	return nil
}

func isTerminal(stateType string) bool {
	switch model.StateType(stateType) {
	case model.StateCompleted, model.StateFailed, model.StateCrashed, model.StateCancelled:
		return true
	}
	return false
}

// measure computes a metric trigger's value now (nil: no data) and returns
// the last matching event.
func (e *engine) measure(ctx context.Context, ref *triggerRef, now time.Time) (*float64, *model.Event, error) {
	q := ref.t.Metric
	since := model.NewTime(now.Add(-q.Range.Std()))
	until := model.NewTime(now)
	f := model.EventFilter{Order: "ASC"}
	f.Occurred = &struct {
		Since *model.Time `json:"since"`
		Until *model.Time `json:"until"`
	}{&since, &until}
	f.Event = &struct {
		Prefix        []string `json:"prefix"`
		ExcludePrefix []string `json:"exclude_prefix"`
		Name          []string `json:"name"`
		ExcludeName   []string `json:"exclude_name"`
	}{Prefix: []string{"prefect.flow-run."}, ExcludeName: []string{"prefect.flow-run.heartbeat"}}
	type seen struct {
		terminal string
	}
	runs := map[string]*seen{}
	var order []string
	var last *model.Event
	for offset := 0; len(runs) < maxMetricRuns; offset += 500 {
		page, err := e.s.st.EventList(ctx, ref.la.ws, f, 500, offset)
		if err != nil {
			return nil, nil, err
		}
		for i := range page.Events {
			ev := &page.Events[i]
			if !coversResources(ref.t, ev) {
				continue
			}
			id := ev.ResourceID()
			if !strings.HasPrefix(id, "prefect.flow-run.") {
				continue
			}
			r := runs[id]
			if r == nil {
				r = &seen{}
				runs[id] = r
				order = append(order, id)
			}
			if st := ev.Resource["prefect.state-type"]; isTerminal(st) {
				r.terminal = st
			}
			cp := *ev
			last = &cp
		}
		if len(page.Events) < 500 {
			break
		}
	}
	var sum float64
	n := 0
	switch q.Name {
	case model.MetricSuccesses:
		ok := 0
		for _, id := range order {
			switch model.StateType(runs[id].terminal) {
			case model.StateCompleted:
				ok++
				n++
			case model.StateFailed, model.StateCrashed:
				n++
			}
		}
		if n == 0 {
			return nil, last, nil
		}
		v := float64(ok) / float64(n)
		return &v, last, nil
	case model.MetricDuration, model.MetricLateness:
		for _, id := range order {
			if q.Name == model.MetricDuration && runs[id].terminal == "" {
				continue
			}
			rid, err := model.ParseID(strings.TrimPrefix(id, "prefect.flow-run."))
			if err != nil {
				continue
			}
			run, err := e.s.st.FlowRunGet(ctx, ref.la.ws, rid)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			if q.Name == model.MetricDuration {
				d := float64(run.TotalRunTime)
				if d == 0 && run.StartTime != nil && run.EndTime != nil {
					d = run.EndTime.Sub(run.StartTime.Time).Seconds()
				}
				sum += d
				n++
				continue
			}
			if run.ExpectedStartTime == nil {
				continue
			}
			switch {
			case run.StartTime != nil:
				sum += max(0, run.StartTime.Sub(run.ExpectedStartTime.Time).Seconds())
			case run.ExpectedStartTime.Before(now) && (run.StateType == nil || !isTerminal(string(*run.StateType))):
				sum += now.Sub(run.ExpectedStartTime.Time).Seconds()
			default:
				continue
			}
			n++
		}
	}
	if n == 0 {
		return nil, last, nil
	}
	v := sum / float64(n)
	return &v, last, nil
}

func breaches(q *model.MetricQuery, v float64) bool {
	switch q.Operator {
	case "<":
		return v < q.Threshold
	case "<=":
		return v <= q.Threshold
	case ">":
		return v > q.Threshold
	case ">=":
		return v >= q.Threshold
	}
	return false
}

// metricEvaluate advances a metric trigger's state with a new measure and
// fires when a condition has held for firing_for.
func (ev *evaluator) metricEvaluate(ref *triggerRef, value *float64, last *model.Event, now time.Time) {
	id := bucketID{automation: ref.la.a.ID, trigger: ref.t.ID}
	st := ev.metricSt[id]
	if st == nil {
		st = &metricState{Since: model.NewTime(now)}
	}
	if value == nil {
		return
	}
	q := ref.t.Metric
	b := breaches(q, *value)
	changed := false
	if b != st.Breaching {
		st.Breaching, st.Since = b, model.NewTime(now)
		changed = true
	}
	v := *value
	if st.Value == nil || *st.Value != v {
		st.Value = &v
		changed = true
	}
	held := now.Sub(st.Since.Time) >= q.FiringFor.Std()
	var fire string
	switch {
	case b && !st.Triggered && held:
		st.Triggered, fire = true, StateTriggered
	case !b && st.Triggered && held:
		st.Triggered, fire = false, StateResolved
	}
	if fire != "" {
		changed = true
	}
	if changed {
		ev.metricSt[id] = st
		cp := *st
		ev.cur.metricStates[id] = &cp
		ev.cur.metricWS[id] = ref.la.ws
	}
	if fire == "" {
		return
	}
	f := Firing{ID: ev.newID(), Trigger: *ref.t, TriggerStates: []string{fire}, Triggered: model.NewTime(ev.clock()),
		TriggeringLabels: map[string]string{}, TriggeringFirings: []Firing{}, TriggeringEvent: last, TriggeringValue: v}
	if ref.la.parents[ref.t.ID] != nil && fire == StateResolved {
		// A composite counts its children's Triggered firings only.
		return
	}
	ev.fire(ref.la, f)
}
