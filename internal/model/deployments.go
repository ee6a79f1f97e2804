package model

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Schedule is one of Prefect's three schedule shapes: an interval (seconds,
// with an anchor date), a cron expression, or an RFC 5545 recurrence rule.
// Exactly one of Interval, Cron and RRule is set; it decodes from and
// encodes to the shape of that kind only, as the client's union expects.
type Schedule struct {
	// Interval is the period in seconds (interval schedules).
	Interval *float64 `json:"interval,omitempty"`
	// AnchorDate is the instant the interval counts from.
	AnchorDate *Time `json:"anchor_date,omitempty"`
	// Cron is a 5-field cron expression (cron schedules).
	Cron *string `json:"cron,omitempty"`
	// DayOr chooses OR (true, the default) or AND between the day-of-month
	// and day-of-week fields when both are restricted.
	DayOr *bool `json:"day_or,omitempty"`
	// RRule is a recurrence rule (rrule schedules).
	RRule *string `json:"rrule,omitempty"`
	// Timezone is an IANA zone name; local wall-clock times (cron, rrule
	// and DST-aware intervals) are computed in it. Empty means UTC.
	Timezone *string `json:"timezone"`
}

// Kind names the schedule's variant: "interval", "cron", "rrule" or "".
func (s Schedule) Kind() string {
	switch {
	case s.Interval != nil:
		return "interval"
	case s.Cron != nil:
		return "cron"
	case s.RRule != nil:
		return "rrule"
	}
	return ""
}

// UnmarshalJSON rejects an object that is none (or more than one) of the
// three schedule kinds, so a bad schedule is a 422 naming the field.
func (s *Schedule) UnmarshalJSON(b []byte) error {
	type plain Schedule
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	n := 0
	for _, set := range []bool{p.Interval != nil, p.Cron != nil, p.RRule != nil} {
		if set {
			n++
		}
	}
	if n != 1 && !bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return errors.New("schedule: exactly one of \"interval\", \"cron\" or \"rrule\" is required")
	}
	*s = Schedule(p)
	return nil
}

// MarshalJSON writes only the fields of the schedule's kind (plus the
// defaults Prefect fills in: day_or for cron).
func (s Schedule) MarshalJSON() ([]byte, error) {
	m := map[string]any{"timezone": s.Timezone}
	switch s.Kind() {
	case "interval":
		m["interval"] = *s.Interval
		m["anchor_date"] = s.AnchorDate
	case "cron":
		m["cron"] = *s.Cron
		dayOr := true
		if s.DayOr != nil {
			dayOr = *s.DayOr
		}
		m["day_or"] = dayOr
	case "rrule":
		m["rrule"] = *s.RRule
	}
	return json.Marshal(m)
}

// DeploymentSchedule is one schedule of a deployment; the scheduler service
// turns active ones into SCHEDULED flow runs.
type DeploymentSchedule struct {
	ID               ID              `json:"id"`
	Created          Time            `json:"created"`
	Updated          Time            `json:"updated"`
	DeploymentID     *ID             `json:"deployment_id"`
	Schedule         Schedule        `json:"schedule"`
	Active           bool            `json:"active"`
	MaxScheduledRuns *int            `json:"max_scheduled_runs"`
	Parameters       json.RawMessage `json:"parameters"`
	Slug             *string         `json:"slug"`
}

// DeploymentScheduleCreate is one element of the schedules sent with a
// deployment, or of POST /deployments/{id}/schedules.
type DeploymentScheduleCreate struct {
	Active           *bool           `json:"active"`
	Schedule         Schedule        `json:"schedule" required:"true"`
	MaxScheduledRuns *int            `json:"max_scheduled_runs"`
	Parameters       json.RawMessage `json:"parameters"`
	Slug             *string         `json:"slug"`
	Replaces         *string         `json:"replaces"`
}

