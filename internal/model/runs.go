package model

import "encoding/json"

// Labels are flat key/value annotations on flows and runs (values are
// strings, numbers or booleans).
type Labels map[string]any

// Workspace identifies the tenant every row belongs to.
type Workspace struct {
	ID        ID     `json:"id"`
	AccountID ID     `json:"account_id"`
	Name      string `json:"name"`
	Handle    string `json:"handle"`
}

// Flow is a named piece of workflow code; flow runs belong to it.
type Flow struct {
	ID      ID       `json:"id"`
	Created Time     `json:"created"`
	Updated Time     `json:"updated"`
	Name    string   `json:"name"`
	Tags    []string `json:"tags"`
	Labels  Labels   `json:"labels"`
}

// FlowCreate is the body of POST /flows/ (an upsert by name).
type FlowCreate struct {
	Name   string   `json:"name" required:"true"`
	Tags   []string `json:"tags"`
	Labels Labels   `json:"labels"`
}

// FlowUpdate is the body of PATCH /flows/{id}.
type FlowUpdate struct {
	Tags *[]string `json:"tags"`
}

// FlowRunPolicy holds a flow run's retry and pause settings.
type FlowRunPolicy struct {
	MaxRetries        int      `json:"max_retries"`
	RetryDelaySeconds float64  `json:"retry_delay_seconds"`
	Retries           *int     `json:"retries"`
	RetryDelay        *float64 `json:"retry_delay"`
	PauseKeys         []string `json:"pause_keys"`
	Resuming          *bool    `json:"resuming"`
	RetryType         *string  `json:"retry_type"`
}

// CreatedBy records what created a run (a user, a schedule, an automation).
type CreatedBy struct {
	ID           *ID    `json:"id"`
	Type         string `json:"type"`
	DisplayValue string `json:"display_value"`
}

// FlowRun is one execution of a flow.
type FlowRun struct {
	ID                       ID              `json:"id"`
	Created                  Time            `json:"created"`
	Updated                  Time            `json:"updated"`
	Name                     string          `json:"name"`
	FlowID                   ID              `json:"flow_id"`
	StateID                  *ID             `json:"state_id"`
	DeploymentID             *ID             `json:"deployment_id"`
	DeploymentVersion        *string         `json:"deployment_version"`
	WorkQueueName            *string         `json:"work_queue_name"`
	FlowVersion              *string         `json:"flow_version"`
	Parameters               json.RawMessage `json:"parameters"`
	IdempotencyKey           *string         `json:"idempotency_key"`
	Context                  json.RawMessage `json:"context"`
	EmpiricalPolicy          FlowRunPolicy   `json:"empirical_policy"`
	Tags                     []string        `json:"tags"`
	Labels                   Labels          `json:"labels"`
	ParentTaskRunID          *ID             `json:"parent_task_run_id"`
	StateType                *StateType      `json:"state_type"`
	StateName                *string         `json:"state_name"`
	RunCount                 int             `json:"run_count"`
	ExpectedStartTime        *Time           `json:"expected_start_time"`
	NextScheduledStartTime   *Time           `json:"next_scheduled_start_time"`
	StartTime                *Time           `json:"start_time"`
	EndTime                  *Time           `json:"end_time"`
	TotalRunTime             Duration        `json:"total_run_time"`
	EstimatedRunTime         Duration        `json:"estimated_run_time"`
	EstimatedStartTimeDelta  Duration        `json:"estimated_start_time_delta"`
	AutoScheduled            bool            `json:"auto_scheduled"`
	InfrastructureDocumentID *ID             `json:"infrastructure_document_id"`
	InfrastructurePID        *string         `json:"infrastructure_pid"`
	CreatedBy                *CreatedBy      `json:"created_by"`
	WorkQueueID              *ID             `json:"work_queue_id"`
	WorkPoolID               *ID             `json:"work_pool_id"`
	WorkPoolName             *string         `json:"work_pool_name"`
	State                    *State          `json:"state"`
	JobVariables             json.RawMessage `json:"job_variables"`
}

