package model

import "encoding/json"

// Artifact is something a run published for people to look at: a
// markdown report, a table, a link, a progress value, an image, or a
// result description. Artifacts with a key form a history; the newest one
// of each key is its ArtifactCollection.
type Artifact struct {
	ID          ID                `json:"id"`
	Created     Time              `json:"created"`
	Updated     Time              `json:"updated"`
	Key         *string           `json:"key"`
	Type        *string           `json:"type"`
	Description *string           `json:"description"`
	Data        json.RawMessage   `json:"data"`
	Metadata    map[string]string `json:"metadata_" nullable:"true"`
	FlowRunID   *ID               `json:"flow_run_id"`
	TaskRunID   *ID               `json:"task_run_id"`
}

// ArtifactCollection is the latest artifact of one key (LatestID is that
// artifact; the other fields are copied from it).
type ArtifactCollection struct {
	ID          ID                `json:"id"`
	Created     Time              `json:"created"`
	Updated     Time              `json:"updated"`
	Key         string            `json:"key"`
	LatestID    ID                `json:"latest_id"`
	Type        *string           `json:"type"`
	Description *string           `json:"description"`
	Data        json.RawMessage   `json:"data"`
	Metadata    map[string]string `json:"metadata_" nullable:"true"`
	FlowRunID   *ID               `json:"flow_run_id"`
	TaskRunID   *ID               `json:"task_run_id"`
}

// ArtifactCreate is the body of POST /artifacts/.
type ArtifactCreate struct {
	Key         *string           `json:"key"`
	Type        *string           `json:"type"`
	Description *string           `json:"description"`
	Data        json.RawMessage   `json:"data"`
	Metadata    map[string]string `json:"metadata_" nullable:"true"`
	FlowRunID   *ID               `json:"flow_run_id"`
	TaskRunID   *ID               `json:"task_run_id"`
}

// ArtifactUpdate is the body of PATCH /artifacts/{id}; absent fields are
// left as they are.
type ArtifactUpdate struct {
	Data        json.RawMessage   `json:"data"`
	Description *string           `json:"description"`
	Metadata    map[string]string `json:"metadata_" nullable:"true"`
}

// ArtifactKeyFilter matches artifact keys exactly, by substring, or by
// whether a key is set at all.
type ArtifactKeyFilter struct {
	Any    []string `json:"any_"`
	Like   *string  `json:"like_"`
	Exists *bool    `json:"exists_"`
}

// ArtifactFilter mirrors Prefect's ArtifactFilter and, through LatestID,
// its ArtifactCollectionFilter (the other fields are shared).
type ArtifactFilter struct {
	Operator  string             `json:"operator"`
	ID        *IDFilter          `json:"id"`
	LatestID  *IDFilter          `json:"latest_id"`
	Key       *ArtifactKeyFilter `json:"key"`
	FlowRunID *IDFilter          `json:"flow_run_id"`
	TaskRunID *IDFilter          `json:"task_run_id"`
	Type      *StringsFilter     `json:"type"`
}

// ArtifactQuery is the body of /artifacts/filter, /artifacts/latest/filter
// and their counts: the artifact filter plus filters on the runs, flows and
// deployments the artifacts belong to.
type ArtifactQuery struct {
	Artifacts   *ArtifactFilter   `json:"artifacts"`
	FlowRuns    *FlowRunFilter    `json:"flow_runs"`
	TaskRuns    *TaskRunFilter    `json:"task_runs"`
	Flows       *FlowFilter       `json:"flows"`
	Deployments *DeploymentFilter `json:"deployments"`
	Sort        string            `json:"sort"`
	Offset      int               `json:"offset"`
	Limit       int               `json:"limit"`
}

// ArtifactSorts are the sort keys of both artifact listings.
var ArtifactSorts = []string{"CREATED_DESC", "UPDATED_DESC", "ID_DESC", "KEY_DESC", "KEY_ASC"}
