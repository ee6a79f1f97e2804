package model

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// The filter types mirror Prefect's filter bodies. A nil pointer means "no
// constraint"; every non-nil sub-filter narrows the result. Operator is
// "and_" (the default) or "or_" and combines the sub-filters of one level.

// IDFilter matches on a set of ids.
type IDFilter struct {
	Any    []ID `json:"any_"`
	NotAny []ID `json:"not_any_"`
}

// OptionalIDFilter matches a nullable id column.
type OptionalIDFilter struct {
	Operator string `json:"operator"`
	Any      []ID   `json:"any_"`
	IsNull   *bool  `json:"is_null_"`
}

// NameFilter matches names exactly (any_), by case-insensitive substring
// (like_) or by case-insensitive prefix (startswith_: any of them; Prefect's
// work-queue name filter).
type NameFilter struct {
	Any        []string `json:"any_"`
	NotAny     []string `json:"not_any_"`
	Like       *string  `json:"like_"`
	StartsWith []string `json:"startswith_"`
}

// TagsFilter matches runs carrying all (all_) or any (any_) of the tags, or
// none at all (is_null_).
type TagsFilter struct {
	Operator string   `json:"operator"`
	All      []string `json:"all_"`
	Any      []string `json:"any_"`
	IsNull   *bool    `json:"is_null_"`
}

// TimeFilter bounds an instant; IsNull matches unset values.
type TimeFilter struct {
	Before *Time `json:"before_"`
	After  *Time `json:"after_"`
	IsNull *bool `json:"is_null_"`
}

// StringsFilter matches a string column against a set.
type StringsFilter struct {
	Operator string   `json:"operator"`
	Any      []string `json:"any_"`
	NotAny   []string `json:"not_any_"`
	IsNull   *bool    `json:"is_null_"`
}

// StateTypeFilter matches state types.
type StateTypeFilter struct {
	Any    []StateType `json:"any_"`
	NotAny []StateType `json:"not_any_"`
}

// StateFilter matches the current state's type and name.
type StateFilter struct {
	Operator string           `json:"operator"`
	Type     *StateTypeFilter `json:"type"`
	Name     *StringsFilter   `json:"name"`
}

// FlowFilter narrows flows.
type FlowFilter struct {
	Operator   string                `json:"operator"`
	ID         *IDFilter             `json:"id"`
	Name       *NameFilter           `json:"name"`
	Tags       *TagsFilter           `json:"tags"`
	Deployment *FlowDeploymentFilter `json:"deployment"`
}

// FlowDeploymentFilter matches flows without any deployment (is_null_ true)
// or with at least one (false).
type FlowDeploymentFilter struct {
	Operator string `json:"operator"`
	IsNull   *bool  `json:"is_null_"`
}

// CreatedByFilter matches a flow run's created_by: its id (id_), its type
// (type_, e.g. DEPLOYMENT, AUTOMATION, SCHEDULE) or its absence (is_null_).
type CreatedByFilter struct {
	Operator string   `json:"operator"`
	ID       []ID     `json:"id_"`
	Type     []string `json:"type_"`
	IsNull   *bool    `json:"is_null_"`
}

// FlowRunFilter narrows flow runs.
type FlowRunFilter struct {
	Operator               string            `json:"operator"`
	ID                     *IDFilter         `json:"id"`
	Name                   *NameFilter       `json:"name"`
	Tags                   *TagsFilter       `json:"tags"`
	DeploymentID           *OptionalIDFilter `json:"deployment_id"`
	WorkQueueName          *StringsFilter    `json:"work_queue_name"`
	State                  *StateFilter      `json:"state"`
	FlowVersion            *StringsFilter    `json:"flow_version"`
	StartTime              *TimeFilter       `json:"start_time"`
	EndTime                *TimeFilter       `json:"end_time"`
	ExpectedStartTime      *TimeFilter       `json:"expected_start_time"`
	NextScheduledStartTime *TimeFilter       `json:"next_scheduled_start_time"`
	ParentFlowRunID        *OptionalIDFilter `json:"parent_flow_run_id"`
	ParentTaskRunID        *OptionalIDFilter `json:"parent_task_run_id"`
	IdempotencyKey         *StringsFilter    `json:"idempotency_key"`
	CreatedBy              *CreatedByFilter  `json:"created_by"`
}

// SubflowRunsFilter matches task runs that are (or are not) subflow trackers.
type SubflowRunsFilter struct {
	Exists *bool `json:"exists_"`
}

// TaskRunFilter narrows task runs.
type TaskRunFilter struct {
	Operator          string             `json:"operator"`
	ID                *IDFilter          `json:"id"`
	Name              *NameFilter        `json:"name"`
	Tags              *TagsFilter        `json:"tags"`
	State             *StateFilter       `json:"state"`
	StartTime         *TimeFilter        `json:"start_time"`
	EndTime           *TimeFilter        `json:"end_time"`
	ExpectedStartTime *TimeFilter        `json:"expected_start_time"`
	SubflowRuns       *SubflowRunsFilter `json:"subflow_runs"`
	FlowRunID         *OptionalIDFilter  `json:"flow_run_id"`
}

// LevelFilter bounds log levels.
type LevelFilter struct {
	GE *int `json:"ge_"`
	LE *int `json:"le_"`
}