// FlowRunCreate is the body of POST /flow_runs/.
type FlowRunCreate struct {
	FlowID                   ID              `json:"flow_id" required:"true"`
	Name                     *string         `json:"name"`
	State                    *StateCreate    `json:"state"`
	FlowVersion              *string         `json:"flow_version"`
	Parameters               json.RawMessage `json:"parameters"`
	Context                  json.RawMessage `json:"context"`
	ParentTaskRunID          *ID             `json:"parent_task_run_id"`
	InfrastructureDocumentID *ID             `json:"infrastructure_document_id"`
	EmpiricalPolicy          *FlowRunPolicy  `json:"empirical_policy"`
	Tags                     []string        `json:"tags"`
	Labels                   Labels          `json:"labels"`
	IdempotencyKey           *string         `json:"idempotency_key"`
	WorkPoolName             *string         `json:"work_pool_name"`
	WorkQueueName            *string         `json:"work_queue_name"`
	JobVariables             json.RawMessage `json:"job_variables"`
	DeploymentID             *ID             `json:"deployment_id"`
}

// FlowRunUpdate is the body of PATCH /flow_runs/{id}; nil fields are left
// unchanged.
type FlowRunUpdate struct {
	Name              *string         `json:"name"`
	FlowVersion       *string         `json:"flow_version"`
	Parameters        json.RawMessage `json:"parameters"`
	EmpiricalPolicy   *FlowRunPolicy  `json:"empirical_policy"`
	Tags              *[]string       `json:"tags"`
	InfrastructurePID *string         `json:"infrastructure_pid"`
	JobVariables      json.RawMessage `json:"job_variables"`
}

// TaskRunPolicy holds a task run's retry settings. RetryDelay may be a
// number or a list of numbers, so it is kept as raw JSON.
type TaskRunPolicy struct {
	MaxRetries        int             `json:"max_retries"`
	RetryDelaySeconds float64         `json:"retry_delay_seconds"`
	Retries           *int            `json:"retries"`
	RetryDelay        json.RawMessage `json:"retry_delay"`
	RetryJitterFactor *float64        `json:"retry_jitter_factor"`
}

// TaskRunInput is one upstream reference in task_inputs: a task run, a flow
// run, a parameter or a constant.
type TaskRunInput struct {
	InputType string  `json:"input_type"`
	ID        *ID     `json:"id,omitempty"`
	Name      *string `json:"name,omitempty"`
	Type      *string `json:"type,omitempty"`
}

// TaskRun is one execution of a task inside a flow run.
type TaskRun struct {
	ID                      ID                        `json:"id"`
	Created                 Time                      `json:"created"`
	Updated                 Time                      `json:"updated"`
	Name                    string                    `json:"name"`
	FlowRunID               *ID                       `json:"flow_run_id"`
	TaskKey                 string                    `json:"task_key"`
	DynamicKey              string                    `json:"dynamic_key"`
	CacheKey                *string                   `json:"cache_key"`
	CacheExpiration         *Time                     `json:"cache_expiration"`
	TaskVersion             *string                   `json:"task_version"`
	EmpiricalPolicy         TaskRunPolicy             `json:"empirical_policy"`
	Tags                    []string                  `json:"tags"`
	Labels                  Labels                    `json:"labels"`
	StateID                 *ID                       `json:"state_id"`
	TaskInputs              map[string][]TaskRunInput `json:"task_inputs"`
	StateType               *StateType                `json:"state_type"`
	StateName               *string                   `json:"state_name"`
	RunCount                int                       `json:"run_count"`
	FlowRunRunCount         int                       `json:"flow_run_run_count"`
	ExpectedStartTime       *Time                     `json:"expected_start_time"`
	NextScheduledStartTime  *Time                     `json:"next_scheduled_start_time"`
	StartTime               *Time                     `json:"start_time"`
	EndTime                 *Time                     `json:"end_time"`
	TotalRunTime            Duration                  `json:"total_run_time"`
	EstimatedRunTime        Duration                  `json:"estimated_run_time"`
	EstimatedStartTimeDelta Duration                  `json:"estimated_start_time_delta"`
	State                   *State                    `json:"state"`
}

