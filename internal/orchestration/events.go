package orchestration

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// tightTiming bounds how far apart two state changes may be for the second
// event to name the first in "follows": beyond it the order is unambiguous
// and consumers must not wait for a predecessor they may never see.
const tightTiming = 5 * time.Minute

// maxRelated caps an event's related resources (Prefect's default
// PREFECT_EVENTS_MAXIMUM_RELATED_RESOURCES), leaving one slot for the
// creator.
const maxRelated = 500

// maxStateMessage is where state messages are cut in event labels and
// payloads, so a huge error message cannot blow up an event.
const maxStateMessage = 100_000

// statePayload is the short form of a state in an event payload.
type statePayload struct {
	Type            model.StateType `json:"type"`
	Name            string          `json:"name,omitempty"`
	Message         string          `json:"message,omitempty"`
	PauseReschedule string          `json:"pause_reschedule,omitempty"`
}

func payloadOf(s *model.State) *statePayload {
	if s == nil {
		return nil
	}
	p := &statePayload{Type: s.Type, Name: s.Name, Message: truncate(deref(s.Message))}
	if s.Type == model.StatePaused {
		p.PauseReschedule = strconv.FormatBool(s.StateDetails.PauseReschedule)
	}
	return p
}

type intended struct {
	From *model.StateType `json:"from"`
	To   model.StateType  `json:"to"`
}

type stateChangePayload struct {
	Intended       intended      `json:"intended"`
	InitialState   *statePayload `json:"initial_state"`
	ValidatedState *statePayload `json:"validated_state"`
}

func changePayload(initial, validated *model.State) json.RawMessage {
	p := stateChangePayload{
		Intended:       intended{To: validated.Type},
		InitialState:   payloadOf(initial),
		ValidatedState: payloadOf(validated),
	}
	if initial != nil {
		from := initial.Type
		p.Intended.From = &from
	}
	b, err := json.Marshal(p)
	if err != nil {
		// Only strings and booleans: marshalling cannot fail.
		panic(err)
	}
	return b
}

// stateLabels are the prefect.state-* labels of a run resource.
func stateLabels(res map[string]string, s *model.State, runCount int) {
	res["prefect.run-count"] = strconv.Itoa(runCount)
	res["prefect.state-message"] = truncate(deref(s.Message))
	res["prefect.state-name"] = s.Name
	res["prefect.state-timestamp"] = s.Timestamp.UTC().Format(model.TimeLayout)
	res["prefect.state-type"] = string(s.Type)
}

// follows names the previous state when the two changes are close in time.
func follows(initial *model.State, occurred model.Time) *model.ID {
	if initial == nil {
		return nil
	}
	gap := occurred.Sub(initial.Timestamp.Time)
	if gap <= -tightTiming || gap >= tightTiming {
		return nil
	}
	id := initial.ID
	return &id
}

// flowRunStateEvent is the prefect.flow-run.<Name> event of a written
// flow-run state (InstrumentFlowRunStateTransitions): its id is the state's,
// so the state history and the event stream agree and a replayed write
// deduplicates.
func flowRunStateEvent(in *FlowRunInput, run *model.FlowRun, initial, validated *model.State) model.Event {
	res := map[string]string{
		"prefect.resource.id":   "prefect.flow-run." + run.ID.String(),
		"prefect.resource.name": run.Name,
	}
	stateLabels(res, validated, run.RunCount)

	var related []map[string]string
	tags := slices.Clone(run.Tags)
	add := func(kind string, id model.ID, name string) map[string]string {
		r := map[string]string{
			"prefect.resource.id":   "prefect." + kind + "." + id.String(),
			"prefect.resource.role": kind,
		}
		if name != "" {
			r["prefect.resource.name"] = name
		}
		related = append(related, r)
		return r
	}
	rel := in.Related
	add("flow", run.FlowID, rel.FlowName)
	tags = append(tags, rel.FlowTags...)
	if run.DeploymentID != nil {
		add("deployment", *run.DeploymentID, rel.DeploymentName)
		tags = append(tags, rel.DeploymentTags...)
	}
	if run.WorkQueueID != nil {
		add("work-queue", *run.WorkQueueID, deref(run.WorkQueueName))
	}
	if run.WorkPoolID != nil {
		r := add("work-pool", *run.WorkPoolID, deref(run.WorkPoolName))
		if rel.WorkPoolType != "" {
			r["prefect.work-pool.type"] = rel.WorkPoolType
		}
	}
	if run.ParentTaskRunID != nil {
		name := ""
		if in.ParentTaskRun != nil {
			name = in.ParentTaskRun.Name
			tags = append(tags, in.ParentTaskRun.Tags...)
		}
		add("task-run", *run.ParentTaskRunID, name)
	}
	related = appendTags(related, tags)
	if cb := run.CreatedBy; cb != nil && cb.ID != nil && (cb.Type == "DEPLOYMENT" || cb.Type == "AUTOMATION") {
		kind := "deployment"
		if cb.Type == "AUTOMATION" {
			kind = "automation"
		}
		r := map[string]string{"prefect.resource.id": "prefect." + kind + "." + cb.ID.String(), "prefect.resource.role": "creator"}
		if cb.DisplayValue != "" {
			r["prefect.resource.name"] = cb.DisplayValue
		}
		related = append(related, r)
	}

	return model.Event{
		ID:       validated.ID,
		Occurred: validated.Timestamp,
		Event:    "prefect.flow-run." + validated.Name,
		Resource: res,
		Related:  related,
		Payload:  changePayload(initial, validated),
		Follows:  follows(initial, validated.Timestamp),
		Received: model.NewTime(in.Now),
	}
}

// taskRunStateEvent is the prefect.task-run.<Name> event of a task-run state
// written by the server. It is labelled prefect.orchestration=server: the
// task-run recorder only replays client-orchestrated events.
func taskRunStateEvent(run *model.TaskRun, initial, validated *model.State, now time.Time) model.Event {
	res := map[string]string{
		"prefect.resource.id":   "prefect.task-run." + run.ID.String(),
		"prefect.resource.name": run.Name,
		"prefect.orchestration": "server",
	}
	stateLabels(res, validated, run.RunCount)
	var related []map[string]string
	if run.FlowRunID != nil {
		related = append(related, map[string]string{
			"prefect.resource.id":   "prefect.flow-run." + run.FlowRunID.String(),
			"prefect.resource.role": "flow-run",
		})
	}
	related = appendTags(related, run.Tags)
	return model.Event{
		ID:       validated.ID,
		Occurred: validated.Timestamp,
		Event:    "prefect.task-run." + validated.Name,
		Resource: res,
		Related:  related,
		Payload:  changePayload(initial, validated),
		Follows:  follows(initial, validated.Timestamp),
		Received: model.NewTime(now),
	}
}

// appendTags adds one tag resource per distinct tag, sorted, within the
// related-resource cap.
func appendTags(related []map[string]string, tags []string) []map[string]string {
	tags = slices.Clone(tags)
	slices.Sort(tags)
	tags = slices.Compact(tags)
	room := max(0, maxRelated-len(related)-1)
	if len(tags) > room {
		tags = tags[:room]
	}
	for _, t := range tags {
		if t == "" {
			continue
		}
		related = append(related, map[string]string{"prefect.resource.id": "prefect.tag." + t, "prefect.resource.role": "tag"})
	}
	return related
}

func truncate(s string) string {
	if len(s) <= maxStateMessage {
		return s
	}
	return s[:maxStateMessage]
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