// DeploymentScheduleUpdate is the body of PATCH
// /deployments/{id}/schedules/{schedule_id} and one element of the
// schedules of PATCH /deployments/{id}; nil fields are unchanged. Replaces
// names the slug of an existing schedule this one renames (PATCH
// /deployments/{id} only; ignored elsewhere, as in Prefect).
type DeploymentScheduleUpdate struct {
	Active           *bool           `json:"active"`
	Schedule         *Schedule       `json:"schedule"`
	MaxScheduledRuns *int            `json:"max_scheduled_runs"`
	Parameters       json.RawMessage `json:"parameters"`
	Slug             *string         `json:"slug"`
	Replaces         *string         `json:"replaces"`
}

// ConcurrencyOptions says what happens to a deployment run that finds the
// deployment's concurrency limit full: ENQUEUE (wait, the default) or
// CANCEL_NEW.
type ConcurrencyOptions struct {
	CollisionStrategy  string `json:"collision_strategy"`
	GracePeriodSeconds *int   `json:"grace_period_seconds"`
}

// Deployment statuses (Prefect's DeploymentStatus).
const (
	DeploymentReady    = "READY"
	DeploymentNotReady = "NOT_READY"
)

// Deployment is a flow packaged to run on a schedule or on demand through a
// work pool (or a serving process).
type Deployment struct {
	ID          ID                   `json:"id"`
	Created     Time                 `json:"created"`
	Updated     Time                 `json:"updated"`
	Name        string               `json:"name"`
	Version     *string              `json:"version"`
	Description *string              `json:"description"`
	FlowID      ID                   `json:"flow_id"`
	Paused      bool                 `json:"paused"`
	Schedules   []DeploymentSchedule `json:"schedules"`
	// ConcurrencyLimit is the size of the deployment's global concurrency
	// limit (nil: none) as the store reads it, and the size a write asks
	// for. The API never shows it: Prefect's responses carry the deprecated
	// concurrency_limit as null and the limit as global_concurrency_limit.
	ConcurrencyLimit *int `json:"-"`
	// DeprecatedConcurrencyLimit is Prefect's concurrency_limit response
	// field, always null (it "will always be None for backwards
	// compatibility").
	DeprecatedConcurrencyLimit *int                `json:"concurrency_limit"`
	ConcurrencyOptions         *ConcurrencyOptions `json:"concurrency_options"`
	// GlobalConcurrencyLimit is the global limit "deployment:<id>" that
	// enforces the deployment's concurrency (filled by the store on read).
	GlobalConcurrencyLimit   *DeploymentConcurrencyLimit `json:"global_concurrency_limit"`
	JobVariables             json.RawMessage             `json:"job_variables"`
	Parameters               json.RawMessage             `json:"parameters"`
	Tags                     []string                    `json:"tags"`
	Labels                   Labels                      `json:"labels"`
	WorkQueueName            *string                     `json:"work_queue_name"`
	WorkQueueID              *ID                         `json:"work_queue_id"`
	LastPolled               *Time                       `json:"last_polled"`
	ParameterOpenAPISchema   json.RawMessage             `json:"parameter_openapi_schema"`
	Path                     *string                     `json:"path"`
	PullSteps                json.RawMessage             `json:"pull_steps"`
	Entrypoint               *string                     `json:"entrypoint"`
	StorageDocumentID        *ID                         `json:"storage_document_id"`
	InfrastructureDocumentID *ID                         `json:"infrastructure_document_id"`
	CreatedBy                *CreatedBy                  `json:"created_by"`
	UpdatedBy                *CreatedBy                  `json:"updated_by"`
	WorkPoolName             *string                     `json:"work_pool_name"`
	WorkPoolID               *ID                         `json:"work_pool_id,omitempty"`
	Status                   string                      `json:"status"`
	EnforceParameterSchema   bool                        `json:"enforce_parameter_schema"`
	// FlowName is the name of the deployment's flow; it is not part of
	// Prefect's response but lets lists and the CLI show "flow/deployment"
	// without a lookup per row.
	FlowName string `json:"flow_name,omitempty"`
}

