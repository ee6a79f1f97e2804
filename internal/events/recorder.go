package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

const (
	taskRunEventPrefix   = "prefect.task-run."
	taskRunResourcePfx   = "prefect.task-run."
	flowRunResourcePfx   = "prefect.flow-run."
	labelOrchestration   = "prefect.orchestration"
	orchestrationClient  = "client"
	labelResourceName    = "prefect.resource.name"
	relatedRoleFlowRun   = "flow-run"
	errNotTaskRunPayload = "task-run event"
)

// IsClientTaskRunEvent reports whether the recorder turns e into a task-run
// write: its name is prefect.task-run.<State> and its resource is labelled
// prefect.orchestration=client (task runs orchestrated by the Python client,
// which exist on the server only through these events).
func IsClientTaskRunEvent(e *model.Event) bool {
	return strings.HasPrefix(e.Event, taskRunEventPrefix) && e.Resource[labelOrchestration] == orchestrationClient
}

// taskRunPayload is the part of a task-run event payload the recorder reads.
type taskRunPayload struct {
	ValidatedState json.RawMessage `json:"validated_state"`
	TaskRun        json.RawMessage `json:"task_run"`
}

// payloadState is validated_state as the client sends it.
type payloadState struct {
	Type         model.StateType    `json:"type"`
	Name         string             `json:"name"`
	Message      *string            `json:"message"`
	Data         json.RawMessage    `json:"data"`
	StateDetails model.StateDetails `json:"state_details"`
}

// payloadTaskRun is payload.task_run: the task-run columns.
type payloadTaskRun struct {
	Name                   string                          `json:"name"`
	TaskKey                string                          `json:"task_key"`
	DynamicKey             string                          `json:"dynamic_key"`
	CacheKey               *string                         `json:"cache_key"`
	CacheExpiration        *model.Time                     `json:"cache_expiration"`
	TaskVersion            *string                         `json:"task_version"`
	EmpiricalPolicy        *model.TaskRunPolicy            `json:"empirical_policy"`
	Tags                   []string                        `json:"tags"`
	Labels                 model.Labels                    `json:"labels"`
	TaskInputs             map[string][]model.TaskRunInput `json:"task_inputs"`
	RunCount               int                             `json:"run_count"`
	FlowRunRunCount        int                             `json:"flow_run_run_count"`
	ExpectedStartTime      *model.Time                     `json:"expected_start_time"`
	NextScheduledStartTime *model.Time                     `json:"next_scheduled_start_time"`
	StartTime              *model.Time                     `json:"start_time"`
	EndTime                *model.Time                     `json:"end_time"`
	TotalRunTime           model.Duration                  `json:"total_run_time"`
	EstimatedRunTime       model.Duration                  `json:"estimated_run_time"`
	// EstimatedStartTimeDelta is left out: the server derives it.
}

// typedTaskRunPayload is taskRunPayload decoded in the same pass as the
// payload (the usual, well-formed event).
type typedTaskRunPayload struct {
	ValidatedState *payloadState   `json:"validated_state"`
	TaskRun        *payloadTaskRun `json:"task_run"`
}

// decodeTaskRunPayload reads validated_state and task_run from an event's
// payload. A well-formed payload is decoded in one pass; one with a field of
// an unexpected type is decoded again leniently (decodeLenient), keeping the
// fields that fit, so both give the same result where the first succeeds.
func decodeTaskRunPayload(payload json.RawMessage) (payloadState, payloadTaskRun, error) {
	var ps payloadState
	var tr payloadTaskRun
	var typed typedTaskRunPayload
	if json.Unmarshal(orNull(payload), &typed) == nil {
		if typed.ValidatedState != nil {
			ps = *typed.ValidatedState
		}
		if typed.TaskRun != nil {
			tr = *typed.TaskRun
		}
		return ps, tr, nil
	}
	var p taskRunPayload
	if err := json.Unmarshal(orNull(payload), &p); err != nil {
		return ps, tr, fmt.Errorf("%s: payload: %w", errNotTaskRunPayload, err)
	}
	if err := decodeLenient(p.ValidatedState, &ps); err != nil {
		return ps, tr, fmt.Errorf("%s: validated_state: %w", errNotTaskRunPayload, err)
	}
	if err := decodeLenient(p.TaskRun, &tr); err != nil {
		return ps, tr, fmt.Errorf("%s: task_run: %w", errNotTaskRunPayload, err)
	}
	return ps, tr, nil
}

