package store

import (
	"context"

	"github.com/batonhq/baton/internal/model"
)

// Ref addresses one row of a named entity: by ID, or by Name when ID is
// nil. Routes that accept either ("/variables/{id}" and
// "/variables/name/{name}") pass it through so the lookup and the write
// happen in one transaction.
type Ref struct {
	ID   model.ID
	Name string
}

// RefID addresses a row by id.
func RefID(id model.ID) Ref { return Ref{ID: id} }

// RefName addresses a row by name.
func RefName(name string) Ref { return Ref{Name: name} }

// Variables stores variables, unique by name within a workspace. Values
// are stored as the JSON the client sent; validation (name rules, size)
// is the caller's.
type Variables interface {
	// VariableCreate inserts v (ErrConflict when the name is taken); the
	// store assigns id and timestamps.
	VariableCreate(ctx context.Context, ws model.ID, in model.VariableCreate) (model.Variable, error)
	VariableGet(ctx context.Context, ws model.ID, ref Ref) (model.Variable, error)
	VariableList(ctx context.Context, ws model.ID, q model.VariableQuery) ([]model.Variable, error)
	VariableCount(ctx context.Context, ws model.ID, f *model.VariableFilter) (int, error)
	// VariableUpdate applies the set fields of in (ErrConflict when a new
	// name is taken) and returns the updated row.
	VariableUpdate(ctx context.Context, ws model.ID, ref Ref, in model.VariableUpdate) (model.Variable, error)
	VariableDelete(ctx context.Context, ws model.ID, ref Ref) error
}