// DeploymentCreate is the body of POST /deployments/ (an upsert on
// flow_id and name).
type DeploymentCreate struct {
	Name                     string                     `json:"name" required:"true"`
	FlowID                   ID                         `json:"flow_id" required:"true"`
	Paused                   bool                       `json:"paused"`
	Schedules                []DeploymentScheduleCreate `json:"schedules"`
	ConcurrencyLimit         *int                       `json:"concurrency_limit"`
	ConcurrencyOptions       *ConcurrencyOptions        `json:"concurrency_options"`
	EnforceParameterSchema   *bool                      `json:"enforce_parameter_schema"`
	ParameterOpenAPISchema   json.RawMessage            `json:"parameter_openapi_schema"`
	Parameters               json.RawMessage            `json:"parameters"`
	Tags                     []string                   `json:"tags"`
	Labels                   Labels                     `json:"labels"`
	PullSteps                json.RawMessage            `json:"pull_steps"`
	WorkQueueName            *string                    `json:"work_queue_name"`
	WorkPoolName             *string                    `json:"work_pool_name"`
	StorageDocumentID        *ID                        `json:"storage_document_id"`
	InfrastructureDocumentID *ID                        `json:"infrastructure_document_id"`
	Description              *string                    `json:"description"`
	Path                     *string                    `json:"path"`
	Version                  *string                    `json:"version"`
	Entrypoint               *string                    `json:"entrypoint"`
	JobVariables             json.RawMessage            `json:"job_variables"`
}

// DeploymentUpdate is the body of PATCH /deployments/{id}; nil fields are
// left unchanged. A present schedules list is matched to the existing
// schedules by slug when they all have one (Prefect 3's rules, see
// api.mergeSchedules), else it replaces them.
type DeploymentUpdate struct {
	Version                  *string                     `json:"version"`
	Description              *string                     `json:"description"`
	Paused                   *bool                       `json:"paused"`
	Schedules                *[]DeploymentScheduleUpdate `json:"schedules"`
	ConcurrencyLimit         *int                        `json:"concurrency_limit"`
	ConcurrencyOptions       *ConcurrencyOptions         `json:"concurrency_options"`
	Parameters               json.RawMessage             `json:"parameters"`
	ParameterOpenAPISchema   json.RawMessage             `json:"parameter_openapi_schema"`
	Tags                     *[]string                   `json:"tags"`
	WorkQueueName            *string                     `json:"work_queue_name"`
	WorkPoolName             *string                     `json:"work_pool_name"`
	Path                     *string                     `json:"path"`
	JobVariables             json.RawMessage             `json:"job_variables"`
	PullSteps                json.RawMessage             `json:"pull_steps"`
	Entrypoint               *string                     `json:"entrypoint"`
	StorageDocumentID        *ID                         `json:"storage_document_id"`
	InfrastructureDocumentID *ID                         `json:"infrastructure_document_id"`
	EnforceParameterSchema   *bool                       `json:"enforce_parameter_schema"`
	// ClearConcurrencyLimit is true when the body carried
	// "concurrency_limit": null, which removes the deployment's limit; an
	// absent key leaves it unchanged.
	ClearConcurrencyLimit bool `json:"-"`
}

// UnmarshalJSON decodes the update and tells an explicit null
// concurrency_limit (remove the limit) from an absent one (keep it).
func (u *DeploymentUpdate) UnmarshalJSON(b []byte) error {
	type plain DeploymentUpdate
	if err := json.Unmarshal(b, (*plain)(u)); err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(b, &keys) == nil {
		if v, ok := keys["concurrency_limit"]; ok && string(v) == "null" {
			u.ClearConcurrencyLimit = true
		}
	}
	return nil
}

