package model

import (
	"encoding/json"
	"reflect"
	"strings"
)

// StateType is the coarse kind of a run state; the orchestration rules are
// written against types, while names (Late, Retrying, Cached…) refine them.
type StateType string

// The state types of the Prefect 3 contract.
const (
	StateScheduled  StateType = "SCHEDULED"
	StatePending    StateType = "PENDING"
	StateRunning    StateType = "RUNNING"
	StateCompleted  StateType = "COMPLETED"
	StateFailed     StateType = "FAILED"
	StateCancelled  StateType = "CANCELLED"
	StateCrashed    StateType = "CRASHED"
	StatePaused     StateType = "PAUSED"
	StateCancelling StateType = "CANCELLING"
)

// StateTypes lists every state type, in lifecycle order.
var StateTypes = []StateType{StateScheduled, StatePending, StateRunning, StateCompleted, StateFailed, StateCancelled, StateCrashed, StatePaused, StateCancelling}

// Valid reports whether t is one of StateTypes.
func (t StateType) Valid() bool {
	for _, v := range StateTypes {
		if v == t {
			return true
		}
	}
	return false
}

// Terminal reports whether a run in this state is finished for good (until a
// retry or rerun moves it again).
func (t StateType) Terminal() bool {
	return t == StateCompleted || t == StateFailed || t == StateCancelled || t == StateCrashed
}

// DefaultName is the state name used when a proposal carries none: the type
// in title case ("CANCELLING" → "Cancelling").
func (t StateType) DefaultName() string {
	s := strings.ToLower(string(t))
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// UnmarshalJSON rejects unknown state types with a field-naming error.
func (t *StateType) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil && StateType(s).Valid() {
		*t = StateType(s)
		return nil
	}
	return &json.UnmarshalTypeError{Value: describe(b) + " (want one of SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, CRASHED, PAUSED, CANCELLING)", Type: reflect.TypeFor[StateType]()}
}

// StateDetails carries the structured extras of a state. Unknown keys sent by
// newer clients are dropped.
type StateDetails struct {
	FlowRunID                    *ID               `json:"flow_run_id"`
	TaskRunID                    *ID               `json:"task_run_id"`
	ChildFlowRunID               *ID               `json:"child_flow_run_id"`
	ScheduledTime                *Time             `json:"scheduled_time"`
	CacheKey                     *string           `json:"cache_key"`
	CacheExpiration              *Time             `json:"cache_expiration"`
	Deferred                     *bool             `json:"deferred"`
	UntrackableResult            bool              `json:"untrackable_result"`
	PauseTimeout                 *Time             `json:"pause_timeout"`
	PauseReschedule              bool              `json:"pause_reschedule"`
	PauseKey                     *string           `json:"pause_key"`
	RunInputKeyset               map[string]string `json:"run_input_keyset" nullable:"true"`
	RefreshCache                 *bool             `json:"refresh_cache"`
	Retriable                    *bool             `json:"retriable"`
	TransitionID                 *ID               `json:"transition_id"`
	TaskParametersID             *ID               `json:"task_parameters_id"`
	Traceparent                  *string           `json:"traceparent"`
	DeploymentConcurrencyLeaseID *ID               `json:"deployment_concurrency_lease_id"`
}

// State is one entry of a run's state history.
type State struct {
	ID           ID              `json:"id"`
	Type         StateType       `json:"type"`
	Name         string          `json:"name"`
	Timestamp    Time            `json:"timestamp"`
	Message      *string         `json:"message"`
	Data         json.RawMessage `json:"data"`
	StateDetails StateDetails    `json:"state_details"`
}

// StateCreate is a proposed state as clients send it.
type StateCreate struct {
	Type         StateType       `json:"type" required:"true"`
	Name         *string         `json:"name"`
	Message      *string         `json:"message"`
	Data         json.RawMessage `json:"data"`
	StateDetails StateDetails    `json:"state_details"`
	Timestamp    *Time           `json:"timestamp"`
	ID           *ID             `json:"id"`
}

// ToState turns a proposal into a State with a fresh id, the default name if
// none was given, and ts as its timestamp (unless the proposal carries one).
func (c StateCreate) ToState(ts Time) State {
	s := State{ID: NewIDv7(), Type: c.Type, Message: c.Message, Data: c.Data, StateDetails: c.StateDetails, Timestamp: ts}
	if c.Name != nil && *c.Name != "" {
		s.Name = *c.Name
	} else {
		s.Name = c.Type.DefaultName()
	}
	if c.Timestamp != nil {
		s.Timestamp = *c.Timestamp
	}
	if c.ID != nil {
		s.ID = *c.ID
	}
	if len(s.Data) == 0 {
		s.Data = nil
	}
	return s
}

// HasPersistedData reports whether the state's data is a persisted result
// reference (anything other than null or an "unpersisted" marker), which the
// orchestration rules must never lose.
func (s *State) HasPersistedData() bool {
	if s == nil || len(s.Data) == 0 || string(s.Data) == "null" {
		return false
	}
	var probe struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(s.Data, &probe) == nil && probe.Type == "unpersisted" {
		return false
	}
	return true
}

// SetStateStatus is the verdict of the orchestration policy on a proposal.
type SetStateStatus string

// The possible verdicts.
const (
	StatusAccept SetStateStatus = "ACCEPT"
	StatusReject SetStateStatus = "REJECT"
	StatusAbort  SetStateStatus = "ABORT"
	StatusWait   SetStateStatus = "WAIT"
)

// OrchestrationDetails explains a verdict; Type is accept_details,
// reject_details, abort_details or wait_details.
type OrchestrationDetails struct {
	Type         string `json:"type"`
	Reason       string `json:"reason,omitempty"`
	DelaySeconds *int   `json:"delay_seconds,omitempty"`
}

// OrchestrationResult is the response body of set_state.
type OrchestrationResult struct {
	State   *State               `json:"state"`
	Status  SetStateStatus       `json:"status"`
	Details OrchestrationDetails `json:"details"`
}

// SetStateRequest is the body of set_state.
type SetStateRequest struct {
	State StateCreate `json:"state" required:"true"`
	Force bool        `json:"force"`
	// IfStateID (Baton's extension; Prefect clients never send it) applies
	// the proposal only while the run is still in that state, and answers
	// ABORT otherwise. Baton's worker claims a run with the state its poll
	// saw, so a run that another worker claimed and finished meanwhile is
	// not moved from its terminal state back to PENDING and run again
	// (Prefect's policy lets a COMPLETED run without a persisted result, or
	// a FAILED one, go to PENDING).
	IfStateID *ID `json:"if_state_id,omitempty"`
}
