package model

import "encoding/json"

// Variable is a named JSON value that flows read at run time
// (Variable.get in the Prefect client).
type Variable struct {
	ID      ID              `json:"id"`
	Created Time            `json:"created"`
	Updated Time            `json:"updated"`
	Name    string          `json:"name"`
	Value   json.RawMessage `json:"value"`
	Tags    []string        `json:"tags"`
}

// VariableCreate is the body of POST /variables/. Value may be any JSON
// value, null included, so its presence is checked by the API rather than
// with a required tag (which treats null as missing).
type VariableCreate struct {
	Name  string          `json:"name" required:"true"`
	Value json.RawMessage `json:"value"`
	Tags  []string        `json:"tags"`
}

// VariableUpdate is the body of PATCH /variables/{id} and
// /variables/name/{name}; absent fields are left as they are (a present
// "value": null sets the value to null).
type VariableUpdate struct {
	Name  *string         `json:"name"`
	Value json.RawMessage `json:"value"`
	Tags  *[]string       `json:"tags"`
}

// VariableFilter mirrors Prefect's VariableFilter.
type VariableFilter struct {
	Operator string      `json:"operator"`
	ID       *IDFilter   `json:"id"`
	Name     *NameFilter `json:"name"`
	Tags     *TagsFilter `json:"tags"`
}

// VariableQuery is the body of /variables/filter (and, without the window,
// /variables/count).
type VariableQuery struct {
	Variables *VariableFilter `json:"variables"`
	Sort      string          `json:"sort"`
	Offset    int             `json:"offset"`
	Limit     int             `json:"limit"`
}

// VariableSorts are the sort keys /variables/filter accepts.
var VariableSorts = []string{"CREATED_DESC", "UPDATED_DESC", "NAME_DESC", "NAME_ASC"}