// DeploymentFlowRunCreate is the body of POST
// /deployments/{id}/create_flow_run.
type DeploymentFlowRunCreate struct {
	State                    *StateCreate    `json:"state"`
	Name                     *string         `json:"name"`
	Parameters               json.RawMessage `json:"parameters"`
	EnforceParameterSchema   *bool           `json:"enforce_parameter_schema"`
	Context                  json.RawMessage `json:"context"`
	InfrastructureDocumentID *ID             `json:"infrastructure_document_id"`
	EmpiricalPolicy          *FlowRunPolicy  `json:"empirical_policy"`
	Tags                     []string        `json:"tags"`
	IdempotencyKey           *string         `json:"idempotency_key"`
	Labels                   Labels          `json:"labels"`
	ParentTaskRunID          *ID             `json:"parent_task_run_id"`
	WorkQueueName            *string         `json:"work_queue_name"`
	JobVariables             json.RawMessage `json:"job_variables"`
}

// BoolFilter matches a boolean column (eq_).
type BoolFilter struct {
	Eq *bool `json:"eq_"`
}

// IntRangeFilter bounds a nullable integer column.
type IntRangeFilter struct {
	GE     *int  `json:"ge_"`
	LE     *int  `json:"le_"`
	IsNull *bool `json:"is_null_"`
}

// LikeFilter is a case-insensitive substring match.
type LikeFilter struct {
	Like *string `json:"like_"`
}

// DeploymentFilter narrows deployments.
type DeploymentFilter struct {
	Operator             string          `json:"operator"`
	ID                   *IDFilter       `json:"id"`
	Name                 *NameFilter     `json:"name"`
	FlowOrDeploymentName *LikeFilter     `json:"flow_or_deployment_name"`
	Paused               *BoolFilter     `json:"paused"`
	Tags                 *TagsFilter     `json:"tags"`
	WorkQueueName        *StringsFilter  `json:"work_queue_name"`
	ConcurrencyLimit     *IntRangeFilter `json:"concurrency_limit"`
}

// WorkPoolFilter narrows work pools.
type WorkPoolFilter struct {
	Operator string         `json:"operator"`
	ID       *IDFilter      `json:"id"`
	Name     *NameFilter    `json:"name"`
	Type     *StringsFilter `json:"type"`
}

// WorkQueueFilter narrows the queues of one pool.
type WorkQueueFilter struct {
	Operator string      `json:"operator"`
	ID       *IDFilter   `json:"id"`
	Name     *NameFilter `json:"name"`
}

// WorkerFilter narrows the workers of one pool.
type WorkerFilter struct {
	Operator          string         `json:"operator"`
	LastHeartbeatTime *TimeFilter    `json:"last_heartbeat_time"`
	Status            *StringsFilter `json:"status"`
}

// DeploymentSorts are the sort keys of deployment listings.
var DeploymentSorts = []string{"CREATED_DESC", "UPDATED_DESC", "NAME_ASC", "NAME_DESC"}

// DeploymentQuery is the body of /deployments/filter, /count and /paginate.
type DeploymentQuery struct {
	Flows       *FlowFilter       `json:"flows"`
	Deployments *DeploymentFilter `json:"deployments"`
	WorkPools   *WorkPoolFilter   `json:"work_pools"`
	// FlowRuns and TaskRuns keep deployments having a run that matches
	// (and, for TaskRuns, a task run of that run); WorkPoolQueues matches
	// the deployment's queue.
	FlowRuns       *FlowRunFilter   `json:"flow_runs"`
	TaskRuns       *TaskRunFilter   `json:"task_runs"`
	WorkPoolQueues *WorkQueueFilter `json:"work_pool_queues"`
	Sort           string           `json:"sort"`
	Offset         int              `json:"offset"`
	Limit          int              `json:"limit"`
	// Page is used by /deployments/paginate (1-based).
	Page int `json:"page"`
}