// decodeLenient decodes raw into dst in one pass and, if that fails because
// one field has an unexpected type, field by field so that the fields that do
// decode are kept. It fails only when raw is not a JSON object.
func decodeLenient(raw json.RawMessage, dst any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err == nil {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return fmt.Errorf("not an object: %w", err)
	}
	// A field that does not fit keeps its zero value: each one is tried on
	// a scratch value first, because a failed decode can leave it half set.
	typ := reflect.TypeOf(dst).Elem()
	reflect.ValueOf(dst).Elem().SetZero() // undo the failed full decode
	for k, v := range fields {
		one, err := json.Marshal(map[string]json.RawMessage{k: v})
		if err != nil {
			continue
		}
		if json.Unmarshal(one, reflect.New(typ).Interface()) == nil {
			_ = json.Unmarshal(one, dst)
		}
	}
	return nil
}

// TaskRunRecordFromEvent converts a client task-run event into the store's
// task-run write, following Prefect's task-run recorder:
//   - the run id is the uuid in the resource id "prefect.task-run.<uuid>";
//   - flow_run_id comes from the first related resource of role flow-run;
//   - the other columns come from payload.task_run;
//   - the state is payload.validated_state with id = event id and
//     timestamp = event occurred, and is copied onto the run.
//
// Odd or missing payload fields are tolerated (they stay zero); an error is
// returned only when the event cannot identify a run or a state type.
func TaskRunRecordFromEvent(e *model.Event) (store.TaskRunRecord, error) {
	var rec store.TaskRunRecord
	rid, ok := strings.CutPrefix(e.ResourceID(), taskRunResourcePfx)
	if !ok {
		return rec, fmt.Errorf("%s: resource id %q is not a task run", errNotTaskRunPayload, e.ResourceID())
	}
	runID, err := model.ParseID(rid)
	if err != nil {
		return rec, fmt.Errorf("%s: resource id %q: %w", errNotTaskRunPayload, e.ResourceID(), err)
	}
	ps, tr, err := decodeTaskRunPayload(e.Payload)
	if err != nil {
		return rec, err
	}
	if !ps.Type.Valid() {
		return rec, errors.New(errNotTaskRunPayload + ": validated_state has no valid type")
	}

	var flowRunID *model.ID
	if fr, ok := e.RelatedOfRole(relatedRoleFlowRun); ok {
		if s, ok := strings.CutPrefix(fr, flowRunResourcePfx); ok {
			if id, err := model.ParseID(s); err == nil {
				flowRunID = &id
			}
		}
	}

	st := model.State{
		ID:           e.ID,
		Type:         ps.Type,
		Name:         ps.Name,
		Timestamp:    e.Occurred,
		Message:      ps.Message,
		Data:         ps.Data,
		StateDetails: ps.StateDetails,
	}
	if st.Name == "" {
		st.Name = ps.Type.DefaultName()
	}
	if len(st.Data) == 0 || string(st.Data) == "null" {
		st.Data = nil
	}
	// The client leaves these out of the payload; the API returns them.
	st.StateDetails.TaskRunID = &runID
	if st.StateDetails.FlowRunID == nil {
		st.StateDetails.FlowRunID = flowRunID
	}

	name := tr.Name
	if name == "" {
		name = e.Resource[labelResourceName]
	}
	run := model.TaskRun{
		ID:                     runID,
		Created:                e.Occurred,
		Updated:                e.Received,
		Name:                   name,
		FlowRunID:              flowRunID,
		TaskKey:                tr.TaskKey,
		DynamicKey:             tr.DynamicKey,
		CacheKey:               tr.CacheKey,
		CacheExpiration:        tr.CacheExpiration,
		TaskVersion:            tr.TaskVersion,
		Tags:                   tr.Tags,
		Labels:                 tr.Labels,
		TaskInputs:             tr.TaskInputs,
		RunCount:               tr.RunCount,
		FlowRunRunCount:        tr.FlowRunRunCount,
		ExpectedStartTime:      tr.ExpectedStartTime,
		NextScheduledStartTime: tr.NextScheduledStartTime,
		StartTime:              tr.StartTime,
		EndTime:                tr.EndTime,
		TotalRunTime:           tr.TotalRunTime,
		EstimatedRunTime:       tr.EstimatedRunTime,
	}
	if tr.EmpiricalPolicy != nil {
		run.EmpiricalPolicy = *tr.EmpiricalPolicy
	}
	if run.Tags == nil {
		run.Tags = []string{}
	}
	if run.Labels == nil {
		run.Labels = model.Labels{}
	}
	if run.TaskInputs == nil {
		run.TaskInputs = map[string][]model.TaskRunInput{}
	}
	stCopy := st
	run.State = &stCopy
	run.StateID, run.StateType, run.StateName = &stCopy.ID, &stCopy.Type, &stCopy.Name
	rec.Run = run
	rec.State = st
	return rec, nil
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}