// TaskRunCreate is the body of POST /task_runs/ (used by the client for the
// tracking task of a subflow).
type TaskRunCreate struct {
	ID              *ID                       `json:"id"`
	Name            *string                   `json:"name"`
	FlowRunID       *ID                       `json:"flow_run_id"`
	TaskKey         string                    `json:"task_key" required:"true"`
	DynamicKey      string                    `json:"dynamic_key" required:"true"`
	CacheKey        *string                   `json:"cache_key"`
	CacheExpiration *Time                     `json:"cache_expiration"`
	TaskVersion     *string                   `json:"task_version"`
	EmpiricalPolicy *TaskRunPolicy            `json:"empirical_policy"`
	Tags            []string                  `json:"tags"`
	Labels          Labels                    `json:"labels"`
	TaskInputs      map[string][]TaskRunInput `json:"task_inputs"`
	State           *StateCreate              `json:"state"`
}

// TaskRunUpdate is the body of PATCH /task_runs/{id}.
type TaskRunUpdate struct {
	Name *string `json:"name"`
}

// Log is one log line of a flow or task run.
type Log struct {
	ID        ID     `json:"id"`
	Created   Time   `json:"created"`
	Updated   Time   `json:"updated"`
	Name      string `json:"name"`
	Level     int    `json:"level"`
	Message   string `json:"message"`
	Timestamp Time   `json:"timestamp"`
	FlowRunID *ID    `json:"flow_run_id"`
	TaskRunID *ID    `json:"task_run_id"`
	WorkerID  *ID    `json:"worker_id,omitempty"`
}

// LogCreate is one element of the array POSTed to /logs/.
type LogCreate struct {
	Name      string `json:"name" required:"true"`
	Level     int    `json:"level" required:"true"`
	Message   string `json:"message" required:"true"`
	Timestamp Time   `json:"timestamp" required:"true"`
	FlowRunID *ID    `json:"flow_run_id"`
	TaskRunID *ID    `json:"task_run_id"`
	WorkerID  *ID    `json:"worker_id"`
}

// Event is an occurrence in the system: a state change, a heartbeat, a worker
// action. Resources are flat string maps keyed by "prefect.resource.id" etc.
type Event struct {
	ID       ID                  `json:"id" required:"true"`
	Occurred Time                `json:"occurred" required:"true"`
	Event    string              `json:"event" required:"true"`
	Resource map[string]string   `json:"resource" required:"true"`
	Related  []map[string]string `json:"related"`
	Payload  json.RawMessage     `json:"payload"`
	Follows  *ID                 `json:"follows"`
	Received Time                `json:"received"`
}

// ResourceID returns the event's primary resource id.
func (e *Event) ResourceID() string { return e.Resource["prefect.resource.id"] }

// RelatedOfRole returns the first related resource id with the given role.
func (e *Event) RelatedOfRole(role string) (string, bool) {
	for _, r := range e.Related {
		if r["prefect.resource.role"] == role {
			return r["prefect.resource.id"], true
		}
	}
	return "", false
}

// HistoryState counts the runs of one state in one history interval.
type HistoryState struct {
	StateType            StateType `json:"state_type"`
	StateName            string    `json:"state_name"`
	CountRuns            int       `json:"count_runs"`
	SumEstimatedRunTime  Duration  `json:"sum_estimated_run_time"`
	SumEstimatedLateness Duration  `json:"sum_estimated_lateness"`
}

// HistoryInterval is one bucket of POST /flow_runs/history: runs whose
// expected start time falls in [IntervalStart, IntervalEnd), by state.
type HistoryInterval struct {
	IntervalStart Time           `json:"interval_start"`
	IntervalEnd   Time           `json:"interval_end"`
	States        []HistoryState `json:"states"`
}