// Work pool, queue and worker statuses.
const (
	PoolReady    = "READY"
	PoolNotReady = "NOT_READY"
	PoolPaused   = "PAUSED"

	WorkerOnline  = "ONLINE"
	WorkerOffline = "OFFLINE"
)

// WorkPoolStorageConfiguration is where a pool's workers find result
// storage and bundle steps.
type WorkPoolStorageConfiguration struct {
	BundleUploadStep            json.RawMessage `json:"bundle_upload_step"`
	BundleExecutionStep         json.RawMessage `json:"bundle_execution_step"`
	DefaultResultStorageBlockID *ID             `json:"default_result_storage_block_id"`
}

// WorkPool groups work queues served by one type of worker.
type WorkPool struct {
	ID                   ID                           `json:"id"`
	Created              Time                         `json:"created"`
	Updated              Time                         `json:"updated"`
	Name                 string                       `json:"name"`
	Description          *string                      `json:"description"`
	Type                 string                       `json:"type"`
	BaseJobTemplate      json.RawMessage              `json:"base_job_template"`
	IsPaused             bool                         `json:"is_paused"`
	ConcurrencyLimit     *int                         `json:"concurrency_limit"`
	Status               string                       `json:"status"`
	DefaultQueueID       ID                           `json:"default_queue_id"`
	StorageConfiguration WorkPoolStorageConfiguration `json:"storage_configuration"`
	ActiveSlots          *int                         `json:"active_slots"`
}

// WorkPoolCreate is the body of POST /work_pools/.
type WorkPoolCreate struct {
	Name                 string                        `json:"name" required:"true"`
	Description          *string                       `json:"description"`
	Type                 *string                       `json:"type"`
	BaseJobTemplate      json.RawMessage               `json:"base_job_template"`
	IsPaused             bool                          `json:"is_paused"`
	ConcurrencyLimit     *int                          `json:"concurrency_limit"`
	StorageConfiguration *WorkPoolStorageConfiguration `json:"storage_configuration"`
}

// WorkPoolUpdate is the body of PATCH /work_pools/{name}.
type WorkPoolUpdate struct {
	Description          *string                       `json:"description"`
	IsPaused             *bool                         `json:"is_paused"`
	BaseJobTemplate      json.RawMessage               `json:"base_job_template"`
	ConcurrencyLimit     *int                          `json:"concurrency_limit"`
	StorageConfiguration *WorkPoolStorageConfiguration `json:"storage_configuration"`
}

// WorkPoolQuery is the body of /work_pools/filter and /count.
type WorkPoolQuery struct {
	WorkPools *WorkPoolFilter `json:"work_pools"`
	Offset    int             `json:"offset"`
	Limit     int             `json:"limit"`
}

// WorkQueue is a lane inside a pool with its own priority, pause flag and
// concurrency limit.
type WorkQueue struct {
	ID               ID              `json:"id"`
	Created          Time            `json:"created"`
	Updated          Time            `json:"updated"`
	Name             string          `json:"name"`
	Description      *string         `json:"description"`
	IsPaused         bool            `json:"is_paused"`
	ConcurrencyLimit *int            `json:"concurrency_limit"`
	Priority         int             `json:"priority"`
	WorkPoolID       *ID             `json:"work_pool_id"`
	Filter           json.RawMessage `json:"filter"`
	LastPolled       *Time           `json:"last_polled"`
	WorkPoolName     *string         `json:"work_pool_name"`
	Status           string          `json:"status"`
	ActiveSlots      *int            `json:"active_slots"`
}

// WorkQueueCreate is the body of POST /work_pools/{pool}/queues.
type WorkQueueCreate struct {
	Name             string          `json:"name" required:"true"`
	Description      *string         `json:"description"`
	IsPaused         bool            `json:"is_paused"`
	ConcurrencyLimit *int            `json:"concurrency_limit"`
	Priority         *int            `json:"priority"`
	Filter           json.RawMessage `json:"filter"`
}

