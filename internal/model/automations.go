package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Automation is Prefect's Automation: a trigger (what must, or must not,
// happen) and the actions to take when it fires. Its JSON is Prefect 3's.
type Automation struct {
	ID      ID   `json:"id" required:"true"`
	Created Time `json:"created" required:"true"`
	Updated Time `json:"updated" required:"true"`
	AutomationSpec
}

// AutomationSpec is what a user defines: everything of an automation but
// its identity and timestamps.
type AutomationSpec struct {
	Name             string   `json:"name" required:"true"`
	Description      string   `json:"description"`
	Enabled          bool     `json:"enabled"`
	Tags             []string `json:"tags"`
	Trigger          Trigger  `json:"trigger" required:"true"`
	Actions          []Action `json:"actions" required:"true"`
	ActionsOnTrigger []Action `json:"actions_on_trigger"`
	ActionsOnResolve []Action `json:"actions_on_resolve"`
}

// Trigger types and postures, as Prefect names them.
const (
	TriggerEvent    = "event"
	TriggerCompound = "compound"
	TriggerSequence = "sequence"
	TriggerMetric   = "metric"

	PostureReactive  = "Reactive"
	PostureProactive = "Proactive"
	PostureMetric    = "Metric"
)

// Trigger is one node of an automation's trigger tree: an event trigger
// (match events, count them in a window), a metric trigger (a query over
// flow runs compared with a threshold, a Prefect Cloud feature), or a
// composite (compound or sequence) of child triggers. One struct holds every
// kind; Type says which fields are meaningful, and MarshalJSON writes
// exactly that kind's fields in Prefect's shape.
type Trigger struct {
	Type string `json:"type"`
	ID   ID     `json:"id"`

	// Match and MatchRelated select resources (event and metric triggers).
	Match        ResourceSpec `json:"match"`
	MatchRelated RelatedSpecs `json:"match_related"`

	// Event triggers.
	After     []string `json:"after"`
	Expect    []string `json:"expect"`
	ForEach   []string `json:"for_each"`
	Posture   string   `json:"posture"`
	Threshold int      `json:"threshold"`
	// Within is the window of an event trigger (never nil once parsed) or
	// the optional horizon of a composite trigger.
	Within *Duration `json:"within"`

	// Metric triggers.
	Metric *MetricQuery `json:"metric"`

	// Composite triggers.
	Triggers []Trigger `json:"triggers"`
	Require  *Require  `json:"require"`
}

// MarshalJSON writes the fields of the trigger's kind, as Prefect does.
func (t Trigger) MarshalJSON() ([]byte, error) {
	type kv struct {
		k string
		v any
	}
	fields := []kv{{"type", t.Type}, {"id", t.ID}}
	switch t.Type {
	case TriggerCompound, TriggerSequence:
		fields = append(fields, kv{"triggers", nonNilTriggers(t.Triggers)}, kv{"within", t.Within})
		if t.Type == TriggerCompound {
			fields = append(fields, kv{"require", t.Require})
		}
	case TriggerMetric:
		fields = append(fields, kv{"match", t.Match.orEmpty()}, kv{"match_related", t.MatchRelated},
			kv{"posture", PostureMetric}, kv{"metric", t.Metric})
	default:
		within := Duration(0)
		if t.Within != nil {
			within = *t.Within
		}
		fields = append(fields, kv{"match", t.Match.orEmpty()}, kv{"match_related", t.MatchRelated},
			kv{"after", nonNilStrings(t.After)}, kv{"expect", nonNilStrings(t.Expect)}, kv{"for_each", nonNilStrings(t.ForEach)},
			kv{"posture", t.Posture}, kv{"threshold", t.Threshold}, kv{"within", within})
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(f.k))
		b.WriteByte(':')
		v, err := json.Marshal(f.v)
		if err != nil {
			return nil, fmt.Errorf("trigger field %s: %w", f.k, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// AllTriggers returns t and every trigger below it, depth first.
func (t *Trigger) AllTriggers() []*Trigger {
	out := []*Trigger{t}
	for i := range t.Triggers {
		out = append(out, t.Triggers[i].AllTriggers()...)
	}
	return out
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilTriggers(s []Trigger) []Trigger {
	if s == nil {
		return []Trigger{}
	}
	return s
}

// Require is a compound trigger's "require": "any", "all" or a number of
// child firings.
type Require struct {
	// Word is "any" or "all"; empty when N is used.
	Word string
	// N is the number of child firings required when Word is empty.
	N int
}

// MarshalJSON writes the word or the number.
func (r Require) MarshalJSON() ([]byte, error) {
	if r.Word != "" {
		return json.Marshal(r.Word)
	}
	return json.Marshal(r.N)
}

// UnmarshalJSON reads a word or a number.
func (r *Require) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*r = Require{N: n}
		return nil
	}
	var w string
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf(`require must be "any", "all" or an integer`)
	}
	*r = Require{Word: w}
	return nil
}

// LabelValues is the value of one label in a ResourceSpec: one pattern or
// a list of them. It remembers which form it was given in, because Prefect
// answers with the form it received.
type LabelValues struct {
	Values []string
	List   bool
}

// MarshalJSON writes a string or a list, as given.
func (l LabelValues) MarshalJSON() ([]byte, error) {
	if !l.List && len(l.Values) == 1 {
		return json.Marshal(l.Values[0])
	}
	return json.Marshal(nonNilStrings(l.Values))
}

// UnmarshalJSON reads a string or a list of strings.
func (l *LabelValues) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = LabelValues{Values: []string{s}}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("a label's value must be a string or a list of strings")
	}
	*l = LabelValues{Values: list, List: true}
	return nil
}