// TextFilter is a case-insensitive substring search.
type TextFilter struct {
	Query string `json:"query"`
}

// LogFilter narrows logs.
type LogFilter struct {
	Operator  string            `json:"operator"`
	Level     *LevelFilter      `json:"level"`
	Timestamp *TimeFilter       `json:"timestamp"`
	FlowRunID *OptionalIDFilter `json:"flow_run_id"`
	TaskRunID *OptionalIDFilter `json:"task_run_id"`
	Text      *TextFilter       `json:"text"`
}

// RunQuery is what every run/flow listing accepts: filters on the entity and
// its neighbours, a sort key and a window.
type RunQuery struct {
	Flows       *FlowFilter       `json:"flows"`
	FlowRuns    *FlowRunFilter    `json:"flow_runs"`
	TaskRuns    *TaskRunFilter    `json:"task_runs"`
	Deployments *DeploymentFilter `json:"deployments"`
	// WorkPools and WorkPoolQueues match runs by the pool and queue they
	// wait in (Prefect's work_pools and work_pool_queues objects).
	WorkPools      *WorkPoolFilter  `json:"work_pools"`
	WorkPoolQueues *WorkQueueFilter `json:"work_pool_queues"`
	// WorkQueues is the work_queues object of the history and dashboard
	// bodies (the same match as WorkPoolQueues, and-ed with it); the
	// listing routes do not accept it, as in Prefect.
	WorkQueues *WorkQueueFilter `json:"-"`
	Sort       string           `json:"sort"`
	Offset     int              `json:"offset"`
	Limit      int              `json:"limit"`
}

// LogQuery is the body of /logs/filter.
type LogQuery struct {
	Logs   *LogFilter `json:"logs"`
	Sort   string     `json:"sort"`
	Offset int        `json:"offset"`
	Limit  int        `json:"limit"`
}

// Sort keys accepted for flow runs, task runs, flows and logs.
var (
	FlowRunSorts = []string{"ID_DESC", "START_TIME_ASC", "START_TIME_DESC", "EXPECTED_START_TIME_ASC", "EXPECTED_START_TIME_DESC", "NAME_ASC", "NAME_DESC", "NEXT_SCHEDULED_START_TIME_ASC", "END_TIME_DESC"}
	TaskRunSorts = []string{"ID_DESC", "EXPECTED_START_TIME_ASC", "EXPECTED_START_TIME_DESC", "NAME_ASC", "NAME_DESC", "NEXT_SCHEDULED_START_TIME_ASC", "END_TIME_DESC"}
	FlowSorts    = []string{"CREATED_DESC", "UPDATED_DESC", "NAME_ASC", "NAME_DESC"}
	LogSorts     = []string{"TIMESTAMP_ASC", "TIMESTAMP_DESC"}
)

// EventFilter narrows events (POST /events/filter and /events/out).
type EventFilter struct {
	Occurred *struct {
		Since *Time `json:"since"`
		Until *Time `json:"until"`
	} `json:"occurred"`
	Event *struct {
		Prefix        []string `json:"prefix"`
		ExcludePrefix []string `json:"exclude_prefix"`
		Name          []string `json:"name"`
		ExcludeName   []string `json:"exclude_name"`
	} `json:"event"`
	Resource *ResourceFilter `json:"resource"`
	// Related and AnyResource accept one filter object or a list of them
	// (Prefect allows both); every filter of the list must match.
	Related     ResourceFilters `json:"related"`
	AnyResource ResourceFilters `json:"any_resource"`
	ID          *struct {
		ID []ID `json:"id"`
	} `json:"id"`
	// Text is {"query": "..."} as in Prefect's EventTextFilter.
	Text  *TextFilter `json:"text"`
	Order string      `json:"order"`
}

// ResourceFilter matches an event's resources by id, id prefix, role or
// labels. Label values may end in '*' (prefix wildcard) or start with '!'
// (negation), as in Prefect's ResourceSpecification.
type ResourceFilter struct {
	ID       []string            `json:"id"`
	IDPrefix []string            `json:"id_prefix"`
	Role     []string            `json:"role"`
	Labels   map[string][]string `json:"labels"`
	Distinct bool                `json:"distinct"`
	// ResourcesInRoles lists [id, role] pairs (related filters only): a
	// related resource must have one of these ids in the paired role.
	ResourcesInRoles [][]string `json:"resources_in_roles"`
}

// ResourceFilters is the related/any_resource part of an EventFilter. Prefect
// accepts either one object or a list of objects there; both decode into a
// list whose filters must all match. It encodes as a list (or null).
type ResourceFilters []ResourceFilter

// UnmarshalJSON accepts null, one ResourceFilter object or a list of them.
func (r *ResourceFilters) UnmarshalJSON(b []byte) error {
	b = bytes.TrimLeft(b, " \t\r\n")
	switch {
	case len(b) == 0 || string(b) == "null":
		*r = nil
		return nil
	case b[0] == '[':
		var list []ResourceFilter
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*r = list
		return nil
	case b[0] == '{':
		var one ResourceFilter
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*r = ResourceFilters{one}
		return nil
	}
	return &json.UnmarshalTypeError{Value: describe(b), Type: reflect.TypeFor[ResourceFilters]()}
}
