package model

// FlowRunInput is a key/value input of a flow run: the schema a paused run
// waits for, the input that resumed it, or a message sent to a running flow
// (Prefect's send_input/receive_input). Value is the JSON text as sent.
type FlowRunInput struct {
	ID        ID      `json:"id"`
	Created   Time    `json:"created"`
	Updated   Time    `json:"updated"`
	FlowRunID ID      `json:"flow_run_id"`
	Key       string  `json:"key"`
	Value     string  `json:"value"`
	Sender    *string `json:"sender"`
}

// SavedSearchFilter is one filter of a saved search, as the UI stores it.
type SavedSearchFilter struct {
	Object    string `json:"object" required:"true"`
	Property  string `json:"property" required:"true"`
	Type      string `json:"type" required:"true"`
	Operation string `json:"operation" required:"true"`
	Value     any    `json:"value"`
}

// SavedSearch is a named set of filters the UI can reapply.
type SavedSearch struct {
	ID      ID                  `json:"id"`
	Created Time                `json:"created"`
	Updated Time                `json:"updated"`
	Name    string              `json:"name"`
	Filters []SavedSearchFilter `json:"filters"`
}

// ObservedState is a state type/name pair found in the retained state
// histories of flow and task runs, with its first and last timestamps.
type ObservedState struct {
	StateType string `json:"state_type"`
	StateName string `json:"state_name"`
	FirstSeen Time   `json:"first_seen"`
	LastSeen  Time   `json:"last_seen"`
}