// ResourceSpec is Prefect's ResourceSpecification: labels a resource must
// carry, each matching one of its patterns (shell-style wildcards; a
// leading '!' negates). An empty spec matches every resource.
type ResourceSpec map[string]LabelValues

func (r ResourceSpec) orEmpty() ResourceSpec {
	if r == nil {
		return ResourceSpec{}
	}
	return r
}

// RelatedSpecs is a trigger's match_related: one ResourceSpec or a list of
// them (each must match some related resource). It keeps the form given.
type RelatedSpecs struct {
	Specs []ResourceSpec
	List  bool
}

// MarshalJSON writes one object or a list, as given.
func (r RelatedSpecs) MarshalJSON() ([]byte, error) {
	if r.List {
		out := make([]ResourceSpec, len(r.Specs))
		for i, s := range r.Specs {
			out[i] = s.orEmpty()
		}
		return json.Marshal(out)
	}
	if len(r.Specs) == 0 {
		return []byte("{}"), nil
	}
	return json.Marshal(r.Specs[0].orEmpty())
}

// UnmarshalJSON reads one object or a list of objects.
func (r *RelatedSpecs) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var list []ResourceSpec
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*r = RelatedSpecs{Specs: list, List: true}
		return nil
	}
	var one ResourceSpec
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	if len(one) == 0 {
		*r = RelatedSpecs{}
		return nil
	}
	*r = RelatedSpecs{Specs: []ResourceSpec{one}}
	return nil
}

// Metric names of a metric trigger (Prefect Cloud's PrefectMetric).
const (
	MetricLateness  = "lateness"
	MetricDuration  = "duration"
	MetricSuccesses = "successes"
)

// MetricQuery is a metric trigger's query: the metric over flow runs in the
// last Range seconds, compared with Threshold by Operator; breaching (or
// resolving) must last FiringFor seconds before the trigger changes state.
type MetricQuery struct {
	Name      string   `json:"name"`
	Threshold float64  `json:"threshold"`
	Operator  string   `json:"operator"`
	Range     Duration `json:"range"`
	FiringFor Duration `json:"firing_for"`
}

// Action types, as Prefect names them.
const (
	ActionDoNothing          = "do-nothing"
	ActionRunDeployment      = "run-deployment"
	ActionPauseDeployment    = "pause-deployment"
	ActionResumeDeployment   = "resume-deployment"
	ActionCancelFlowRun      = "cancel-flow-run"
	ActionDeleteFlowRun      = "delete-flow-run"
	ActionChangeFlowRunState = "change-flow-run-state"
	ActionSuspendFlowRun     = "suspend-flow-run"
	ActionResumeFlowRun      = "resume-flow-run"
	ActionPauseWorkQueue     = "pause-work-queue"
	ActionResumeWorkQueue    = "resume-work-queue"
	ActionPauseWorkPool      = "pause-work-pool"
	ActionResumeWorkPool     = "resume-work-pool"
	ActionPauseAutomation    = "pause-automation"
	ActionResumeAutomation   = "resume-automation"
	ActionSendNotification   = "send-notification"
	ActionCallWebhook        = "call-webhook"
)

// ActionTypes lists every action type in Prefect's order.
var ActionTypes = []string{ActionDoNothing, ActionRunDeployment, ActionPauseDeployment, ActionResumeDeployment,
	ActionCancelFlowRun, ActionDeleteFlowRun, ActionChangeFlowRunState, ActionPauseWorkQueue, ActionResumeWorkQueue,
	ActionSendNotification, ActionCallWebhook, ActionPauseAutomation, ActionResumeAutomation, ActionSuspendFlowRun,
	ActionResumeFlowRun, ActionPauseWorkPool, ActionResumeWorkPool}

