package automations

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// ValidationError is a client mistake in an automation or its input; Field
// names where (a JSON path such as "trigger.triggers[1].within").
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return fmt.Sprintf("field %q: %s", e.Field, e.Msg)
}

func invalidf(field, format string, args ...any) error {
	return &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Input is the body of POST /automations (AutomationCreate) and PUT
// /automations/{id} (AutomationUpdate). Trigger and actions are parsed by
// Spec, which names the offending field of any mistake.
type Input struct {
	Name             string          `json:"name" required:"true"`
	Description      *string         `json:"description"`
	Enabled          *bool           `json:"enabled"`
	Tags             []string        `json:"tags"`
	Trigger          json.RawMessage `json:"trigger" required:"true"`
	Actions          json.RawMessage `json:"actions" required:"true"`
	ActionsOnTrigger json.RawMessage `json:"actions_on_trigger"`
	ActionsOnResolve json.RawMessage `json:"actions_on_resolve"`
	// OwnerResource is only accepted on create.
	OwnerResource *string `json:"owner_resource"`
}

// Spec validates the input with Prefect's rules and returns the
// automation it defines, with fresh trigger ids (Prefect resets them on
// create and replace).
func (in *Input) Spec() (model.AutomationSpec, error) {
	var s model.AutomationSpec
	s.Name = in.Name
	if in.Description != nil {
		s.Description = *in.Description
	}
	s.Enabled = in.Enabled == nil || *in.Enabled
	s.Tags = in.Tags
	if s.Tags == nil {
		s.Tags = []string{}
	}
	t, err := parseTrigger(in.Trigger, "trigger", 0)
	if err != nil {
		return s, err
	}
	s.Trigger = t
	if s.Actions, err = parseActions(in.Actions, "actions", true); err != nil {
		return s, err
	}
	if s.ActionsOnTrigger, err = parseActions(in.ActionsOnTrigger, "actions_on_trigger", false); err != nil {
		return s, err
	}
	if s.ActionsOnResolve, err = parseActions(in.ActionsOnResolve, "actions_on_resolve", false); err != nil {
		return s, err
	}
	if err := checkRunDeploymentLoops(&s); err != nil {
		return s, err
	}
	return s, nil
}

// obj is a JSON object being read field by field with its path for errors.
type obj struct {
	path string
	m    map[string]json.RawMessage
}

func isNull(r json.RawMessage) bool {
	r = bytes.TrimSpace(r)
	return len(r) == 0 || string(r) == "null"
}

func readObj(raw json.RawMessage, path string) (obj, error) {
	var m map[string]json.RawMessage
	if isNull(raw) || json.Unmarshal(raw, &m) != nil || m == nil {
		return obj{}, invalidf(path, "must be an object")
	}
	return obj{path: path, m: m}, nil
}

func (o obj) at(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

func (o obj) has(key string) bool { return !isNull(o.m[key]) }

func (o obj) str(key, def string) (string, error) {
	r, ok := o.m[key]
	if !ok || isNull(r) {
		return def, nil
	}
	var s string
	if json.Unmarshal(r, &s) != nil {
		return "", invalidf(o.at(key), "must be a string")
	}
	return s, nil
}

func (o obj) boolean(key string, def bool) (bool, error) {
	r, ok := o.m[key]
	if !ok || isNull(r) {
		return def, nil
	}
	var b bool
	if json.Unmarshal(r, &b) != nil {
		return false, invalidf(o.at(key), "must be a boolean")
	}
	return b, nil
}

func (o obj) integer(key string, def int) (int, error) {
	r, ok := o.m[key]
	if !ok || isNull(r) {
		return def, nil
	}
	var f float64
	if json.Unmarshal(r, &f) != nil || f != math.Trunc(f) || math.Abs(f) > 1e15 {
		return 0, invalidf(o.at(key), "must be an integer")
	}
	return int(f), nil
}

// stringSet reads a list of strings as Prefect's Set[str]: duplicates
// dropped, first occurrence kept.
func (o obj) stringSet(key string) ([]string, error) {
	r, ok := o.m[key]
	if !ok || isNull(r) {
		return []string{}, nil
	}
	var list []string
	if json.Unmarshal(r, &list) != nil {
		return nil, invalidf(o.at(key), "must be a list of strings")
	}
	out := []string{}
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (o obj) id(key string) (*model.ID, error) {
	r, ok := o.m[key]
	if !ok || isNull(r) {
		return nil, nil
	}
	var id model.ID
	if json.Unmarshal(r, &id) != nil {
		return nil, invalidf(o.at(key), "must be a UUID")
	}
	return &id, nil
}

// duration reads a timedelta as Pydantic does: seconds (a number or a
// numeric string), an ISO 8601 duration ("PT10M") or "[D days, ]HH:MM:SS".
func (o obj) duration(key string) (*model.Duration, error) {
	r, ok := o.m[key]
	if !ok || isNull(r) {
		return nil, nil
	}
	d, err := parseDuration(r)
	if err != nil {
		return nil, invalidf(o.at(key), "%v", err)
	}
	return &d, nil
}

var (
	isoDuration   = regexp.MustCompile(`^(-)?P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)
	clockDuration = regexp.MustCompile(`^(-)?(?:(\d+) days?,? ?)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$`)
)

func parseDuration(r json.RawMessage) (model.Duration, error) {
	var f float64
	if json.Unmarshal(r, &f) == nil {
		if math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 1e12 {
			return 0, errors.New("must be a finite duration")
		}
		return model.Duration(f), nil
	}
	var s string
	if json.Unmarshal(r, &s) != nil {
		return 0, errors.New("must be a duration (seconds, or an ISO 8601 duration such as \"PT10M\")")
	}
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) && math.Abs(v) < 1e12 {
		return model.Duration(v), nil
	}
	num := func(x string) float64 {
		if x == "" {
			return 0
		}
		v, _ := strconv.ParseFloat(x, 64)
		return v
	}
	if m := isoDuration.FindStringSubmatch(s); m != nil && s != "P" && !strings.HasSuffix(s, "T") {
		secs := num(m[2])*7*86400 + num(m[3])*86400 + num(m[4])*3600 + num(m[5])*60 + num(m[6])
		if m[1] != "" {
			secs = -secs
		}
		return model.Duration(secs), nil
	}
	if m := clockDuration.FindStringSubmatch(s); m != nil {
		secs := num(m[2])*86400 + num(m[3])*3600 + num(m[4])*60 + num(m[5])
		if m[1] != "" {
			secs = -secs
		}
		return model.Duration(secs), nil
	}
	return 0, fmt.Errorf("%q is not a duration (seconds, or an ISO 8601 duration such as \"PT10M\")", s)
}

func readResourceSpec(raw json.RawMessage, path string) (model.ResourceSpec, error) {
	if isNull(raw) {
		return model.ResourceSpec{}, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, invalidf(path, "must be an object of labels, each a string or a list of strings")
	}
	out := model.ResourceSpec{}
	for k, v := range m {
		var lv model.LabelValues
		if err := json.Unmarshal(v, &lv); err != nil {
			return nil, invalidf(path+"."+k, "must be a string or a list of strings")
		}
		out[k] = lv
	}
	return out, nil
}

func readRelatedSpecs(raw json.RawMessage, path string) (model.RelatedSpecs, error) {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return model.RelatedSpecs{}, nil
	}
	if raw[0] == '[' {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return model.RelatedSpecs{}, invalidf(path, "must be an object of labels or a list of them")
		}
		out := model.RelatedSpecs{List: true, Specs: []model.ResourceSpec{}}
		for i, item := range list {
			s, err := readResourceSpec(item, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return out, err
			}
			out.Specs = append(out.Specs, s)
		}
		return out, nil
	}
	s, err := readResourceSpec(raw, path)
	if err != nil {
		return model.RelatedSpecs{}, err
	}
	if len(s) == 0 {
		return model.RelatedSpecs{}, nil
	}
	return model.RelatedSpecs{Specs: []model.ResourceSpec{s}}, nil
}

// maxTriggerDepth bounds how deeply composite triggers nest.
const maxTriggerDepth = 8

// triggerType infers a trigger's type as the Prefect client's
// deployment_trigger_discriminator does when "type" is absent.
func triggerType(o obj) (string, error) {
	t, err := o.str("type", "")
	if err != nil {
		return "", err
	}
	if t != "" {
		return t, nil
	}
	posture, _ := o.str("posture", "")
	switch {
	case posture == model.PostureMetric:
		return model.TriggerMetric, nil
	case o.has("triggers") && o.has("require"):
		return model.TriggerCompound, nil
	case o.has("triggers"):
		return model.TriggerSequence, nil
	}
	return model.TriggerEvent, nil
}

func parseTrigger(raw json.RawMessage, path string, depth int) (model.Trigger, error) {
	var t model.Trigger
	if depth > maxTriggerDepth {
		return t, invalidf(path, "composite triggers may nest at most %d levels deep", maxTriggerDepth)
	}
	o, err := readObj(raw, path)
	if err != nil {
		return t, err
	}
	if t.Type, err = triggerType(o); err != nil {
		return t, err
	}
	t.ID = model.NewID()
	switch t.Type {
	case model.TriggerEvent, model.TriggerMetric:
		if t.Match, err = readResourceSpec(o.m["match"], o.at("match")); err != nil {
			return t, err
		}
		if t.MatchRelated, err = readRelatedSpecs(o.m["match_related"], o.at("match_related")); err != nil {
			return t, err
		}
		if t.Type == model.TriggerMetric {
			return t, parseMetric(o, &t)
		}
		return t, parseEventTrigger(o, &t)
	case model.TriggerCompound, model.TriggerSequence:
		var children []json.RawMessage
		if r, ok := o.m["triggers"]; !ok || isNull(r) || json.Unmarshal(r, &children) != nil {
			return t, invalidf(o.at("triggers"), "is required and must be a list of triggers")
		}
		t.Triggers = []model.Trigger{}
		for i, c := range children {
			child, err := parseTrigger(c, fmt.Sprintf("%s[%d]", o.at("triggers"), i), depth+1)
			if err != nil {
				return t, err
			}
			t.Triggers = append(t.Triggers, child)
		}
		if t.Within, err = o.duration("within"); err != nil {
			return t, err
		}
		if t.Within != nil && *t.Within < 0 {
			return t, invalidf(o.at("within"), "must be greater than or equal to 0")
		}
		if t.Type == model.TriggerCompound {
			r, ok := o.m["require"]
			if !ok || isNull(r) {
				return t, invalidf(o.at("require"), `is required ("any", "all" or a number of triggers)`)
			}
			var req model.Require
			if err := json.Unmarshal(r, &req); err != nil {
				return t, invalidf(o.at("require"), `must be "any", "all" or an integer`)
			}
			switch {
			case req.Word == "" && req.N < 1:
				return t, invalidf(o.at("require"), "require must be at least 1")
			case req.Word == "" && req.N > len(t.Triggers):
				return t, invalidf(o.at("require"), "require must be less than or equal to the number of triggers")
			case req.Word != "" && req.Word != "any" && req.Word != "all":
				return t, invalidf(o.at("require"), `must be "any", "all" or an integer`)
			}
			t.Require = &req
		}
		return t, nil
	}
	return t, invalidf(o.at("type"), "%q is not one of event, compound, sequence, metric", t.Type)
}

func parseEventTrigger(o obj, t *model.Trigger) error {
	var err error
	if t.After, err = o.stringSet("after"); err != nil {
		return err
	}
	if t.Expect, err = o.stringSet("expect"); err != nil {
		return err
	}
	if t.ForEach, err = o.stringSet("for_each"); err != nil {
		return err
	}
	if t.Posture, err = o.str("posture", ""); err != nil {
		return err
	}
	switch t.Posture {
	case model.PostureReactive, model.PostureProactive:
	case "":
		return invalidf(o.at("posture"), "is required (Reactive or Proactive)")
	default:
		return invalidf(o.at("posture"), "%q is not one of Reactive, Proactive", t.Posture)
	}
	if t.Threshold, err = o.integer("threshold", 1); err != nil {
		return err
	}
	if r, ok := o.m["within"]; ok && isNull(r) {
		return invalidf(o.at("within"), "`within` should be a valid timedelta")
	}
	within, err := o.duration("within")
	if err != nil {
		return err
	}
	w := model.Duration(0)
	if within != nil {
		w = *within
	}
	if w < 0 {
		return invalidf(o.at("within"), "must be greater than or equal to 0")
	}
	if t.Posture == model.PostureProactive {
		if w == 0 {
			w = 10
		} else if w < 10 {
			return invalidf(o.at("within"), "`within` for Proactive triggers must be greater than or equal to 10 seconds")
		}
	}
	t.Within = &w
	return nil
}

// Metric operators, as Prefect Cloud writes them.
var metricOperators = []string{"<", "<=", ">", ">="}

func parseMetric(o obj, t *model.Trigger) error {
	posture, err := o.str("posture", model.PostureMetric)
	if err != nil {
		return err
	}
	if posture != model.PostureMetric {
		return invalidf(o.at("posture"), "must be Metric for a metric trigger")
	}
	t.Posture = model.PostureMetric
	mo, err := readObj(o.m["metric"], o.at("metric"))
	if err != nil {
		return invalidf(o.at("metric"), "is required: {name, threshold, operator, range, firing_for}")
	}
	var q model.MetricQuery
	if q.Name, err = mo.str("name", ""); err != nil {
		return err
	}
	if !slices.Contains([]string{model.MetricLateness, model.MetricDuration, model.MetricSuccesses}, q.Name) {
		return invalidf(mo.at("name"), "%q is not one of lateness, duration, successes", q.Name)
	}
	r, ok := mo.m["threshold"]
	if !ok || isNull(r) || json.Unmarshal(r, &q.Threshold) != nil {
		return invalidf(mo.at("threshold"), "is required and must be a number")
	}
	if q.Operator, err = mo.str("operator", ""); err != nil {
		return err
	}
	if !slices.Contains(metricOperators, q.Operator) {
		return invalidf(mo.at("operator"), "%q is not one of <, <=, >, >=", q.Operator)
	}
	for _, f := range []struct {
		key string
		dst *model.Duration
	}{{"range", &q.Range}, {"firing_for", &q.FiringFor}} {
		d, err := mo.duration(f.key)
		if err != nil {
			return err
		}
		*f.dst = 300
		if d != nil {
			if *d < 300 {
				return invalidf(mo.at(f.key), "The minimum range is 300 seconds (5 minutes)")
			}
			*f.dst = *d
		}
	}
	t.Metric = &q
	return nil
}

func parseActions(raw json.RawMessage, path string, required bool) ([]model.Action, error) {
	out := []model.Action{}
	if isNull(raw) {
		if required {
			return nil, invalidf(path, "is required")
		}
		return out, nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil, invalidf(path, "must be a list of actions")
	}
	for i, item := range list {
		a, err := parseAction(item, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func parseAction(raw json.RawMessage, path string) (model.Action, error) {
	var a model.Action
	o, err := readObj(raw, path)
	if err != nil {
		return a, err
	}
	if a.Type, err = o.str("type", ""); err != nil {
		return a, err
	}
	if !slices.Contains(model.ActionTypes, a.Type) {
		if a.Type == "" {
			return a, invalidf(o.at("type"), "is required (one of %s)", strings.Join(model.ActionTypes, ", "))
		}
		return a, invalidf(o.at("type"), "%q is not one of %s", a.Type, strings.Join(model.ActionTypes, ", "))
	}
	selected := func(key, what string) (*model.ID, error) {
		src, err := o.str("source", "selected")
		if err != nil {
			return nil, err
		}
		if src != "selected" && src != "inferred" {
			return nil, invalidf(o.at("source"), "%q is not one of selected, inferred", src)
		}
		a.Source = src
		id, err := o.id(key)
		if err != nil {
			return nil, err
		}
		if (src == "selected") != (id != nil) {
			if id != nil {
				return nil, invalidf(o.at(key), "%s is not allowed", key)
			}
			return nil, invalidf(o.at(key), "%s is required", key)
		}
		return id, nil
	}
	switch a.Type {
	case model.ActionRunDeployment, model.ActionPauseDeployment, model.ActionResumeDeployment:
		if a.DeploymentID, err = selected("deployment_id", "deployment"); err != nil {
			return a, err
		}
		if a.Type == model.ActionRunDeployment {
			for _, f := range []struct {
				key string
				dst *json.RawMessage
			}{{"parameters", &a.Parameters}, {"job_variables", &a.JobVariables}} {
				r := o.m[f.key]
				if isNull(r) {
					continue
				}
				var m map[string]any
				if json.Unmarshal(r, &m) != nil {
					return a, invalidf(o.at(f.key), "must be an object")
				}
				*f.dst = bytes.TrimSpace(r)
			}
			if len(a.Parameters) > 0 {
				if err := validateParameters(a.Parameters, o.at("parameters")); err != nil {
					return a, err
				}
			}
			d, err := o.duration("schedule_after")
			if err != nil {
				return a, err
			}
			if d != nil {
				if *d < 0 {
					return a, invalidf(o.at("schedule_after"), "must be greater than or equal to 0")
				}
				a.ScheduleAfter = *d
			}
		}
	case model.ActionPauseWorkPool, model.ActionResumeWorkPool:
		a.WorkPoolID, err = selected("work_pool_id", "work pool")
	case model.ActionPauseWorkQueue, model.ActionResumeWorkQueue:
		a.WorkQueueID, err = selected("work_queue_id", "work queue")
	case model.ActionPauseAutomation, model.ActionResumeAutomation:
		a.AutomationID, err = selected("automation_id", "automation")
	case model.ActionChangeFlowRunState:
		st, err := o.str("state", "")
		if err != nil {
			return a, err
		}
		a.State = model.StateType(st)
		if !a.State.Valid() {
			if st == "" {
				return a, invalidf(o.at("state"), "is required (a state type such as FAILED)")
			}
			return a, invalidf(o.at("state"), "%q is not a state type", st)
		}
		for _, f := range []struct {
			key string
			dst **string
		}{{"name", &a.Name}, {"message", &a.Message}} {
			if o.has(f.key) {
				v, err := o.str(f.key, "")
				if err != nil {
					return a, err
				}
				*f.dst = &v
			}
		}
		if a.Force, err = o.boolean("force", false); err != nil {
			return a, err
		}
	case model.ActionSendNotification, model.ActionCallWebhook:
		id, err := o.id("block_document_id")
		if err != nil {
			return a, err
		}
		if id == nil {
			return a, invalidf(o.at("block_document_id"), "is required")
		}
		a.BlockDocumentID = id
		if a.Type == model.ActionSendNotification {
			if a.Subject, err = o.str("subject", "Prefect automated notification"); err != nil {
				return a, err
			}
			if !o.has("body") {
				return a, invalidf(o.at("body"), "is required")
			}
			if a.Body, err = o.str("body", ""); err != nil {
				return a, err
			}
			for _, f := range []struct{ key, v string }{{"subject", a.Subject}, {"body", a.Body}} {
				if err := ValidateTemplate(f.v); err != nil {
					return a, invalidf(o.at(f.key), "%q is not a valid template: %v", f.key, err)
				}
			}
		} else {
			// Older clients send the payload as an object; Prefect keeps
			// it as indented JSON text.
			if r := bytes.TrimSpace(o.m["payload"]); len(r) > 0 && r[0] == '{' {
				var m map[string]any
				if json.Unmarshal(r, &m) != nil {
					return a, invalidf(o.at("payload"), "must be a string")
				}
				b, _ := json.MarshalIndent(m, "", "  ")
				a.Payload = string(b)
			} else if a.Payload, err = o.str("payload", ""); err != nil {
				return a, err
			}
			if a.Payload != "" {
				if err := ValidateTemplate(a.Payload); err != nil {
					return a, invalidf(o.at("payload"), "'payload' is not a valid template: %v", err)
				}
			}
		}
	}
	return a, err
}

// checkRunDeploymentLoops refuses, as Prefect does, a reactive automation on
// flow-run state events that would run a deployment whose runs feed the
// same trigger forever.
func checkRunDeploymentLoops(s *model.AutomationSpec) error {
	t := &s.Trigger
	if !s.Enabled || t.Type != model.TriggerEvent || t.Posture != model.PostureReactive {
		return nil
	}
	flowRunEvents := false
	for _, e := range t.Expect {
		if strings.HasPrefix(e, "prefect.flow-run.") {
			flowRunEvents = true
		}
	}
	if !flowRunEvents {
		return nil
	}
	problematic := false
	for _, e := range t.Expect {
		switch e {
		case "prefect.flow-run.Scheduled", "prefect.flow-run.Pending", "prefect.flow-run.Running", "prefect.flow-run.*":
			problematic = true
		}
	}
	if !problematic {
		return nil
	}
	for i, a := range s.Actions {
		if a.Type != model.ActionRunDeployment {
			continue
		}
		if a.Source == "inferred" {
			return invalidf(fmt.Sprintf("actions[%d]", i), "Running an inferred deployment from a flow run state change event will lead to an infinite loop of flow runs.  Please choose a specific deployment and add additional filtering labels to the match or match_related for this automation's trigger.")
		}
		if matchesEveryOfKind(t.Match, "prefect.flow-run") {
			related := t.MatchRelated.Specs
			if len(related) == 0 {
				related = []model.ResourceSpec{{}}
			}
			for _, r := range related {
				if matchesEveryOfKind(r, "prefect.flow-run") {
					return invalidf(fmt.Sprintf("actions[%d]", i), "Running a selected deployment from a flow run state change event may lead to an infinite loop of flow runs.  Please include additional filtering labels on either match or match_related to narrow down which flow runs will trigger this automation to exclude flow runs from the deployment you've selected.")
				}
			}
		}
	}
	return nil
}

func matchesEveryOfKind(s model.ResourceSpec, kind string) bool {
	if len(s) == 0 {
		return true
	}
	if len(s) == 1 {
		if v, ok := s["prefect.resource.id"]; ok {
			return slices.Contains(v.Values, kind+".*")
		}
	}
	return false
}

// RelatedResources are the resources an automation acts on that Prefect
// relates it to: the deployments its run-deployment actions select.
func RelatedResources(s *model.AutomationSpec) []string {
	var out []string
	for _, a := range s.Actions {
		if a.Type == model.ActionRunDeployment && a.Source == "selected" && a.DeploymentID != nil {
			r := "prefect.deployment." + a.DeploymentID.String()
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// durationOf converts a trigger duration.
func durationOf(d *model.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.Std()
}
