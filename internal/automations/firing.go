package automations

import (
	"github.com/batonhq/baton/internal/model"
)

// Trigger states a firing represents.
const (
	StateTriggered = "Triggered"
	StateResolved  = "Resolved"
)

// Firing is one instance of a trigger firing (Prefect's Firing): the
// trigger, when, the for_each labels it fired for, the child firings of a
// composite, and the event (or metric value) behind it.
type Firing struct {
	ID                model.ID          `json:"id"`
	Trigger           model.Trigger     `json:"trigger"`
	TriggerStates     []string          `json:"trigger_states"`
	Triggered         model.Time        `json:"triggered"`
	TriggeringLabels  map[string]string `json:"triggering_labels"`
	TriggeringFirings []Firing          `json:"triggering_firings"`
	TriggeringEvent   *model.Event      `json:"triggering_event"`
	TriggeringValue   any               `json:"triggering_value"`
}

// allEvents is Firing.all_events: this firing's event, then its children's.
func (f *Firing) allEvents() []model.Event {
	var out []model.Event
	if f.TriggeringEvent != nil {
		out = append(out, *f.TriggeringEvent)
	}
	for i := range f.TriggeringFirings {
		out = append(out, f.TriggeringFirings[i].allEvents()...)
	}
	return out
}

// allFirings is Firing.all_firings.
func (f *Firing) allFirings() []Firing {
	out := []Firing{*f}
	for i := range f.TriggeringFirings {
		out = append(out, f.TriggeringFirings[i].allFirings()...)
	}
	return out
}

// TriggeredAction is one action to carry out for one firing (Prefect's
// TriggeredAction). Its ID is the invocation id: the action's effects are
// idempotent on it.
type TriggeredAction struct {
	Automation                 model.Automation  `json:"automation"`
	ID                         model.ID          `json:"id"`
	Firing                     *Firing           `json:"firing"`
	Triggered                  model.Time        `json:"triggered"`
	TriggeringLabels           map[string]string `json:"triggering_labels"`
	TriggeringEvent            *model.Event      `json:"triggering_event"`
	Action                     model.Action      `json:"action"`
	ActionIndex                int               `json:"action_index"`
	AutomationTriggeredEventID *model.ID         `json:"automation_triggered_event_id"`
}

// IdempotencyKey is Prefect's human-readable key of one action invocation
// (used as the idempotency key of the flow run a run-deployment creates).
func (t *TriggeredAction) IdempotencyKey() string {
	return "automation " + t.Automation.ID.String() + ", action " + itoa(t.ActionIndex) + ", invocation " + t.ID.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