// Action is one thing an automation does when it fires. As with Trigger,
// one struct holds every type's fields and MarshalJSON writes the type's.
type Action struct {
	Type string `json:"type"`

	// Source is "selected" (the target's id is given) or "inferred" (from
	// the triggering event) for deployment, work pool, work queue and
	// automation actions.
	Source       string `json:"source"`
	DeploymentID *ID    `json:"deployment_id"`
	WorkPoolID   *ID    `json:"work_pool_id"`
	WorkQueueID  *ID    `json:"work_queue_id"`
	AutomationID *ID    `json:"automation_id"`

	// run-deployment.
	Parameters    json.RawMessage `json:"parameters"`
	JobVariables  json.RawMessage `json:"job_variables"`
	ScheduleAfter Duration        `json:"schedule_after"`

	// change-flow-run-state.
	Name    *string   `json:"name"`
	State   StateType `json:"state"`
	Message *string   `json:"message"`
	Force   bool      `json:"force"`

	// send-notification and call-webhook.
	BlockDocumentID *ID    `json:"block_document_id"`
	Subject         string `json:"subject"`
	Body            string `json:"body"`
	Payload         string `json:"payload"`
}

// MarshalJSON writes the fields of the action's type, as Prefect does.
func (a Action) MarshalJSON() ([]byte, error) {
	var m []any
	add := func(k string, v any) { m = append(m, k, v) }
	add("type", a.Type)
	raw := func(r json.RawMessage) any {
		if len(r) == 0 {
			return nil
		}
		return r
	}
	switch a.Type {
	case ActionRunDeployment:
		add("source", a.Source)
		add("deployment_id", a.DeploymentID)
		add("parameters", raw(a.Parameters))
		add("job_variables", raw(a.JobVariables))
		add("schedule_after", a.ScheduleAfter)
	case ActionPauseDeployment, ActionResumeDeployment:
		add("source", a.Source)
		add("deployment_id", a.DeploymentID)
	case ActionChangeFlowRunState:
		add("name", a.Name)
		add("state", a.State)
		add("message", a.Message)
		add("force", a.Force)
	case ActionPauseWorkQueue, ActionResumeWorkQueue:
		add("source", a.Source)
		add("work_queue_id", a.WorkQueueID)
	case ActionPauseWorkPool, ActionResumeWorkPool:
		add("source", a.Source)
		add("work_pool_id", a.WorkPoolID)
	case ActionPauseAutomation, ActionResumeAutomation:
		add("source", a.Source)
		add("automation_id", a.AutomationID)
	case ActionSendNotification:
		add("block_document_id", a.BlockDocumentID)
		add("subject", a.Subject)
		add("body", a.Body)
	case ActionCallWebhook:
		add("block_document_id", a.BlockDocumentID)
		add("payload", a.Payload)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i < len(m); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(m[i].(string)))
		b.WriteByte(':')
		v, err := json.Marshal(m[i+1])
		if err != nil {
			return nil, fmt.Errorf("action field %s: %w", m[i], err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// AutomationFilter is Prefect's AutomationFilter (POST /automations/filter
// and /count).
type AutomationFilter struct {
	Operator string `json:"operator"`
	ID       *struct {
		Any []ID `json:"any_"`
	} `json:"id"`
	Name *struct {
		Any []string `json:"any_"`
	} `json:"name"`
	Created *struct {
		Before *Time `json:"before_"`
	} `json:"created"`
	Tags *struct {
		Operator string   `json:"operator"`
		All      []string `json:"all_"`
		Any      []string `json:"any_"`
		IsNull   *bool    `json:"is_null_"`
	} `json:"tags"`
}

// AutomationSorts are the sorts POST /automations/filter accepts.
var AutomationSorts = []string{"CREATED_DESC", "UPDATED_DESC", "NAME_ASC", "NAME_DESC"}

// Webhook is an inbound webhook (Prefect Cloud's): calls to /hooks/{slug}
// become events through Template, a Jinja template that renders the event's
// JSON.
type Webhook struct {
	ID          ID     `json:"id" required:"true"`
	Created     Time   `json:"created" required:"true"`
	Updated     Time   `json:"updated" required:"true"`
	Name        string `json:"name" required:"true"`
	Description string `json:"description"`
	Enabled     bool   `json:"enabled"`
	Template    string `json:"template" required:"true"`
	// Slug is the last segment of the webhook's URL (its secret).
	Slug string `json:"slug" required:"true"`
}