// WorkQueueUpdate is the body of PATCH /work_pools/{pool}/queues/{name}.
type WorkQueueUpdate struct {
	Name             *string `json:"name"`
	Description      *string `json:"description"`
	IsPaused         *bool   `json:"is_paused"`
	ConcurrencyLimit *int    `json:"concurrency_limit"`
	Priority         *int    `json:"priority"`
	LastPolled       *Time   `json:"last_polled"`
	// ClearConcurrencyLimit is true when the body carried
	// "concurrency_limit": null, which removes the limit (as
	// `prefect work-queue clear-concurrency-limit` sends); an absent key
	// leaves it unchanged.
	ClearConcurrencyLimit bool `json:"-"`
}

// UnmarshalJSON decodes the update and tells an explicit null
// concurrency_limit (clear it) from an absent one (keep it).
func (u *WorkQueueUpdate) UnmarshalJSON(b []byte) error {
	type plain WorkQueueUpdate
	if err := json.Unmarshal(b, (*plain)(u)); err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(b, &keys) == nil {
		if v, ok := keys["concurrency_limit"]; ok && string(v) == "null" {
			u.ClearConcurrencyLimit = true
		}
	}
	return nil
}

// WorkQueueQuery is the body of /work_pools/{pool}/queues/filter.
type WorkQueueQuery struct {
	WorkQueues *WorkQueueFilter `json:"work_queues"`
	Offset     int              `json:"offset"`
	Limit      int              `json:"limit"`
}

// Worker is a process polling a pool; heartbeats keep it ONLINE.
type Worker struct {
	ID                       ID     `json:"id"`
	Created                  Time   `json:"created"`
	Updated                  Time   `json:"updated"`
	Name                     string `json:"name"`
	WorkPoolID               ID     `json:"work_pool_id"`
	LastHeartbeatTime        *Time  `json:"last_heartbeat_time"`
	HeartbeatIntervalSeconds *int   `json:"heartbeat_interval_seconds"`
	Status                   string `json:"status"`
}

// WorkerHeartbeat is the body of POST /work_pools/{pool}/workers/heartbeat.
type WorkerHeartbeat struct {
	Name                     string          `json:"name" required:"true"`
	HeartbeatIntervalSeconds *int            `json:"heartbeat_interval_seconds"`
	ReturnID                 bool            `json:"return_id"`
	Metadata                 json.RawMessage `json:"metadata"`
}

// WorkerQuery is the body of /work_pools/{pool}/workers/filter.
type WorkerQuery struct {
	Workers *WorkerFilter `json:"workers"`
	Offset  int           `json:"offset"`
	Limit   int           `json:"limit"`
}

// WorkerFlowRun is one element of a pool's get_scheduled_flow_runs answer.
type WorkerFlowRun struct {
	WorkPoolID  ID      `json:"work_pool_id"`
	WorkQueueID ID      `json:"work_queue_id"`
	FlowRun     FlowRun `json:"flow_run"`
}

// PoolScheduledQuery is the body of POST /work_pools/{pool}/get_scheduled_flow_runs.
// WaitSeconds is Baton's long-poll extension: when nothing is due the
// request is held up to that long and answers as soon as a run is.
type PoolScheduledQuery struct {
	WorkQueueNames  []string `json:"work_queue_names"`
	ScheduledBefore *Time    `json:"scheduled_before"`
	ScheduledAfter  *Time    `json:"scheduled_after"`
	Limit           *int     `json:"limit"`
	WaitSeconds     *float64 `json:"wait_seconds"`
}

// DeploymentScheduledQuery is the body of POST /deployments/get_scheduled_flow_runs.
type DeploymentScheduledQuery struct {
	DeploymentIDs   []ID     `json:"deployment_ids" required:"true"`
	ScheduledBefore *Time    `json:"scheduled_before"`
	Limit           *int     `json:"limit"`
	WaitSeconds     *float64 `json:"wait_seconds"`
}
